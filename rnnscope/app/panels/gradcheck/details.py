"""What the gradient panel shows for the selected row: heatmaps and the worst elements.

:class:`RowDetails` holds both under a title line and, for a diagnosed row, the
likely cause of its failure. :class:`GradientHeatmaps` draws the analytic and
numeric gradient of the row's tensor (or gate slice) side by side with their
difference; :class:`WorstElements` lists the checked elements (or directions)
with the largest relative error.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt
from PyQt6.QtGui import QBrush, QColor
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QGroupBox,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from rnnscope.engine.gradcheck import STATUS_BY_CODE, GradcheckResult, GradRow, Status, TensorCheck
from rnnscope.engine.params import GateSlice
from rnnscope.report.columns import sci, shape_text

# the text of a diagnosis: the fail colour, darkened for reading (as under the table's row)
DIAGNOSIS_COLOUR = "#8a1c1d"

pg.setConfigOptions(imageAxisOrder="row-major")

# the diverging map of signed values, as in the heatmap panels (blue - white - red, centred on 0)
DIVERGING_MAP = "CET-D1"


def as_image(array: np.ndarray) -> np.ndarray:
    """A 2-D float image of a tensor: rows = first axis; vectors become one row."""
    array = np.asarray(array, dtype=np.float64)
    if array.ndim == 0:
        return array.reshape(1, 1)
    if array.ndim == 1:
        return array.reshape(1, -1)
    return array.reshape(array.shape[0], -1)


def symmetric_limit(*arrays: np.ndarray) -> float:
    """The largest finite ``|value|`` of ``arrays`` (1 when there is none): a colour scale ``+-limit``."""
    finite = [np.abs(a[np.isfinite(a)]) for a in arrays]
    peak = max((float(f.max()) for f in finite if f.size), default=0.0)
    return peak if peak > 0 else 1.0


class GradientHeatmaps(QWidget):
    """Analytic, numeric and (analytic - numeric) of one tensor or gate slice, side by side.

    Analytic and numeric share one symmetric colour scale so equal values look
    equal; the difference has its own. Unchecked elements (sampled mode) are
    ``nan`` in the numeric and difference images and are drawn transparent.
    ``arrays`` holds the three images shown, ``(rows, columns)`` each.
    """

    TITLES = ("analytic", "numeric", "analytic - numeric")

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        # room on the right for the last colour bar's tick labels
        self.view.ci.layout.setContentsMargins(2, 2, 36, 2)
        self.plots: list[pg.PlotItem] = []
        self.images: list[pg.ImageItem] = []
        self.bars: list[pg.ColorBarItem] = []
        colour_map = pg.colormap.get(DIVERGING_MAP)
        for column, title in enumerate(self.TITLES):
            plot = self.view.addPlot(row=0, col=2 * column, title=title)
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
            self.view.addItem(bar, row=0, col=2 * column + 1)
            self.plots.append(plot)
            self.images.append(image)
            self.bars.append(bar)
        self.arrays: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def set_arrays(self, name: str, analytic: np.ndarray, numeric: np.ndarray | None) -> None:
        """Show ``analytic`` and ``numeric`` (same shape; ``None`` when there is no per-element numeric)."""
        analytic = as_image(analytic)
        numeric_image = np.full_like(analytic, np.nan) if numeric is None else as_image(numeric)
        difference = analytic - numeric_image
        self.arrays = (analytic, numeric_image, difference)
        shared = symmetric_limit(analytic, numeric_image)
        limits = (shared, shared, symmetric_limit(difference))
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


class WorstElements(QTableWidget):
    """The ``count`` checked elements (or directions) of the selected row with the largest error."""

    HEADERS = ("Element", "Gate", "Analytic", "Numeric", "Rel. err", "Status")

    def __init__(self, count: int = 10, parent: QWidget | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        self.count = count
        self.setHorizontalHeaderLabels(self.HEADERS)
        vertical = self.verticalHeader()
        if vertical is not None:
            vertical.setVisible(False)
            vertical.setDefaultSectionSize(22)
        horizontal = self.horizontalHeader()
        if horizontal is not None:
            horizontal.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)

    def show_elements(self, result: GradcheckResult, row: GradRow) -> None:
        check = result.tensors.get(row.parameter)
        self.setRowCount(0)
        if check is None:
            return
        order = _worst_first(check, row.gate)[: self.count]
        self.setRowCount(len(order))
        for line, k in enumerate(order):
            self._show_element(line, check, int(k))

    def _show_element(self, line: int, check: TensorCheck, k: int) -> None:
        status = STATUS_BY_CODE[int(check.status_codes[k])]
        flat = int(check.indices[k])
        where = (
            str(tuple(int(i) for i in np.unravel_index(flat, check.shape))) if flat >= 0 else f"direction {k}"
        )
        cells = (
            where,
            check.gates[k] or "",
            sci(float(check.analytic_values[k])),
            sci(float(check.numeric[k])),
            sci(float(check.rel_err[k])),
            status.label,
        )
        for column, text in enumerate(cells):
            item = QTableWidgetItem(text)
            item.setBackground(QBrush(QColor(status.background)))
            if column == len(cells) - 1:
                item.setBackground(QBrush(QColor(status.colour)))
                item.setForeground(QBrush(QColor("#ffffff")))
            self.setItem(line, column, item)


def _worst_first(check: TensorCheck, gate: str | None) -> np.ndarray:
    """Positions of the checks of ``gate`` (all if ``None``): judged ones first, largest error first,
    then the "too small" ones."""
    if gate is None:
        positions = np.arange(len(check.gates))
    else:
        positions = np.flatnonzero(np.array([g == gate for g in check.gates], dtype=bool))
    rel = np.where(np.isfinite(check.rel_err[positions]), check.rel_err[positions], -np.inf)
    too_small = check.status_codes[positions] == Status.TOO_SMALL.code
    ordered: np.ndarray = positions[np.lexsort((-rel, too_small))]
    return ordered


class RowDetails(QWidget):
    """The selected row in detail: a title line, the likely cause of its failure when the check
    found one (``cause``, hidden otherwise), :class:`GradientHeatmaps` and :class:`WorstElements`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.heatmaps = GradientHeatmaps()
        self.worst = WorstElements()
        self.title = QLabel("Select a row to compare analytic and numeric gradients.")
        self.cause = QLabel()
        self.cause.setWordWrap(True)
        self.cause.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.cause.setStyleSheet(f"color: {DIAGNOSIS_COLOUR}; font-style: italic;")
        self.cause.hide()
        worst_box = QGroupBox("Worst elements")
        worst_layout = QVBoxLayout(worst_box)
        worst_layout.addWidget(self.worst)
        lower = QSplitter(Qt.Orientation.Horizontal)
        lower.addWidget(self.heatmaps)
        lower.addWidget(worst_box)
        lower.setSizes([900, 360])
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.cause)
        layout.addWidget(lower)

    def clear(self) -> None:
        self.heatmaps.clear_arrays()
        self.worst.setRowCount(0)
        self.cause.clear()
        self.cause.hide()

    def show_row(
        self, result: GradcheckResult, row: GradRow, slices: dict[str, dict[str, GateSlice]]
    ) -> None:
        """Row ``row`` of ``result``; ``slices`` (gate slices by parameter) cut a gate sub-row's
        part out of its tensor (without them a gate row shows the whole tensor)."""
        check = result.tensors.get(row.parameter)
        if check is None:
            self.clear()
            return
        directional = check.directions is not None
        analytic = check.analytic
        numeric = None if directional else check.numeric_full()
        piece = slices.get(row.parameter, {}).get(row.gate) if row.gate is not None else None
        if piece is not None:
            index = piece.index(analytic.ndim)
            analytic = analytic[index]
            numeric = None if numeric is None else numeric[index]
        self.heatmaps.set_arrays(row.name, analytic, numeric)
        self.worst.show_elements(result, row)
        self.cause.setText("\n".join(f"Likely cause: {d.text}" for d in row.diagnoses))
        self.cause.setVisible(bool(row.diagnoses))
        checked = f"{row.checked} of {row.total} {'directions' if directional else 'elements'} checked"
        self.title.setText(
            f"<b>{row.name}</b> {shape_text(row.shape)}: <span style='color:{row.status.colour}'>"
            f"{row.status.label}</span>, max rel. err {sci(row.rel_err_max)}; {checked}"
            + ("; blank cells were not sampled" if result.mode == "sampled" else "")
        )
