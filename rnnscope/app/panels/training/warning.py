"""The training panel's warning bar: what went wrong with the run, in words, until dismissed.

Shown when training diverges (the worker has paused: the loss stopped being finite
or exploded, and the iteration was not applied), so the message stays in view while
the status line moves on.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

DIVERGENCE_ADVICE = (
    "Lower the learning rate (or the clipping norm) and Resume; if it diverges again, the weights "
    "are already too far gone: Reset and train a fresh model."
)
_STYLE = (
    "#trainingWarning { background: #fff3cd; border: 1px solid #d9a400; border-radius: 3px; }"
    "#trainingWarning QLabel { color: #5c4400; }"
)


class WarningBar(QFrame):
    """An amber bar with a message and a *Dismiss* button; hidden until :meth:`show_warning`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("trainingWarning")
        self.setStyleSheet(_STYLE)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.dismiss_button = QPushButton("Dismiss")
        self.dismiss_button.clicked.connect(self.clear)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 4, 4)
        layout.addWidget(QLabel("⚠"))
        layout.addWidget(self.label, 1)
        layout.addWidget(self.dismiss_button, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    @property
    def text(self) -> str:
        """The warning shown (empty when none is)."""
        return self.label.text() if not self.isHidden() else ""

    def show_warning(self, text: str) -> None:
        self.label.setText(text)
        self.show()

    def clear(self) -> None:
        self.label.clear()
        self.hide()
