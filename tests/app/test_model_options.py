"""Every shared model option in the window: the command line, the model bar, the Options… dialog,
the remembered settings, and a model shown from elsewhere keeping its options."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QDialogButtonBox

from rnnscope.app.main import build_parser, build_window, parse_args
from rnnscope.app.session import SessionSpec, build_session, build_task_for, options_problem, spec_for_model
from rnnscope.app.window.controls import ModelControls
from rnnscope.app.window.model_options import CONVENTIONS
from rnnscope.app.window.remembered import SPEC_SETTINGS, load_spec, save_spec
from rnnscope.engine import limits
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.options import GRU_CONVENTIONS


def test_the_command_line_reaches_the_window_with_every_option(settings, qtbot):
    argv = ["--model", "gru", "--layers", "2", "--gru-convention", "pytorch", "--embedding", "5"]
    argv += ["--hidden", "6", "--dtype", "float32", "--task", "sine", "--loss", "mse", "--many-to-one"]
    window = build_window(parse_args(argv), settings=settings, training_tools=False)
    qtbot.addWidget(window)
    config = window.current_model().config
    assert (config.kind, config.num_layers, config.reset_after, config.embedding_size) == ("gru", 2, True, 5)
    assert (config.dtype, config.loss, config.many_to_one, config.hidden_size) == ("float32", "mse", True, 6)
    # the panels of both layers are there, grouped by layer
    assert {"gru · layer 0", "gru · layer 1"} <= set(window.group_docks)
    assert window.controls.layers_box.value() == 2 and window.controls.options_button.text() == "Options (5)…"


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--gru-convention", "pytorch"], "--gru-convention applies to --model gru only, not lstm"),
        (["--model", "dnc", "--layers", "2"], "--layers applies to --model rnn/lstm/gru only, not dnc"),
        (["--model", "gru", "--forget-bias", "2"], "--forget-bias applies to --model lstm and dnc only"),
        (["--loss", "mse"], "--loss mse does not fit the chars task's targets"),
        (
            ["--task", "copy", "--loss", "softmax_ce"],
            "--loss softmax_ce does not fit the copy task's targets",
        ),
        (["--layers", "9"], "layers (stacked recurrent layers L) must be from 1 to 8"),
        (["--embedding", "-1"], "embedding"),
    ],
)
def test_options_that_do_not_go_together_are_the_commands_usage_errors(argv, error, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse_args(argv)
    assert exit_.value.code == 2 and error in capsys.readouterr().err


def test_the_spec_builds_the_model_the_commands_build():
    spec = SessionSpec(model="lstm", hidden=5, length=8, layers=3, embedding=4, forget_bias=2.5)
    config = build_session(spec).model.config
    assert (config.num_layers, config.embedding_size, config.forget_bias) == (3, 4, 2.5)
    # options a kind does not have are kept in the spec but not given to that kind
    gru = build_session(SessionSpec(model="gru", hidden=3, length=5, forget_bias=3.0, layers=2)).model.config
    assert gru.forget_bias == 1.0 and gru.num_layers == 2
    dnc = SessionSpec(model="dnc", hidden=3, length=5, slots=3, width=2, read_heads=1, layers=2)
    assert build_session(dnc).model.config.num_layers == 1
    chars = build_task_for(SessionSpec())
    assert "--loss mse does not fit" in options_problem(SessionSpec(loss="mse"), chars)
    assert options_problem(SessionSpec(loss="softmax_ce", many_to_one=True), chars) is None


def test_the_app_default_dnc_memory_is_the_commands():
    parser_defaults = build_parser().parse_args([])
    assert parser_defaults.slots is None  # "not given": the shared default applies
    config = build_model(build_task("copy").model_config("dnc", 4)).config
    spec = SessionSpec()
    assert (spec.slots, spec.width, spec.read_heads) == (
        config.memory_slots,
        config.memory_width,
        config.read_heads,
    )


def test_a_model_shown_from_elsewhere_keeps_its_layers_embedding_and_convention():
    task = build_task("chars", corpus="lighthouse")
    imported = build_model(
        task.model_config("gru", 7, num_layers=2, embedding_size=3, reset_after=True, dtype="float32")
    )
    spec = spec_for_model(SessionSpec(), imported.config, task)
    assert (spec.model, spec.hidden, spec.layers, spec.embedding) == ("gru", 7, 2, 3)
    assert (spec.gru_convention, spec.dtype, spec.loss, spec.many_to_one) == (
        "pytorch",
        "float32",
        None,
        None,
    )
    # rebuilt from the spec (another seed, say), it is the same architecture
    rebuilt = build_session(spec).model.config
    assert (rebuilt.num_layers, rebuilt.embedding_size, rebuilt.reset_after) == (2, 3, True)
    scored_last = build_model(task.model_config("lstm", 4, many_to_one=True))
    assert spec_for_model(SessionSpec(), scored_last.config, task).many_to_one is True


def test_every_option_is_remembered_and_a_bad_value_keeps_its_default(tmp_path):
    path = str(tmp_path / "s.ini")
    settings = QSettings(path, QSettings.Format.IniFormat)
    chosen = SessionSpec(
        model="gru", layers=3, embedding=8, loss="mse", many_to_one=True, forget_bias=-2.5, dtype="float32"
    )
    save_spec(settings, chosen)
    settings.sync()
    assert load_spec(QSettings(path, QSettings.Format.IniFormat)) == chosen
    for key, bad in (
        ("layers", "99"),
        ("dtype", "float16"),
        ("many_to_one", "perhaps"),
        ("forget_bias", "nan"),
    ):
        settings.setValue(f"session/{key}", bad)
    settings.sync()
    again = load_spec(QSettings(path, QSettings.Format.IniFormat))
    assert (again.layers, again.dtype, again.many_to_one, again.forget_bias) == (1, "float64", None, 1.0)
    # a model of the user's own is never reopened on the settings' word
    save_spec(settings, SessionSpec(model="custom", model_file="/tmp/mine.py:Mine"))
    assert load_spec(settings).model == "lstm" and load_spec(settings).model_file is None
    assert set(SPEC_SETTINGS) | {"model_file"} == set(vars(SessionSpec()))


def test_the_bar_has_the_command_lines_bounds(qtbot):
    controls = ModelControls(SessionSpec())
    qtbot.addWidget(controls)
    for box, limit in (
        (controls.hidden_box, limits.HIDDEN),
        (controls.layers_box, limits.LAYERS),
        (controls.seed_box, limits.SEED),
        (controls.slots_box, limits.SLOTS),
        (controls.width_box, limits.WIDTH),
        (controls.heads_box, limits.READ_HEADS),
        (controls.length_box, limits.LENGTH),
    ):
        assert (box.minimum(), box.maximum()) == (limit.low, limit.high)
    assert set(CONVENTIONS) == set(GRU_CONVENTIONS)


def test_layers_in_the_bar_retrace_and_group_the_panels(make_window, retrace):
    window = make_window(model="lstm")
    assert "lstm" in window.group_docks and window.controls.layers_box.isEnabled()
    window.controls.layers_box.setValue(2)
    retrace(window, window.controls.layers_box.editingFinished.emit)
    assert window.current_model().config.num_layers == 2
    assert {"lstm · layer 0", "lstm · layer 1"} <= set(window.group_docks)
    window.controls.model_box.setCurrentText("dnc")  # a DNC has one layer: the box is greyed
    assert not window.controls.layers_box.isEnabled()


def test_the_options_dialog_shows_the_commands_error_and_keeps_the_model(make_window, retrace, qtbot):
    window = make_window(model="lstm", task="chars")
    shown = window.current_model()
    window.controls.options_button.click()
    dialog = window.controls.options_dialog
    assert dialog is not None and dialog.isVisible()
    assert dialog.forget_bias_box.isEnabled() and not dialog.convention_box.isEnabled()
    dialog.loss_box.setCurrentText("mse")
    dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click()
    assert dialog.isVisible() and not dialog.problem.isHidden()
    assert "--loss mse does not fit the chars task's targets" in dialog.problem.text()
    assert window.current_model() is shown
    dialog.loss_box.setCurrentIndex(0)  # the task's
    dialog.embedding_box.setValue(4)
    dialog.forget_bias_box.setValue(3.0)
    retrace(window, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click)
    assert not dialog.isVisible()
    config = window.current_model().config
    assert (config.embedding_size, config.forget_bias, config.loss) == (4, 3.0, "softmax_ce")
    assert window.controls.options_button.text() == "Options (2)…"
    assert "--embedding 4" in window.controls.options_button.toolTip()
    assert window.session.trace["embedding/vector"].data.shape[2] == 4
    # Restore defaults, then OK: the plain model again
    window.controls.options_button.click()
    dialog = window.controls.options_dialog
    dialog.buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).click()
    retrace(window, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click)
    assert (
        window.current_model().config.embedding_size == 0
        and window.controls.options_button.text() == "Options…"
    )


def test_options_given_with_a_checkpoint_that_disagree_are_said(settings, qtbot, tmp_path):
    from rnnscope.engine.checkpoint import save_checkpoint

    task = build_task("sine")
    path = tmp_path / "gru.npz"
    save_checkpoint(path, build_model(task.model_config("gru", 6, num_layers=2)), task=task)
    window = build_window(parse_args(["--hidden", "9", str(path)]), settings=settings, training_tools=False)
    qtbot.addWidget(window)
    assert window.current_model().config.hidden_size == 6 and window.controls.layers_box.value() == 2
    assert "--hidden 9 does not match the saved model's hidden_size=6" in window.message
