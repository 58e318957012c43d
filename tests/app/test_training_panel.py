"""The training panel: start / pause / resume / step / stop, growing curves, paused weights shown."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PyQt6.QtCore import QObject, pyqtSignal

from rnnscope.app.panels.training import StatsHistory, TrainingPanel, TrainingSettings
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import IterationStats, build_optimizer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 8


def iteration_stats(iteration, loss, loss_per_step, bits_per_char, grad_norm, update_ratio=None):
    """The statistics of one iteration, as the engine's trainer reports them."""
    return IterationStats(
        iteration=iteration,
        loss=loss,
        loss_per_step=loss_per_step,
        grad_norm=grad_norm,
        update_ratio=update_ratio or {},
        chars=25,
        seconds=0.025,
        chars_per_s=1000.0,
        lr=0.1,
        bits_per_char=bits_per_char,
    )


class PlainSGD:
    """A small stand-in trainer (plain SGD on fresh char windows) so the panel is tested on its own.

    It has what the panel uses of the engine's trainer: ``model``, ``iteration``, ``step()``,
    and the ``optimizer.lr`` and ``clip_norm`` that Continue sets (clipping is ignored here)."""

    def __init__(self, model: RecurrentModel, task, settings: TrainingSettings, fail_at: int | None = None):
        self.model = model
        self.task = task
        self.optimizer = build_optimizer("sgd", lr=settings.learning_rate)
        self.clip_norm = settings.clip
        self.batch_size = settings.batch_size
        self.length = settings.length
        self.rng = np.random.default_rng(settings.seed)
        self.iteration = 0
        self.fail_at = fail_at

    def step(self) -> IterationStats:
        if self.fail_at is not None and self.iteration + 1 == self.fail_at:
            raise FloatingPointError("loss became nan")
        batch = self.task.sample(self.batch_size, self.rng, length=self.length)
        loss, grads, _ = self.model.loss_and_gradients(batch.inputs, batch.targets, batch.mask)
        ratios = {}
        norm = math.sqrt(sum(float((g * g).sum()) for g in grads.params.values()))
        for name, grad in grads.params.items():
            update = -self.optimizer.lr * grad
            weight = self.model.params[name]
            ratios[name] = float(np.linalg.norm(update) / max(np.linalg.norm(weight), 1e-12))
            weight += update
        self.iteration += 1
        per_step = loss / self.length
        return iteration_stats(self.iteration, loss, per_step, per_step / math.log(2), norm, ratios)


class FakeWindow(QObject):
    """What the panel needs from the main window: current model/task and show_model, which
    re-traces the shown sequence as the stepping view does."""

    model_changed = pyqtSignal(object)

    def __init__(self, model, task):
        super().__init__()
        self.model = model
        self.task = task
        self.shown: list[RecurrentModel] = []
        self.sequence = task.encode_text("the cat sat")
        self.trace = self._trace(model)

    def _trace(self, model):
        return model.forward(self.sequence.inputs, self.sequence.targets, self.sequence.mask).trace

    def current_model(self):
        return self.model

    def current_task(self):
        return self.task

    def show_model(self, model, task=None):
        self.model = model
        self.shown.append(model)
        self.trace = self._trace(model)
        self.model_changed.emit(model)


@pytest.fixture
def task():
    return build_task("chars", text=TEXT)


@pytest.fixture
def model(task):
    return build_model(task.model_config("rnn", 8))


@pytest.fixture
def panel(qtbot, model, task):
    widget = TrainingPanel(trainer_factory=lambda m, t, s: PlainSGD(m, t, s))
    qtbot.addWidget(widget)
    widget.set_source(model, task)
    widget.batch_size.setValue(4)
    widget.length.setValue(10)
    widget.optimiser.setCurrentText("sgd")
    widget.sample_every.setValue(0)
    yield widget
    widget.shutdown()


