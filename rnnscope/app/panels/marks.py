"""Marks where a trace first went non-finite: a red cross on a heatmap's cell, a red line on a curve.

A heatmap draws NaN as its colour scale's middle and Inf at its ends, so the value itself
is invisible; the mark is what the eye finds. The panels own one mark each and place or
clear it (:meth:`~rnnscope.app.panels.heatmap.ImagePanel.mark_problem`,
:meth:`~rnnscope.app.panels.lines.ScalarPanel.mark_nonfinite`).
"""

from __future__ import annotations

import pyqtgraph as pg

MARK_COLOUR = "#b71c1c"


class CellMark:
    """A red cross with a white rim over one cell of an image plot (hidden until placed)."""

    def __init__(self, plot: pg.PlotItem) -> None:
        self.item = pg.ScatterPlotItem(
            size=14,
            symbol="x",
            pen=pg.mkPen("w", width=1),
            brush=pg.mkBrush(MARK_COLOUR),
        )
        self.item.setZValue(10)
        self.item.setVisible(False)
        plot.addItem(self.item, ignoreBounds=True)
        self.cell: tuple[int, int] | None = None  # (column, row) of the image

    def place(self, column: int, row: int) -> None:
        """Over cell ``(column, row)`` (its centre: cells span ``[i, i + 1)``)."""
        self.cell = (column, row)
        self.item.setData([column + 0.5], [row + 0.5])
        self.item.setVisible(True)

    def show(self, visible: bool) -> None:
        """Shown (when placed) or hidden, e.g. while a matrix shows another step."""
        self.item.setVisible(visible and self.cell is not None)

    def clear(self) -> None:
        self.cell = None
        self.item.setVisible(False)


def step_line(step: int, word: str) -> pg.InfiniteLine:
    """A dashed red vertical line at ``step`` labelled ``word`` (``NaN``, ``+Inf``) for a curve's plot."""
    line = pg.InfiniteLine(
        pos=step,
        angle=90,
        movable=False,
        pen=pg.mkPen(MARK_COLOUR, width=2, style=pg.QtCore.Qt.PenStyle.DashLine),
        label=word,
        labelOpts={"position": 0.85, "color": MARK_COLOUR, "fill": (255, 255, 255, 200)},
    )
    line.setZValue(10)
    return line
