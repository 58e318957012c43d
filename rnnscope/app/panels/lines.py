"""Line plots over time: every one-value-per-step ``(T, B)`` probe and a clicked unit.

``loss/step`` and ``grad/hidden_norm`` (``|dLoss/dh_t|``, on a log axis so vanishing and
exploding gradients stand out) are always there; the DNC adds its scalar gates.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPoint, QPointF, pyqtSignal
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from rnnscope.app.panels.axes import ReadableLogAxis
from rnnscope.app.panels.marks import MARK_COLOUR, step_line
from rnnscope.engine.nonfinite import value_word

LOG_SCALE_PREFIXES = ("grad/",)  # positive series spanning decades: drawn on a log axis


class ScalarPanel(QWidget):
    """One small plot per series ``{name: (T,)}``, sharing the step axis and a cursor line.

    A step moves the cursor lines only; the curves are drawn once per trace.
    """

    hovered = pyqtSignal(str)
    unit_clicked = pyqtSignal(str, int, int)  # never emitted: the curves are already over time

    def __init__(self, series: dict[str, np.ndarray], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = "curves"
        self.setObjectName(self.title)
        self.probe_name = None
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.cursors: list[pg.InfiniteLine] = []
        self.plots: dict[str, pg.PlotItem] = {}
        self.curves: dict[str, pg.PlotDataItem] = {}
        first = None
        for name in series:
            # decades only on a log axis: pyqtgraph's minor-tick labels overprint in a small plot
            plot = self.view.addPlot(enableMenu=False, axisItems={"left": ReadableLogAxis("left")})
            plot.setTitle(name, size="9pt")
            plot.setMenuEnabled(False)
            plot.hideButtons()
            # NaN and Inf leave gaps in the curve rather than breaking the plot
            self.curves[name] = plot.plot(pen=pg.mkPen("#1565c0", width=1), connect="finite")
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=1))
            plot.addItem(cursor, ignoreBounds=True)
            self.cursors.append(cursor)
            self.plots[name] = plot
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.view.nextRow()
        self.series: dict[str, np.ndarray] = {}
        self.marks: dict[str, pg.InfiniteLine] = {}  # curve name -> the line at its first non-finite step
        self.set_series(series)
        self.view.scene().sigMouseMoved.connect(self._on_move)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.step = 0
        self.setMinimumSize(220, 90 * max(1, len(series)))

    def set_series(self, series: dict[str, np.ndarray]) -> None:
        """New ``(T,)`` values for the same names (other weights on the same sequence): the curves and
        their ranges are redrawn, the plots stay."""
        if set(series) != set(self.plots):
            raise ValueError(f"curves {sorted(series)} are not the panel's {sorted(self.plots)}")
        self.series = dict(series)
        for name, values in series.items():
            self._draw(name, np.asarray(values, dtype=float))
        for name in list(self.marks):  # a mark belonged to the old values
            self.plots[name].removeItem(self.marks.pop(name))
            self.plots[name].setTitle(name, size="9pt")
        for name, values in self.series.items():  # a gap in a curve is said where it starts
            bad = np.flatnonzero(~np.isfinite(np.asarray(values, dtype=float)))
            if bad.size:
                step = int(bad[0])
                word = value_word(float(values[step]))
                self._line(name, step, word)
                self.plots[name].setTitle(f"{name}: {word} from step {step}", size="9pt")

    def _line(self, name: str, step: int, word: str) -> None:
        plot = self.plots[name]
        if name in self.marks:
            plot.removeItem(self.marks.pop(name))
        self.marks[name] = step_line(step, word)
        plot.addItem(self.marks[name], ignoreBounds=True)

    def mark_nonfinite(self, name: str, step: int, word: str = "NaN") -> None:
        """Curve ``name`` holds the trace's first non-finite value, at ``step`` (a gap in the line): a
        dashed red line labelled ``word`` there and the plot's title in red."""
        self._line(name, step, word)
        self.plots[name].setTitle(
            f"⚠ {name}: {word} at step {step}, the first", size="9pt", color=MARK_COLOUR
        )

    def plot_centre(self, name: str) -> QPoint:
        """The centre of curve ``name``'s plot in this panel's coordinates (to scroll it into view)."""
        centre: QPoint = self.view.mapFromScene(self.plots[name].sceneBoundingRect().center())
        inside: QPoint = self.view.mapTo(self, centre)
        return inside

    def _draw(self, name: str, values: np.ndarray) -> None:
        plot = self.plots[name]
        finite = np.isfinite(values)
        log = name.startswith(LOG_SCALE_PREFIXES) and finite.any() and (values[finite] > 0).all()
        plot.setLogMode(y=bool(log))
        self.curves[name].setData(np.arange(len(values)), np.where(finite, values, np.nan))
        if finite.any():
            low, high = float(np.min(values[finite])), float(np.max(values[finite]))
            if log:
                low, high = np.log10(low), np.log10(high)
            pad = 0.05 * (high - low) if high > low else 0.5
            plot.setYRange(low - pad, high + pad, padding=0)
        plot.setXRange(0, max(len(values) - 1, 1), padding=0.01)
        plot.disableAutoRange()

    def set_step(self, step: int) -> None:
        self.step = step
        for cursor in self.cursors:
            cursor.setValue(step)

    def _on_move(self, pos: QPointF) -> None:
        for name, plot in self.plots.items():
            if plot.vb.sceneBoundingRect().contains(pos):
                step = int(round(plot.vb.mapSceneToView(pos).x()))
                values = self.series[name]
                if 0 <= step < len(values):
                    self.hovered.emit(f"{name}  step {step}  value {values[step]:.6g}")
                return


class UnitPlot(QWidget):
    """The value of one clicked unit over time."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w")
        self.plot.setTitle("click a heatmap cell to plot its unit over time", size="9pt")
        self.plot.setLabel("bottom", "step")
        self.curve = self.plot.plot(pen=pg.mkPen("b", width=2))
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=1))
        self.plot.addItem(self.cursor_line)
        self.values: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setMinimumSize(160, 90)

    def show_unit(self, title: str, values: np.ndarray) -> None:
        """``values`` ``(T,)``: one unit of one probe."""
        self.values = np.asarray(values)
        self.plot.setTitle(title, size="9pt")
        self.curve.setData(np.arange(len(values)), np.where(np.isfinite(self.values), self.values, np.nan))

    def clear_unit(self, steps: int) -> None:
        """Forget the shown unit (a new trace): an empty plot over ``steps`` steps."""
        self.values = None
        self.curve.setData([], [])
        self.plot.setTitle("click a heatmap cell to plot its unit over time", size="9pt")
        self.plot.setXRange(0, max(steps - 1, 1), padding=0.01)

    def set_step(self, step: int) -> None:
        self.cursor_line.setValue(step)


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.panels.synthetic import synthetic_trace

    app = QApplication([])
    trace = synthetic_trace()
    panel = ScalarPanel({p.name: p.row(0) for p in trace if p.data.ndim == 2})
    panel.resize(600, 400)
    panel.show()
    app.exec()
