"""A stand-in for a part of a panel that is costly to make and not seen at first.

The Training and Gradient check panels open as tabs behind the output: their plots and
heatmaps are made when the tab is first painted (brought to the front) (or when code asks for them),
so the window's first paint does not wait for them.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QTimer
from PyQt6.QtGui import QPaintEvent
from PyQt6.QtWidgets import QVBoxLayout, QWidget


class MadeWhenShown(QWidget):
    """An empty place for a widget: ``needed()`` is called when the place is first painted, and is
    expected to make the widget and :meth:`hold` it (the owner also does so when asked for it)."""

    def __init__(self, needed: Callable[[], object], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._needed = needed
        self.held: QWidget | None = None
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)

    def hold(self, widget: QWidget) -> None:
        """Show ``widget`` in this place (once)."""
        if self.held is None:
            self.held = widget
            self._layout.addWidget(widget)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt API
        # painted, not only shown: a tab behind another is shown with the window, then hidden
        super().paintEvent(event)
        if self.held is None:
            QTimer.singleShot(0, self._make)

    def _make(self) -> None:
        if self.held is None:
            self._needed()