def test_start_pause_resume_stop_and_the_curves_grow(qtbot, panel, model):
    before = model.params["Wh"].copy()
    worker = panel.prepare()
    with qtbot.waitSignal(worker.stats, timeout=10_000):
        panel.launch(worker)
    qtbot.waitUntil(lambda: len(panel.history) >= 5 and panel.plots.redraws >= 1, timeout=10_000)
    assert panel.state == "running"
    x, y = panel.plots.loss_curve.getData()
    assert x is not None and len(x) >= 1 and np.isfinite(y).all()

    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as shown:
        panel.pause_button.click()
    assert panel.state == "paused" and panel.pause_button.text() == "Resume"
    paused_at = len(panel.history)
    snapshot_model = shown.args[0]
    # the shown model is a copy of the weights at the pause, not the trained arrays
    assert snapshot_model is not panel.trainer.model
    np.testing.assert_array_equal(snapshot_model.params["Wh"], panel.trainer.model.params["Wh"])
    assert panel.last_snapshot.iteration == paused_at == panel.trainer.iteration

    panel.pause_button.click()  # resume
    qtbot.waitUntil(lambda: len(panel.history) >= paused_at + 5, timeout=10_000)
    # the curves are redrawn past the pause (their last point is a later iteration)
    qtbot.waitUntil(lambda: panel.plots.loss_curve.getData()[0][-1] > paused_at, timeout=10_000)
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.stop_button.click()
    assert panel.state == "stopped"
    iterations = panel.history.iterations
    np.testing.assert_array_equal(iterations, np.arange(1, len(iterations) + 1))
    # training never touched the source model
    np.testing.assert_array_equal(model.params["Wh"], before)


def test_step_runs_exactly_one_iteration_and_shows_the_model(qtbot, panel):
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as first:
        panel.step_button.click()
    assert panel.state == "paused" and len(panel.history) == 1
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as second:
        panel.step_button.click()
    assert len(panel.history) == 2 and panel.trainer.iteration == 2
    assert not np.array_equal(first.args[0].params["Wh"], second.args[0].params["Wh"])
    np.testing.assert_array_equal(second.args[0].params["Wh"], panel.trainer.model.params["Wh"])


def test_show_now_sends_the_current_weights_running_and_stopped(qtbot, panel):
    worker = panel.prepare()
    with qtbot.waitSignal(worker.stats, timeout=10_000):
        panel.launch(worker)
    # running: the copy is taken in the worker, between two iterations
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as running:
        panel.show_button.click()
    assert running.args[0] is not panel.trainer.model and running.args[1] is panel.task
    assert panel.snapshots == []  # a requested copy is shown, not kept
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.stop_button.click()
    # stopped: the copy is taken at once, from the trainer as it is now
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as stopped:
        panel.show_button.click()
    assert panel.last_snapshot.iteration == panel.trainer.iteration
    np.testing.assert_array_equal(stopped.args[0].params["Wh"], panel.trainer.model.params["Wh"])
    assert stopped.args[0] is not panel.trainer.model


def test_the_status_line_names_what_the_task_is_scored_by():
    from rnnscope.app.panels.training.history import status_line

    text = status_line(iteration_stats(7, 1.0, 0.25, 0.36, 2.5))
    assert text.startswith("iteration 7, loss 0.2500, 0.360 bits/char") and "|g| 2.5" in text
    assert "accuracy" not in text and "1,000 chars/s" in text
    stats = iteration_stats(3, 1.0, 0.5, None, 0.01)
    stats.accuracy = 0.75
    assert "accuracy 0.750" in status_line(stats) and "bits/char" not in status_line(stats)


