"""Heatmap panels: units x time for ``(T, B, units)`` probes, one matrix per step for ``(T, B, N, M)``.

The colour map follows the probe kind: sequential on 0..1 for gates,
probabilities and weightings; diverging and centred on 0 for signed values.
A step only moves the cursor line (or swaps the small matrix), never re-draws
the units x time image.

``python -m rnnscope.app.panels.heatmap`` shows every panel of a synthetic trace.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, pyqtSignal
from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from rnnscope.app.panels.axes import free_title_width, name_ticks
from rnnscope.app.panels.colour_bar import ColourBar
from rnnscope.app.panels.marks import MARK_COLOUR, CellMark
from rnnscope.engine.trace import Probe, ProbeKind

pg.setConfigOptions(imageAxisOrder="row-major", antialias=False)

DOWNSAMPLE_ABOVE = 2000  # images wider than this many steps are drawn downsampled to the screen
MAX_TICK_LABELS = 16  # an axis with more named entries keeps numbers (hover gives the names)


def colour_map_and_levels(kind: ProbeKind, data: np.ndarray) -> tuple[pg.ColorMap, tuple[float, float]]:
    """Sequential 0..1 for bounded kinds; diverging symmetric around 0 otherwise."""
    if kind.bounded:
        return pg.colormap.get("viridis"), (0.0, 1.0)
    finite = data[np.isfinite(data)]
    bound = float(np.abs(finite).max()) if finite.size else 1.0
    bound = bound if bound > 0 else 1.0
    return pg.colormap.get("CET-D1"), (-bound, bound)


class ImagePanel(QWidget):
    """A plot with one image, a colour bar and hover / click reporting in data coordinates."""

    hovered = pyqtSignal(str)
    unit_clicked = pyqtSignal(str, int, int)  # panel title, row, column of the clicked cell

    def __init__(
        self,
        title: str,
        kind: ProbeKind,
        x_label: str,
        y_label: str,
        probe_name: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.title = title
        self.setObjectName(title)
        self.probe_name = probe_name or title
        self.head: int | None = None  # which head of a (T, B, head, x) probe this panel shows
        self.step = 0  # the shared cursor, as this panel last showed it
        self._names: dict[str, tuple[str, ...]] = {}  # axis side -> the names of its entries
        self.kind = kind
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.plot = self.view.addPlot(enableMenu=False)  # no context menus: cheaper to build
        self.set_title(title)
        self.plot.setLabel("bottom", x_label)
        self.plot.setLabel("left", y_label)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.image = pg.ImageItem()
        self.plot.addItem(self.image)
        self.mark = CellMark(self.plot)  # where the trace first went non-finite, if here
        self.problem: str | None = None  # the title's note while marked
        self.colour_bar: ColourBar | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.scene().sigMouseMoved.connect(self._on_move)
        self.view.scene().sigMouseClicked.connect(self._on_click)
        self.setMinimumSize(180, 130)

    def _show(self, image: np.ndarray, reference: np.ndarray) -> None:
        cmap, levels = colour_map_and_levels(self.kind, reference)
        self.levels = levels
        self.image.setAutoDownsample(image.shape[1] > DOWNSAMPLE_ABOVE)
        self.image.setImage(np.nan_to_num(image, nan=0.0, posinf=levels[1], neginf=levels[0]), levels=levels)
        # a fixed range: no auto-range pass on every cursor move, and hover maps cells at once
        self.plot.setRange(xRange=(0, image.shape[1]), yRange=(0, image.shape[0]), padding=0)
        self.plot.disableAutoRange()
        self.image.setLookupTable(cmap.getLookupTable(nPts=256))
        if self.colour_bar is None:
            self.colour_bar = ColourBar(cmap, levels)
            self.plot.layout.addItem(self.colour_bar, 2, 5)  # after the right-hand axis, as pyqtgraph does
            self.plot.layout.setColumnFixedWidth(4, 5)
        else:
            self.colour_bar.setLevels(levels)

    def set_title(self, text: str, color: str | None = None) -> None:
        """The plot's title; a long one is cut rather than pushing the colour bar out of a narrow dock."""
        free_title_width(self.plot)
        self.plot.setTitle(text, size="9pt", **({"color": color} if color else {}))

    def name_rows(self, names: tuple[str, ...] | None) -> None:
        if names and len(names) <= MAX_TICK_LABELS:
            self._names["left"] = names
            self._fit_names()

    def name_columns(self, names: tuple[str, ...] | None) -> None:
        if names and len(names) <= MAX_TICK_LABELS:
            self._names["bottom"] = names
            self._fit_names()

    def _fit_names(self) -> None:
        """Name ticks thinned to the panel's size now (again on every resize)."""
        room = {
            "left": self.plot.vb.height() or self.height() * 0.6,
            "bottom": self.plot.vb.width() or self.width() * 0.6,
        }
        for side, names in self._names.items():
            self.plot.getAxis(side).setTicks(name_ticks(names, room[side], side))

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._names:
            self._fit_names()

    def mark_problem(
        self, column: int | None = None, row: int | None = None, note: str = "non-finite"
    ) -> None:
        """Title in red: the first non-finite value of the trace is in this panel; with the image's
        ``column`` (a heatmap's step) and ``row`` (its unit) a red cross on that cell."""
        self.problem = note
        self.set_title(f"⚠ {self.title}: {note}", color=MARK_COLOUR)
        if column is not None and row is not None:
            self.mark.place(column, row)

    def clear_problem(self) -> None:
        self.problem = None
        self.mark.clear()
        self.set_title(self.title)

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

    def cell_name(self, row: int, col: int) -> str:
        raise NotImplementedError

    def cell_over_time(self, row: int, col: int) -> np.ndarray:
        """``(T,)`` values of the clicked cell's unit (or matrix entry) at every step."""
        raise NotImplementedError

    def set_values(self, values: np.ndarray) -> None:
        """New values of the same shape (other weights on the same sequence); the panel stays."""
        raise NotImplementedError

    def set_step(self, step: int) -> None:
        """Show the shared cursor's step."""
        raise NotImplementedError

    def _scene_to_cell(self, pos: QPointF) -> tuple[int, int] | None:
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.vb.mapSceneToView(pos)
        return self.cell_at(point.x(), point.y())

    def _on_move(self, pos: QPointF) -> None:
        cell = self._scene_to_cell(pos)
        if cell is not None:
            text = self.describe(*cell)
            self.setToolTip(text)
            self.hovered.emit(text)

    def _on_click(self, event: Any) -> None:  # a pyqtgraph MouseClickEvent
        cell = self._scene_to_cell(event.scenePos())
        if cell is not None:
            self.unit_clicked.emit(self.title, *cell)


