"""The training panel itself: the trainer, its worker thread, and what the window is shown (its
widgets and their layout are :class:`~.layout.TrainingLayout`'s).

It never touches the model being trained: the worker owns it, and the panel only
receives copies (:class:`~rnnscope.app.training_worker.WeightSnapshot`).
"""

from __future__ import annotations

import html
import time
import weakref
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QThread, QTimer, pyqtSignal
from PyQt6.QtWidgets import QWidget

from rnnscope.app.host import ModelHost
from rnnscope.app.panels.training.history import StatsHistory, status_line
from rnnscope.app.panels.training.layout import TrainingLayout
from rnnscope.app.panels.training.memory import training_refusal
from rnnscope.app.panels.training.plots import REDRAW_HZ, redraw_interval_ms
from rnnscope.app.panels.training.settings import (
    TrainerFactory,
    TrainingSettings,
    engine_trainer,
    text_sampler,
)
from rnnscope.app.panels.training.warning import DIVERGENCE_ADVICE
from rnnscope.app.threads import start_worker, stop_thread
from rnnscope.app.training_worker import TrainingWorker, WeightSnapshot, take_snapshot
from rnnscope.engine.checkpoint import Checkpoint
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks.base import Task
from rnnscope.engine.training import IterationStats, Trainer

Source = Callable[[], tuple[RecurrentModel | None, Task | None]]


