"""The training curves: loss, bits per character or accuracy, gradient norm and update ratios.

Drawing shares the interpreter with the training thread, so it is kept cheap:
at most ``max_points`` points a curve, axis ranges changed in steps rather than
on every frame, no grid, one-pixel pens (see ``docs/app-training.md``).

The four plots re-flow with the width they get: a 2 x 2 grid, or one column in a narrow
dock, every plot at least ``MIN_PLOT_WIDTH`` x ``MIN_PLOT_HEIGHT`` (a scroll area around
the panel scrolls rather than squeezing them). The ratio plot's legend is a wrapping line
under the plots (:attr:`TrainingPlots.key`), so it neither covers curves nor widens the panel.
"""

from __future__ import annotations

import html
import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from rnnscope.app.panels.axes import ReadableLogAxis
from rnnscope.app.panels.training.history import StatsHistory

pg.setConfigOptions(imageAxisOrder="row-major")

REDRAW_HZ = 20
REDRAW_BUDGET = 0.05  # largest fraction of the time spent redrawing curves while training
MAX_REDRAW_INTERVAL_MS = 1000
MIN_PLOT_WIDTH = 200  # narrower, the tick labels leave too little of a curve
MIN_PLOT_HEIGHT = 150


def redraw_interval_ms(cost: float) -> int:
    """Milliseconds until the next redraw after a frame that cost ``cost`` seconds.

    The GUI shares the interpreter with the training thread: redraws are kept to a
    small fraction of the time (at most ``REDRAW_HZ``, slower when a frame is expensive).
    """
    return int(min(MAX_REDRAW_INTERVAL_MS, max(1000 / REDRAW_HZ, 1000 * cost / REDRAW_BUDGET)))


def _curve_colours(count: int) -> list[Any]:
    return [pg.intColor(i, hues=max(count, 1), values=1, maxValue=220) for i in range(count)]