class HeatmapPanel(ImagePanel):
    """Units x time for ``values`` ``(T, units)``, with a vertical line at the current step."""

    def __init__(
        self,
        title: str,
        values: np.ndarray,
        kind: ProbeKind,
        unit_axis: str = "unit",
        unit_names: tuple[str, ...] | None = None,
        probe_name: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, kind, "step", unit_axis, probe_name, parent)
        self.values = values  # (T, units)
        self.unit_axis = unit_axis
        self.unit_names = unit_names
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.plot.addItem(self.cursor_line, ignoreBounds=True)
        self._show(values.T, values)
        self.name_rows(unit_names)
        self.step = -1
        self.set_step(0)

    def shown_values(self) -> np.ndarray:
        return self.values.T

    def set_values(self, values: np.ndarray) -> None:
        """New ``(T, units)`` values of the same shape (other weights on the same sequence): the image,
        colour levels and title are redrawn, the panel, its cursor and its axes stay."""
        if values.shape != self.values.shape:
            raise ValueError(f"{self.title}: new values {values.shape} do not match {self.values.shape}")
        self.values = values
        self._show(values.T, values)
        self.clear_problem()  # a non-finite mark belonged to the old values

    def set_step(self, step: int) -> None:
        """Only the cursor line moves: the units x time image stays as it is."""
        self.step = step
        self.cursor_line.setValue(step + 0.5)

    def cell_name(self, row: int, col: int) -> str:
        name = f" ({self.unit_names[row]})" if self.unit_names and row < len(self.unit_names) else ""
        return f"{self.title}  {self.unit_axis} {row}{name}"

    def describe(self, row: int, col: int) -> str:
        name = f" ({self.unit_names[row]})" if self.unit_names and row < len(self.unit_names) else ""
        return f"{self.title}  step {col}  {self.unit_axis} {row}{name}  value {self.values[col, row]:.6g}"

    def cell_over_time(self, row: int, col: int) -> np.ndarray:
        return self.values[:, row]