def test_iteration_limit_snapshots_and_slider(qtbot, panel):
    panel.iterations.setValue(10)
    panel.snapshot_every.setValue(3)
    worker = panel.prepare()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.launch(worker)
    assert panel.state == "stopped" and len(panel.history) == 10
    assert [s.iteration for s in panel.snapshots] == [3, 6, 9]
    assert panel.snapshot_slider.isEnabled() and panel.snapshot_slider.maximum() == 2
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as shown:
        panel.show_snapshot_at(3)
    np.testing.assert_array_equal(shown.args[0].params["Wx"], panel.snapshots[0].params["Wx"])
    assert not np.array_equal(shown.args[0].params["Wx"], panel.trainer.model.params["Wx"])
    assert "iteration 3" in panel.snapshot_label.text()
    # Start again continues the same trainer
    panel.iterations.setValue(4)
    worker = panel.prepare()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.launch(worker)
    assert panel.trainer.iteration == 14 and len(panel.history) == 14


def test_char_samples_appear(qtbot, panel):
    panel.iterations.setValue(4)
    panel.sample_every.setValue(2)
    worker = panel.prepare()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.launch(worker)
    text = panel.samples.toPlainText()
    assert "iteration 2" in text and "iteration 4" in text


def test_attached_window_shows_paused_weights_and_a_failure_is_reported(qtbot, model, task):
    window = FakeWindow(model, task)
    panel = TrainingPanel(trainer_factory=lambda m, t, s: PlainSGD(m, t, s, fail_at=3))
    qtbot.addWidget(panel)
    panel.attach(window)
    panel.sample_every.setValue(0)
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000):
        panel.step_once()
    assert len(window.shown) == 1
    np.testing.assert_array_equal(window.shown[0].params["Wh"], panel.trainer.model.params["Wh"])
    # the window's heatmap data now come from the weights after that iteration
    expected = window._trace(panel.trainer.model)
    before = window._trace(model)
    hidden = window.trace["rnn/hidden"].data
    np.testing.assert_array_equal(hidden, expected["rnn/hidden"].data)
    assert not np.array_equal(hidden, before["rnn/hidden"].data)
    # showing our own weights must not make the panel drop its trainer
    assert panel.trainer is not None and panel.state == "paused"
    messages = []
    panel.message.connect(messages.append)
    with qtbot.waitSignal(panel.worker.done, timeout=10_000):
        panel.resume()
    assert panel.state == "stopped"
    assert "loss became nan" in messages[-1] and "iteration 2" in messages[-1]
    panel.shutdown()


def test_bad_learning_rate_is_a_clear_message(qtbot, panel):
    panel.learning_rate.setText("-1")
    messages = []
    panel.message.connect(messages.append)
    assert panel.start() is None
    assert "learning rate" in messages[-1]
    assert panel.state == "idle"


def test_a_run_that_cannot_fit_in_memory_is_refused_with_the_number(qtbot, panel, monkeypatch):
    from rnnscope.engine import budget

    monkeypatch.setattr(budget, "available_memory", lambda: 2 * 2**20)  # 2 MB free
    panel.batch_size.setValue(4096)
    messages = []
    panel.message.connect(messages.append)
    assert panel.start() is None
    assert "more than the 2.1 MB available; use a smaller batch B or length T" in messages[-1]
    assert panel.state == "idle" and "Cannot start training" in panel.status.text()
    monkeypatch.setattr(budget, "available_memory", lambda: 2**40)  # then it fits: the run starts
    panel.batch_size.setValue(4)
    assert panel.start() is not None


def test_history_grows_and_keeps_missing_values_as_nan():
    history = StatsHistory()
    batch = [iteration_stats(i + 1, 1.0, 0.5, 0.7, 2.0, {"Wx": 0.01}) for i in range(3000)]
    history.extend(batch[:10])
    history.extend(batch[10:])
    assert len(history) == 3000
    np.testing.assert_array_equal(history.iterations, np.arange(1, 3001))
    assert np.all(history.column("ratio/Wx") == 0.01)
    assert np.isnan(history.column("accuracy")).all()


