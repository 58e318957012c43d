"""Controls for narrow docks: a layout that wraps its widgets onto as many rows as the width needs,
labelled fields that wrap as one piece, and a "More" button that shows or hides rarely used settings.

A dock of the window's right column is under 500 pixels wide on a 1280 x 720 screen (and a user
may make it narrower): a row of controls laid out for a wide window would make it scroll sideways.
"""

from __future__ import annotations

from PyQt6.QtCore import QPoint, QRect, QSize, Qt
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QLayout, QLayoutItem, QToolButton, QWidget

SPACING = 6


class FlowLayout(QLayout):
    """Widgets left to right, wrapped onto a new row where the next one would not fit.

    Its minimum width is its widest widget's, and its height follows the width it is given
    (``heightForWidth``): a scroll area or box layout around it gives it the rows it needs.
    Hidden widgets take no room.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = SPACING) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self._height_for: tuple[int, int] | None = None  # (width, height): asked again and again
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem | None) -> None:  # noqa: N802 - Qt API
        if item is not None:
            self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:  # noqa: N802 - Qt API
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:  # noqa: N802 - Qt API
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:  # noqa: N802 - Qt API
        return True

    def heightForWidth(self, width: int) -> int:  # noqa: N802 - Qt API
        if self._height_for is None or self._height_for[0] != width:
            self._height_for = (width, self._lay_out(QRect(0, 0, width, 0), move=False))
        return self._height_for[1]

    def invalidate(self) -> None:
        self._height_for = None
        super().invalidate()

    def setGeometry(self, rect: QRect) -> None:  # noqa: N802 - Qt API
        super().setGeometry(rect)
        self._lay_out(rect, move=True)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return self.minimumSize()

    def minimumSize(self) -> QSize:  # noqa: N802 - Qt API
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    def _shown(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _lay_out(self, rect: QRect, move: bool) -> int:
        """Place the items in ``rect`` (when ``move``); the height the rows take."""
        margins = self.contentsMargins()
        inner = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        rows: list[list[tuple[QLayoutItem, QSize]]] = [[]]
        x = inner.x()
        for item in self._shown():
            hint = item.sizeHint().expandedTo(item.minimumSize())
            hint.setWidth(min(hint.width(), max(inner.width(), item.minimumSize().width())))
            if rows[-1] and x + hint.width() > inner.right() + 1:
                rows.append([])
                x = inner.x()
            rows[-1].append((item, hint))
            x += hint.width() + self._gap
        y = inner.y()
        for row in rows:
            height = max((hint.height() for _, hint in row), default=0)
            x = inner.x()
            for item, hint in row:
                if move:  # centred in the row: a check box beside a spin box
                    item.setGeometry(QRect(QPoint(x, y + (height - hint.height()) // 2), hint))
                x += hint.width() + self._gap
            y += height + self._gap
        return y - self._gap - rect.y() + margins.bottom() if self._shown() else 0


def flow(*widgets: QWidget) -> FlowLayout:
    """A :class:`FlowLayout` of ``widgets``."""
    layout = FlowLayout()
    for widget in widgets:
        layout.addWidget(widget)
    return layout


def labelled(text: str, field: QWidget) -> QWidget:
    """``field`` after its label ``text`` (the label names the field to assistive tools too), as one
    piece: a wrapping row never separates them."""
    pair = QWidget()
    label = QLabel(text)
    label.setBuddy(field)
    layout = QHBoxLayout(pair)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(4)
    layout.addWidget(label)
    layout.addWidget(field)
    if field.toolTip():
        label.setToolTip(field.toolTip())
    return pair


class MoreButton(QToolButton):
    """A "More" toggle that shows or hides ``part`` (rarely used settings), an arrow saying which."""

    def __init__(self, part: QWidget, text: str = "More", tooltip: str = "") -> None:
        super().__init__()
        self.part = part
        self.setText(text)
        self.setCheckable(True)
        self.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.setToolTip(tooltip or f"show or hide the other settings ({text.lower()})")
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.toggled.connect(self._show_part)
        self._show_part(False)

    def _show_part(self, shown: bool) -> None:
        self.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
        self.part.setVisible(shown)