class MatrixPanel(ImagePanel):
    """One ``(N, M)`` matrix per step from ``values`` ``(T, N, M)``; colour levels fixed over all steps."""

    def __init__(
        self,
        title: str,
        values: np.ndarray,
        kind: ProbeKind,
        axes: tuple[str, str],
        probe_name: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(title, kind, axes[1], axes[0], probe_name, parent)
        self.values = values
        self.axes = axes
        self.unit_axis = axes[0]
        self.step = 0
        self.marked_step: int | None = None  # the step of the marked entry
        self._show(values[0], values)
        self.set_title(f"{title}  (step 0)")

    def shown_values(self) -> np.ndarray:
        matrix: np.ndarray = self.values[self.step]  # (N, M)
        return matrix

    def set_values(self, values: np.ndarray) -> None:
        """New ``(T, N, M)`` values of the same shape: levels from the new values, the panel stays."""
        if values.shape != self.values.shape:
            raise ValueError(f"{self.title}: new values {values.shape} do not match {self.values.shape}")
        self.values = values
        step = min(self.step, len(values) - 1)
        self._show(values[step], values)
        self.problem, self.marked_step = None, None
        self.mark.clear()
        self.set_step(step)

    def mark_cell(self, step: int, row: int, column: int, note: str = "non-finite") -> None:
        """The red title and a cross on entry ``(row, column)``, shown while the cursor is at ``step``."""
        self.problem, self.marked_step = note, step
        self.mark.place(column, row)
        self.set_step(self.step)  # the title and the cross as that step shows them

    def set_step(self, step: int) -> None:
        """Swap in the small matrix of ``step`` (levels stay those of the whole trace)."""
        self.step = step
        low, high = self.levels
        matrix = np.nan_to_num(self.values[step], nan=0.0, posinf=high, neginf=low)
        self.image.setImage(matrix, autoLevels=False)
        note = f"  ⚠ {self.problem} at step {self.marked_step}" if self.problem else ""
        self.set_title(f"{self.title}  (step {step}){note}", MARK_COLOUR if note else None)
        self.mark.show(step == self.marked_step)

    def cell_name(self, row: int, col: int) -> str:
        return f"{self.title}  {self.axes[0]} {row}  {self.axes[1]} {col}"

    def describe(self, row: int, col: int) -> str:
        value = self.values[self.step, row, col]
        return (
            f"{self.title}  step {self.step}  {self.axes[0]} {row}  {self.axes[1]} {col}  value {value:.6g}"
        )

    def cell_over_time(self, row: int, col: int) -> np.ndarray:
        return self.values[:, row, col]


@dataclass(frozen=True)
class PanelSpec:
    """One panel a probe calls for, before it is made: its title and how to make it from the probe
    (made only when shown: most of a DNC's fifty possible panels never are)."""

    title: str
    probe_name: str
    make: Callable[[Probe], ImagePanel]


def panel_specs(probe: Probe, axis_names: dict[str, tuple[str, ...]] | None = None) -> list[PanelSpec]:
    """Every image panel the probe's metadata calls for (none for scalars, indices and data probes).

    ``(T, B, units)``: one units x time heatmap; ``(T, B, head, x)``: one heatmap
    per head; any other ``(T, B, N, M)``: a matrix shown at the current step.
    ``axis_names`` names the entries of an axis by its name (e.g. the task's output
    names for ``"output"``) where the probe's own ``tick_labels`` do not.
    """
    shape = probe.data.shape[2:]
    if probe.kind in (ProbeKind.SCALAR, ProbeKind.INDEX) or probe.group == "data" or not shape:
        return []
    axes = tuple(probe.axes)
    labels = dict(probe.tick_labels)
    for i, axis in enumerate(axes):
        names = (axis_names or {}).get(axis)
        if i not in labels and names and len(names) == shape[i]:
            labels[i] = tuple(names)
    name = probe.name
    if len(shape) == 1:
        axis = axes[0] if axes else "unit"
        return [
            PanelSpec(name, name, lambda p: HeatmapPanel(name, p.row(0), p.kind, axis, labels.get(0), name))
        ]
    if len(shape) == 2 and axes[:1] == ("head",):
        return [_head_spec(name, h, axes, labels.get(1)) for h in range(shape[0])]
    if len(shape) == 2:
        return [PanelSpec(name, name, lambda p: _matrix(p, axes, labels))]
    return []


def _head_spec(name: str, head: int, axes: tuple[str, ...], names: tuple[str, ...] | None) -> PanelSpec:
    title = f"{name} [head {head}]"
    axis = axes[1] if len(axes) > 1 else "slot"

    def make(probe: Probe) -> ImagePanel:
        panel = HeatmapPanel(title, probe.row(0)[:, head], probe.kind, axis, names, name)
        panel.head = head
        return panel

    return PanelSpec(title, name, make)


def _matrix(probe: Probe, axes: tuple[str, ...], labels: dict[int, tuple[str, ...]]) -> ImagePanel:
    axes2 = (axes[0], axes[1]) if len(axes) == 2 else ("row", "column")
    matrix = MatrixPanel(probe.name, probe.row(0), probe.kind, axes2, probe.name)
    matrix.name_rows(labels.get(0))
    matrix.name_columns(labels.get(1))
    return matrix


def panels_for_probe(probe: Probe, axis_names: dict[str, tuple[str, ...]] | None = None) -> list[ImagePanel]:
    """Every image panel of :func:`panel_specs`, made now."""
    return [spec.make(probe) for spec in panel_specs(probe, axis_names)]


def panel_values(panel: ImagePanel, probe: Probe) -> np.ndarray:
    """What ``panel`` (made by :func:`panels_for_probe` from a probe of this name) shows of ``probe``:
    ``(T, units)`` for a heatmap (one head's for a per-head panel), ``(T, N, M)`` for a matrix."""
    data = probe.row(0)
    values: np.ndarray = data[:, panel.head] if panel.head is not None else data
    return values


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
