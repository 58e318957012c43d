"""Training off the GUI thread: a ``QObject`` worker, moved to a ``QThread``, that drives a trainer.

The worker owns the trainer (and therefore the model being trained) for as long as
it runs; the GUI thread only ever sees *copies* of the weights
(:class:`WeightSnapshot`), taken in the worker thread between iterations. Control
goes the other way through thread-safe requests (:meth:`TrainingWorker.pause`,
:meth:`~TrainingWorker.resume`, :meth:`~TrainingWorker.step_once`,
:meth:`~TrainingWorker.stop`, :meth:`~TrainingWorker.request_snapshot`).

Statistics are *batched*: the worker collects ``IterationStats`` and emits them as
one list at most every ``emit_interval`` seconds, so signal traffic and plotting
never slow training down however fast the iterations are.

Anything the trainer raises is caught and reported through ``failed`` (a worker
thread must never die with an exception in flight).

``start_worker(worker)`` is the shared helper (also used by the gradient-check
worker): it creates the thread, moves the worker, starts ``worker.run`` and tears
the thread down when the worker says it is done.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from PyQt6.QtCore import QObject, Qt, QThread, pyqtSignal, pyqtSlot

from rnnscope.engine.models.base import ModelConfig, RecurrentModel
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params


class TrainerLike(Protocol):
    """What the worker needs from a trainer (``rnnscope.engine.training.Trainer`` is one)."""

    model: RecurrentModel

    def step(self) -> Any: ...


@dataclass
class WeightSnapshot:
    """A copy of the weights at one iteration, safe to hand to the GUI thread.

    ``params`` is a deep copy (never the trained arrays); :meth:`build` makes a
    model from it for the stepping view.
    """

    iteration: int
    config: ModelConfig
    params: Params

    def build(self) -> RecurrentModel:
        return build_model(self.config, self.params.copy())


def take_snapshot(trainer: TrainerLike, iteration: int) -> WeightSnapshot:
    """Copy the trainer's current weights (call from the thread that runs the trainer)."""
    snapshot = getattr(trainer, "snapshot", None)
    if callable(snapshot):
        taken = snapshot()
        params = getattr(taken, "params", taken)
        if isinstance(params, RecurrentModel):
            params = params.params
        if not isinstance(params, Params):
            params = trainer.model.params.copy()
    else:
        params = trainer.model.params.copy()
    return WeightSnapshot(iteration=iteration, config=trainer.model.config, params=params.copy())


SampleFunction = Callable[[RecurrentModel], str]