def test_worker_batches_statistics_and_survives_a_failing_sampler(qtbot, model, task):
    from rnnscope.app.threads import start_worker
    from rnnscope.app.training_worker import TrainingWorker

    def broken_sampler(_model):
        raise RuntimeError("no vocabulary")

    trainer = PlainSGD(
        build_model(model.config, model.params.copy()), task, TrainingSettings(batch_size=2, length=5)
    )
    worker = TrainingWorker(
        trainer, iterations=40, emit_interval=60.0, sample_every=20, sample_function=broken_sampler
    )
    batches, samples = [], []
    worker.stats.connect(batches.append)
    worker.sample.connect(lambda i, text: samples.append((i, text)))
    with qtbot.waitSignal(worker.done, timeout=10_000):
        thread = start_worker(worker)
    thread.wait(10_000)
    # one signal for the whole run (the interval is never reached), in order
    assert len(batches) == 1 and [s.iteration for s in batches[0]] == list(range(1, 41))
    assert samples == [(20, "(no sample: no vocabulary)"), (40, "(no sample: no vocabulary)")]


def test_install_training_tools_docks_both_panels_and_stops_training_on_close(qtbot, model, task, tmp_path):
    from PyQt6.QtCore import QSettings, Qt
    from PyQt6.QtWidgets import QDockWidget, QMainWindow

    from rnnscope.app.checkpoint_actions import install_training_tools

    class Window(QMainWindow):
        model_changed = pyqtSignal(object)

        def __init__(self):
            super().__init__()
            self.file_menu = self.menuBar().addMenu("&File")
            self.model, self.task, self.batch = model, task, task.encode_text("the cat")

        def add_panel(self, title, widget, area=Qt.DockWidgetArea.RightDockWidgetArea):
            dock = QDockWidget(title, self)
            dock.setWidget(widget)
            self.addDockWidget(area, dock)
            return dock

        def show_model(self, model, task=None):
            self.model = model
            self.model_changed.emit(model)

        def current_model(self):
            return self.model

        def current_task(self):
            return self.task

        def current_batch(self):
            return self.batch

    window = Window()
    qtbot.addWidget(window)
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    tools = install_training_tools(window, settings=settings, dialogs=False)
    assert [dock.windowTitle() for dock in tools.docks] == ["Training", "Gradient check"]
    assert window.tabifiedDockWidgets(tools.docks[0]) == [tools.docks[1]]
    assert "&Open checkpoint..." in [a.text() for a in window.file_menu.actions()]
    tools.training.trainer_factory = lambda m, t, s: PlainSGD(m, t, s)
    tools.training.sample_every.setValue(0)
    worker = tools.training.prepare()
    with qtbot.waitSignal(worker.stats, timeout=10_000):
        tools.training.launch(worker)
    # the gradient check runs on the window's current model and sequence
    check = tools.gradcheck.prepare_check()
    with qtbot.waitSignal(tools.gradcheck.check_finished, timeout=10_000) as finished:
        tools.gradcheck.start_check(check)
    rows = finished.args[0].rows
    assert [row.name for row in rows if row.group == "parameter"] == list(model.params)
    window.close()
    assert tools.training.thread_.isFinished()


def test_the_engine_trainer_drives_the_panel(qtbot, model, task):
    """The default trainer factory (the engine's Trainer): curves, ratios, samples, step and pause."""
    from rnnscope.engine.training import Trainer

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_source(model, task)
    panel.batch_size.setValue(4)
    panel.length.setValue(10)
    panel.iterations.setValue(40)
    panel.sample_every.setValue(20)
    with qtbot.waitSignal(panel.show_model_requested, timeout=10_000) as shown:
        panel.step_button.click()
    assert isinstance(panel.trainer, Trainer) and panel.trainer.iteration == 1
    np.testing.assert_array_equal(shown.args[0].params["Wh"], panel.trainer.model.params["Wh"])
    with qtbot.waitSignal(panel.worker.done, timeout=20_000):
        panel.resume()
    # the iteration limit counts the single step too
    assert panel.state == "stopped" and panel.trainer.iteration == 40 and len(panel.history) == 40
    bpc = panel.history.column("bits_per_char")
    assert np.isfinite(bpc).all() and bpc[-10:].mean() < bpc[:5].mean()
    assert np.isfinite(panel.history.column("accuracy")).all()
    assert np.isfinite(panel.history.column("chars_per_s")).all()
    assert set(panel.history.ratio_names) == set(model.params)
    x, y = panel.plots.loss_curve.getData()
    assert x[-1] == 40 and np.isfinite(y).all()
    assert "--- iteration 20 ---" in panel.samples.toPlainText()
    panel.shutdown()


