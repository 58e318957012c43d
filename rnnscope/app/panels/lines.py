"""Line plots over time: every SCALAR ``(T, B)`` probe (loss/step, grad/hidden_norm) and a clicked unit."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtWidgets import QVBoxLayout, QWidget


class ScalarPanel(QWidget):
    """One small plot per scalar series ``{name: (T,)}``, sharing the step axis and a cursor line."""

    def __init__(self, series: dict[str, np.ndarray], parent: QWidget | None = None):
        super().__init__(parent)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.cursors: list[pg.InfiniteLine] = []
        self.series = series
        first = None
        for name, values in series.items():
            plot = self.view.addPlot(title=name)
            plot.setMenuEnabled(False)
            finite = np.nan_to_num(values, nan=0.0, posinf=0.0, neginf=0.0)
            plot.plot(np.arange(len(values)), finite, pen=pg.mkPen("b", width=1))
            plot.setLabel("bottom", "step")
            cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=1))
            plot.addItem(cursor)
            self.cursors.append(cursor)
            if first is None:
                first = plot
            else:
                plot.setXLink(first)
            self.view.nextRow()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.step = 0
        self.setMinimumSize(220, 140)

    def set_step(self, step: int) -> None:
        self.step = step
        for cursor in self.cursors:
            cursor.setValue(step)


class UnitPlot(QWidget):
    """The value of one clicked unit over time."""

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.plot = pg.PlotWidget(background="w", title="click a heatmap row to plot a unit")
        self.plot.setLabel("bottom", "step")
        self.curve = self.plot.plot(pen=pg.mkPen("b", width=2))
        self.cursor = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=1))
        self.plot.addItem(self.cursor)
        self.values: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.setMinimumSize(220, 120)

    def show_unit(self, title: str, values: np.ndarray) -> None:
        """``values`` ``(T,)``: one unit of one probe."""
        self.values = np.asarray(values)
        self.plot.setTitle(title)
        self.curve.setData(np.arange(len(values)), np.nan_to_num(self.values))

    def set_step(self, step: int) -> None:
        self.cursor.setValue(step)


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.panels.synthetic import synthetic_trace

    app = QApplication([])
    trace = synthetic_trace()
    panel = ScalarPanel({p.name: p.row(0) for p in trace if p.data.ndim == 2})
    panel.resize(600, 400)
    panel.show()
    app.exec()
