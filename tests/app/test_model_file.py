"""The user's own model in the window: opened from a .py (menu, drop, command line), watched, reloaded on
save with the last gradient check rerun, bad code shown while the last good model stays, checkpoints."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import QMimeData, QPointF, Qt, QUrl
from PyQt6.QtGui import QDragEnterEvent, QDropEvent

from rnnscope.app.main import open_window, parse_args
from rnnscope.app.training_worker import take_snapshot

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
BUG = "c_prev.T @ da_f"
FIX = "h_prev.T @ da_f"
SMALL_ARGS = ["--hidden", "6", "--task", "chars"]


@pytest.fixture
def buggy(tmp_path) -> Path:
    """A copy of examples/buggy_lstm.py the test can edit."""
    path = tmp_path / "my_lstm.py"
    shutil.copy(EXAMPLES / "buggy_lstm.py", path)
    return path


@pytest.fixture
def app_window(settings, qtbot):
    """``app_window(*argv)``: the window as ``rnnscope ARGV`` opens it (tools installed, no pop-ups)."""
    made = []

    def make(*argv):
        opened = open_window(parse_args([*argv, "--seed", "1"]), settings=settings)
        qtbot.addWidget(opened.window)
        opened.model_files.dialogs = opened.checkpoints.dialogs = False
        if opened.tools is not None:  # trained weights are discarded on close, never asked about
            opened.tools.unsaved.ask = lambda what: "discard"
        made.append(opened)
        return opened

    yield make
    for opened in made:
        opened.window.wait_for_workers()
        if opened.tools is not None:
            opened.tools.gradcheck.shutdown()
            opened.tools.training.shutdown()


def write(path: Path, text: str) -> None:
    """Save as an editor that writes the file in place does."""
    path.write_text(text, encoding="utf-8")


def replace_on_save(path: Path, text: str) -> None:
    """Save as an editor that writes a new file and renames it over the old one does (vim, IDEs)."""
    temporary = path.with_name(path.name + ".swp~")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def run_check(qtbot, panel):
    with qtbot.waitSignal(panel.check_finished, timeout=20_000) as finished:
        panel.run_check()
    return finished.args[0]


def test_the_command_line_opens_a_users_model_with_panels_for_its_probes(app_window):
    opened = app_window("--model-file", str(EXAMPLES / "cs231n_lstm.py"), *SMALL_ARGS)
    window = opened.window
    assert window.controls.model_box.currentText() == "CS231nLSTM"
    assert window.current_model().kind == "custom" and window.current_model().config.hidden_size == 6
    declared = {probe.name for probe in type(window.current_model()).PROBES}
    titles = {slot.title for slot in window.docks.slots()}
    assert declared <= titles  # every declared probe has a panel, with no view code
    assert opened.model_files.watch.paths  # the file and its folder are watched


def test_a_save_reloads_retraces_and_rechecks_keeping_cursor_layout_and_row(app_window, buggy, qtbot):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    window, panel, files = opened.window, opened.tools.gradcheck, opened.model_files
    first = run_check(qtbot, panel)
    assert [row.name for row in first.all_rows() if row.failed] == ["Wh", "Wh[forget]"]
    panel.select_row("Wh[output]")
    window.set_step(7)
    old_session, old_panel = window.session, window.panel("lstm/forget_gate")
    with qtbot.waitSignal(files.reloaded, timeout=10_000) as reloaded:
        write(buggy, buggy.read_text(encoding="utf-8").replace(BUG, FIX))
    status = reloaded.args[0]
    assert status.startswith("my_lstm.py reloaded: ") and "Wh: fail -> ok" in status
    assert "Wh[forget]: fail -> ok" in status
    assert not any(row.failed for row in panel.result.all_rows())
    # the trace is new (the same weights, the new backward), the view is where it was
    assert window.session is not old_session and not window.panels_rebuilt
    assert window.panel("lstm/forget_gate") is old_panel and window.step == 7
    np.testing.assert_array_equal(window.current_model().params["Wh"], old_session.model.params["Wh"])
    assert panel.table.currentIndex().data(Qt.ItemDataRole.DisplayRole) == "Wh[output]"
    assert status in window.statusBar().currentMessage()


def test_an_editor_that_replaces_the_file_and_a_neighbour_module_are_watched(app_window, tmp_path, qtbot):
    (tmp_path / "gates.py").write_text("import numpy as np\nSCALE = 1.0\n", encoding="utf-8")
    source = (EXAMPLES / "cs231n_lstm.py").read_text(encoding="utf-8")
    model = tmp_path / "mine.py"
    model.write_text(source.replace("import numpy as np\n", "import numpy as np\nimport gates\n", 1))
    opened = app_window("--model-file", str(model), *SMALL_ARGS)
    files = opened.model_files
    assert str(tmp_path / "gates.py") in files.session.watched_files
    shown = opened.window.session
    with qtbot.waitSignal(files.reloaded, timeout=10_000):
        replace_on_save(model, model.read_text(encoding="utf-8") + "\n# edited\n")
    assert opened.window.session is not shown and str(model) in files.watch.paths
    shown = opened.window.session
    with qtbot.waitSignal(files.reloaded, timeout=10_000):
        (tmp_path / "gates.py").write_text("import numpy as np\nSCALE = 2.0\n", encoding="utf-8")
    assert opened.window.session is not shown


def test_a_syntax_error_is_shown_and_the_last_good_model_stays_until_fixed(app_window, buggy, qtbot):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    window, files = opened.window, opened.model_files
    good_text, good_session = buggy.read_text(encoding="utf-8"), window.session
    with qtbot.waitSignal(files.message, timeout=10_000):
        write(
            buggy, good_text.replace("def step_forward(self, x_t, state, params):", "def step_forward(self,")
        )
    assert "cannot be used (the last good model stays)" in files.last_error
    assert "my_lstm.py" in files.last_error and "line" in files.last_error
    assert window.session is good_session and "cannot be used" in window.message
    assert "SyntaxError" in window.message  # the exception is in the line over the panels too
    with qtbot.waitSignal(files.reloaded, timeout=10_000):
        write(buggy, good_text.replace(BUG, FIX))
    assert window.session is not good_session and window.current_model().kind == "custom"


def test_an_exception_in_the_users_forward_shows_their_own_traceback(app_window, buggy, qtbot):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    window, files = opened.window, opened.model_files
    good_session = window.session
    broken = buggy.read_text(encoding="utf-8").replace(
        "c = f * c_prev + i * g", "c = f * c_prev + i * g / 0.0 + {}[1]"
    )
    with qtbot.waitSignal(window.session_failed, timeout=10_000):
        write(buggy, broken)
    error = files.last_error
    assert "tracing its model failed (the last good model stays)" in error
    assert "Traceback (your code only)" in error and "my_lstm.py" in error and "step_forward" in error
    assert "KeyError" in error and "rnnscope/engine" not in error  # the user's frames only
    assert window.session is good_session


def test_a_value_of_the_wrong_shape_is_named(app_window, buggy, qtbot):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    window, files = opened.window, opened.model_files
    wrong = buggy.read_text(encoding="utf-8").replace("return h, {", "return h[:, :-1], {", 1)
    with qtbot.waitSignal(window.session_failed, timeout=10_000):
        write(buggy, wrong)
    assert "h_t" in files.last_error and "expected" in files.last_error and "shape" in files.last_error


def test_an_exception_in_the_users_backward_fails_the_rerun_check_by_name(app_window, buggy, qtbot):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    panel, files = opened.tools.gradcheck, opened.model_files
    run_check(qtbot, panel)
    broken = buggy.read_text(encoding="utf-8").replace(
        "dc_prev = dc * f", "dc_prev = dc * f * undefined_name"
    )
    with qtbot.waitSignal(files.reloaded, timeout=20_000):
        write(buggy, broken)
    assert "NameError" in files.last_error and "step_backward" in files.last_error
    assert opened.window.current_model().kind == "custom"


def test_open_model_file_asks_for_the_class_when_a_file_has_several(app_window, tmp_path, retrace):
    opened = app_window(*SMALL_ARGS)
    two = tmp_path / "two.py"
    text = (EXAMPLES / "cs231n_lstm.py").read_text(encoding="utf-8")
    two.write_text(text + "\n\nclass Second(CS231nLSTM):\n    pass\n", encoding="utf-8")
    asked = []
    opened.model_files.choose_class = lambda path, classes: asked.append(classes) or "Second"
    retrace(opened.window, lambda: opened.model_files.open_model_file(str(two)))
    assert asked == [("CS231nLSTM", "Second")]
    assert opened.window.controls.model_box.currentText() == "Second"


def test_a_missing_file_or_class_is_a_message_and_the_window_keeps_its_model(app_window, tmp_path):
    opened = app_window(*SMALL_ARGS)
    shown = opened.window.current_model()
    files = opened.model_files
    assert files.open_model_file(str(tmp_path / "nothing.py"), background=False) is False
    assert "no such file" in files.last_error
    files.choose_class = lambda path, classes: None  # the user cancels the picker
    assert files.open_model_file(f"{EXAMPLES / 'cs231n_lstm.py'}:Nope", background=False) is False
    assert "there is no class 'Nope'" in files.last_error and "CS231nLSTM" in files.last_error
    assert opened.window.current_model() is shown and opened.window.controls.model_box.currentText() == "lstm"


def test_a_dropped_py_file_opens_its_model(app_window, qtbot):
    opened = app_window(*SMALL_ARGS)
    window = opened.window
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(EXAMPLES / "d2l_gru.py"))])
    point, copy, modifiers = QPointF(50, 50), Qt.DropAction.CopyAction, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(point.toPoint(), copy, data, Qt.MouseButton.NoButton, modifiers)
    # (the window's filters are called as Qt would: a real drag needs a window manager)
    assert opened.model_files.eventFilter(window, enter) and enter.isAccepted()
    assert not opened.checkpoints.eventFilter(window, enter)  # not a checkpoint
    drop = QDropEvent(point, copy, data, Qt.MouseButton.NoButton, modifiers)
    with qtbot.waitSignal(window.trace_done, timeout=10_000):
        assert opened.model_files.eventFilter(window, drop)
    window.wait_for_workers()
    assert window.current_model().kind == "custom" and window.controls.model_box.currentText() == "D2LGRU"


def test_the_bar_rebuilds_a_users_model_and_training_copies_its_class(app_window, retrace):
    opened = app_window("--model-file", str(EXAMPLES / "min_char_rnn.py"), *SMALL_ARGS)
    window = opened.window
    window.controls.hidden_box.setValue(5)
    retrace(window, window.controls.hidden_box.editingFinished.emit)
    model = window.current_model()
    assert type(model).__name__ == "MinCharRNN" and model.config.hidden_size == 5

    class Trainer:  # what take_snapshot reads of a trainer
        iteration = 3

    Trainer.model = model
    snapshot = take_snapshot(Trainer())
    rebuilt = snapshot.build()
    assert type(rebuilt) is type(model) and rebuilt.params["Whh"] is not model.params["Whh"]
    np.testing.assert_array_equal(rebuilt.params["Whh"], model.params["Whh"])


def test_a_checkpoint_of_a_users_model_opens_asks_for_a_moved_file_and_warns_of_a_change(
    app_window, buggy, tmp_path
):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    checkpoints = opened.checkpoints
    saved = tmp_path / "mine.npz"
    assert checkpoints.save_to(str(saved)) is True
    weights = opened.window.current_model().params["Wh"].copy()
    again = app_window(str(saved))
    assert again.window.controls.model_box.currentText() == "BuggyLSTM"
    np.testing.assert_array_equal(again.window.current_model().params["Wh"], weights)
    assert again.model_files.session is not None and str(buggy) in again.model_files.watch.paths
    # the file moved: the user is asked where it is; it changed since the save: a warning
    moved = tmp_path / "elsewhere" / "renamed.py"
    moved.parent.mkdir()
    shutil.move(buggy, moved)
    moved.write_text(moved.read_text(encoding="utf-8").replace(BUG, FIX), encoding="utf-8")
    third = app_window(*SMALL_ARGS)
    asked = []
    third.model_files.locate_source = lambda source: asked.append(source.class_name) or str(moved)
    assert third.checkpoints.open_path(str(saved), background=False) is True
    assert (
        asked == ["BuggyLSTM"]
        and "has changed since the checkpoint was saved" in third.checkpoints.last_warning
    )
    # not found and not pointed at: a message, the window keeps its model
    fourth = app_window(*SMALL_ARGS)
    fourth.model_files.locate_source = lambda source: None
    shutil.move(moved, tmp_path / "gone.py")
    shown = fourth.window.current_model()
    assert fourth.checkpoints.open_path(str(saved), background=False) is False
    assert (
        "BuggyLSTM was defined in" in fourth.checkpoints.last_error and fourth.window.current_model() is shown
    )


def test_rnnscope_with_model_file_and_checkpoint_takes_the_class_of_the_file_given(
    app_window, buggy, tmp_path
):
    opened = app_window("--model-file", str(buggy), *SMALL_ARGS)
    saved = tmp_path / "mine.npz"
    opened.checkpoints.save_to(str(saved))
    copy = tmp_path / "copy_of_mine.py"
    shutil.copy(buggy, copy)
    again = app_window("--model-file", f"{copy}:BuggyLSTM", str(saved))
    assert again.model_files.session.path == str(copy)
    assert again.window.controls.model_box.currentText() == "BuggyLSTM"


def test_a_live_model_of_a_users_class_shown_from_a_script_is_listed_and_rebuilt(make_window, retrace):
    from rnnscope.app.session import spec_for_model, trace_session
    from rnnscope.engine.protocol import load_model_file

    window = make_window(task="chars")
    task = window.current_task()
    model_class = load_model_file(EXAMPLES / "d2l_gru.py").model_class
    model = model_class(task.model_config("custom", 5))
    session = trace_session(model, task, window.current_batch())
    session.spec = spec_for_model(window.spec, model.config, task)  # as rnnscope.show does
    window.set_session(session)
    assert window.controls.model_box.currentText() == "D2LGRU"
    window.controls.seed_box.setValue(4)
    retrace(window, window.controls.seed_box.editingFinished.emit)
    assert type(window.current_model()) is model_class and window.current_model().config.seed == 4


def test_the_training_panel_trains_a_users_model_and_shows_its_weights_in_its_class(app_window, qtbot):
    opened = app_window("--model-file", str(EXAMPLES / "cs231n_lstm.py"), *SMALL_ARGS)
    window, training = opened.window, opened.tools.training
    shown_class = type(window.current_model())
    with qtbot.waitSignal(window.trace_done, timeout=20_000):  # one iteration, then its weights shown
        training.step_button.click()
    window.wait_for_workers()
    assert training.trainer.iteration == 1 and type(training.trainer.model) is shown_class
    assert type(window.current_model()) is shown_class
    assert window.current_model() is not training.trainer.model
    np.testing.assert_array_equal(window.current_model().params["Wh"], training.trainer.model.params["Wh"])
    assert window.controls.model_box.currentText() == "CS231nLSTM"


def test_opening_a_model_whose_forward_raises_keeps_the_shown_model_and_its_picks(app_window, buggy):
    opened = app_window(*SMALL_ARGS)
    window, files = opened.window, opened.model_files
    shown = window.current_model()
    text = buggy.read_text(encoding="utf-8")
    buggy.write_text(text.replace("h = o * tanh_c", "h = o * tanh_c * missing"), encoding="utf-8")
    files.open_model_file(str(buggy), background=False)
    assert "Your model cannot be traced" in files.last_error and "NameError" in files.last_error
    assert "NameError" in window.message  # over the panels, not cleared by the open's own status
    assert window.current_model() is shown and window.controls.model_box.currentText() == "lstm"
    assert window.spec.model == "lstm"
