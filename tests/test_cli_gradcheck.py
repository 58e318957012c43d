"""``rnnscope gradcheck`` run in-process through ``rnnscope.cli.main``."""

import json
import re

import pytest

from rnnscope.cli import main

FAST = ["--model", "rnn", "--hidden", "4", "--batch", "2", "--length", "5"]


def table_statuses(out: str) -> dict[str, str]:
    """``{row name: status}`` of the terminal table in ``out``, read by the columns that its
    dashed line under the header marks out (gate sub-rows keep their names, unindented)."""
    lines = out.splitlines()
    dashes = next(k for k, line in enumerate(lines) if line.startswith("---"))
    spans = [(m.start(), m.end()) for m in re.finditer(r"-+", lines[dashes])]
    header = [lines[dashes - 1][a:b].strip() for a, b in spans]
    status_column, name_column = header.index("Status"), header.index("Parameter")
    rows = {}
    for line in lines[dashes + 1 :]:
        if not line.strip():
            break
        cells = [line[a:b].strip() for a, b in spans]
        rows[cells[name_column]] = cells[status_column]
    return rows


def test_sampled_check_prints_a_plain_table_and_writes_html(tmp_path, capsys):
    path = tmp_path / "report.html"
    code = main(["gradcheck", *FAST, "--task", "chars", "--format", "html", "-o", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "\033[" not in out  # not a terminal: no colours
    rows = ("Wx", "Wh", "b", "Wy", "by", "inputs", "state.h")
    assert table_statuses(out) == {name: "ok" for name in rows}
    assert "report written to" in out
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_a_stack_gets_a_row_and_gate_sub_rows_per_layer(capsys):
    code = main(
        ["gradcheck", "--model", "lstm", "--layers", "2", "--hidden", "4", "--length", "5", "--mode", "full"]
    )
    rows = table_statuses(capsys.readouterr().out)
    assert code == 0
    for layer in ("l0", "l1"):
        assert rows[f"{layer}.Wh"] == "ok" and rows[f"{layer}.Wx[forget]"] == "ok"
    assert "Wh" not in rows and rows["Wy"] == "ok"


def test_a_failing_row_exits_1(capsys, monkeypatch):
    """A backward pass wrong by 1e-6 of its recurrent-weight gradient fails that row: exit status 1."""
    from rnnscope.engine.models.rnn import RNN

    correct = RNN.backward_core

    def slightly_wrong(self, *args, **kwargs):
        grads, *rest = correct(self, *args, **kwargs)
        grads["Wh"] = grads["Wh"] * (1 + 1e-6)
        return (grads, *rest)

    monkeypatch.setattr(RNN, "backward_core", slightly_wrong)
    code = main(["gradcheck", *FAST, "--task", "sine"])
    assert code == 1
    out = capsys.readouterr().out
    statuses = table_statuses(out)
    assert "FAIL" in out and statuses["Wh"] == "fail"
    assert {name for name, status in statuses.items() if status == "fail"} == {"Wh"}


def test_no_inputs_skips_the_input_and_state_rows(capsys):
    assert main(["gradcheck", *FAST, "--task", "copy", "--no-inputs"]) == 0
    assert set(table_statuses(capsys.readouterr().out)) == {"Wx", "Wh", "b", "Wy", "by"}


@pytest.mark.parametrize("fmt", ["json", "csv", "md"])
def test_format_without_output_prints_the_report(fmt, capsys):
    assert main(["gradcheck", *FAST, "--task", "copy", "--mode", "directional", "--format", fmt]) == 0
    out = capsys.readouterr().out
    if fmt == "json":
        assert json.loads(out)["mode"] == "directional"
    elif fmt == "csv":
        assert '# mode: "directional"' in out and "name,parameter,gate" in out
    else:
        assert out.startswith("### Gradient check")


def test_full_mode_with_progress_bar_on_stderr(capsys):
    assert main(["gradcheck", *FAST, "--task", "recall", "--mode", "full", "--progress", "always"]) == 0
    err = capsys.readouterr().err
    assert "100%" in err and "[###" in err


def test_colour_can_be_forced(capsys):
    main(["gradcheck", *FAST, "--task", "copy", "--colour", "always"])
    assert "\033[32m" in capsys.readouterr().out


def test_quiet_prints_nothing(capsys):
    assert main(["gradcheck", *FAST, "--task", "copy", "--quiet"]) == 0
    assert capsys.readouterr().out == ""


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--slots", "4"], "--model dnc only"),
        (["--ok", "1e-3", "--fail", "1e-5"], "must not exceed"),
        (["-o", "/nonexistent-dir/report.html"], "nonexistent-dir"),
        (["-o", "report.xyz"], "extension"),
        (["--checkpoint", "/nonexistent/model.npz"], "does not exist"),
        (["--parameters", "Wq"], "no parameter 'Wq'"),
        (["--corpus", "lighthouse", "--task", "copy"], "--corpus"),
    ],
)
def test_usage_errors_exit_2_with_a_message(argv, message, capsys):
    assert main(["gradcheck", *FAST, *argv]) == 2
    assert message in capsys.readouterr().err


