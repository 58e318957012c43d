"""Checkpoints in the app: File menu actions, recent files, drag and drop, bad files."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPointF, QSettings, Qt, QUrl, pyqtSignal
from PyQt6.QtGui import QDragEnterEvent, QDropEvent
from PyQt6.QtWidgets import QMainWindow

from rnnscope.app.checkpoint_actions import MAX_RECENT, CheckpointActions
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import build_task

TEXT = "abcabd abcabd abc. " * 10


class Window(QMainWindow):
    """The parts of the main window the actions use."""

    model_changed = pyqtSignal(object)

    def __init__(self, model, task):
        super().__init__()
        self.file_menu = self.menuBar().addMenu("&File")
        self.file_menu.addAction("&Quit")
        self.model = model
        self.task = task

    def show_model(self, model, task=None, background=True):
        self.model = model
        self.task = task if task is not None else self.task
        self.model_changed.emit(model)

    def current_model(self):
        return self.model

    def current_task(self):
        return self.task


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot):
    task = build_task("chars", text=TEXT)
    window = Window(build_model(task.model_config("rnn", 6, seed=4)), task)
    qtbot.addWidget(window)
    return window


@pytest.fixture
def actions(window, settings):
    return CheckpointActions(window, settings=settings, dialogs=False, menu=window.file_menu)


def test_the_file_menu_gets_open_recent_and_save(actions, window):
    texts = [action.text() for action in window.file_menu.actions()]
    assert texts[:4] == ["&Open checkpoint...", "Open &Recent", "Open &example", "&Save checkpoint..."]
    assert texts[-1] == "&Quit"
    assert window.acceptDrops()


def test_save_then_open_shows_the_same_weights(actions, window, tmp_path):
    path = tmp_path / "model.npz"
    saved = window.current_model()
    assert actions.save_to(path)
    window.show_model(build_model(ModelConfig("rnn", 3, 2, 3)))
    with_signal = []
    actions.loaded.connect(lambda p, c: with_signal.append(p))
    assert actions.open_path(path)
    shown = window.current_model()
    assert shown.config == saved.config
    for name in saved.params:
        np.testing.assert_array_equal(shown.params[name], saved.params[name])
    assert with_signal == [str(path)]
    assert actions.recent_files() == [str(path)]


def test_recent_files_persist_newest_first_and_are_capped(window, settings, tmp_path):
    actions = CheckpointActions(window, settings=settings, dialogs=False)
    paths = [tmp_path / f"m{i}.npz" for i in range(MAX_RECENT + 2)]
    for path in paths:
        assert actions.save_to(path)
    assert actions.save_to(paths[3])  # saving again moves it to the top
    again = CheckpointActions(window, settings=QSettings(settings.fileName(), QSettings.Format.IniFormat))
    recent = again.recent_files()
    assert recent[0] == str(paths[3]) and recent[1] == str(paths[-1])
    assert len(recent) == MAX_RECENT
    again._fill_recent_menu()
    entries = [a.text() for a in again.recent_menu.actions() if a.text()]
    assert entries[0] == "&1 m3.npz" and entries[-1] == "Clear list"


@pytest.mark.parametrize(
    "content, words",
    [
        (b"this is not a checkpoint", ()),
        (None, ()),  # truncated: the first half of a real checkpoint
    ],
)
def test_a_bad_file_is_a_clear_message_and_the_window_keeps_its_model(
    actions, window, tmp_path, content, words
):
    good = tmp_path / "good.npz"
    assert actions.save_to(good)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(content if content is not None else good.read_bytes()[: good.stat().st_size // 2])
    before = window.current_model()
    messages = []
    actions.message.connect(messages.append)
    assert not actions.open_path(bad)
    assert window.current_model() is before
    assert str(bad) in messages[-1] and "Cannot open checkpoint" in messages[-1]
    assert str(bad) not in actions.recent_files()


def test_a_missing_recent_file_is_reported_and_dropped_from_the_list(actions, window, tmp_path):
    path = tmp_path / "gone.npz"
    assert actions.save_to(path)
    path.unlink()
    assert not actions.open_path(path)
    assert "gone.npz" in actions.last_error
    assert str(path) not in actions.recent_files()


def test_dropping_a_checkpoint_on_the_window_opens_it(qtbot, actions, window, tmp_path):
    path = tmp_path / "dropped.npz"
    assert actions.save_to(path)
    original = window.current_model()
    window.show_model(build_model(ModelConfig("rnn", 3, 2, 3)))
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    enter = QDragEnterEvent(
        QPointF(10, 10).toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert actions.eventFilter(window, enter) and enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert actions.eventFilter(window, drop)
    np.testing.assert_array_equal(window.current_model().params["Wh"], original.params["Wh"])
    # other files are not taken
    text_mime = QMimeData()
    text_mime.setUrls([QUrl.fromLocalFile(str(tmp_path / "notes.txt"))])
    other = QDragEnterEvent(
        QPointF(10, 10).toPoint(),
        Qt.DropAction.CopyAction,
        text_mime,
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
    )
    assert not actions.eventFilter(window, other)


def test_unwritable_save_path_is_a_clear_message(actions, tmp_path):
    target = tmp_path / "no such folder" / "model.npz"
    assert not actions.save_to(target)
    assert "no such folder" in actions.last_error and "Cannot save checkpoint" in actions.last_error


def test_a_stopped_run_saved_and_reopened_continues_exactly(qtbot, window, settings, tmp_path):
    """Save from the training panel, open in a fresh window and panel: Start continues the same run."""
    from rnnscope.app.panels.training import TrainingPanel

    panel = TrainingPanel()
    qtbot.addWidget(panel)
    panel.attach(window)
    panel.optimiser.setCurrentText("adam")
    panel.learning_rate.setText("0.01")
    panel.batch_size.setValue(3)
    panel.length.setValue(7)
    panel.seed.setValue(5)
    panel.sample_every.setValue(0)
    panel.iterations.setValue(6)
    actions = CheckpointActions(window, training=panel, settings=settings, dialogs=False)
    worker = panel.prepare()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        panel.launch(worker)
    path = tmp_path / "run.npz"
    assert actions.save_to(path)
    # what the uninterrupted run does next (the worker has finished: the trainer is free)
    expected = [panel.trainer.step().loss_per_step for _ in range(3)]

    other_task = build_task("chars", text="xyz xyz. " * 5)
    other = Window(build_model(other_task.model_config("rnn", 3)), other_task)
    qtbot.addWidget(other)
    other_panel = TrainingPanel()
    qtbot.addWidget(other_panel)
    other_panel.attach(other)
    other_panel.batch_size.setValue(16)
    other_panel.optimiser.setCurrentText("sgd")
    other_panel.sample_every.setValue(0)
    other_actions = CheckpointActions(other, training=other_panel, settings=settings, dialogs=False)
    assert other_actions.open_path(path)
    assert other_panel.optimiser.currentText() == "adam" and other_panel.batch_size.value() == 3
    other_panel.iterations.setValue(3)
    worker = other_panel.prepare()
    with qtbot.waitSignal(worker.done, timeout=10_000):
        other_panel.launch(worker)
    np.testing.assert_array_equal(other_panel.history.iterations, [7, 8, 9])
    assert list(other_panel.history.column("loss")) == expected
    for name, weights in panel.trainer.model.params.items():
        np.testing.assert_array_equal(other_panel.trainer.model.params[name], weights)
    panel.shutdown()
    other_panel.shutdown()
