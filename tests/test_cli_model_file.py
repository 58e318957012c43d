"""``--model-file`` in ``rnnscope gradcheck`` and ``rnnscope train``: the shipped examples, their
checkpoints, and a clear error (exit status 2) for every kind of bad user code."""

import re
import shutil
from pathlib import Path

import numpy as np
import pytest

from rnnscope.app.main import parse_args
from rnnscope.cli import main
from rnnscope.engine.checkpoint import load_checkpoint
from rnnscope.engine.protocol import open_model_checkpoint

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
CORRECT = ["min_char_rnn.py:MinCharRNN", "cs231n_lstm.py:CS231nLSTM", "d2l_gru.py:D2LGRU"]
SMALL = ["--hidden", "4", "--length", "6"]


def _lines(text):
    """``{row name: status}`` of a printed gradient table."""
    rows = {}
    for line in text.splitlines():
        match = re.match(r"^(ok|warn|fail|too small|kink)\s+(\S+)\s", line)
        if match:
            rows[match.group(2)] = match.group(1)
    return rows


@pytest.mark.parametrize("example", CORRECT)
def test_a_correct_example_passes_the_check(example, capsys):
    assert main(["gradcheck", "--model-file", str(EXAMPLES / example), *SMALL]) == 0
    rows = _lines(capsys.readouterr().out)
    assert rows and set(rows.values()) == {"ok"}


@pytest.mark.parametrize("mode", ["sampled", "full"])
def test_the_buggy_example_fails_in_wh_forget_alone(mode, capsys):
    argv = ["gradcheck", "--model-file", f"{EXAMPLES / 'buggy_lstm.py'}:BuggyLSTM", "--mode", mode, *SMALL]
    if mode == "full":
        argv += ["--task", "copy"]  # fewer inputs: every element of every tensor, quickly
    assert main(argv) == 1
    rows = _lines(capsys.readouterr().out)
    failing = sorted(name for name, status in rows.items() if status == "fail")
    assert failing == ["Wh", "Wh[forget]"]
    assert {
        rows[f"{name}[{gate}]"] for name in ("Wx", "Wh", "b") for gate in ("input", "output", "candidate")
    } == {"ok"}


@pytest.mark.parametrize("example", [*CORRECT, "buggy_lstm.py:BuggyLSTM"])
def test_every_example_trains_saves_and_resumes(example, tmp_path, capsys):
    saved = tmp_path / "mine.npz"
    spec = str(EXAMPLES / example)
    argv = ["train", "--model-file", spec, "--hidden", "4", "--batch", "2", "--seq-len", "5"]
    assert main([*argv, "--iters", "3", "--checkpoint", str(saved)]) == 0
    out = capsys.readouterr()
    assert f"training {example.split(':')[1]} H=4 on" in out.err and "iteration 3: loss" in out.out
    assert open_model_checkpoint(saved).checkpoint.iteration == 3
    assert main(["train", "--resume", str(saved), "--iters", "5", "--quiet"]) == 0
    assert open_model_checkpoint(saved).checkpoint.iteration == 5
    assert main(["gradcheck", "--checkpoint", str(saved), "--quiet"]) == (1 if "buggy" in example else 0)


def test_a_checkpoint_opens_with_a_pointed_file_and_warns_of_an_edit(tmp_path, capsys):
    source = tmp_path / "mine.py"
    shutil.copy(EXAMPLES / "cs231n_lstm.py", source)
    saved = tmp_path / "mine.npz"
    assert (
        main(
            [
                "train",
                "--model-file",
                str(source),
                "--hidden",
                "4",
                "--iters",
                "2",
                "--checkpoint",
                str(saved),
            ]
        )
        == 0
    )
    moved = tmp_path / "moved.py"
    source.rename(moved)
    capsys.readouterr()
    assert main(["gradcheck", "--checkpoint", str(saved), "--quiet"]) == 2
    assert "which is not there; point at the file: --model-file PATH:CS231nLSTM" in capsys.readouterr().err
    moved.write_text(moved.read_text() + "\n# an edit after saving\n")
    assert main(["gradcheck", "--checkpoint", str(saved), "--model-file", str(moved), "--quiet"]) == 0
    assert "rnnscope gradcheck: warning: " in capsys.readouterr().err
    with pytest.raises(Exception, match="rnnscope imports no code on a checkpoint's word"):
        load_checkpoint(saved)


def _model_file(tmp_path, old, new):
    """The buggy example with ``old`` replaced by ``new``, in a file of its own."""
    text = (EXAMPLES / "buggy_lstm.py").read_text()
    assert old in text
    path = tmp_path / "mine.py"
    path.write_text(text.replace(old, new))
    return str(path)


def _error(argv, capsys):
    assert main(["gradcheck", *argv, *SMALL]) == 2
    return capsys.readouterr().err


def test_a_missing_file_or_class_is_named(tmp_path, capsys):
    assert "nowhere.py: no such file" in _error(["--model-file", str(tmp_path / "nowhere.py")], capsys)
    path = _model_file(tmp_path, "x", "x")
    message = _error(["--model-file", f"{path}:MyLSTM"], capsys)
    assert f"{path}: there is no class 'MyLSTM' (its model classes are BuggyLSTM)" in message


def test_a_syntax_error_is_named_with_its_line(tmp_path, capsys):
    path = _model_file(tmp_path, "        c = f * c_prev + i * g", "        c = f * c_prev + i * g)")
    message = _error(["--model-file", path], capsys)
    assert (
        f"{path}: the file cannot be read as Python:" in message and "SyntaxError: unmatched ')'" in message
    )
    assert re.search(r"line \d+", message) and "c = f * c_prev + i * g)" in message


