"""The gradient-flow panel: memory horizon, Jacobian norms and input saliency at the cursor step.

The target step ``t`` is the shared cursor. The memory horizon is a product of forget gates
read from the trace (drawn at once); the Jacobian norms (one forward and one backward of
batch ``H``) and the saliency map (of the whole sequence, once per trace) run on a worker
thread, and only while their tab is in view. A stale answer (the cursor moved on, another
trace came) is dropped.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import numpy as np
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QTabWidget, QVBoxLayout, QWidget

from rnnscope.app.panels.gradflow.views import HorizonView, JacobianView, SaliencyView
from rnnscope.app.panels.gradflow.worker import GradFlowJob
from rnnscope.engine.gradflow import (
    JacobianNorms,
    forget_gate_probes,
    input_saliency,
    jacobian_norms,
    memory_horizon,
)
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.trace import Trace

JACOBIAN_DELAY_MS = 40  # playback and held keys move the cursor faster than a Jacobian is worth


@dataclass
class GradFlowSource:
    """What the panel shows the gradient flow of: a model on one traced sequence (batch row 0)."""

    model: RecurrentModel
    inputs: np.ndarray  # (T, B, D)
    targets: np.ndarray
    mask: np.ndarray | None
    trace: Trace


def _quietly(job: Callable[[], object]) -> object:
    """``job()`` with NumPy's floating-point warnings off: NaN weights give NaN norms, said in the plot."""
    with np.errstate(all="ignore"):
        return job()


