"""A light colour bar for the heatmaps: a colour scale with a value axis."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg


class ColourBar(pg.GraphicsLayout):  # type: ignore[misc]  # pyqtgraph ships no type hints
    """A vertical colour scale with a value axis: ``cmap`` from ``levels[0]`` (bottom) to ``levels[1]``.

    Much cheaper to build than ``pg.ColorBarItem`` (which is a whole ``PlotItem``): a window
    with fifty heatmaps builds fifty of these.
    """

    def __init__(self, cmap: pg.ColorMap, levels: tuple[float, float], width: int = 10) -> None:
        super().__init__()
        self.layout.setContentsMargins(0, 0, 0, 0)
        self.layout.setHorizontalSpacing(0)
        self.cmap = cmap
        self.box = pg.ViewBox(enableMouse=False, enableMenu=False, defaultPadding=0)
        self.box.setFixedWidth(width)
        self.bar = pg.ImageItem(np.linspace(0.0, 1.0, 256)[:, None], levels=(0.0, 1.0))
        self.bar.setLookupTable(cmap.getLookupTable(nPts=256))
        self.box.addItem(self.bar)
        self.axis = pg.AxisItem("right", linkView=self.box)
        self.addItem(self.box, 0, 0)
        self.addItem(self.axis, 0, 1)
        self.levels = levels
        self.setLevels(levels)

    def setLevels(self, levels: tuple[float, float]) -> None:  # noqa: N802 - pyqtgraph's spelling
        low, high = float(levels[0]), float(levels[1])
        self.levels = (low, high)
        self.bar.setRect(0.0, low, 1.0, high - low)
        self.box.setRange(xRange=(0.0, 1.0), yRange=(low, high), padding=0)
