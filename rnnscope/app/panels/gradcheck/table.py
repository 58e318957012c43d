"""The gradient table: the rows of a result as a two-level Qt item model, and its status legend.

The columns are the report's (:data:`rnnscope.report.columns.SHOWN`): the same
headers, tooltips and texts as the HTML report, coloured the same way (the row
tinted with ``Status.background``, the status cell in ``Status.colour``).
"""

from __future__ import annotations

import math

from PyQt6.QtCore import QModelIndex, QObject, Qt
from PyQt6.QtGui import QBrush, QColor, QPainter, QPen, QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import QHBoxLayout, QLabel, QStyle, QStyledItemDelegate, QStyleOptionViewItem, QWidget

from rnnscope.engine.gradcheck import GradcheckResult, GradRow, Status
from rnnscope.report.columns import SHOWN, sort_value

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
COLUMN_KEYS = tuple(column.key for column in SHOWN)


class GradcheckTableModel(QStandardItemModel):
    """The rows of a :class:`GradcheckResult` as a two-level item model.

    Top-level items are parameters; their children are the gate sub-rows. Every
    cell has a ``SORT_ROLE`` (numbers for numbers, severity for the status, the
    model's order for the name); the whole row is tinted with the status'
    ``background`` and the status cell uses the strong ``colour``. ``NAME_ROLE``
    holds the row name (``"Wx"`` / ``"Wx[forget]"``), ``STATUS_ROLE`` its status value.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(0, len(SHOWN), parent)
        self.setHorizontalHeaderLabels([column.header for column in SHOWN])
        for number, column in enumerate(SHOWN):
            self.setHeaderData(number, Qt.Orientation.Horizontal, column.tooltip, Qt.ItemDataRole.ToolTipRole)
        self.result: GradcheckResult | None = None

    def set_result(self, result: GradcheckResult | None) -> None:
        self.removeRows(0, self.rowCount())
        self.result = result
        if result is None:
            return
        for position, row in enumerate(result.rows):
            items = _items(row, position)
            for sub_position, sub in enumerate(row.sub_rows):
                items[0].appendRow(_items(sub, sub_position))
            self.appendRow(items)


def _items(row: GradRow, position: int) -> list[QStandardItem]:
    """The cells of one row; ``position`` (its place among its siblings) sorts the name column."""
    tint = QBrush(QColor(row.status.background))
    items = []
    for column in SHOWN:
        item = QStandardItem(column.text(row))
        item.setEditable(False)
        # sorting by the name column restores the model's own order
        item.setData(position if column.key == "name" else sort_value(column, row), SORT_ROLE)
        item.setData(row.name, NAME_ROLE)
        item.setData(row.status.value, STATUS_ROLE)
        item.setBackground(tint)
        if column.key == "status":
            item.setBackground(QBrush(QColor(row.status.colour)))
            item.setForeground(QBrush(QColor("#ffffff")))
            item.setToolTip(row.status.description)
        elif column.right:
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setToolTip(repr(column.value(row)))
        items.append(item)
    return items


def worst_row(rows: list[GradRow]) -> GradRow:
    """The row that needs looking at: the most severe, with the largest typical (median) error, then
    the largest error (its worst gate sub-row). The median points at the slice a bug is in when
    the bug's error spreads to other rows through the recurrence."""

    def key(row: GradRow) -> tuple[int, float, float]:
        typical, largest = row.rel_err_median, row.rel_err_max
        return (
            row.status.severity,
            -math.inf if math.isnan(typical) else typical,
            -math.inf if math.isnan(largest) else largest,
        )

    worst = max(rows, key=key)
    return max(worst.sub_rows, key=key) if worst.sub_rows else worst


class KeepColoursDelegate(QStyledItemDelegate):
    """Paints a selected cell in its status colour, darkened, instead of the selection colour
    (so the colour of the row being inspected stays visible)."""

    def paint(self, painter: QPainter | None, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        if painter is None:
            return
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        plain = QStyleOptionViewItem(option)
        if selected:
            plain.state &= ~QStyle.StateFlag.State_Selected
        super().paint(painter, plain, index)
        if selected:
            painter.save()
            painter.fillRect(option.rect, QColor(0, 0, 0, 40))
            painter.setPen(QPen(QColor("#202020"), 1))
            painter.drawLine(option.rect.topLeft(), option.rect.topRight())
            painter.drawLine(option.rect.bottomLeft(), option.rect.bottomRight())
            painter.restore()


class StatusLegend(QWidget):
    """A coloured swatch and the name of every status; tooltips explain them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(QLabel("Status:"))
        self.labels: dict[Status, QLabel] = {}
        for status in Status:
            label = QLabel(f" {status.label} ")
            label.setStyleSheet(
                f"background: {status.colour}; color: white; border-radius: 3px; padding: 1px 6px;"
            )
            label.setToolTip(status.description)
            layout.addWidget(label)
            self.labels[status] = label
        layout.addStretch(1)
