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

A diverging iteration (:class:`~rnnscope.engine.training.DivergenceError`: the loss
stopped being finite or exploded; the trainer applied nothing) is reported through
``diverged`` and the worker pauses, so the user can lower the learning rate and
resume. Anything else the trainer raises is caught and reported through ``failed``
(a worker thread must never die with an exception in flight).

The panel runs it with :func:`rnnscope.app.threads.start_worker`.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from PyQt6.QtCore import QObject, pyqtBoundSignal, pyqtSignal, pyqtSlot

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params
from rnnscope.engine.training import DivergenceError, IterationStats


class TrainerLike(Protocol):
    """What the worker needs from a trainer (``rnnscope.engine.training.Trainer`` is one)."""

    model: RecurrentModel
    iteration: int  # iterations done so far (the count goes on across runs)

    def step(self) -> IterationStats: ...


@dataclass
class WeightSnapshot:
    """A copy of the weights at one iteration, safe to hand to the GUI thread.

    ``params`` is a deep copy (never the trained arrays); :meth:`build` makes a
    model from it for the stepping view.
    """

    iteration: int
    config: ModelConfig
    params: Params
    model_class: type[RecurrentModel] | None = None  # the trained model's class (None: the config's kind)

    def build(self) -> RecurrentModel:
        """A model of the trained model's class (a user's own too) with a copy of the weights."""
        if self.model_class is None:
            return build_model(self.config, self.params.copy())
        return self.model_class(self.config, self.params.copy())


def take_snapshot(trainer: TrainerLike) -> WeightSnapshot:
    """Copy the trainer's current weights (call from the thread that runs the trainer)."""
    model = trainer.model
    return WeightSnapshot(trainer.iteration, model.config, model.params.copy(), type(model))


SampleFunction = Callable[[RecurrentModel], str]


@dataclass
class _Turn:
    """What the loop does next, decided from the requests under the lock."""

    stop: bool = False
    snapshot: bool = False  # emit a snapshot first
    step: bool = False  # run one iteration
    single: bool = False  # that iteration is a single step: pause after it


class _PendingStats:
    """The statistics not yet emitted; sent as one list at most every ``interval`` seconds."""

    def __init__(self, signal: pyqtBoundSignal, interval: float) -> None:
        self.signal = signal
        self.interval = interval
        self.pending: list[IterationStats] = []
        self.last_emit = time.perf_counter()

    def add(self, stats: IterationStats, emit_now: bool) -> None:
        self.pending.append(stats)
        now = time.perf_counter()
        if emit_now or now - self.last_emit >= self.interval:
            self.signal.emit(self.pending)
            self.pending = []
            self.last_emit = now

    def flush(self) -> None:
        if self.pending:
            self.signal.emit(self.pending)
            self.pending = []


def _due(iteration: int, every: int) -> bool:
    return every > 0 and iteration % every == 0


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
    * ``diverged(str)`` -- an iteration diverged and was not applied; the worker pauses
      (``paused`` follows); the message (:attr:`Divergence.summary`) says how;
    * ``failed(str)`` -- the trainer raised; the message names the error;
    * ``done()`` -- always last, exactly once, after ``finished`` or ``failed``.
    """

    stats = pyqtSignal(object)
    sample = pyqtSignal(int, str)
    snapshot = pyqtSignal(object)
    paused = pyqtSignal(object)
    resumed = pyqtSignal()
    finished = pyqtSignal(int)
    diverged = pyqtSignal(str)
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
            self.failed.emit(f"training failed at iteration {self.trainer.iteration}: {error}\n\n{detail}")
        else:
            self.finished.emit(self.iterations_done)
        finally:
            self._is_paused = False
            self.done.emit()

    def _loop(self) -> None:
        pending = _PendingStats(self.stats, self.emit_interval)
        while True:
            turn = self._next_turn(pending)
            if turn.stop:
                break
            if turn.snapshot:
                self.snapshot.emit(take_snapshot(self.trainer))
            if not turn.step:
                continue
            self._train_one(turn.single, pending)
            if self.iterations is not None and self.iterations_done >= self.iterations:
                break
        pending.flush()

    def _held(self) -> bool:
        """Paused with no single step or stop asked for (call under the lock)."""
        return self._pause_requested and self._steps_requested == 0 and not self._stop_requested

    def _next_turn(self, pending: _PendingStats) -> _Turn:
        """Wait while paused (until a request comes), then take the requests."""
        with self._condition:
            if self._held():
                pending.flush()
                if not self._is_paused:
                    self._is_paused = True
                    self.paused.emit(take_snapshot(self.trainer))
                while self._held() and not self._snapshot_requested:
                    self._condition.wait()
            if self._stop_requested:
                return _Turn(stop=True)
            turn = _Turn(snapshot=self._snapshot_requested)
            self._snapshot_requested = False
            turn.single = self._pause_requested and self._steps_requested > 0
            if turn.single:
                self._steps_requested -= 1
            turn.step = turn.single or not self._pause_requested
            if turn.step and self._is_paused and not turn.single:
                self._is_paused = False
                self.resumed.emit()
            return turn

    def _train_one(self, single: bool, pending: _PendingStats) -> None:
        """One iteration, then the statistics, samples and snapshots that fall due."""
        try:
            stats = self.trainer.step()
        except DivergenceError as error:
            pending.flush()
            with self._condition:  # the next turn pauses and shows the model as it is
                self._pause_requested, self._steps_requested = True, 0
            self.diverged.emit(error.divergence.summary)
            return
        pending.add(stats, emit_now=single)
        self.iterations_done += 1
        iteration = self.trainer.iteration
        if self.sample_function is not None and _due(iteration, self.sample_every):
            self.sample.emit(iteration, self._sample_text(self.sample_function))
        if _due(iteration, self.snapshot_every):
            self.snapshot.emit(take_snapshot(self.trainer))
        if single:
            # a single step ends paused: show the model as it is after that step
            self._is_paused = True
            self.paused.emit(take_snapshot(self.trainer))

    def _sample_text(self, sample_function: SampleFunction) -> str:
        try:
            return sample_function(self.trainer.model)
        except Exception as error:  # a sample is a courtesy: it must not end the training
            return f"(no sample: {error})"
