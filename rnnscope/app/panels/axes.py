"""Axes that stay readable when a plot is small: a few labelled ticks, linear or log.

pyqtgraph labels every minor tick of a log axis (2, 3, ... 9 x 10^k), which in a plot a
hundred pixels high prints a dozen labels over each other. :class:`ReadableLogAxis`
labels decades only, thinned to what the axis has room for, and falls back to 1-2-5
steps when the range spans less than a decade.
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt

PIXELS_PER_LABEL = 28  # vertical room one tick label needs, with a gap


def log_tick_positions(low: float, high: float, pixels: float) -> list[float]:
    """Tick positions in log10 units for a log axis showing ``10**low .. 10**high`` over ``pixels``.

    Whole decades, every k-th one so that at most ``pixels / PIXELS_PER_LABEL`` (and at
    least two) are labelled; with fewer than two decades in range, 1, 2 and 5 times the
    powers of ten inside it.
    """
    if not (math.isfinite(low) and math.isfinite(high)) or high <= low:
        return []
    room = max(2, int(pixels // PIXELS_PER_LABEL))
    decades = list(range(math.ceil(low), math.floor(high) + 1))
    if len(decades) >= 2:
        stride = math.ceil(len(decades) / room)
        return [float(d) for d in decades if d % stride == 0] or [float(decades[0])]
    positions = [
        math.log10(m) + e
        for e in range(math.floor(low), math.ceil(high) + 1)
        for m in (1, 2, 5)
        if low <= math.log10(m) + e <= high
    ]
    if len(positions) >= 2:
        return positions[:: math.ceil(len(positions) / room)]
    return _linear_inside(10.0**low, 10.0**high, room) or positions


def _linear_inside(low: float, high: float, room: int) -> list[float]:
    """log10 of evenly spaced round values (1, 2 or 5 times a power of ten apart) inside
    ``low..high``, at most ``room`` of them: a log axis spanning much less than a decade still
    gets labels."""
    top = math.floor(math.log10(high - low))
    for power in range(top, top - 4, -1):
        for step in (5.0 * 10.0**power, 2.0 * 10.0**power, 10.0**power):
            values = [k * step for k in range(math.ceil(low / step), math.floor(high / step) + 1)]
            if len(values) >= 2:
                return [math.log10(v) for v in values[:: math.ceil(len(values) / room)] if v > 0]
    return []


def thin_levels(levels: list[tuple[float, list[float]]], pixels: float) -> list[tuple[float, list[float]]]:
    """pyqtgraph's linear tick levels, major ones only, every k-th so that they fit ``pixels``."""
    if not levels:
        return levels
    spacing, values = levels[0]
    room = max(2, int(pixels // PIXELS_PER_LABEL))
    stride = math.ceil(len(values) / room) if values else 1
    return [(spacing * stride, list(values)[::stride])]


def log_tick_label(position: float) -> str:
    """``10**position`` in a short form: ``0.01``, ``20``, ``1e-06``."""
    return f"{10.0**position:.3g}"


class ReadableLogAxis(pg.AxisItem):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """An axis labelling as many ticks as its length has room for: decades in log mode (see
    :func:`log_tick_positions`), pyqtgraph's major ticks thinned in linear mode (:func:`thin_levels`)."""

    def tickValues(  # noqa: N802 - pyqtgraph's API
        self, min_value: float, max_value: float, size: float
    ) -> list[tuple[float, list[float]]]:
        if not self.logMode:
            return thin_levels(super().tickValues(min_value, max_value, size), size)
        low, high = min(min_value, max_value), max(min_value, max_value)
        return [(1.0, log_tick_positions(low, high, size))]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802 - pyqtgraph's API
        if not self.logMode:
            strings: list[str] = super().tickStrings(values, scale, spacing)
            return strings
        return [log_tick_label(v) for v in values]


def readable_log_axis(plot: pg.PlotItem, side: str = "left") -> ReadableLogAxis:
    """Give ``plot`` a :class:`ReadableLogAxis` on ``side`` (before its log mode is set)."""
    axis = ReadableLogAxis(side)
    plot.setAxisItems({side: axis})
    return axis


NAME_PIXELS = {"left": 14, "bottom": 40}  # room one entry's name needs along a vertical / horizontal axis


def name_ticks(names: tuple[str, ...], pixels: float, side: str) -> list[list[tuple[float, str]]]:
    """pyqtgraph ticks naming rows ``0..len(names)-1`` at their centres: every k-th name so that
    they fit ``pixels`` along the axis (never printed over each other; hover gives every name)."""
    stride = max(1, int(np.ceil(len(names) * NAME_PIXELS[side] / max(pixels, 1.0))))
    return [[(i + 0.5, str(name)) for i, name in enumerate(names) if i % stride == 0]]


def free_label_width(label: pg.LabelItem) -> None:
    """Like ``LabelItem.updateMin``, but with no minimum width: a long text is cut, not the plot.

    A new text of the same height (a matrix's ``(step 12)``) leaves the layout alone: re-laying
    out the plot on every step would cost more than drawing it."""
    height = label.itemRect().height()
    hint = getattr(label, "_sizeHint", None)
    if hint is not None and hint.get(Qt.SizeHint.MinimumSize) == (0, height):
        return
    label.setMinimumWidth(0)
    label.setMinimumHeight(height)
    label._sizeHint = {
        Qt.SizeHint.MinimumSize: (0, height),
        Qt.SizeHint.PreferredSize: (0, height),
        Qt.SizeHint.MaximumSize: (-1, -1),
        Qt.SizeHint.MinimumDescent: (0, 0),
    }
    label.updateGeometry()


def free_title_width(plot: pg.PlotItem) -> None:
    """Make ``plot``'s title cut when long instead of widening the plot past its panel (pyqtgraph
    makes the title's text width the minimum width of the plot's column)."""
    label = plot.titleLabel
    if not getattr(label, "_width_free", False):
        label.updateMin = lambda: free_label_width(label)
        label._width_free = True
