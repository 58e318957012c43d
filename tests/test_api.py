"""``rnnscope.check`` and ``rnnscope.show``: a live model from a script, checked or looked at."""

import json
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QSettings, QTimer
from PyQt6.QtWidgets import QApplication

import rnnscope
from rnnscope.engine.gradcheck import GradcheckResult, Status
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.protocol import UserCodeError, load_model_file
from rnnscope.engine.tasks import build_task
from rnnscope.report import read_csv, to_text

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _example(name, hidden=4, seed=0):
    """An example model sized for the chars task, and a batch of it."""
    task = build_task("chars")
    model = load_model_file(EXAMPLES / name).model_class(task.model_config("custom", hidden, seed=seed))
    batch = task.sample(2, np.random.default_rng(seed), length=6)
    return model, batch


def test_check_pins_the_buggy_lstm_and_prints_the_commands_table():
    model, batch = _example("buggy_lstm.py")
    result = rnnscope.check(model, batch.inputs, batch.targets, batch.mask, mode="full")
    assert isinstance(result, GradcheckResult) and result.failed
    assert [row.name for row in result.all_rows() if row.failed] == ["Wh", "Wh[forget]"]
    assert str(result) == to_text(result, colour=False)
    assert "fail      Wh[forget]" in str(result)
    assert repr(result) == "<CheckResult full: 8 tensors, fail in Wh, Wh[forget]; print() it for the table>"


def test_a_check_result_saves_as_every_report_format(tmp_path):
    model, batch = _example("cs231n_lstm.py")
    result = rnnscope.check(model, batch.inputs, batch.targets)
    assert result.status is Status.OK and not result.failed
    for extension in ("csv", "json", "md", "html"):
        path = result.save(tmp_path / f"report.{extension}")
        assert Path(path).stat().st_size > 0
    assert json.loads((tmp_path / "report.json").read_text())["status"] == "ok"
    metadata, rows = read_csv((tmp_path / "report.csv").read_text())
    assert metadata["model_config"]["kind"] == "custom" and [row["name"] for row in rows][:2] == [
        "Wx",
        "Wx[input]",
    ]
    assert "<table" in result.render("html") and result.render("md").startswith("#")


def test_check_takes_built_in_models_too():
    task = build_task("copy")
    model = build_model(task.model_config("gru", 3))
    batch = task.sample(2, 0)
    assert not rnnscope.check(model, batch.inputs, batch.targets, batch.mask).failed


def test_check_names_what_is_wrong_with_what_it_was_given():
    model, batch = _example("cs231n_lstm.py")
    with pytest.raises(
        TypeError, match=r"pass a model, not the class CS231nLSTM: e\.g\. CS231nLSTM\.build\("
    ):
        rnnscope.check(type(model), batch.inputs, batch.targets)
    with pytest.raises(ValueError, match="inputs have width 3, but the model expects input_size=67"):
        rnnscope.check(model, batch.inputs[..., :3], batch.targets)

    class Crashing(type(model)):
        def step_backward(self, dh_t, dstate, cache):
            raise ZeroDivisionError("a bug of mine")

    crashing = Crashing(model.config, model.params.copy())
    with pytest.raises(UserCodeError, match=r"your model raised ZeroDivisionError in step_backward") as info:
        rnnscope.check(crashing, batch.inputs, batch.targets)
    assert 'raise ZeroDivisionError("a bug of mine")' in str(info.value)


def _close_after(seen, inspect):
    """A timer that hands the open main window to ``inspect`` and closes it (show() then returns)."""

    def close():
        from rnnscope.app.window import MainWindow

        windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
        seen.append(inspect(windows[0]))
        windows[0].close()

    QTimer.singleShot(200, close)


def test_show_opens_the_window_on_a_users_model_and_returns_when_it_closes(qapp, tmp_path):
    model, batch = _example("cs231n_lstm.py", hidden=5)
    trace = model.forward(batch.inputs[:, 1:2], batch.targets[:, 1:2], batch.mask[:, 1:2]).trace
    seen = []

    def inspect(window):
        panel = window.panel("lstm/forget_gate")  # a panel from the declared probe's metadata alone
        return {
            "model": window.current_model(),
            "forget": panel.shown_values().copy(),
            "probes": [p.title for p in window.panels],
            "steps": window.steps,
        }

    _close_after(seen, inspect)
    settings = QSettings(str(tmp_path / "show.ini"), QSettings.Format.IniFormat)
    assert rnnscope.show(model, batch.inputs, batch.targets, batch.mask, row=1, settings=settings) is None
    (shown,) = seen
    assert shown["model"] is model and shown["steps"] == 6
    # what the heatmap draws is the forget gate of the sequence in row 1: units x time
    assert np.array_equal(shown["forget"], trace["lstm/forget_gate"].row(0).T)
    for name in ("lstm/input_gate", "lstm/output_gate", "lstm/candidate", "lstm/cell", "lstm/hidden"):
        assert name in shown["probes"]


def test_show_draws_a_sequence_of_a_task_for_a_built_in_model(qapp, tmp_path):
    task = build_task("copy")
    model = build_model(ModelConfig("rnn", task.input_size, 4, task.output_size, loss=task.loss))
    seen = []
    _close_after(seen, lambda window: (window.current_task() is task, window.current_model() is model))
    settings = QSettings(str(tmp_path / "show.ini"), QSettings.Format.IniFormat)
    rnnscope.show(model, task=task, settings=settings)
    assert seen == [(True, True)]


def test_show_refuses_a_broken_model_before_opening_a_window(qapp):
    model, batch = _example("cs231n_lstm.py")
    with pytest.raises(TypeError, match="needs the sequences"):
        rnnscope.show(model)
    with pytest.raises(ValueError, match="inputs must be time-major"):
        rnnscope.show(model, batch.inputs[0], batch.targets[0])
    assert not [w for w in QApplication.topLevelWidgets() if w.isVisible()]


def test_show_hands_garbage_collection_back_when_it_installed_the_collector(qapp, tmp_path):
    import gc

    from rnnscope.app.gui_gc import GuiThreadCollector

    before = qapp.findChild(GuiThreadCollector)
    task = build_task("copy")
    model = build_model(task.model_config("rnn", 3))
    _close_after([], lambda window: None)
    rnnscope.show(model, task=task, settings=QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    if before is None:  # show() collected on the GUI thread while its window was open, and only then
        assert gc.isenabled() and qapp.findChild(GuiThreadCollector) is None
    else:  # the app's own collector (a window opened before) is left as it was
        assert qapp.findChild(GuiThreadCollector) is before and before.timer.isActive()
