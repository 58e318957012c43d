"""The DNC's addressing decomposed: how each head's weighting is made of its terms, at the cursor and
over time.

A read head's weighting is ``pi_b bw + pi_c c + pi_f fw`` (backward, content, forward);
the write head's is ``g_w g_a a + g_w (1 - g_a) c_w`` (allocation, content). Left: the
terms at the cursor step as stacked bars over the slots (their tops are the weighting);
right: slot x time, white where the weighting is small and the colour of the term that
makes it where it is large. A head selector picks the head; the normalisation selector
draws near-uniform weightings readably (``w − 1/N``, or each step rescaled to its
maximum), and the titles say which is shown.

``python -m rnnscope.app.panels.dnc.addressing`` shows it on a small untrained DNC.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, pyqtSignal
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from rnnscope.app.panels.axes import free_title_width
from rnnscope.app.panels.dnc.parts import (
    PART_COLOURS,
    WRITE_HEAD,
    HeadParts,
    cell_text,
    composite,
    head_parts,
    scaled_parts,
    step_summary,
)
from rnnscope.app.panels.marks import MARK_COLOUR
from rnnscope.engine.dnc.decomposition import Normalisation
from rnnscope.engine.trace import Trace

TITLE = "dnc/addressing"


class AddressingPanel(QWidget):
    """One head's weighting split into its terms; follows the shared cursor (``set_step``)."""

    hovered = pyqtSignal(str)
    unit_clicked = pyqtSignal(str, int, int)  # never emitted: the view is over slots and time already

    def __init__(self, trace: Trace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = TITLE
        self.setObjectName(TITLE)
        self.probe_name = "dnc/read_mode_parts"
        self.head: int | None = None  # (no per-head panel: the selector picks the head)
        self.step = 0
        self.problem: str | None = None  # a non-finite value in a probe drawn here, said over the plots
        self.summary = QLabel()  # the terms' mass at the cursor, each name in its colour
        self.summary.setToolTip("each term's share of the weighting at the cursor step")
        self.head_box = QComboBox()
        self.head_box.setToolTip("the head whose weighting is decomposed")
        self.norm_box = QComboBox()
        self.norm_box.setToolTip("how the weightings are scaled: near-uniform ones look alike as they are")
        for how in Normalisation:
            self.norm_box.addItem(how.label, how)
        self.bars_view, self.bars_plot = _plot("slot", "")
        self.time_view, self.time_plot = _plot("step", "slot")
        self.time_plot.invertY(True)
        self.image = pg.ImageItem()
        self.time_plot.addItem(self.image)
        self.cursor_line = pg.InfiniteLine(angle=90, movable=False, pen=pg.mkPen("r", width=2))
        self.time_plot.addItem(self.cursor_line, ignoreBounds=True)
        self.bars: list[pg.BarGraphItem] = []
        self._layout()
        self.parts: HeadParts | None = None
        self.trace = trace
        self.set_trace(trace)
        self.head_box.currentIndexChanged.connect(self._redraw)
        self.norm_box.currentIndexChanged.connect(self._redraw)
        for view in (self.bars_view, self.time_view):
            view.scene().sigMouseMoved.connect(self._on_move)
        self.setMinimumSize(300, 170)

    def _layout(self) -> None:
        controls = QHBoxLayout()
        controls.setContentsMargins(2, 0, 2, 0)
        controls.addWidget(self.head_box)
        controls.addWidget(QLabel("scale"))
        controls.addWidget(self.norm_box)
        controls.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(1)
        layout.addLayout(controls)
        layout.addWidget(self.summary)
        plots = QHBoxLayout()
        plots.setSpacing(0)
        plots.addWidget(self.bars_view, 1)
        plots.addWidget(self.time_view, 1)
        layout.addLayout(plots, 1)

    # ------------------------------------------------------------------ data
    def set_trace(self, trace: Trace) -> None:
        """The terms of ``trace`` (a DNC's); the head picked stays when the new trace has it."""
        self.trace = trace
        heads = trace["dnc/read_mode_parts"].data.shape[2]
        picked = self.head_box.currentData()
        self.head_box.blockSignals(True)
        self.head_box.clear()
        for h in range(heads):
            self.head_box.addItem(f"read head {h}", h)
        self.head_box.addItem("write head", WRITE_HEAD)
        index = self.head_box.findData(picked)
        self.head_box.setCurrentIndex(max(index, 0))
        self.head_box.blockSignals(False)
        self.step = min(self.step, trace.steps - 1)
        self._redraw()

    def set_head(self, head: int) -> None:
        """Show read head ``head`` (``WRITE_HEAD``: the write head)."""
        self.head_box.setCurrentIndex(self.head_box.findData(head))

    def set_normalisation(self, how: Normalisation) -> None:
        self.norm_box.setCurrentIndex(self.norm_box.findData(how))

    @property
    def normalisation(self) -> Normalisation:
        how: Normalisation = self.norm_box.currentData()
        return how

    def _redraw(self) -> None:
        parts = self.parts = head_parts(self.trace, self.head_box.currentData())
        how = self.normalisation
        self.image.setImage(composite(parts, how), autoLevels=False, levels=(0, 255))
        steps, _, slots = parts.values.shape
        self.time_plot.setRange(xRange=(0, steps), yRange=(0, slots), padding=0)
        self.time_plot.disableAutoRange()
        self._new_bars(parts)
        self.set_step(self.step)

    def _new_bars(self, parts: HeadParts) -> None:
        for bar in self.bars:
            self.bars_plot.removeItem(bar)
        slots = np.arange(parts.values.shape[2])
        self.bars = []
        for name in parts.names:
            colour = pg.mkBrush(*PART_COLOURS[name])
            bar = pg.BarGraphItem(x=slots, height=np.zeros(len(slots)), width=0.8, brush=colour, pen=None)
            self.bars_plot.addItem(bar)
            self.bars.append(bar)
        values, baseline = scaled_parts(parts, self.normalisation)
        stacked_top = baseline + values.sum(axis=1).max()
        low = min(baseline, 0.0)
        self.bars_plot.setRange(xRange=(-0.6, slots[-1] + 0.6), yRange=(low, max(stacked_top, low + 1e-3)))
        self.bars_plot.disableAutoRange()
        self._scaled, self._baseline = values, baseline

    # ------------------------------------------------------------------ cursor
    def set_step(self, step: int) -> None:
        """The bars of ``step`` and the cursor line over the image."""
        self.step = step
        self.cursor_line.setValue(step + 0.5)
        parts = self.parts
        if parts is None:
            return
        bottom = np.full(parts.values.shape[2], self._baseline)
        for k, bar in enumerate(self.bars):
            height = self._scaled[step, k]
            bar.setOpts(y0=bottom.copy(), height=height)
            bottom = bottom + height
        # the terms' names in their colours: the summary is the legend too
        warning = f'<span style="color:{MARK_COLOUR}">⚠ {self.problem}</span> ' if self.problem else ""
        self.summary.setText(f"{warning}step {step}: {step_summary(parts, step)}")

    def bar_heights(self) -> np.ndarray:
        """``(K, N)`` the bars drawn now (what the user sees), one row per term."""
        return np.array([bar.opts["height"] for bar in self.bars], dtype=float)

    def mark_problem(
        self, column: int | None = None, row: int | None = None, note: str = "non-finite"
    ) -> None:
        """The trace's first non-finite value is in a probe drawn here: said in red over the bars."""
        self.problem = note
        self.set_step(self.step)

    def _on_move(self, pos: QPointF) -> None:
        parts = self.parts
        if parts is None:
            return
        step, slot = self.step, -1
        if self.time_plot.vb.sceneBoundingRect().contains(pos):
            point = self.time_plot.vb.mapSceneToView(pos)
            step, slot = int(np.floor(point.x())), int(np.floor(point.y()))
        elif self.bars_plot.vb.sceneBoundingRect().contains(pos):
            slot = int(round(self.bars_plot.vb.mapSceneToView(pos).x()))
        steps, _, slots = parts.values.shape
        if 0 <= step < steps and 0 <= slot < slots:
            text = cell_text(parts, step, slot)
            self.setToolTip(text)
            self.hovered.emit(text)


def _plot(x_label: str, y_label: str) -> tuple[pg.GraphicsLayoutWidget, pg.PlotItem]:
    view = pg.GraphicsLayoutWidget()
    view.setBackground("w")
    view.ci.setContentsMargins(2, 2, 2, 2)
    plot = view.addPlot(enableMenu=False)
    plot.setMenuEnabled(False)
    plot.setMouseEnabled(x=False, y=False)
    plot.hideButtons()
    plot.setLabel("bottom", x_label)
    if y_label:
        plot.setLabel("left", y_label)
    free_title_width(plot)
    return view, plot


def _preview() -> None:  # pragma: no cover - interactive
    from PyQt6.QtWidgets import QApplication

    from rnnscope.engine.models import build_model
    from rnnscope.engine.tasks import build_task

    app = QApplication([])
    task = build_task("copy", bits=4, min_length=3, max_length=5)
    model = build_model(task.model_config("dnc", 16, memory_slots=8, memory_width=6, read_heads=2))
    batch = task.sample(1, np.random.default_rng(0))
    trace = model.forward(batch.inputs, batch.targets, batch.mask).trace
    assert trace is not None
    panel = AddressingPanel(trace)
    panel.resize(700, 300)
    panel.show()
    app.exec()


if __name__ == "__main__":
    _preview()