class TrainingWorker(QObject):
    """Runs ``trainer.step()`` in a loop until stopped, paused, or ``iterations`` are done.

    Signals (all emitted from the worker thread, delivered queued to the GUI):

    * ``stats(list)`` -- the ``IterationStats`` of one or more iterations, in order;
    * ``sample(int, str)`` -- iteration and a text sample (char models, every ``sample_every``);
    * ``snapshot(WeightSnapshot)`` -- every ``snapshot_every`` iterations and on request;
    * ``paused(WeightSnapshot)`` -- training stopped at an iteration and waits; the
      snapshot is the model as it is now;
    * ``resumed()``;
    * ``finished(int)`` -- the loop ended (stopped or done) after this many iterations;
    * ``failed(str)`` -- the trainer raised; the message names the error;
    * ``done()`` -- always last, exactly once, after ``finished`` or ``failed``.
    """

    stats = pyqtSignal(object)
    sample = pyqtSignal(int, str)
    snapshot = pyqtSignal(object)
    paused = pyqtSignal(object)
    resumed = pyqtSignal()
    finished = pyqtSignal(int)
    failed = pyqtSignal(str)
    done = pyqtSignal()

    def __init__(
        self,
        trainer: TrainerLike,
        *,
        iterations: int | None = None,
        start_paused: bool = False,
        sample_every: int = 0,
        sample_function: SampleFunction | None = None,
        snapshot_every: int = 0,
        emit_interval: float = 0.05,
    ) -> None:
        super().__init__()
        self.trainer = trainer
        self.iterations = iterations
        self.sample_every = int(sample_every)
        self.sample_function = sample_function
        self.snapshot_every = int(snapshot_every)
        self.emit_interval = float(emit_interval)
        self.iterations_done = 0
        self._condition = threading.Condition()
        self._pause_requested = bool(start_paused)
        self._stop_requested = False
        self._steps_requested = 0
        self._snapshot_requested = False
        self._is_paused = False

    # --------------------------------------------------------------- requests (any thread)
    def pause(self) -> None:
        with self._condition:
            self._pause_requested = True
            self._condition.notify_all()

    def resume(self) -> None:
        with self._condition:
            self._pause_requested = False
            self._condition.notify_all()

    def step_once(self) -> None:
        """Run one iteration, then stay paused (pauses first if running)."""
        with self._condition:
            self._pause_requested = True
            self._steps_requested += 1
            self._condition.notify_all()

    def stop(self) -> None:
        with self._condition:
            self._stop_requested = True
            self._condition.notify_all()

    def request_snapshot(self) -> None:
        """Ask for a ``snapshot`` of the weights after the current iteration."""
        with self._condition:
            self._snapshot_requested = True
            self._condition.notify_all()

    @property
    def is_paused(self) -> bool:
        return self._is_paused

    # --------------------------------------------------------------- the loop (worker thread)
    @pyqtSlot()
    def run(self) -> None:
        try:
            self._loop()
        except Exception as error:  # reported, never raised into Qt
            detail = traceback.format_exc(limit=6)
            self.failed.emit(f"training failed at iteration {self._iteration()}: {error}\n\n{detail}")
        else:
            self.finished.emit(self.iterations_done)
        finally:
            self._is_paused = False
            self.done.emit()

    def _iteration(self) -> int:
        return int(getattr(self.trainer, "iteration", self.iterations_done))

    def _sample_text(self) -> str:
        assert self.sample_function is not None
        try:
            return self.sample_function(self.trainer.model)
        except Exception as error:  # a sample is a courtesy: it must not end the training
            return f"(no sample: {error})"

    def _loop(self) -> None:
        pending: list[Any] = []
        last_emit = time.perf_counter()
        while True:
            with self._condition:
                if self._pause_requested and self._steps_requested == 0 and not self._stop_requested:
                    if pending:
                        self.stats.emit(pending)
                        pending = []
                    if not self._is_paused:
                        self._is_paused = True
                        self.paused.emit(take_snapshot(self.trainer, self._iteration()))
                    while (
                        self._pause_requested
                        and self._steps_requested == 0
                        and not self._stop_requested
                        and not self._snapshot_requested
                    ):
                        self._condition.wait()
                if self._stop_requested:
                    break
                want_snapshot = self._snapshot_requested
                self._snapshot_requested = False
                single_step = self._pause_requested and self._steps_requested > 0
                if single_step:
                    self._steps_requested -= 1
                run_step = single_step or not self._pause_requested
                if run_step and self._is_paused and not single_step:
                    self._is_paused = False
                    self.resumed.emit()
            if want_snapshot:
                self.snapshot.emit(take_snapshot(self.trainer, self._iteration()))
            if not run_step:
                continue
            pending.append(self.trainer.step())
            self.iterations_done += 1
            iteration = self._iteration()
            now = time.perf_counter()
            if single_step or now - last_emit >= self.emit_interval:
                self.stats.emit(pending)
                pending = []
                last_emit = now
            sampling = self.sample_function is not None and self.sample_every > 0
            if sampling and iteration % self.sample_every == 0:
                self.sample.emit(iteration, self._sample_text())
            if self.snapshot_every > 0 and iteration % self.snapshot_every == 0:
                self.snapshot.emit(take_snapshot(self.trainer, iteration))
            if single_step:
                # a single step ends paused: show the model as it is after that step
                self._is_paused = True
                self.paused.emit(take_snapshot(self.trainer, iteration))
            if self.iterations is not None and self.iterations_done >= self.iterations:
                break
        if pending:
            self.stats.emit(pending)


def start_worker(worker: QObject, name: str = "worker") -> QThread:
    """Move ``worker`` to a new thread, run ``worker.run`` there, and start it.

    The worker must have a ``done`` signal, emitted last; it quits the thread.
    Create any ``waitSignal`` blockers *before* calling this. The caller keeps
    the returned thread (and the worker) referenced until the thread has
    finished; :func:`stop_thread` waits for it.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # QThread.quit is thread-safe: call it from the worker's thread at once rather than queueing it
    # to the GUI thread, which may itself be blocked in thread.wait() and would then never run it
    worker.done.connect(thread.quit, Qt.ConnectionType.DirectConnection)
    thread.start()
    return thread


def stop_thread(thread: QThread | None, timeout_ms: int = 10_000) -> bool:
    """Quit ``thread`` and wait for it (True when it has finished)."""
    if thread is None:
        return True
    thread.quit()
    return thread.wait(timeout_ms)
