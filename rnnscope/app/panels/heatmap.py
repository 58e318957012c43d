"""Heatmap panels: units x time for ``(T, B, units)`` probes, one matrix per step for ``(T, B, N, M)``.

The colour map follows the probe kind: sequential on 0..1 for gates,
probabilities and weightings; diverging and centred on 0 for signed values.
A step only moves the cursor line (or swaps the matrix), never re-draws the whole image.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import pyqtSignal
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from rnnscope.engine.trace import ProbeKind

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)


def colour_map_and_levels(kind: ProbeKind, data: np.ndarray) -> tuple[pg.ColorMap, tuple[float, float]]:
    """Sequential 0..1 for bounded kinds; diverging symmetric around 0 otherwise."""
    if kind.bounded:
        return pg.colormap.get("viridis"), (0.0, 1.0)
    finite = data[np.isfinite(data)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound if bound > 0 else 1.0
    return pg.colormap.get("CET-D1"), (-bound, bound)


class _ImagePanel(QWidget):
    """A plot with one image, a colour bar and hover / click reporting in data coordinates."""

    hovered = pyqtSignal(str)
    unit_clicked = pyqtSignal(str, int)  # probe title, unit (row of the image)

    def __init__(
        self, title: str, kind: ProbeKind, x_label: str, y_label: str, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.title = title
        self.kind = kind
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.plot = self.view.addPlot(title=title)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.setMenuEnabled(False)
        self.plot.invertY(True)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.colour_bar: pg.ColorBarItem | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.scene().sigMouseMoved.connect(self._on_move)
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.setMinimumSize(220, 140)

    def _show(self, image: np.ndarray, reference: np.ndarray) -> None:
        cmap, levels = colour_map_and_levels(self.kind, reference)
        self.image.setImage(np.nan_to_num(image, nan=0.0, posinf=levels[1], neginf=levels[0]), levels=levels)
        # a fixed range: no auto-range pass on every cursor move, and hover maps cells at once
        self.plot.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0)
        self.plot.disableAutoRange()
        if self.colour_bar is None:
            self.colour_bar = pg.ColorBarItem(values=levels, colorMap=cmap, interactive=False, width=12)
            self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        else:
            self.colour_bar.setLevels(levels)

    def shown_values(self) -> np.ndarray:
        """The 2-D array currently drawn (rows x columns)."""
        raise NotImplementedError

    def cell_at(self, x: float, y: float) -> tuple[int, int] | None:
        values = self.shown_values()
        col, row = int(np.floor(x)), int(np.floor(y))
        if 0 <= row < values.shape[0] and 0 <= col < values.shape[1]:
            return row, col
        return None

    def describe(self, row: int, col: int) -> str:
        raise NotImplementedError

    def _scene_to_cell(self, pos) -> tuple[int, int] | None:
        if not self.plot.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.vb.mapSceneToView(pos)
        return self.cell_at(point.x(), point.y())

    def _on_move(self, pos) -> None:
        cell = self._scene_to_cell(pos)
        if cell is not None:
            text = self.describe(*cell)
            self.setToolTip(text)
            self.hovered.emit(text)

    def _on_click(self, event) -> None:
        cell = self._scene_to_cell(event.scenePos())
        if cell is not None:
            self.unit_clicked.emit(self.title, cell[0])


class HeatmapPanel(_ImagePanel):
    """Units x time for ``values`` ``(T, units)``, with a vertical line at the current step."""

    def __init__(self, title: str, values: np.ndarray, kind: ProbeKind, unit_axis: str = "unit", parent=None):
        super().__init__(title, kind, "step", unit_axis, parent)
        self.values = values  # (T, units)
        self.unit_axis = unit_axis
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.plot.addItem(self.cursor)
        self._show(values.T, values)
        self.step = -1
        self.set_step(0)

    def shown_values(self) -> np.ndarray:
        return self.values.T

    def set_step(self, step: int) -> None:
        self.step = step
        self.cursor.setValue(step + 0.5)

    def describe(self, row: int, col: int) -> str:
        return f"{self.title}  step {col}  {self.unit_axis} {row}  value {self.values[col, row]:.6g}"


class MatrixPanel(_ImagePanel):
    """One ``(N, M)`` matrix per step from ``values`` ``(T, N, M)``; colour levels fixed over all steps."""

    def __init__(self, title: str, values: np.ndarray, kind: ProbeKind, axes: tuple[str, str], parent=None):
        super().__init__(title, kind, axes[1], axes[0], parent)
        self.values = values
        self.axes = axes
        self.step = 0
        self._show(values[0], values)

    def shown_values(self) -> np.ndarray:
        return self.values[self.step]

    def set_step(self, step: int) -> None:
        self.step = step
        matrix = self.values[step]
        self.image.setImage(np.nan_to_num(matrix), autoLevels=False)

    def describe(self, row: int, col: int) -> str:
        value = self.values[self.step, row, col]
        return (
            f"{self.title}  step {self.step}  {self.axes[0]} {row}  {self.axes[1]} {col}  value {value:.6g}"
        )


def panels_for_probe(probe) -> list[_ImagePanel]:
    """Every image panel the probe's metadata calls for (none for scalars, indices and data probes)."""
    data = probe.row(0)
    if probe.kind in (ProbeKind.SCALAR, ProbeKind.INDEX) or probe.group == "data":
        return []
    if data.ndim == 2:
        return [HeatmapPanel(probe.name, data, probe.kind, probe.axes[0] if probe.axes else "unit")]
    if data.ndim == 3 and probe.axes[:1] == ("head",):
        axis = probe.axes[1] if len(probe.axes) > 1 else "slot"
        return [
            HeatmapPanel(f"{probe.name} [head {h}]", data[:, h], probe.kind, axis)
            for h in range(data.shape[1])
        ]
    if data.ndim == 3:
        axes = tuple(probe.axes) if len(probe.axes) == 2 else ("row", "column")
        return [MatrixPanel(probe.name, data, probe.kind, axes)]
    return []


def _preview() -> None:  # pragma: no cover - interactive
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.panels.synthetic import synthetic_trace

    app = QApplication([])
    trace = synthetic_trace()
    panels = [p for probe in trace for p in panels_for_probe(probe)]
    host = QWidget()
    layout = QVBoxLayout(host)
    for panel in panels:
        layout.addWidget(panel)
    host.resize(700, 1000)
    host.show()
    app.exec()


if __name__ == "__main__":
    _preview()