class GradFlowPanel(QWidget):
    """Three tabs following the cursor: memory horizon, Jacobian norms, input saliency."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("gradient flow")
        self.source: GradFlowSource | None = None
        self.step = 0
        self._stale = False  # the cursor moved while the panel was out of view: redraw on the next paint
        self.status = QLabel("no model traced yet")
        self.status.setWordWrap(True)
        self.status.setStyleSheet("font-size: 8pt")
        self.layer = QComboBox()
        self.layer.setToolTip("the layer (LSTM cell) of a stacked model")
        self.layer.currentIndexChanged.connect(self._layer_changed)
        self.tabs = QTabWidget()
        self.horizon = HorizonView()
        self.jacobian = JacobianView()
        self.saliency = SaliencyView()
        self.tabs.addTab(self.horizon, "Memory horizon")
        self.tabs.addTab(self.jacobian, "Jacobian norms")
        self.tabs.addTab(self.saliency, "Input saliency")
        self.tabs.currentChanged.connect(lambda _: self._refresh())
        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.layer)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addLayout(top)
        layout.addWidget(self.tabs, 1)
        self._serial = 0  # numbers every job
        self._wanted: dict[str, int] = {}  # kind -> the job whose answer is shown
        self._jobs: list[tuple[str, GradFlowJob]] = []
        self._jacobian_for: tuple[int, int] | None = None  # (step, layer) of the norms shown or asked
        self._saliency_done = False
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self._start_jacobian)
        self.setMinimumSize(260, 130)

    # ------------------------------------------------------------------ what is shown
    def set_source(self, source: GradFlowSource | None) -> None:
        """A new trace: everything is computed afresh (when in view)."""
        self.source = source
        self._wanted.clear()  # what runs for the previous trace is dropped
        self._jacobian_for = None
        self._saliency_done = False
        self.jacobian.clear()
        self.layer.blockSignals(True)
        self.layer.clear()
        if source is not None:
            layers = source.model.config.num_layers if source.model.stacked else 1
            self.layer.addItems([f"layer {n}" for n in range(layers)])
            self.layer.setCurrentIndex(layers - 1)
        self.layer.setVisible(self.layer.count() > 1)
        self.layer.blockSignals(False)
        self.step = min(self.step, source.trace.steps - 1) if source is not None else 0
        self._refresh()

    def set_step(self, step: int) -> None:
        """The shared cursor moved: ``step`` is the target step ``t``."""
        self.step = max(step, 0)
        self._refresh()

    def showEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)  # type: ignore[arg-type]
        self._refresh()

    def paintEvent(self, event: object) -> None:  # noqa: N802 - Qt override
        super().paintEvent(event)  # type: ignore[arg-type]
        if self._stale:  # a tab behind another dock came to the front: catch up with the cursor
            self._stale = False
            QTimer.singleShot(0, self._refresh)

    def in_view(self) -> bool:
        """On screen: shown, and not a dock tab behind another (those count as visible to Qt)."""
        return self.isVisible() and not self.visibleRegion().isEmpty()

    def _layer_changed(self, _: int) -> None:
        self._jacobian_for = None
        self._refresh()

    def _refresh(self) -> None:
        if self.source is None:
            self.status.setText("no model traced yet")
            return
        if not self.in_view():
            self._stale = True  # at T = 10,000 a horizon per step would cost a frame's third
            return
        current = self.tabs.currentWidget()
        if current is self.horizon:
            self._show_horizon()
        elif current is self.jacobian:
            if self._jacobian_for != (self.step, self.layer.currentIndex()):
                self.status.setText(f"target step t = {self.step}")
                self._timer.start(JACOBIAN_DELAY_MS)
        else:
            self.saliency.set_step(self.step)
            self.status.setText(f"target step t = {self.step} (red line)")
            if not self._saliency_done:
                self._start_saliency()

    # ------------------------------------------------------------------ memory horizon
    def _show_horizon(self) -> None:
        assert self.source is not None
        trace = self.source.trace
        names = forget_gate_probes(trace)
        if not names:
            self.status.setText(
                f"no forget gates: the memory horizon is an LSTM's ({trace.model_kind} has none)"
            )
            self.horizon.image.clear()
            return
        name = names[min(self.layer.currentIndex(), len(names) - 1)]
        step = min(self.step, trace.steps - 1)
        survival = memory_horizon(trace[name].data[:, 0], step)
        self.horizon.show_horizon(survival, trace.steps, step)
        kept = int((survival[:, :] > 0.5).sum(axis=0).max()) - 1
        self.status.setText(f"{name}, t = {step}: c_s half kept or more for up to {kept} steps back")

    # ------------------------------------------------------------------ worker jobs
    def _start_jacobian(self) -> None:
        source = self.source
        if source is None:
            return
        if any(kind == "jacobian" for kind, _ in self._jobs):
            return  # one at a time: when it ends, the panel catches up with the cursor
        step, layer = min(self.step, source.trace.steps - 1), self.layer.currentIndex()
        chosen = layer if self.layer.count() > 1 else None
        self._jacobian_for = (step, layer)
        self.status.setText(f"target step t = {step}: computing ‖dh_t/dh_s‖ …")
        self._run(
            "jacobian",
            lambda: jacobian_norms(source.model, source.inputs, step, layer=chosen),
            self._jacobian_done,
        )

    def _jacobian_done(self, result: object) -> None:
        assert isinstance(result, JacobianNorms) and self.source is not None
        self.jacobian.show_norms(result.sources, result.norms, self.source.trace.steps)
        finite = result.norms[:-1][np.isfinite(result.norms[:-1])] if result.norms.size > 1 else np.zeros(0)
        where = f" from step {result.first}" if result.first > 0 else ""
        spread = f"; smallest {finite.min():.3g}, largest {finite.max():.3g}" if finite.size else ""
        self.status.setText(f"target step t = {result.target}{where}{spread}")

    def _start_saliency(self) -> None:
        source = self.source
        if source is None:
            return
        self._saliency_done = True
        self.status.setText("computing the input saliency of every step …")
        self._run(
            "saliency",
            lambda: input_saliency(source.model, source.inputs, source.targets, source.mask),
            self._saliency_shown,
        )

    def _saliency_shown(self, result: object) -> None:
        assert isinstance(result, np.ndarray)
        self.saliency.show_saliency(result)
        self.saliency.set_step(self.step)
        self.status.setText(f"target step t = {self.step} (red line): which inputs s its loss depends on")

    def _run(self, kind: str, job: Callable[[], object], shown: Callable[[object], None]) -> None:
        """``job`` on a worker; its answer goes to ``shown`` unless a newer job of ``kind`` (or a new
        trace) has been asked for since."""
        self._serial += 1
        number = self._wanted[kind] = self._serial
        worker = GradFlowJob(partial(_quietly, job), number, self)

        def done(answer: int, result: object) -> None:
            if self._wanted.get(kind) == answer:
                shown(result)

        def failed(answer: int, message: str) -> None:
            if self._wanted.get(kind) == answer:
                self.status.setText(f"not available: {message}")

        worker.done.connect(done)
        worker.failed.connect(failed)
        worker.finished.connect(lambda: self._ended(worker, kind))
        self._jobs.append((kind, worker))
        worker.start()

    def _ended(self, worker: GradFlowJob, kind: str) -> None:
        if (kind, worker) in self._jobs:
            self._jobs.remove((kind, worker))
        if kind == "jacobian":  # the cursor may have moved on while it ran: catch up once
            self._refresh()

    @property
    def busy(self) -> bool:
        """A computation is running (a stale one included)."""
        return bool(self._jobs)

    def shutdown(self) -> None:
        """Wait for every worker (on close: a running QThread must not be destroyed)."""
        self._timer.stop()
        self._wanted.clear()
        for _, worker in list(self._jobs):
            worker.wait()
