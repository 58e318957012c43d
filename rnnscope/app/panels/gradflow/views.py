"""The three plots of the gradient-flow panel, each with the shared cursor (the target step ``t``).

* :class:`HorizonView`: the memory horizon ``(s, unit)`` heatmap at ``t`` (sequential 0..1);
* :class:`JacobianView`: ``||dh_t / dh_s||`` over ``s`` on a log axis;
* :class:`SaliencyView`: the ``(s, t)`` saliency map, ``t`` across, ``s`` up, cursor at ``t``.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QSizePolicy, QVBoxLayout, QWidget

from rnnscope.app.panels.axes import readable_log_axis
from rnnscope.app.panels.colour_bar import ColourBar

CURSOR_PEN = pg.mkPen("r", width=1)


class _PlotView(QWidget):
    """A white plot with labelled axes and a cursor line, in a widget."""

    def __init__(self, title: str, x_label: str, y_label: str, log_y: bool = False) -> None:
        super().__init__()
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        # as tall as the dock gives: a graphics view's own size hint would make the dock scroll
        self.view.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Ignored)
        self.plot = self.view.addPlot(enableMenu=False)
        if log_y:
            readable_log_axis(self.plot)
        self.setToolTip(title)  # the tab names the view; the plot keeps its room for the data
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.hideButtons()
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=CURSOR_PEN)
        self.cursor_line.setZValue(10)  # over the image
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.setMinimumSize(240, 90)


class _ImageView(_PlotView):
    """An image on the plot with a colour bar beside it."""

    def __init__(self, title: str, x_label: str, y_label: str, cmap: pg.ColorMap) -> None:
        super().__init__(title, x_label, y_label)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.bar = ColourBar(cmap, (0.0, 1.0))
        self.view.addItem(self.bar)
        self.values = np.zeros((0, 0))

    def _show(self, values: np.ndarray, levels: tuple[float, float]) -> None:
        """``values`` ``(rows, columns)``: row ``r`` drawn at ``y = r``, column ``c`` at ``x = c``."""
        self.values = values
        self.image.setImage(np.nan_to_num(values), levels=levels, autoLevels=False)
        self.image.setRect(-0.5, -0.5, values.shape[1], values.shape[0])
        self.bar.setLevels(levels)


class HorizonView(_ImageView):
    """How much of ``c_s`` survives at ``t``: ``survival`` ``(t + 1, H)``, steps ``s`` across, units up."""

    def __init__(self) -> None:
        super().__init__(
            "memory horizon: f_{s+1} ... f_t", "source step s", "unit", pg.colormap.get("viridis")
        )
        self.plot.setTitle(
            "memory horizon at t: product of forget gates f<sub>s+1</sub> … f<sub>t</sub>", size="9pt"
        )

    def show_horizon(self, survival: np.ndarray, steps: int, target: int) -> None:
        self._show(survival.T, (0.0, 1.0))
        self.plot.setXRange(-0.5, steps - 0.5, padding=0)
        self.plot.setYRange(-0.5, survival.shape[1] - 0.5, padding=0)
        self.cursor_line.setValue(target)


class JacobianView(_PlotView):
    """``||dh_t / dh_s||_2`` over ``s``, log axis: vanishing to the left, or exploding."""

    def __init__(self) -> None:
        super().__init__(
            "‖dh<sub>t</sub> / dh<sub>s</sub>‖₂ (spectral norm)", "source step s", "norm", log_y=True
        )
        self.curve = self.plot.plot(
            pen=pg.mkPen("#1565c0", width=2), symbol="o", symbolSize=4, connect="finite"
        )
        self.plot.setLogMode(y=True)
        self.norms = np.zeros(0)
        self.sources = np.zeros(0)

    def show_norms(self, sources: np.ndarray, norms: np.ndarray, steps: int) -> None:
        self.sources, self.norms = sources, norms
        positive = np.where(norms > 0, norms, np.nan)  # a zero has no place on a log axis
        self.curve.setData(sources.astype(float), positive)
        self.plot.setXRange(-0.5, steps - 0.5, padding=0)
        self.cursor_line.setValue(int(sources[-1]) if sources.size else 0)

    def clear(self) -> None:
        self.sources, self.norms = np.zeros(0), np.zeros(0)
        self.curve.setData([], [])


class SaliencyView(_ImageView):
    """``sum_d |dLoss_t / dx_s|``: target steps ``t`` across, source steps ``s`` up."""

    def __init__(self) -> None:
        super().__init__(
            "input saliency Σ|dLoss_t / dx_s|", "target step t", "source step s", pg.colormap.get("inferno")
        )

    def show_saliency(self, saliency: np.ndarray) -> None:
        """``saliency`` ``(T, T)``; the colour scale tops out at the 99th percentile of the nonzero
        values, so a few large entries (the step itself) do not leave the rest black."""
        positive = saliency[np.isfinite(saliency) & (saliency > 0)]
        top = float(np.percentile(positive, 99)) if positive.size else 1.0
        self._show(saliency, (0.0, top if top > 0 else 1.0))
        steps = saliency.shape[0]
        self.plot.setXRange(-0.5, steps - 0.5, padding=0)
        self.plot.setYRange(-0.5, steps - 0.5, padding=0)

    def set_step(self, step: int) -> None:
        self.cursor_line.setValue(step)