class TrainingPanel(TrainingLayout):
    """Train the main window's model (or a given one) with live curves; pause and inspect.

    Use :meth:`set_source` for a model and task, or :meth:`attach` to the main
    window (which then provides them, and shows the paused model via
    ``show_model``). Signals: ``show_model_requested(model, task)`` whenever a
    weight copy should be shown, ``state_changed(str)`` (``"idle"``,
    ``"running"``, ``"paused"``, ``"stopped"``), ``message(str)``.
    """

    show_model_requested = pyqtSignal(object, object)
    state_changed = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, trainer_factory: TrainerFactory | None = None) -> None:
        super().__init__(parent)
        self.trainer_factory = trainer_factory or engine_trainer
        self.trainer: Trainer | None = None
        self.task: Task | None = None
        self.worker: TrainingWorker | None = None
        self.thread_: QThread | None = None
        self.history = StatsHistory()
        self.last_snapshot: WeightSnapshot | None = None
        self.state = "idle"
        self._source: Source | None = None
        self._window: ModelHost | None = None
        self._showing_own_model = False
        self._show_next_snapshot = False
        self._pending_checkpoint: Checkpoint | None = None
        self._own_models: weakref.WeakSet[RecurrentModel] = weakref.WeakSet()
        self._dirty = False
        self._saved_iteration: int | None = None  # the trainer's iteration when made or last saved
        # asked before Reset throws trained weights away (the app's Save / Discard / Cancel prompt)
        self.confirm_discard: Callable[[str], bool] = lambda _what: True
        self._last_stats: IterationStats | None = None
        for button, slot in zip(
            self.buttons.buttons(),
            (self.start, self.toggle_pause, self.step_once, self.stop, self.reset, self.show_current),
            strict=True,
        ):
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
        self.snapshot_row.chosen.connect(self._show_snapshot)
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(int(1000 / REDRAW_HZ))
        self.redraw_timer.timeout.connect(self._redraw_if_needed)
        self._update_buttons()

    def _update_buttons(self) -> None:
        self.buttons.show_state(self.state, self.trainer is not None)
        self.form.lock_run_layout(self.trainer is not None)

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()
        self.state_changed.emit(state)

    # ------------------------------------------------------------------ sources
    def set_source(self, model: RecurrentModel, task: Task) -> None:
        """Train (a copy of) ``model`` on ``task``."""
        self._source = lambda: (model, task)

    def attach(self, window: ModelHost) -> None:
        """Train the main window's current model on its task; show paused weights there."""
        self._window = window
        self._source = lambda: (window.current_model(), window.current_task())
        self.show_model_requested.connect(window.show_model)
        window.model_changed.connect(self._window_model_changed)

    def adopt_checkpoint(self, checkpoint: Checkpoint, task: Task | None = None) -> None:
        """Train the checkpoint's model next, resuming its optimiser state and iteration count.

        Any running training is stopped first (its curves are dropped: they belong
        to another model).
        """
        if self.state in ("running", "paused") and self.worker is not None:
            self.worker.stop()
            stop_thread(self.thread_)
        self._discard_trainer()
        self._pending_checkpoint = checkpoint
        if task is not None and self._window is None:
            self.set_source(checkpoint.model, task)
        self.form.show_checkpoint(checkpoint)
        self._say(f"Loaded a checkpoint at iteration {checkpoint.iteration}: Start resumes it.")

    def _restore_checkpoint(self, trainer: Trainer) -> None:
        checkpoint, self._pending_checkpoint = self._pending_checkpoint, None
        if checkpoint is not None:
            notes = trainer.restore(checkpoint)
            if notes:
                self._say("Resumed the checkpoint; " + "; ".join(notes))

    def _window_model_changed(self, *args: Any) -> None:
        shown = self._window.current_model() if self._window is not None else None
        if self._showing_own_model or (shown is not None and shown in self._own_models):
            # the window shows one of our weight copies (possibly re-traced later, off-thread)
            return
        if self.trainer is not None and self.state in ("idle", "stopped"):
            # a different model was chosen: the next Start trains that one
            self._discard_trainer()
            self._say("The shown model changed: Start trains the new one.")

    # ------------------------------------------------------------------ settings
    def settings(self) -> TrainingSettings:
        """The settings in the controls (``ValueError`` naming a bad field)."""
        return self.form.settings()

    # ------------------------------------------------------------------ control
    def start(self, start_paused: bool = False) -> TrainingWorker | None:
        """Start (or continue) training in a worker thread; returns the worker, ``None`` on error."""
        worker = self.prepare(start_paused=start_paused)
        if worker is not None:
            self.launch(worker)
        return worker

    def prepare(self, start_paused: bool = False) -> TrainingWorker | None:
        """A connected, not yet started worker (tests connect blockers, then call :meth:`launch`)."""
        if self.state in ("running", "paused"):
            return None
        try:
            settings = self.settings()
            trainer = self._ready_trainer(settings)
        except Exception as error:  # a bad setting or a trainer that refuses the task
            self._say(f"Cannot start training: {error}", error=True)
            self.trainer = None if self.state == "idle" else self.trainer
            self._update_buttons()
            return None
        done = self.history.length
        worker = TrainingWorker(
            trainer,
            iterations=settings.iterations or None,
            start_paused=start_paused,
            sample_every=settings.sample_every,
            sample_function=text_sampler(self.task, settings),
            snapshot_every=settings.snapshot_every,
        )
        worker.stats.connect(self._stats_arrived)
        worker.sample.connect(self._sample_arrived)
        worker.snapshot.connect(self._snapshot_arrived)
        worker.paused.connect(self._paused)
        worker.resumed.connect(self._resumed)
        worker.finished.connect(self._finished)
        worker.diverged.connect(self._diverged)
        worker.failed.connect(self._failed)
        self._say(f"{'Continuing' if done else 'Starting'} training with {settings.optimiser}...")
        return worker

    def _ready_trainer(self, settings: TrainingSettings) -> Trainer:
        """The trainer to run: the one that ran before (with the new learning rate and clipping),
        else a new one on a copy of the source's model (resuming a checkpoint being adopted)."""
        if self.trainer is not None:
            self.trainer.optimizer.lr = settings.learning_rate
            self.trainer.clip_norm = settings.clip
            return self.trainer
        if self._source is None:
            raise ValueError("nothing to train: no model was given")
        model, task = self._source()
        if model is None or task is None:
            raise ValueError("the window has no model and task to train yet")
        refusal = training_refusal(model, task, settings)
        if refusal is not None:
            raise ValueError(refusal)
        own_copy = type(model)(model.config, model.params.copy())  # a user's own class too
        self.trainer = self.trainer_factory(own_copy, task, settings)
        self.task = task
        self._restore_checkpoint(self.trainer)
        self._saved_iteration = self.trainer.iteration
        return self.trainer

    def has_unsaved_weights(self) -> bool:
        """Has the trainer run iterations that no checkpoint holds (since it was made or saved)?"""
        return self.trainer is not None and self.trainer.iteration != self._saved_iteration

    def mark_saved(self) -> None:
        """The trainer's weights are in a checkpoint now (File > Save checkpoint wrote them)."""
        if self.trainer is not None:
            self._saved_iteration = self.trainer.iteration

    def launch(self, worker: TrainingWorker) -> None:
        """Run a worker from :meth:`prepare` in its own thread."""
        stop_thread(self.thread_)
        self.worker = worker
        self._set_state("running")
        self.redraw_timer.start()
        self.thread_ = start_worker(worker, "training")

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.state == "paused":
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self.worker is not None and self.state == "running":
            self.worker.pause()

    def resume(self) -> None:
        """Go on, with the learning rate and clipping now in the form (after a divergence too)."""
        if self.worker is None or self.state != "paused":
            return
        try:
            self._ready_trainer(self.settings())  # the worker waits: the trainer is ours to change
        except ValueError as error:
            self._say(f"Cannot resume: {error}", error=True)
            return
        self.warning.clear()
        self.worker.resume()
        self._set_state("running")

    def step_once(self) -> None:
        """One iteration then pause; starts a paused worker when none runs."""
        if self.worker is not None and self.state in ("running", "paused"):
            self.worker.step_once()
            return
        worker = self.prepare(start_paused=True)
        if worker is not None:
            worker.step_once()
            self.launch(worker)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def reset(self) -> None:
        """Forget the trainer, curves, samples and snapshots (only when not training)."""
        if self.state in ("running", "paused") or not self.confirm_discard("reset training"):
            return
        self._discard_trainer()
        self._say("Reset: Start trains the shown model from its current weights.")

    def _discard_trainer(self) -> None:
        self.trainer = None
        self.warning.clear()
        self.history.clear()
        self.snapshot_row.clear()
        self.last_snapshot = None
        self.samples.clear()
        self.plots.clear_curves()
        self._set_state("idle")

    def show_current(self) -> None:
        """Show a copy of the weights as they are now (taken between iterations)."""
        if self.worker is not None and self.state == "running":
            self._show_next_snapshot = True
            self.worker.request_snapshot()
        elif self.trainer is not None:
            # the worker is paused or gone: the trainer is not being touched
            self._show_snapshot(take_snapshot(self.trainer))

    def shutdown(self) -> None:
        """Stop any training and wait for the thread (call before closing)."""
        if self.worker is not None:
            self.worker.stop()
        stop_thread(self.thread_)
        self.redraw_timer.stop()

    # ------------------------------------------------------------------ worker signals
    def _stats_arrived(self, batch: list[IterationStats]) -> None:
        self.history.extend(batch)
        self._last_stats = batch[-1]
        self._dirty = True

    def _redraw_if_needed(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        started = time.perf_counter()
        self.plots.redraw(self.history)
        self._update_status()
        # the paint happens later, in the event loop; the previous frame's paint time stands in for it
        cost = time.perf_counter() - started + self.plots.last_paint_s
        self.redraw_timer.setInterval(redraw_interval_ms(cost))

    def _update_status(self) -> None:
        if self._last_stats is not None:
            self.status.setText(f"<b>{self.state}</b> &nbsp; " + status_line(self._last_stats))

    def _sample_arrived(self, iteration: int, text: str) -> None:
        self.samples.appendPlainText(f"--- iteration {iteration} ---\n{text}")

    def _snapshot_arrived(self, snapshot: WeightSnapshot) -> None:
        if self._show_next_snapshot:
            self._show_next_snapshot = False
            self._show_snapshot(snapshot)
        else:
            self.snapshot_row.add(snapshot)

    def show_snapshot_at(self, iteration: int) -> WeightSnapshot:
        """Move the slider to the kept snapshot nearest ``iteration`` (and show it)."""
        return self.snapshot_row.choose_nearest(iteration)

    def _paused(self, snapshot: WeightSnapshot) -> None:
        self.last_snapshot = snapshot
        self._set_state("paused")
        self._redraw_if_needed()
        self._say(f"Paused at iteration {snapshot.iteration}.")
        if self.show_when_paused.isChecked():
            self._show_snapshot(snapshot)

    def _resumed(self) -> None:
        self._set_state("running")

    def _finished(self, iterations: int) -> None:
        self.redraw_timer.stop()
        self._dirty = True
        self._set_state("stopped")
        self._redraw_if_needed()
        self.plots.fit_x(self.history)
        self._say(f"Stopped after {iterations} iteration(s) in this run; {len(self.history)} in all.")

    def _diverged(self, message: str) -> None:
        """The worker paused on a diverging iteration (not applied): say so until dismissed."""
        self.warning.show_warning(f"Training diverged and is paused: {message}. {DIVERGENCE_ADVICE}")

    def _failed(self, message: str) -> None:
        self.redraw_timer.stop()
        self._set_state("stopped")
        self._say(message.split("\n\n")[0], error=True)

    def _show_snapshot(self, snapshot: WeightSnapshot) -> None:
        self.last_snapshot = snapshot
        model = snapshot.build()
        self._own_models.add(model)
        self._showing_own_model = True
        try:
            self.show_model_requested.emit(model, self.task)
        finally:
            self._showing_own_model = False

    def _say(self, text: str, error: bool = False) -> None:
        colour = "#d62728" if error else "#333333"
        self.status.setText(f"<span style='color:{colour}'>{html.escape(text, quote=False)}</span>")
        self.message.emit(text)