class TrainingPlots(pg.GraphicsLayoutWidget):  # type: ignore[misc]  # pyqtgraph has no type information
    """Loss, bits per char / accuracy, gradient norm and update ratios, drawn from a :class:`StatsHistory`."""

    columns = 0  # of the grid of plots (0 until it is made: pyqtgraph resizes the widget first)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self._y_ranges: dict[int, tuple[float, float]] = {}
        self._x_first, self._x_limit = 0.0, 10.0  # the x range shown (changed in steps)
        self.loss_plot = self._plot("loss per scored step", "nats")
        self.metric_plot = self._plot("bits per character", "bits")
        self.grad_plot = self._plot("gradient norm", "|g| before clipping", log=True)
        self.ratio_plot = self._plot("update / weight ratio", "|dW| / |W|", log=True)
        self._reflow(2)
        self.setMinimumWidth(MIN_PLOT_WIDTH)
        # the ratio curves' names and colours: a line of text that wraps under the plots
        self.key = QLabel()
        self.key.setWordWrap(True)
        self.key.setTextFormat(Qt.TextFormat.RichText)
        self.key.hide()
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=1))
        self.loss_smooth = self.loss_plot.plot(pen=pg.mkPen("#d62728", width=1))
        self.metric_curve = self.metric_plot.plot(pen=pg.mkPen("#2ca02c", width=1))
        self.grad_curve = self.grad_plot.plot(pen=pg.mkPen("#9467bd", width=1))
        self.ratio_curves: dict[str, pg.PlotDataItem] = {}
        self.metric_name = "bits_per_char"
        self.redraws = 0
        # painting cost grows with the points drawn; a plot is about this many pixels wide anyway
        self.max_points = 600
        self.last_paint_s = 0.0

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        """A little more than the least room (a scroll area around the panel gives it this much)."""
        rows = math.ceil(4 / max(self.columns, 1))
        return QSize(self.columns * MIN_PLOT_WIDTH, rows * (MIN_PLOT_HEIGHT + 30))

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        # two columns from twice the narrowest plot; back to one a little below (no flicker when
        # a scroll bar appearing takes a few pixels)
        if self.columns == 2 and self.width() < 2 * MIN_PLOT_WIDTH - 20:
            self._reflow(1)
        elif self.columns == 1 and self.width() >= 2 * MIN_PLOT_WIDTH:
            self._reflow(2)

    def _reflow(self, columns: int) -> None:
        """The plots in ``columns`` columns, each row at least ``MIN_PLOT_HEIGHT`` high."""
        plots = [self.loss_plot, self.metric_plot, self.grad_plot, self.ratio_plot]
        if self.columns:
            for plot in plots:
                self.ci.removeItem(plot)
        self.columns = columns
        for number, plot in enumerate(plots):
            self.ci.addItem(plot, row=number // columns, col=number % columns)
        self.setMinimumHeight(math.ceil(len(plots) / columns) * MIN_PLOT_HEIGHT)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt API
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started

    def _plot(self, title: str, units: str, log: bool = False) -> pg.PlotItem:
        axes = {"left": ReadableLogAxis("left")} if log else None  # labels that do not overprint
        plot = pg.PlotItem(title=title, axisItems=axes)
        # no grid: grid lines cost several times more to paint than the curves themselves
        plot.setLabel("bottom", "iteration")
        plot.setLabel("left", units)
        plot.setLogMode(y=log)
        # SI prefixes mislabel log axes ("x1e+12"); plain numbers read better here
        plot.getAxis("left").enableAutoSIPrefix(False)
        # ranges are set by hand, in steps (see _fit_ranges): axes that change on every frame
        # are re-laid out on every frame, which costs more than drawing the curves
        plot.disableAutoRange()
        plot.setXRange(0, 10, padding=0)
        plot.setYRange(0, 1, padding=0)
        self._y_ranges[id(plot)] = (0.0, 1.0)
        return plot

    def redraw(self, history: StatsHistory) -> None:
        full_x = history.iterations
        keep = _decimation(len(full_x), self.max_points)
        x = full_x[keep]
        loss = history.column("loss")
        self.loss_curve.setData(x, loss[keep], connect="finite")
        self.loss_smooth.setData(x, _smooth(loss)[keep], connect="finite")
        metric = "bits_per_char" if np.isfinite(history.column("bits_per_char")).any() else "accuracy"
        if metric != self.metric_name and len(history):  # (nothing run yet: neither is known)
            self.metric_name = metric
            self.metric_plot.setTitle("bits per character" if metric == "bits_per_char" else "accuracy")
            self.metric_plot.setLabel("left", "bits" if metric == "bits_per_char" else "fraction")
        self.metric_curve.setData(x, _smooth(history.column(metric))[keep], connect="finite")
        self.grad_curve.setData(x, _positive(history.column("grad_norm"))[keep], connect="finite")
        names = history.ratio_names
        if set(names) != set(self.ratio_curves):
            self._make_ratio_curves(names)
        for name, curve in self.ratio_curves.items():
            curve.setData(x, _positive(history.column(f"ratio/{name}"))[keep], connect="finite")
        self._fit_ranges(full_x)
        self.redraws += 1

    def _plots(self) -> list[tuple[pg.PlotItem, list[pg.PlotDataItem], bool]]:
        return [
            (self.loss_plot, [self.loss_curve, self.loss_smooth], False),
            (self.metric_plot, [self.metric_curve], False),
            (self.grad_plot, [self.grad_curve], True),
            (self.ratio_plot, list(self.ratio_curves.values()), True),
        ]

    def _fit_ranges(self, iterations: np.ndarray) -> None:
        # from the first iteration shown: a resumed checkpoint's curves do not start at 0
        first = float(iterations[0]) if len(iterations) else 0.0
        last = float(iterations[-1]) if len(iterations) else 0.0
        if first != self._x_first or last > self._x_limit or last - first < (self._x_limit - first) / 4:
            self._x_first = first
            self._x_limit = first + _nice_ceiling(max(10.0, 1.25 * (last - first)))
            for plot, _, _ in self._plots():
                plot.setXRange(first, self._x_limit, padding=0)
        for plot, curves, log in self._plots():
            values = [curve.getData()[1] for curve in curves]
            finite = np.concatenate(
                [v[np.isfinite(v)] for v in values if v is not None and len(v)] or [np.empty(0)]
            )
            if finite.size == 0:
                continue
            # (getData gives what is drawn: already log10 on a log axis)
            low, high = float(finite.min()), float(finite.max())
            shown_low, shown_high = self._y_ranges[id(plot)]
            span = max(high - low, 1e-9 if not log else 0.1)
            # change the range only when the data leave it or fill too little of it
            if low < shown_low or high > shown_high or span < 0.4 * (shown_high - shown_low):
                margin = 0.15 * span
                self._y_ranges[id(plot)] = (low - margin, high + margin)
                plot.setYRange(low - margin, high + margin, padding=0)

    def _make_ratio_curves(self, names: list[str]) -> None:
        for curve in self.ratio_curves.values():
            self.ratio_plot.removeItem(curve)
        self.ratio_curves = {}
        entries = []
        for name, colour in zip(names, _curve_colours(len(names)), strict=True):
            self.ratio_curves[name] = self.ratio_plot.plot(pen=pg.mkPen(colour, width=1), name=name)
            # a non-breaking space keeps each swatch with its name when the line wraps
            entries.append(f"<span style='color:{colour.name()}'>&#9632;</span>&nbsp;{html.escape(name)}")
        self.key.setText("update / weight ratio: &nbsp; " + " &nbsp; ".join(entries))
        self.key.setVisible(bool(names))

    def fit_x(self, history: StatsHistory) -> None:
        """Fit the x axes to the iterations run (when training stops or pauses)."""
        if len(history):
            self._x_first = float(history.iterations[0])
            self._x_limit = max(float(history.iterations[-1]), self._x_first + 1.0)
            for plot, _, _ in self._plots():
                plot.setXRange(self._x_first, self._x_limit, padding=0.02)

    def clear_curves(self) -> None:
        self._x_first, self._x_limit = 0.0, 10.0
        for plot, _, _ in self._plots():
            plot.setXRange(0, 10, padding=0)
        self.redraw(StatsHistory())


def with_key(plots: TrainingPlots) -> QWidget:
    """``plots`` above the wrapping legend of its ratio curves."""
    box = QWidget()
    layout = QVBoxLayout(box)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.setSpacing(2)
    layout.addWidget(plots, 1)
    layout.addWidget(plots.key)
    return box


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _decimation(count: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``count`` samples, evenly spread, always with the last one.

    Curves are drawn from these (the raw loss is noisy, so the smoothed curve is
    what carries the trend; the raw one keeps its spread at any stride).
    """
    if count <= max_points:
        return np.arange(count)
    keep = np.linspace(0, count - 1, max_points).astype(np.int64)
    return np.unique(keep)


def _smooth(values: np.ndarray, window: int = 25) -> np.ndarray:
    """Running mean over up to ``window`` iterations (ignoring nan), same length."""
    if values.size == 0:
        return values
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    total = np.cumsum(filled)
    count = np.cumsum(finite)
    total[window:] = total[window:] - total[:-window]
    count[window:] = count[window:] - count[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive ones become nan (not drawn) rather than -inf."""
    return np.where(values > 0, values, np.nan)