def test_an_exception_in_the_users_backward_shows_their_frames_only(tmp_path, capsys):
    path = _model_file(tmp_path, "dc_prev = dc * f", "dc_prev = dc * f[:, :, None]")
    message = _error(["--model-file", path], capsys)
    assert message.startswith("rnnscope gradcheck: error: your model raised ValueError in step_backward (")
    assert f'File "{path}", line' in message and "dc_prev = dc * f[:, :, None]" in message
    assert "operands could not be broadcast" in message and re.search(
        r"\(in step_backward at step t=\d+\)", message
    )
    assert "rnnscope/" not in message.replace(path, "")
    assert (
        main(["train", "--model-file", path, "--hidden", "4", "--iters", "2"]) == 2
    )  # found before training
    assert "your model raised ValueError in step_backward" in capsys.readouterr().err


def test_a_wrong_shape_or_dtype_returned_is_named(tmp_path, capsys):
    path = _model_file(
        tmp_path, 'return h, {"h": h, "c": c}, cache', 'return h[:, :2], {"h": h, "c": c}, cache'
    )
    assert "step_forward's h_t (step 0) has shape (2, 2), expected (2, 4)" in _error(
        ["--model-file", path], capsys
    )
    path = _model_file(tmp_path, '"b": db}', '"b": db.astype(np.float32)}')
    message = _error(["--model-file", path], capsys)
    assert re.search(
        r"step_backward's dparams \(step \d+\)\['b'\] has dtype float32, expected float64", message
    )


def test_a_probe_off_its_declared_axes_is_named(tmp_path, capsys):
    path = _model_file(
        tmp_path,
        'Probe("lstm/cell", "signed", source="state.c")',
        'Probe("lstm/cell", "signed", axes=("unit", "part"), source="state.c")',
    )
    message = _error(["--model-file", path], capsys)
    assert (
        "probe 'lstm/cell' declares axes ('unit', 'part'), so its value 'state.c' must have shape" in message
    )
    assert "(B, unit, part) with B=2 at every step; it has shape (2, 4)" in message


def test_a_float32_users_model_is_checked_as_a_float64_copy_with_a_note(capsys):
    code = main(["gradcheck", "--model-file", str(EXAMPLES / "cs231n_lstm.py"), "--dtype", "float32", *SMALL])
    assert code == 0
    assert "float64 copy" in capsys.readouterr().out


def test_model_and_model_file_do_not_go_together(capsys):
    message = _error(["--model", "lstm", "--model-file", str(EXAMPLES / "cs231n_lstm.py")], capsys)
    assert "give --model or --model-file, not both" in message


def test_the_window_takes_model_file_as_the_commands_do(capsys):
    path = str(EXAMPLES / "cs231n_lstm.py")
    assert parse_args(["--model-file", path, "--hidden", "3"]).model_file == path
    with pytest.raises(SystemExit) as info:
        parse_args(["--model", "lstm", "--model-file", path])
    assert info.value.code == 2
    assert "give --model or --model-file, not both" in capsys.readouterr().err


def test_options_a_users_model_reads_reach_its_config(tmp_path):
    saved = tmp_path / "mine.npz"
    argv = ["train", "--model-file", str(EXAMPLES / "cs231n_lstm.py"), "--hidden", "3", "--forget-bias", "2"]
    assert (
        main([*argv, "--seed", "5", "--iters", "1", "--checkpoint", str(saved), "--quiet", "--lr", "1e-9"])
        == 0
    )
    model = open_model_checkpoint(saved).checkpoint.model
    assert model.config.kind == "custom" and model.config.forget_bias == 2.0 and model.config.seed == 5
    assert np.allclose(model.params["b[forget]"], 2.0)


SUBCLASS = """
from rnnscope.engine.models.lstm import LSTM


class ScaledLSTM(LSTM):
    '''The built-in LSTM with a backward pass of my own: 1 % too much for Wh.'''

    def backward_core(self, dfeatures, core, inputs, dfinal_state=None, *, need_inputs=True):
        grads, dinputs, dstate, dhidden = super().backward_core(
            dfeatures, core, inputs, dfinal_state, need_inputs=need_inputs
        )
        grads["Wh"] = 1.01 * grads["Wh"]
        return grads, dinputs, dstate, dhidden
"""


def test_a_subclass_of_a_built_in_model_loads_from_a_file(tmp_path, capsys):
    path = tmp_path / "scaled.py"
    path.write_text(SUBCLASS)
    assert main(["gradcheck", "--model-file", str(path), *SMALL]) == 1
    rows = _lines(capsys.readouterr().out)
    assert sorted(name for name, status in rows.items() if status == "fail") == [
        "Wh",
        "Wh[candidate]",
        "Wh[forget]",
        "Wh[input]",
        "Wh[output]",
    ]
    saved = tmp_path / "scaled.npz"
    assert (
        main(
            ["train", "--model-file", str(path), "--hidden", "4", "--iters", "2", "--checkpoint", str(saved)]
        )
        == 0
    )
    model = open_model_checkpoint(saved).checkpoint.model
    assert type(model).__name__ == "ScaledLSTM" and model.config.kind == "lstm"
    assert "--slots apply to --model dnc only, not lstm" in _error(
        ["--model-file", str(path), "--slots", "4"], capsys
    )
