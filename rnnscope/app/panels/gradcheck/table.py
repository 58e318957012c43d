"""The gradient table: the rows of a result as a two-level Qt item model, and its status legend.

The columns are the report's (:data:`rnnscope.report.columns.SHOWN`): the same
headers, tooltips and texts as the HTML report, coloured the same way (the row
tinted with ``Status.background``, the status cell in ``Status.colour``). A row's
diagnoses (the likely cause of its failure) are lines under it: its first
children, spanning the table (:class:`DiagnosisSortProxy` keeps them first in any
sort order, :func:`span_diagnosis_lines` spans them in a view).
"""

from __future__ import annotations

import math

from PyQt6.QtCore import QModelIndex, QObject, QSortFilterProxyModel, Qt
from PyQt6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTreeView,
    QWidget,
)

from rnnscope.app.panels.gradcheck.details import DIAGNOSIS_COLOUR
from rnnscope.engine.gradcheck import GradcheckResult, GradRow, Status
from rnnscope.engine.gradcheck.diagnosis import Diagnosis
from rnnscope.report.columns import SHOWN, sort_value

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3
DIAGNOSIS_ROLE = Qt.ItemDataRole.UserRole + 4  # the kind of a diagnosis line ("swapped", ...); None on rows
COLUMN_KEYS = tuple(column.key for column in SHOWN)


class GradcheckTableModel(QStandardItemModel):
    """The rows of a :class:`GradcheckResult` as a two-level item model.

    Top-level items are parameters; their children are the gate sub-rows. Every
    cell has a ``SORT_ROLE`` (numbers for numbers, severity for the status, the
    model's order for the name); the whole row is tinted with the status'
    ``background`` and the status cell uses the strong ``colour``. ``NAME_ROLE``
    holds the row name (``"Wx"`` / ``"Wx[forget]"``), ``STATUS_ROLE`` its status value.
    A diagnosed row's first children are its diagnosis lines (``DIAGNOSIS_ROLE``: the
    kind; ``NAME_ROLE``: the row's name, so selecting the line shows the row).
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
            for diagnosis in row.diagnoses:
                items[0].appendRow(_diagnosis_items(row, diagnosis))
            for sub_position, sub in enumerate(row.sub_rows):
                sub_items = _items(sub, sub_position)
                for diagnosis in sub.diagnoses:
                    sub_items[0].appendRow(_diagnosis_items(sub, diagnosis))
                items[0].appendRow(sub_items)
            self.appendRow(items)


def _diagnosis_items(row: GradRow, diagnosis: Diagnosis) -> list[QStandardItem]:
    """The line under ``row`` saying one likely cause: its text in the first cell (spanned by the
    view), the other cells empty, all tinted like the row."""
    tint = QBrush(QColor(row.status.background))
    items = []
    for number in range(len(SHOWN)):
        item = QStandardItem("\u21b3 likely cause: " + diagnosis.text if number == 0 else "")
        item.setEditable(False)
        item.setData(row.name, NAME_ROLE)
        item.setData(diagnosis.kind, DIAGNOSIS_ROLE)
        item.setData(row.status.value, STATUS_ROLE)
        item.setData(-1, SORT_ROLE)
        item.setBackground(tint)
        if number == 0:
            font = QFont()
            font.setItalic(True)
            item.setFont(font)
            item.setForeground(QBrush(QColor(DIAGNOSIS_COLOUR)))
            item.setToolTip(f"{row.name}: {diagnosis.text}")
        items.append(item)
    return items


class DiagnosisSortProxy(QSortFilterProxyModel):
    """Sorts the table by ``SORT_ROLE`` and keeps every diagnosis line first under its row, whatever
    the column and the order."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.setSortRole(SORT_ROLE)

    def lessThan(self, left: QModelIndex, right: QModelIndex) -> bool:
        left_line = left.data(DIAGNOSIS_ROLE) is not None
        right_line = right.data(DIAGNOSIS_ROLE) is not None
        if left_line != right_line:
            # descending order puts the larger first: a line must then be the larger
            ascending = self.sortOrder() == Qt.SortOrder.AscendingOrder
            return left_line if ascending else right_line
        return bool(super().lessThan(left, right))


def span_diagnosis_lines(view: QTreeView) -> None:
    """Let every diagnosis line of ``view`` span all columns, now and whenever the rows change or are
    sorted (spans belong to the view and are lost on a re-sort)."""
    model = view.model()
    if model is None:
        return

    def apply() -> None:
        _span_children(view, QModelIndex())

    for signal in (model.layoutChanged, model.modelReset, model.rowsInserted):
        signal.connect(lambda *_: apply())
    apply()


def _span_children(view: QTreeView, parent: QModelIndex) -> None:
    model = view.model()
    if model is None:
        return
    for number in range(model.rowCount(parent)):
        index = model.index(number, 0, parent)
        if index.data(DIAGNOSIS_ROLE) is not None:
            view.setFirstColumnSpanned(number, parent, True)
        elif model.hasChildren(index):
            _span_children(view, index)


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
