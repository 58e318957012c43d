"""The training curves: loss, bits per character or accuracy, gradient norm and update ratios.

Drawing shares the interpreter with the training thread, so it is kept cheap:
at most ``max_points`` points a curve, axis ranges changed in steps rather than
on every frame, no grid, one-pixel pens (see ``docs/app-training.md``).
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtGui import QPaintEvent
from PyQt6.QtWidgets import QWidget

from rnnscope.app.panels.axes import ReadableLogAxis
from rnnscope.app.panels.training.history import StatsHistory

pg.setConfigOptions(imageAxisOrder="row-major")

REDRAW_HZ = 20
REDRAW_BUDGET = 0.05  # largest fraction of the time spent redrawing curves while training
MAX_REDRAW_INTERVAL_MS = 1000


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

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self._y_ranges: dict[int, tuple[float, float]] = {}
        self._x_limit = 10.0
        self.loss_plot = self._plot(0, 0, "loss per scored step", "nats")
        self.metric_plot = self._plot(0, 1, "bits per character", "bits")
        self.grad_plot = self._plot(1, 0, "gradient norm (before clipping)", "|g|", log=True)
        self.ratio_plot = self._plot(1, 1, "update / weight ratio", "|dW| / |W|", log=True)
        self.ratio_legend = self.ratio_plot.addLegend(offset=(-5, 5), labelTextSize="7pt", colCount=2)
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

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt API
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started

    def _plot(self, row: int, col: int, title: str, units: str, log: bool = False) -> pg.PlotItem:
        axes = {"left": ReadableLogAxis("left")} if log else None  # labels that do not overprint
        plot = self.addPlot(row=row, col=col, title=title, axisItems=axes)
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
        if metric != self.metric_name:
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
        last = float(iterations[-1]) if len(iterations) else 0.0
        if last > self._x_limit or last < self._x_limit / 4:
            self._x_limit = _nice_ceiling(max(10.0, 1.25 * last))
            for plot, _, _ in self._plots():
                plot.setXRange(0, self._x_limit, padding=0)
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
        self.ratio_legend.clear()
        self.ratio_curves = {}
        for name, colour in zip(names, _curve_colours(len(names)), strict=True):
            self.ratio_curves[name] = self.ratio_plot.plot(pen=pg.mkPen(colour, width=1), name=name)

    def fit_x(self, history: StatsHistory) -> None:
        """Fit the x axes to the iterations run (when training stops or pauses)."""
        if len(history):
            self._x_limit = max(float(history.iterations[-1]), 1.0)
            for plot, _, _ in self._plots():
                plot.setXRange(0, self._x_limit, padding=0.02)

    def clear_curves(self) -> None:
        self._x_limit = 10.0
        for plot, _, _ in self._plots():
            plot.setXRange(0, 10, padding=0)
        self.redraw(StatsHistory())


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