def test_divergence_pauses_the_run_and_shows_a_warning_until_dismissed(qtbot, model, task):
    """The engine's trainer at an absurd learning rate: the loss explodes at its second iteration."""
    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.set_source(model, task)
    panel.batch_size.setValue(4)
    panel.length.setValue(10)
    panel.sample_every.setValue(0)
    panel.learning_rate.setText("1e6")
    panel.show()
    assert panel.warning.isHidden()
    worker = panel.prepare()
    with qtbot.waitSignal(worker.paused, timeout=20_000) as paused:
        panel.launch(worker)
    assert panel.state == "paused"
    assert paused.args[0].iteration == panel.trainer.iteration == 1  # the diverging update was not applied
    assert panel.warning.isVisible()
    text = panel.warning.text
    assert (
        text.startswith("Training diverged and is paused: the loss per step exploded to") and "Resume" in text
    )
    # what the user sees: an amber bar across the panel
    image = panel.warning.grab().toImage()
    colour = image.pixelColor(image.width() // 2, 2)
    assert (colour.red(), colour.green(), colour.blue()) == (0xFF, 0xF3, 0xCD)
    np.testing.assert_array_equal(panel.last_snapshot.params["Wh"], panel.trainer.model.params["Wh"])
    assert np.isfinite(panel.trainer.model.params["Wh"]).all()
    panel.warning.dismiss_button.click()
    assert panel.warning.isHidden()
    # Resume takes the learning rate now in the form; these weights took one step at lr=1e6, so the
    # loss they give is still far above where it started: it diverges again, and says so again
    panel.learning_rate.setText("0.05")
    with qtbot.waitSignal(panel.worker.diverged, timeout=20_000):
        panel.resume()
        assert panel.warning.isHidden() and panel.trainer.optimizer.lr == 0.05
    qtbot.waitUntil(lambda: panel.state == "paused", timeout=10_000)
    assert panel.warning.isVisible() and panel.trainer.iteration == 1
    panel.stop()
    qtbot.waitUntil(lambda: panel.state == "stopped", timeout=10_000)
    panel.reset()
    assert panel.warning.isHidden()
    panel.shutdown()


def test_the_worker_pauses_on_a_diverging_iteration_and_can_resume(qtbot, model, task):
    from rnnscope.app.threads import start_worker
    from rnnscope.app.training_worker import TrainingWorker
    from rnnscope.engine.training import Divergence, DivergenceError

    trainer = PlainSGD(
        build_model(model.config, model.params.copy()), task, TrainingSettings(batch_size=2, length=5)
    )
    step = trainer.step

    def diverging_once():
        if trainer.iteration == 2 and not diverged:
            raise DivergenceError(Divergence(3, "non-finite loss", float("nan")))
        return step()

    trainer.step = diverging_once
    worker = TrainingWorker(trainer, iterations=5)
    diverged, paused = [], []
    worker.diverged.connect(diverged.append)
    worker.paused.connect(paused.append)
    with qtbot.waitSignal(worker.paused, timeout=10_000):
        thread = start_worker(worker)
    assert diverged == ["the loss became nan at iteration 3; the weights are those of iteration 2"]
    assert paused[-1].iteration == 2 and worker.iterations_done == 2
    with qtbot.waitSignal(worker.done, timeout=10_000):
        worker.resume()
    thread.wait(10_000)
    assert trainer.iteration == 5 and worker.iterations_done == 5
