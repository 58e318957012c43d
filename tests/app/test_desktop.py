"""Desktop manners: the first view, File > Open example, Quit / Ctrl+Q, Ctrl-C in the terminal, the
unsaved-weights prompt and the complete shortcut list."""

from __future__ import annotations

import os
import signal

import numpy as np
import pytest
from PyQt6.QtWidgets import QApplication, QFileDialog

from rnnscope.app.examples import example_path
from rnnscope.app.unsaved_weights import CANCEL, DISCARD, SAVE
from rnnscope.engine.checkpoint import load_checkpoint


@pytest.fixture
def app_window(settings, qtbot):
    """``app_window(*argv)``: the window ``rnnscope ARGV`` opens, training tools included, prompts
    answered by the test (``window.answers``, a list of answers; ``window.asked`` what was asked)."""
    from rnnscope.app.main import build_parser, open_window

    made = []

    def make(*argv: str):
        opened = open_window(build_parser().parse_args(list(argv)), settings=settings)
        window = opened.window
        # (test-only handles on what open_window made with the window)
        window.unsaved_guard, window.training_panel = opened.tools.unsaved, opened.tools.training
        window.checkpoints = opened.checkpoints
        qtbot.addWidget(window)
        window.show()
        guard = window.unsaved_guard
        window.answers = []
        guard.ask = lambda what: window.answers.pop(0)
        made.append(window)
        return window

    yield make
    for window in made:
        window.unsaved_guard.ask = lambda what: DISCARD
        window.close()
        window.wait_for_workers()


def train_a_little(window, qtbot, stop: bool = True):
    """One training iteration on the shown model (then paused, or stopped with ``stop``)."""
    training = window.training_panel
    training.sample_every.setValue(0)
    training.step_once()
    qtbot.waitUntil(lambda: training.state == "paused" and training.trainer.iteration >= 1, timeout=10_000)
    if stop:
        training.stop()
        qtbot.waitUntil(lambda: training.state == "stopped", timeout=10_000)
    assert training.has_unsaved_weights()
    return training


# ---------------------------------------------------------------------- the first view and examples
def test_plain_rnnscope_opens_the_shipped_trained_lstm(app_window, settings):
    settings.setValue("session/model", "dnc")  # what the last session picked does not matter
    window = app_window()
    shipped = load_checkpoint(example_path("lstm"))
    model = window.current_model()
    assert model.config.kind == "lstm" and window.current_task().name == "chars"
    for name, value in shipped.model.params.items():
        np.testing.assert_array_equal(model.params[name], value)
    gates = window.session.trace["lstm/forget_gate"].data  # trained gates have structure: saturated units
    assert ((gates < 0.1) | (gates > 0.9)).mean() > 0.1
    assert window.controls.model_box.currentText() == "lstm"


def test_training_the_first_view_further_keeps_its_optimiser_and_what_it_learned(app_window, qtbot):
    window = app_window()
    training = window.training_panel
    # the shipped file holds the optimiser it was trained with (Adam, 3e-3), not the panel's default
    assert training.optimiser.currentText() == "adam" and float(training.learning_rate.text()) == 3e-3
    train_a_little(window, qtbot)
    batch = window.current_task().sample(8, 0, 50)
    shipped = load_checkpoint(example_path("lstm")).model
    before = shipped.loss(batch.inputs, batch.targets)
    after = training.trainer.model.loss(batch.inputs, batch.targets)
    assert after < 1.1 * before  # a default Adagrad at 0.1 on fresh slots threw it to ~8 nats a step
    window.answers.append(DISCARD)  # the trained weights are not kept


def test_file_open_example_opens_the_dnc_and_the_gru(app_window, retrace):
    window = app_window()
    menu = window.checkpoints.example_menu
    titles = [action.text() for action in menu.actions()]
    assert len(titles) == 3 and all(action.isEnabled() for action in menu.actions())
    retrace(window, lambda: next(a for a in menu.actions() if "DNC" in a.text()).trigger())
    assert window.current_model().config.kind == "dnc" and window.current_task().name == "copy"
    assert window.session.trace.model_kind == "dnc"
    retrace(window, lambda: next(a for a in menu.actions() if "GRU" in a.text()).trigger())
    assert window.current_model().config.kind == "gru" and window.current_task().name == "sentiment"
    assert window.checkpoints.recent_files() == []  # examples are not the user's files


# ---------------------------------------------------------------------- quitting
def test_file_quit_and_ctrl_q_close_with_settings_saved(app_window, settings, qtbot):
    window = app_window()
    assert window.quit_action.shortcut().toString() == "Ctrl+Q"
    assert window.close_action.shortcut().toString() == "Ctrl+W"
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    qtbot.keyClick(window, "q", modifier=QApplication.keyboardModifiers().ControlModifier)
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    assert settings.value("session/model") == "lstm"
    assert settings.value(f"layout/{window.docks.key}/state") is not None


