"""The gradient-check panel: run the engine's checker in a worker and read its table.

Layout, top to bottom: the check settings (mode, samples / directions, step,
thresholds) with Run / Cancel and a progress bar; the status legend; the result
table (one row per parameter, one child row per gate slice, cells tinted by
status, every column sortable); and, for the selected row, the analytic and
numeric gradient side by side with their difference, plus the worst elements.
Exports go through :mod:`rnnscope.report` (HTML / CSV / JSON / Markdown).

The panel only displays :class:`~rnnscope.engine.gradcheck.GradcheckResult`
data; colours come from ``Status.colour`` / ``Status.background``, the same ones
the HTML report uses.

Open it alone on a small model with ``python -m rnnscope.app.panels.gradcheck``
(``--screenshot PATH`` renders it to a PNG and exits).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QModelIndex, QSortFilterProxyModel, Qt, QThread, pyqtSignal
from PyQt6.QtGui import QBrush, QColor, QPainter, QPen, QStandardItem, QStandardItemModel
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableWidget,
    QTableWidgetItem,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.gradcheck_worker import GradcheckRequest, GradcheckWorker
from rnnscope.app.training_worker import start_worker, stop_thread
from rnnscope.engine.gradcheck import MODES, STATUS_BY_CODE, GradcheckResult, GradRow, Status, Thresholds
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.params import GateSlice
from rnnscope.report import FORMATS, ReportError, write_report

pg.setConfigOptions(imageAxisOrder="row-major")

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
NAME_ROLE = Qt.ItemDataRole.UserRole + 2
STATUS_ROLE = Qt.ItemDataRole.UserRole + 3


@dataclass(frozen=True)
class Column:
    """One table column: header, tooltip, and how to read its value from a :class:`GradRow`."""

    key: str
    header: str
    tooltip: str
    value: Callable[[GradRow], Any]
    text: Callable[[Any], str]


def _sci(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return "0" if value == 0 else f"{value:.3e}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return " x ".join(str(n) for n in shape) if shape else "scalar"


def _worst_text(row: GradRow) -> str:
    if row.worst_index is not None:
        return str(tuple(row.worst_index))
    if row.worst_direction is not None:
        return f"direction {row.worst_direction}"
    return "-"


COLUMNS: tuple[Column, ...] = (
    Column("name", "Parameter", "parameter, or one gate slice of a fused parameter", lambda r: r.name, str),
    Column("status", "Status", "the most severe status of the checked elements", lambda r: r.status, str),
    Column("shape", "Shape", "shape of the tensor or of the gate slice", lambda r: r.shape, _shape_text),
    Column("checked", "Checked", "elements (or directions) checked", lambda r: r.checked, str),
    Column("total", "Total", "elements in the tensor or slice", lambda r: r.total, str),
    Column("rel_err_max", "Max rel. err", "largest judged relative error", lambda r: r.rel_err_max, _sci),
    Column("rel_err_mean", "Mean rel. err", "mean judged relative error", lambda r: r.rel_err_mean, _sci),
    Column("rel_err_min", "Min rel. err", "smallest judged relative error", lambda r: r.rel_err_min, _sci),
    Column(
        "raw_rel_err_max",
        "Raw max rel. err",
        "largest relative error without the rounding allowance",
        lambda r: r.raw_rel_err_max,
        _sci,
    ),
    Column("analytic_min", "Analytic min", "smallest analytic value checked", lambda r: r.analytic_min, _sci),
    Column("analytic_max", "Analytic max", "largest analytic value checked", lambda r: r.analytic_max, _sci),
    Column("numeric_min", "Numeric min", "smallest numerical value", lambda r: r.numeric_min, _sci),
    Column("numeric_max", "Numeric max", "largest numerical value", lambda r: r.numeric_max, _sci),
    Column("worst_index", "Worst at", "index (in the whole tensor) of the worst element", _worst_text, str),
    Column(
        "worst_analytic",
        "Worst analytic",
        "analytic value at the worst element",
        lambda r: r.worst_analytic,
        _sci,
    ),
    Column(
        "worst_numeric",
        "Worst numeric",
        "numerical value at the worst element",
        lambda r: r.worst_numeric,
        _sci,
    ),
    *(
        Column(
            f"n_{status.value}",
            f"# {status.label}",
            f"elements with status '{status.label}'",
            lambda r, s=status: int(r.counts.get(s.value, 0)),
            str,
        )
        for status in Status
    ),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


def _sort_value(value: Any) -> Any:
    if isinstance(value, Status):
        return value.severity
    if isinstance(value, float):
        return -math.inf if math.isnan(value) else value
    if isinstance(value, tuple):
        return str(value)
    return value


class GradcheckTableModel(QStandardItemModel):
    """The rows of a :class:`GradcheckResult` as a two-level item model.

    Top-level items are parameters; their children are the gate sub-rows. Every
    cell has a numeric ``SORT_ROLE``; the whole row is tinted with the status'
    ``background`` and the status cell uses the strong ``colour``. ``NAME_ROLE``
    holds the row name (``"Wx"`` / ``"Wx[forget]"``), ``STATUS_ROLE`` its status value.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(0, len(COLUMNS), parent)
        self.setHorizontalHeaderLabels([column.header for column in COLUMNS])
        for number, column in enumerate(COLUMNS):
            self.setHeaderData(number, Qt.Orientation.Horizontal, column.tooltip, Qt.ItemDataRole.ToolTipRole)
        self.result: GradcheckResult | None = None

    def set_result(self, result: GradcheckResult | None) -> None:
        self.removeRows(0, self.rowCount())
        self.result = result
        if result is None:
            return
        for position, row in enumerate(result.rows):
            items = self._items(row, position)
            for sub_position, sub in enumerate(row.sub_rows):
                items[0].appendRow(self._items(sub, sub_position))
            self.appendRow(items)

    def _items(self, row: GradRow, position: int) -> list[QStandardItem]:
        tint = QBrush(QColor(row.status.background))
        items = []
        for column in COLUMNS:
            value = column.value(row)
            item = QStandardItem(column.text(value))
            item.setEditable(False)
            # sorting by the name column restores the model's own order
            item.setData(position if column.key == "name" else _sort_value(value), SORT_ROLE)
            item.setData(row.name, NAME_ROLE)
            item.setData(row.status.value, STATUS_ROLE)
            item.setBackground(tint)
            if column.key == "status":
                item.setText(row.status.label)
                item.setBackground(QBrush(QColor(row.status.colour)))
                item.setForeground(QBrush(QColor("#ffffff")))
                item.setToolTip(row.status.description)
            elif isinstance(value, float):
                item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
                item.setToolTip(repr(value))
            items.append(item)
        return items


