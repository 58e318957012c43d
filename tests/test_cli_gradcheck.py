"""``rnnscope gradcheck`` run in-process through ``rnnscope.cli.main``."""

import json

import pytest

from rnnscope.cli import main

FAST = ["--model", "rnn", "--hidden", "4", "--batch", "2", "--length", "5"]


def test_sampled_check_prints_a_plain_table_and_writes_html(tmp_path, capsys):
    path = tmp_path / "report.html"
    code = main(["gradcheck", *FAST, "--task", "chars", "--format", "html", "-o", str(path)])
    out = capsys.readouterr().out
    assert code == 0
    assert "\033[" not in out  # not a terminal: no colours
    for name in ("Wx", "Wh", "b", "Wy", "by"):
        assert f"\n{'ok':<8}{name}" in out or f" {name} " in out
    assert "report written to" in out
    assert path.read_text().startswith("<!DOCTYPE html>")


def test_a_failing_row_exits_1(capsys):
    # a huge step makes the central differences wrong, which the table must show as failures
    code = main(["gradcheck", *FAST, "--task", "sine", "--step", "0.5", "--absolute-step"])
    assert code == 1
    assert "FAIL" in capsys.readouterr().out


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
        "--upcast",
        "--mode",
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
def test_every_model_kind_runs(kind, capsys):
    extra = ["--slots", "3", "--width", "2", "--read-heads", "1"] if kind == "dnc" else []
    code = main(
        [
            "gradcheck",
            "--model",
            kind,
            "--hidden",
            "3",
            "--batch",
            "1",
            "--length",
            "4",
            "--task",
            "copy",
            "--samples",
            "3",
            *extra,
        ]
    )
    assert code in (0, 1)
    assert "gradient check of " + kind in capsys.readouterr().out


def test_checkpoint_model_and_task_are_used(monkeypatch, tmp_path, capsys):
    """With a stand-in ``load_checkpoint`` (the real one lives in rnnscope.engine.checkpoint)."""
    import sys
    import types

    from rnnscope.engine.models import build_model
    from rnnscope.engine.tasks import build_task

    task = build_task("copy")
    model = build_model(task.model_config("rnn", 3, seed=7))
    saved = types.SimpleNamespace(model=model, config=model.config, task_name="copy", task_options={})
    module = types.ModuleType("rnnscope.engine.checkpoint")
    module.load_checkpoint = lambda path: saved
    monkeypatch.setitem(sys.modules, "rnnscope.engine.checkpoint", module)
    path = tmp_path / "model.npz"
    path.write_bytes(b"stand-in")
    assert main(["gradcheck", "--checkpoint", str(path), "--length", "4", "--batch", "1"]) == 0
    assert f"rnn D={task.input_size} H=3" in capsys.readouterr().out
    # a task whose sizes do not fit the checkpoint's model is a usage error
    assert main(["gradcheck", "--checkpoint", str(path), "--task", "sine"]) == 2
    assert "needs D=" in capsys.readouterr().err