def test_ctrl_c_in_the_terminal_closes_the_window_cleanly(app_window, settings, qtbot, qapp):
    from rnnscope.app.application import close_on_interrupt

    window = app_window()
    previous = signal.getsignal(signal.SIGINT)
    timer = close_on_interrupt(qapp, window)
    try:
        os.kill(os.getpid(), signal.SIGINT)
        qtbot.waitUntil(lambda: not window.isVisible(), timeout=10_000)
    finally:
        timer.stop()
        signal.signal(signal.SIGINT, previous)
    assert settings.value("window/size") is not None and settings.value("session/task") == "chars"


# ---------------------------------------------------------------------- unsaved trained weights
def test_closing_with_unsaved_weights_asks_and_cancel_keeps_everything(app_window, qtbot):
    window = app_window()
    training = train_a_little(window, qtbot)
    window.answers.append(CANCEL)
    window.close()
    assert window.unsaved_guard.asked == ["quit"]
    assert window.isVisible() and training.trainer is not None  # nothing was stopped or lost
    window.answers.append(DISCARD)
    window.close()
    assert not window.isVisible()


def test_a_second_close_while_the_question_is_open_is_not_asked_again(app_window, qtbot):
    window = app_window()
    train_a_little(window, qtbot)
    nested = []

    def answer(what):
        window.close()  # Ctrl-C in the terminal again, while the dialog is open
        nested.append(window.isVisible())
        return CANCEL

    window.unsaved_guard.ask = answer
    window.close()
    assert window.unsaved_guard.asked == ["quit"] and nested == [True] and window.isVisible()


def test_save_from_the_prompt_writes_the_trained_weights_then_quits(app_window, qtbot, tmp_path, monkeypatch):
    window = app_window()
    training = train_a_little(window, qtbot, stop=False)  # paused: the trainer holds the weights
    iteration = training.trainer.iteration
    target = tmp_path / "trained"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    window.answers.append(SAVE)
    window.close()
    assert not window.isVisible()
    saved = load_checkpoint(str(target) + ".npz")
    assert saved.iteration == iteration and saved.optimizer_state  # the run can resume from it


def test_save_from_the_prompt_pauses_a_running_training_first(app_window, qtbot, tmp_path, monkeypatch):
    window = app_window()
    training = window.training_panel
    training.sample_every.setValue(0)
    training.start()
    qtbot.waitUntil(lambda: training.trainer is not None and training.has_unsaved_weights(), timeout=10_000)
    assert training.state == "running"
    start = training.trainer.iteration
    target = tmp_path / "running.npz"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (str(target), ""))
    window.answers.append(SAVE)
    window.close()
    assert not window.isVisible()
    saved = load_checkpoint(target)
    # the paused trainer's state (iteration, optimiser), not the shown model's weights alone
    assert saved.iteration >= start > 1500 and saved.optimizer_state
    assert window.unsaved_guard.asked == ["quit"]


def test_saved_weights_are_not_asked_about_and_a_cancelled_save_cancels(
    app_window, qtbot, tmp_path, monkeypatch
):
    window = app_window()
    train_a_little(window, qtbot)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: ("", ""))
    window.answers.append(SAVE)  # then no file chosen: nothing saved, nothing closed
    window.close()
    assert window.isVisible()
    window.checkpoints.save_to(tmp_path / "now.npz")  # File > Save checkpoint
    assert not window.training_panel.has_unsaved_weights()
    window.close()
    assert not window.isVisible() and window.unsaved_guard.asked == ["quit"]


def test_reset_and_another_model_ask_first(app_window, qtbot, retrace):
    window = app_window()
    training = train_a_little(window, qtbot)
    window.answers.append(CANCEL)
    training.reset_button.click()
    assert training.trainer is not None and window.unsaved_guard.asked == ["reset training"]
    window.answers.append(CANCEL)
    window.controls.model_box.setCurrentText("gru")  # a pick that would show a fresh model
    assert window.controls.model_box.currentText() == "lstm" and window.current_model().config.kind == "lstm"
    window.answers.append(CANCEL)
    assert not window.checkpoints.open_example("dnc")
    assert window.current_model().config.kind == "lstm"
    window.answers.append(DISCARD)
    retrace(window, lambda: window.controls.model_box.setCurrentText("gru"))
    assert window.current_model().config.kind == "gru"
    assert window.unsaved_guard.asked == [
        "reset training",
        "show another model",
        "open another model",
        "show another model",
    ]


def test_nothing_trained_nothing_asked(app_window, retrace):
    window = app_window()
    retrace(window, lambda: window.controls.model_box.setCurrentText("rnn"))
    window.close()
    assert window.unsaved_guard.asked == [] and not window.isVisible()


# ---------------------------------------------------------------------- every shortcut in Help
def test_help_lists_every_shortcut_of_the_window(app_window, qtbot):
    from PyQt6.QtGui import QAction

    window = app_window()
    dialog = window.help.show_shortcuts()
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    text = dialog.label.text()
    keys = {seq.toString() for action in window.findChildren(QAction) for seq in action.shortcuts()}
    keys.discard("")
    assert {"Ctrl+Q", "Ctrl+W", "Ctrl+O", "Ctrl+S", "F1", "Right", "Space"} <= keys
    for key in keys:
        assert f"<b>{key}</b>" in text, key
    assert "Quit" in text and "Open checkpoint" in text and "Enter" in text
    dialog.close()