class KeepColoursDelegate(QStyledItemDelegate):
    """Paints a selected cell in its status colour, darkened, instead of the selection colour
    (so the colour of the row being inspected stays visible)."""

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: QModelIndex) -> None:
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


def _as_image(array: np.ndarray) -> np.ndarray:
    """A 2-D float image of a tensor: rows = first axis; vectors become one row."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def _symmetric_limit(*arrays: np.ndarray) -> float:
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    peak = max((float(f.max()) for f in finite if f.size), default=0.0)
    return peak if peak > 0 else 1.0


class GradientHeatmaps(pg.GraphicsLayoutWidget):
    """Analytic, numeric and (analytic - numeric) of one tensor or gate slice, side by side.

    Analytic and numeric share one symmetric colour scale so equal values look
    equal; the difference has its own. Unchecked elements (sampled mode) are
    ``nan`` in the numeric and difference images and are drawn transparent.
    """

    TITLES = ("analytic", "numeric", "analytic - numeric")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        # room on the right for the last colour bar's tick labels
        self.ci.layout.setContentsMargins(2, 2, 36, 2)
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.bars: list[pg.ColorBarItem] = []
        colour_map = diverging_colormap()
        for column, title in enumerate(self.TITLES):
            plot = self.addPlot(row=0, col=2 * column, title=title)
            plot.invertY(True)
            # unchecked (nan) cells are transparent: grey tells them from a white zero
            plot.getViewBox().setBackgroundColor("#c8c8c8")
            plot.setAspectLocked(False)
            plot.getAxis("left").setLabel("row")
            plot.getAxis("bottom").setLabel("column")
            image = pg.ImageItem()
            plot.addItem(image)
            bar = pg.ColorBarItem(values=(-1, 1), colorMap=colour_map, interactive=False, width=12)
            bar.setImageItem(image, insert_in=None)
            self.addItem(bar, row=0, col=2 * column + 1)
            self.plots.append(plot)
            self.images.append(image)
            self.bars.append(bar)
        self.arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def set_arrays(self, name: str, analytic: np.ndarray, numeric: np.ndarray | None) -> None:
        """Show ``analytic`` and ``numeric`` (same shape; ``None`` when there is no per-element numeric)."""
        analytic = _as_image(analytic)
        numeric_image = np.full_like(analytic, np.nan) if numeric is None else _as_image(numeric)
        difference = analytic - numeric_image
        self.arrays = (analytic, numeric_image, difference)
        shared = _symmetric_limit(analytic, numeric_image)
        limits = (shared, shared, _symmetric_limit(difference))
        titles = (
            f"analytic d loss / d {name}",
            f"numeric ({'n/a in directional mode' if numeric is None else 'central difference'})",
            "analytic - numeric",
        )
        for image, bar, plot, data, limit, title in zip(
            self.images, self.bars, self.plots, self.arrays, limits, titles, strict=True
        ):
            image.setImage(data, autoLevels=False)
            image.setLevels((-limit, limit))
            bar.setLevels((-limit, limit))
            plot.setTitle(title)
            plot.autoRange(padding=0)

    def clear_arrays(self) -> None:
        self.arrays = None
        for image in self.images:
            image.clear()


def diverging_colormap() -> pg.ColorMap:
    """The app's diverging map for signed values (blue - white - red, centred on 0)."""
    try:  # the main window's heatmap panels define the app-wide maps
        from rnnscope.app.colormaps import diverging  # type: ignore[import-not-found]

        return diverging()
    except Exception:
        return pg.colormap.get("CET-D1")