def test_argument_errors_exit_2():
    with pytest.raises(SystemExit) as info:
        main(["gradcheck", "--model", "transformer"])
    assert info.value.code == 2
    with pytest.raises(SystemExit) as info:
        main(["gradcheck", "--hidden", "0"])
    assert info.value.code == 2


def test_help_documents_every_option(capsys):
    with pytest.raises(SystemExit) as info:
        main(["gradcheck", "--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for option in (
        "--model",
        "--task",
        "--hidden",
        "--slots",
        "--width",
        "--read-heads",
        "--batch",
        "--length",
        "--seed",
        "--checkpoint",
        "--mode",
        "--no-inputs",
        "--samples",
        "--directions",
        "--step",
        "--ok",
        "--fail",
        "--floor",
        "--kink",
        "--format",
        "--output",
        "--progress",
        "Exit status",
    ):
        assert option in text, option


@pytest.mark.parametrize("kind", ["lstm", "gru", "dnc"])
def test_every_model_kind_passes(kind, capsys):
    extra = ["--slots", "3", "--width", "2", "--read-heads", "1"] if kind == "dnc" else []
    argv = ["--model", kind, "--hidden", "3", "--batch", "1", "--length", "4", "--task", "copy"]
    code = main(["gradcheck", *argv, "--samples", "3", *extra])
    out = capsys.readouterr().out
    assert "gradient check of " + kind in out
    # every model's backward pass is right: exit 0, and no row or gate sub-row fails or warns
    assert code == 0
    statuses = table_statuses(out)
    assert {"Wy", "by"} <= set(statuses)
    assert set(statuses.values()) <= {"ok", "too small", "kink"}, statuses


def test_checkpoint_model_and_task_are_used(tmp_path, capsys):
    from rnnscope.engine.checkpoint import save_checkpoint
    from rnnscope.engine.models import build_model
    from rnnscope.engine.tasks import build_task

    task = build_task("copy")
    model = build_model(task.model_config("rnn", 3, seed=7))
    path = tmp_path / "model.npz"
    save_checkpoint(path, model, task=task)
    assert main(["gradcheck", "--checkpoint", str(path), "--length", "4", "--batch", "1"]) == 0
    out = capsys.readouterr().out
    # the checkpoint's model (H=3, not the default 16) on the checkpoint's task (copy, not chars)
    assert f"rnn D={task.input_size} H=3 O={task.output_size} loss=sigmoid_bce" in out
    # a task whose sizes do not fit the checkpoint's model is a usage error
    assert main(["gradcheck", "--checkpoint", str(path), "--task", "sine"]) == 2
    assert "needs D=" in capsys.readouterr().err
    (tmp_path / "broken.npz").write_bytes(b"not a checkpoint")
    assert main(["gradcheck", "--checkpoint", str(tmp_path / "broken.npz")]) == 2
    assert "cannot load checkpoint" in capsys.readouterr().err


def test_a_negligible_row_gets_a_note_with_its_number_and_a_setting_where_it_is_not(capsys):
    # a many-to-one RNN over 41 steps: the gradient reaching h_0 vanishes below the allowance
    assert main(["gradcheck", "--model", "rnn", "--task", "sentiment", "--hidden", "16", "--seed", "0"]) == 0
    out = capsys.readouterr().out
    assert table_statuses(out)["state.h"] == "too small"
    assert re.search(r"note: state\.h: negligible for this loss: its largest \|gradient\| \S+ is below", out)
    (line,) = [line for line in out.splitlines() if line.startswith("suggestion:")]
    option = re.match(r"suggestion: try (--\S+ \S+):", line).group(1)
    # the suggested setting does judge the row
    again = ["gradcheck", "--model", "rnn", "--task", "sentiment", "--hidden", "16", "--seed", "0"]
    assert main([*again, *option.split()]) == 0
    out = capsys.readouterr().out
    assert table_statuses(out)["state.h"] == "ok" and "suggestion:" not in out


def test_a_float32_checkpoint_is_checked_as_a_float64_copy_with_a_note(tmp_path, capsys):
    from rnnscope.engine.checkpoint import save_checkpoint
    from rnnscope.engine.models import build_model
    from rnnscope.engine.tasks import build_task

    task = build_task("copy")
    model = build_model(task.model_config("lstm", 3, seed=2, dtype="float32"))
    path = tmp_path / "float32.npz"
    save_checkpoint(path, model, task=task)
    assert main(["gradcheck", "--checkpoint", str(path), "--length", "3"]) == 0
    out = capsys.readouterr().out
    assert "note: the model is float32: a float64 copy of it was checked" in out


def _options(**given):
    """The parsed options of ``rnnscope gradcheck``, with ``given`` set as the shared model options
    would set them."""
    import argparse

    from rnnscope.commands.gradcheck import add_arguments

    parser = argparse.ArgumentParser()
    add_arguments(parser)
    args = parser.parse_args(
        [
            "--model",
            given.pop("model", "rnn"),
            "--task",
            given.pop("task", "chars"),
            "--hidden",
            "3",
            "--length",
            "4",
        ]
    )
    for key, value in given.items():
        setattr(args, key, value)
    return args


@pytest.mark.parametrize(
    "given, expected",
    [
        ({"loss": "mse", "task": "copy"}, {"loss": "mse"}),
        (
            {"loss": "sigmoid_bce", "many_to_one": True, "task": "copy"},
            {"loss": "sigmoid_bce", "many_to_one": True},
        ),
        ({"model": "gru", "gru_convention": "pytorch"}, {"reset_after": True}),
        ({"model": "lstm", "forget_bias": 2.5, "dtype": "float32"}, {"forget_bias": 2.5, "dtype": "float32"}),
        ({"model": "dnc", "slots": 3, "width": 2, "read_heads": 1}, {"memory_slots": 3, "read_heads": 1}),
    ],
)
def test_every_model_option_reaches_the_check(given, expected):
    """The model options the shared option set gives (loss head, many-to-one, GRU convention,
    forget bias, dtype, DNC memory) build the model checked (on a task whose targets its head reads)."""
    from rnnscope.commands.gradcheck_setup import build
    from rnnscope.engine.gradcheck import check_gradients

    model, batch = build(_options(**given))
    for field, value in expected.items():
        assert getattr(model.config, field) == value
    result = check_gradients(model, batch.inputs, batch.targets, batch.mask, mode="sampled", samples=2)
    assert not result.failed and result.upcast == (model.config.dtype == "float32")
    if model.config.many_to_one:
        assert result.model_config["many_to_one"]


def test_targets_follow_the_models_head_when_it_is_not_the_tasks():
    from rnnscope.commands.gradcheck_setup import batch_for_head
    from rnnscope.engine.tasks import build_task

    chars = build_task("chars").sample(2, 0, length=5)
    one_hot = batch_for_head(chars, "softmax_ce", "mse", chars.inputs.shape[-1])
    assert one_hot.targets.shape == (5, 2, chars.inputs.shape[-1])
    assert (one_hot.targets.argmax(axis=-1) == chars.targets).all() and one_hot.targets.sum() == 10
    bits = build_task("copy").sample(2, 0)
    classes = batch_for_head(bits, "sigmoid_bce", "softmax_ce", 6)
    assert classes.targets.dtype.kind == "i" and classes.targets.shape == bits.targets.shape[:2]
    assert batch_for_head(bits, "sigmoid_bce", "mse", 6) is bits