class WorstElements(QTableWidget):
    """The ``count`` checked elements (or directions) of the selected row with the largest error."""

    HEADERS = ("Element", "Gate", "Analytic", "Numeric", "Rel. err", "Status")

    def __init__(self, count: int = 10, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.count = count
        self.setHorizontalHeaderLabels(self.HEADERS)
        self.verticalHeader().setVisible(False)
        self.verticalHeader().setDefaultSectionSize(22)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

    def show_elements(self, result: GradcheckResult, row: GradRow) -> None:
        check = result.tensors.get(row.parameter)
        self.setRowCount(0)
        if check is None:
            return
        members = np.ones(len(check.gates), dtype=bool)
        if row.gate is not None:
            members = np.array([gate == row.gate for gate in check.gates], dtype=bool)
        positions = np.flatnonzero(members)
        rel = np.where(np.isfinite(check.rel_err[positions]), check.rel_err[positions], -np.inf)
        too_small = check.status_codes[positions] == Status.TOO_SMALL.code
        # judged elements first (largest error first), "too small" ones last
        order = np.lexsort((-rel, too_small))[: self.count]
        self.setRowCount(len(order))
        for line, local in enumerate(order):
            k = int(positions[local])
            status = STATUS_BY_CODE[int(check.status_codes[k])]
            flat = int(check.indices[k])
            where = (
                str(tuple(int(i) for i in np.unravel_index(flat, check.shape)))
                if flat >= 0
                else f"direction {k}"
            )
            cells = (
                where,
                check.gates[k] or "",
                _sci(float(check.analytic_values[k])),
                _sci(float(check.numeric[k])),
                _sci(float(check.rel_err[k])),
                status.label,
            )
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setBackground(QBrush(QColor(status.background)))
                if column == len(cells) - 1:
                    item.setBackground(QBrush(QColor(status.colour)))
                    item.setForeground(QBrush(QColor("#ffffff")))
                self.setItem(line, column, item)


def _float_edit(value: float, tooltip: str) -> QLineEdit:
    edit = QLineEdit(f"{value:g}")
    edit.setToolTip(tooltip)
    edit.setMaximumWidth(90)
    return edit


class GradcheckPanel(QWidget):
    """Settings, Run / Cancel with progress, the status-coloured table, heatmaps and exports.

    Give it something to check with :meth:`set_source` (a model and one batch),
    or :meth:`attach` it to the main window (it then checks the window's current
    model on the current batch). :meth:`run_check` starts a worker;
    :meth:`set_result` shows any result (also one loaded elsewhere).

    Signals: ``check_started()``, ``check_finished(GradcheckResult)`` (also for a
    cancelled, partial result), ``message(str)`` for status and errors.
    """

    check_started = pyqtSignal()
    check_finished = pyqtSignal(object)
    message = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: GradcheckResult | None = None
        self.slices: dict[str, dict[str, GateSlice]] = {}
        self.worker: GradcheckWorker | None = None
        self.thread_: QThread | None = None
        self._source: (
            Callable[[], tuple[RecurrentModel, np.ndarray, np.ndarray, np.ndarray | None]] | None
        ) = None
        self._build()
        self._set_running(False)

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip(
            "sampled: a few elements per tensor / gate slice (always the largest gradient)\n"
            "full: every element\ndirectional: random unit directions, two forwards each"
        )
        self.samples = QSpinBox()
        self.samples.setRange(1, 100_000)
        self.samples.setValue(10)
        self.samples.setToolTip("elements per tensor or gate slice (sampled mode)")
        self.directions = QSpinBox()
        self.directions.setRange(1, 1000)
        self.directions.setValue(3)
        self.directions.setToolTip("random directions per tensor or gate slice (directional mode)")
        self.seed = QSpinBox()
        self.seed.setRange(0, 2**31 - 1)
        self.seed.setToolTip("chooses the sampled elements and directions")
        defaults = Thresholds()
        self.step = _float_edit(1e-5, "finite-difference step h (scaled by max(1, |x|))")
        self.ok_threshold = _float_edit(defaults.ok, "relative error below this is ok")
        self.fail_threshold = _float_edit(defaults.fail, "relative error above this fails")
        self.floor_threshold = _float_edit(
            defaults.floor, "'too small' below floor x the tensor's largest |gradient|"
        )
        self.kink_threshold = _float_edit(
            defaults.kink, "one-sided differences disagreeing by more mark a kink"
        )
        self.mode.currentTextChanged.connect(self._mode_changed)

        settings = QGroupBox("Check")
        form = QGridLayout(settings)
        pairs = (
            ("Mode", self.mode),
            ("Samples", self.samples),
            ("Directions", self.directions),
            ("Seed", self.seed),
            ("Step h", self.step),
            ("OK <", self.ok_threshold),
            ("Fail >", self.fail_threshold),
            ("Floor", self.floor_threshold),
            ("Kink", self.kink_threshold),
        )
        for number, (label, widget) in enumerate(pairs):
            row, column = divmod(number, 5)
            form.addWidget(QLabel(label), row, 2 * column)
            form.addWidget(widget, row, 2 * column + 1)

        self.run_button = QPushButton("Run check")
        self.run_button.clicked.connect(self.run_check)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.export_format = QComboBox()
        self.export_format.addItems(list(FORMATS))
        self.export_format.setCurrentText("html")
        self.export_format.setToolTip("report format")
        self.export_button = QPushButton("Export...")
        self.export_button.clicked.connect(self._export_dialog)
        self.open_button = QPushButton("Open report...")
        self.open_button.setToolTip(
            "show a JSON report written earlier (by this panel or rnnscope gradcheck)"
        )
        self.open_button.clicked.connect(self._open_dialog)
        buttons = QHBoxLayout()
        for widget in (
            self.run_button,
            self.cancel_button,
            self.progress,
            self.export_format,
            self.export_button,
        ):
            buttons.addWidget(widget)
        buttons.setStretchFactor(self.progress, 1)

        self.summary = QLabel("No check run yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.legend = StatusLegend()

        self.table_model = GradcheckTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTreeView()
        self.table.setModel(self.proxy)
        self.table.setSortingEnabled(True)
        self.table.setItemDelegate(KeepColoursDelegate(self.table))
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.header().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.header().setSortIndicatorShown(True)
        self.table.selectionModel().currentRowChanged.connect(self._row_selected)

        self.heatmaps = GradientHeatmaps()
        self.worst = WorstElements()
        self.detail_title = QLabel("Select a row to compare analytic and numeric gradients.")
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(0, 0, 0, 0)
        detail_layout.addWidget(self.detail_title)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.heatmaps)
        worst_box = QGroupBox("Worst elements")
        worst_layout = QVBoxLayout(worst_box)
        worst_layout.addWidget(self.worst)
        lower.addWidget(worst_box)
        lower.setSizes([900, 360])
        detail_layout.addWidget(lower)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setSizes([220, 420])

        layout = QVBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.legend)
        layout.addWidget(self.summary)
        layout.addWidget(splitter, 1)
        self._mode_changed(self.mode.currentText())

    def _mode_changed(self, mode: str) -> None:
        self.samples.setEnabled(mode == "sampled")
        self.directions.setEnabled(mode == "directional")

    def _set_running(self, running: bool) -> None:
        self._busy = running
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running and self.result is not None)
        self.open_button.setEnabled(not running)

    # ------------------------------------------------------------------ sources
    def set_source(
        self, model: RecurrentModel, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
    ) -> None:
        """Check ``model`` on this batch: ``inputs`` ``(T, B, D)``, ``targets``, ``mask`` ``(T, B)``."""
        self._source = lambda: (model, inputs, targets, mask)

    def attach(self, window: Any) -> None:
        """Check whatever the main window shows: its current model on its current batch."""

        def source() -> tuple[RecurrentModel, np.ndarray, np.ndarray, np.ndarray | None]:
            model = window.current_model()
            batch = window.current_batch()
            if model is None or batch is None:
                raise ValueError("the main window has no model or sequence to check yet")
            return model, batch.inputs, batch.targets, getattr(batch, "mask", None)

        self._source = source
        changed = getattr(window, "model_changed", None)
        if changed is not None:
            changed.connect(self._model_changed)

    def _model_changed(self, *args: Any) -> None:
        if self.result is not None and not self._busy and "changed since" not in self.summary.text():
            self.summary.setText(
                self.summary.text()
                + " &nbsp; <i>(the shown model has changed since: run the check again)</i>"
            )

    # ------------------------------------------------------------------ settings
    def thresholds(self) -> Thresholds:
        """The thresholds typed in the panel (``ValueError`` naming a bad field)."""
        values = {}
        for name, edit in (
            ("ok", self.ok_threshold),
            ("fail", self.fail_threshold),
            ("floor", self.floor_threshold),
            ("kink", self.kink_threshold),
        ):
            values[name] = _parse_float(edit.text(), f"the {name} threshold")
        return Thresholds(**values)

    def request(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None) -> GradcheckRequest:
        step = _parse_float(self.step.text(), "the step h")
        if not step > 0:
            raise ValueError(f"the step h must be positive, got {step}")
        return GradcheckRequest(
            inputs=inputs,
            targets=targets,
            mask=mask,
            mode=self.mode.currentText(),
            samples=self.samples.value(),
            directions=self.directions.value(),
            seed=self.seed.value(),
            step=step,
            thresholds=self.thresholds(),
        )

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        """True from the start of a check until its result (or failure) has arrived."""
        return self._busy

    def run_check(self) -> GradcheckWorker | None:
        """Start a check in a worker thread; returns the worker (``None`` if it could not start)."""
        worker = self.prepare_check()
        if worker is not None:
            self.start_check(worker)
        return worker

    def prepare_check(self) -> GradcheckWorker | None:
        """A connected, not yet started worker for the current settings (``None`` on bad settings).

        :meth:`run_check` is ``prepare_check`` + :meth:`start_check`; tests split them to
        create their signal blockers before the thread starts.
        """
        if self.running:
            return None
        try:
            if self._source is None:
                raise ValueError("nothing to check: no model and batch were given")
            model, inputs, targets, mask = self._source()
            request = self.request(inputs, targets, mask)
        except ValueError as error:
            self._say(f"Cannot run the check: {error}", error=True)
            return None
        self.slices = {name: model.params.gate_slices(name) for name in model.params}
        worker = GradcheckWorker(model, request)
        worker.progress.connect(self._progress)
        worker.finished.connect(self._finished)
        worker.cancelled.connect(self._cancelled)
        worker.failed.connect(self._failed)
        self._pending_description = f"Checking {type(model).__name__} ({request.mode})..."
        return worker

    def start_check(self, worker: GradcheckWorker) -> None:
        """Run a worker from :meth:`prepare_check` in its own thread."""
        self.worker = worker
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._set_running(True)
        self._say(self._pending_description)
        self.check_started.emit()
        # a previous check's thread has delivered its result; make sure it is gone
        stop_thread(self.thread_)
        self.thread_ = start_worker(worker, "gradcheck")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self._say("Cancelling...")

    def shutdown(self) -> None:
        """Cancel any running check and wait for its thread (call before closing)."""
        if self.worker is not None:
            self.worker.cancel()
        stop_thread(self.thread_)

    def _progress(self, done: int, total: int, name: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setToolTip(f"checking {name}")

    def _finished(self, result: GradcheckResult) -> None:
        self._set_running(False)
        self.set_result(result)
        self.check_finished.emit(result)

    def _cancelled(self, partial: GradcheckResult) -> None:
        self._set_running(False)
        self.set_result(partial)
        self._say(f"Cancelled: {len(partial.rows)} parameter(s) were checked before the cancel.")
        self.check_finished.emit(partial)

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self._say(message.split("\n\n")[0], error=True)

    # ------------------------------------------------------------------ showing
    def set_result(
        self, result: GradcheckResult | None, slices: dict[str, dict[str, GateSlice]] | None = None
    ) -> None:
        """Show ``result`` in the table (``slices``: gate slices by parameter, for sub-row heatmaps)."""
        if slices is not None:
            self.slices = slices
        self.result = result
        self.table_model.set_result(result)
        self.table.expandAll()
        self.heatmaps.clear_arrays()
        self.worst.setRowCount(0)
        self._set_running(self._busy)
        if result is None:
            self.summary.setText("No check run yet.")
            return
        counts = ", ".join(f"{n} {Status(k).label}" for k, n in result.counts().items() if n)
        verdict = result.status
        self.summary.setText(
            f"<b style='color:{verdict.colour}'>{verdict.label.upper()}</b> &nbsp; {result.mode} check of "
            f"{result.model_config.get('kind', '?')} H={result.model_config.get('hidden_size', '?')}: "
            f"{len(result.rows)} parameters ({counts}); loss {result.loss:.6g}, {result.evaluations} "
            f"evaluations in {result.duration_s:.2f} s{' (cancelled)' if result.cancelled else ''}"
        )
        if result.rows:
            # open on the row that needs looking at: the most severe, largest error (its worst gate)
            self.select_row(_worst_row(result.rows).name)

    def row_index(self, name: str) -> QModelIndex:
        """The proxy index (column 0) of the row or sub-row called ``name``."""
        matches = self.proxy.match(
            self.proxy.index(0, 0),
            NAME_ROLE,
            name,
            1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        if not matches:
            raise KeyError(f"no row {name!r} in the table")
        return matches[0]

    def select_row(self, name: str) -> None:
        self.table.setCurrentIndex(self.row_index(name))

    def _row_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self.result is None or not current.isValid():
            return
        name = current.data(NAME_ROLE)
        try:
            row = self.result.row(name)
        except KeyError:
            return
        self.show_row(row)

    def show_row(self, row: GradRow) -> None:
        """Heatmaps and worst elements of one row (or gate sub-row)."""
        assert self.result is not None
        check = self.result.tensors.get(row.parameter)
        if check is None:
            self.heatmaps.clear_arrays()
            self.worst.setRowCount(0)
            return
        directional = check.directions is not None
        analytic = check.analytic
        numeric = None if directional else check.numeric_full()
        if row.gate is not None:
            piece = self.slices.get(row.parameter, {}).get(row.gate)
            if piece is not None:
                index = piece.index(analytic.ndim)
                analytic = analytic[index]
                numeric = None if numeric is None else numeric[index]
        self.heatmaps.set_arrays(row.name, analytic, numeric)
        self.worst.show_elements(self.result, row)
        checked = f"{row.checked} of {row.total} {'directions' if directional else 'elements'} checked"
        self.detail_title.setText(
            f"<b>{row.name}</b> {_shape_text(row.shape)}: <span style='color:{row.status.colour}'>"
            f"{row.status.label}</span>, max rel. err {_sci(row.rel_err_max)}; {checked}"
            + ("; blank cells were not sampled" if self.result.mode == "sampled" else "")
        )

    # ------------------------------------------------------------------ export
    def export(self, path: str | os.PathLike[str], fmt: str | None = None) -> bool:
        """Write the shown result to ``path`` (format from ``fmt`` or the extension). False on error."""
        if self.result is None:
            self._say("Nothing to export: run a check first.", error=True)
            return False
        try:
            used = write_report(self.result, path, fmt)
        except ReportError as error:
            self._say(f"Export failed: {error}", error=True)
            return False
        self._say(f"Wrote the {used.upper()} report to {os.fspath(path)}")
        return True

    def open_report(self, path: str | os.PathLike[str]) -> bool:
        """Show the result saved in a JSON report. False (with a message) if it is not one."""
        from rnnscope.report import load_report

        try:
            result = load_report(path)
        except ValueError as error:
            self._say(f"Cannot open the report: {error}", error=True)
            return False
        # a report carries no gate geometry: gate rows then show the whole tensor
        self.set_result(result, slices={})
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open gradient-check report", "", "JSON reports (*.json)")
        if path:
            self.open_report(path)

    def _export_dialog(self) -> None:
        fmt = self.export_format.currentText()
        filters = {
            "html": "HTML (*.html)",
            "csv": "CSV (*.csv)",
            "json": "JSON (*.json)",
            "md": "Markdown (*.md)",
        }
        path, _ = QFileDialog.getSaveFileName(self, "Export gradient check", f"gradcheck.{fmt}", filters[fmt])
        if path:
            self.export(path, fmt)

    def _say(self, text: str, error: bool = False) -> None:
        colour = Status.FAIL.colour if error else "#333333"
        self.summary.setText(f"<span style='color:{colour}'>{_escape(text)}</span>")
        self.message.emit(text)


def _worst_row(rows: list[GradRow]) -> GradRow:
    def key(row: GradRow) -> tuple[int, float]:
        error = row.rel_err_max
        return row.status.severity, -math.inf if math.isnan(error) else error

    worst = max(rows, key=key)
    return max(worst.sub_rows, key=key) if worst.sub_rows else worst


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _parse_float(text: str, what: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {text!r}")
    return value


# ---------------------------------------------------------------------- standalone preview
def demo_source(kind: str = "lstm", hidden: int = 6, seed: int = 0) -> tuple[RecurrentModel, Any]:
    """A small model and batch to preview the panel with (random one-hot sequences)."""
    from rnnscope.engine.models.base import ModelConfig
    from rnnscope.engine.models.registry import build_model

    rng = np.random.default_rng(seed)
    vocabulary, steps, batch = 5, 6, 2
    try:
        model = build_model(ModelConfig(kind, vocabulary, hidden, vocabulary, seed=seed))
    except ImportError:
        model = build_model(ModelConfig("rnn", vocabulary, hidden, vocabulary, seed=seed))
    ids = rng.integers(0, vocabulary, size=(steps + 1, batch))
    inputs = np.eye(vocabulary)[ids[:-1]]
    return model, (inputs, ids[1:], None)


def with_broken_gradient(model: RecurrentModel, name: str, factor: float = 1.3) -> RecurrentModel:
    """A copy of ``model`` whose backward scales the gradient of core parameter ``name`` (or one
    gate slice, ``"Wx[forget]"``) by ``factor``: what a bug looks like in the table."""
    from rnnscope.engine.params import split_name

    parameter, gate = split_name(name)
    base = type(model)

    class BrokenBackward(base):  # type: ignore[valid-type, misc]
        def backward_core(self, *args: Any, **kwargs: Any) -> Any:
            grads, *rest = super().backward_core(*args, **kwargs)
            grads = dict(grads)
            if parameter not in grads:
                raise KeyError(f"{parameter!r} is not a core parameter; choose one of {sorted(grads)}")
            grad = np.array(grads[parameter], copy=True)
            piece = self.params.gate_slices(parameter).get(gate) if gate else None
            if piece is None:
                grad *= factor
            else:
                grad[piece.index(grad.ndim)] *= factor
            grads[parameter] = grad
            return (grads, *rest)

    BrokenBackward.__name__ = base.__name__
    return BrokenBackward(model.config, model.params.copy())


def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from PyQt6.QtWidgets import QApplication

    parser = argparse.ArgumentParser(description="The gradient-check panel on a small model.")
    parser.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru", "dnc"))
    parser.add_argument("--hidden", type=int, default=6)
    parser.add_argument("--mode", default="sampled", choices=MODES)
    parser.add_argument("--screenshot", metavar="PNG", help="run the check, save the panel as PNG and exit")
    parser.add_argument(
        "--break",
        dest="broken",
        metavar="NAME",
        help="scale the analytic gradient of this core parameter or gate slice (e.g. 'Wx[forget]') by 1.3",
    )
    args = parser.parse_args(argv)
    app = QApplication.instance() or QApplication(sys.argv[:1])
    from rnnscope.app.application import configure_app

    configure_app(app)
    panel = GradcheckPanel()
    panel.resize(1280, 860)
    panel.setWindowTitle("rnnscope - gradient check")
    model, (inputs, targets, mask) = demo_source(args.model, args.hidden)
    if args.broken:
        model = with_broken_gradient(model, args.broken)
    panel.set_source(model, inputs, targets, mask)
    panel.mode.setCurrentText(args.mode)
    panel.show()
    if args.screenshot:
        panel.check_finished.connect(lambda _: _save_and_quit(panel, args.screenshot, app))
    panel.run_check()
    code = app.exec()
    panel.shutdown()
    return code


def _save_and_quit(panel: GradcheckPanel, path: str, app: Any) -> None:
    from PyQt6.QtCore import QTimer

    def save() -> None:
        panel.grab().save(path)
        panel.shutdown()
        app.quit()

    QTimer.singleShot(200, save)


if __name__ == "__main__":
    raise SystemExit(main())
