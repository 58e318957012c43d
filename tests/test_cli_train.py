"""``rnnscope train``: a tiny run, resumption to the same weights, Ctrl-C, usage errors."""

from __future__ import annotations

import os
import signal
import tracemalloc

import numpy as np
import pytest

from rnnscope.cli import main
from rnnscope.engine.checkpoint import load_checkpoint
from rnnscope.engine.training import Divergence, DivergenceError, Trainer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 6


@pytest.fixture
def corpus(tmp_path):
    path = tmp_path / "tiny.txt"
    path.write_text(TEXT, encoding="utf-8")
    return path


def _base(corpus, *extra):
    return [
        "train",
        "--model",
        "rnn",
        "--hidden",
        "8",
        "--data",
        str(corpus),
        "--batch",
        "2",
        "--seq-len",
        "5",
        "--optimizer",
        "adam",
        "--lr",
        "0.01",
        "--seed",
        "4",
        *extra,
    ]


def test_a_tiny_run_then_a_resume_reaches_the_same_weights(corpus, tmp_path, capsys):
    straight = tmp_path / "straight.npz"
    assert main(_base(corpus, "--iters", "8", "--checkpoint", str(straight), "--progress", "lines")) == 0
    out, err = capsys.readouterr()
    assert "iteration 8:" in out and "bits/char" in out and f"checkpoint saved to {straight}" in out
    assert "iteration 8/8" in err  # progress lines on stderr
    half = tmp_path / "half.npz"
    assert main(_base(corpus, "--iters", "3", "--checkpoint", str(half))) == 0
    assert load_checkpoint(half).iteration == 3
    # --iters is the total: resuming trains 5 more, and saves back to the same file
    assert main(["train", "--resume", str(half), "--iters", "8", "--progress", "never"]) == 0
    a, b = load_checkpoint(straight), load_checkpoint(half)
    assert a.iteration == b.iteration == 8 and b.optimizer_name == "adam"
    for name in a.model.params:
        np.testing.assert_array_equal(a.model.params[name], b.model.params[name])
    for key, value in a.optimizer_state.items():
        np.testing.assert_array_equal(b.optimizer_state[key], value)
    assert b.task_options["path"] == str(corpus)
    capsys.readouterr()
    assert main(["train", "--resume", str(half), "--iters", "8"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_a_three_layer_model_trains_and_resumes(corpus, tmp_path, capsys):
    path = tmp_path / "stack.npz"
    assert main(_base(corpus, "--layers", "3", "--iters", "3", "--checkpoint", str(path), "--quiet")) == 0
    saved = load_checkpoint(path)
    assert saved.config.num_layers == 3 and "l2.Wh" in saved.model.params
    assert main(["train", "--resume", str(path), "--iters", "5", "--progress", "never"]) == 0
    assert load_checkpoint(path).iteration == 5
    capsys.readouterr()
    assert main(["train", "--resume", str(path), "--iters", "6", "--layers", "2"]) == 2
    assert "--layers 2 does not match the saved model's num_layers=3" in capsys.readouterr().err


def test_samples_are_printed_for_char_models(corpus, capsys):
    assert main(_base(corpus, "--iters", "4", "--sample-every", "2", "--sample-length", "30", "--quiet")) == 0
    assert capsys.readouterr().out == ""
    assert main(_base(corpus, "--iters", "4", "--sample-every", "2", "--sample-length", "30")) == 0
    out = capsys.readouterr().out
    assert "--- sample at iteration 2 ---" in out and "--- sample at iteration 4 ---" in out


@pytest.fixture
def python_sigint_handler():
    """Python's own Ctrl-C handler for the test; a shell's background job inherits SIGINT
    ignored, and the command must restore whichever handler it found."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_ctrl_c_saves_and_exits_with_130(corpus, tmp_path, capsys, monkeypatch, python_sigint_handler):
    path = tmp_path / "stopped.npz"
    original = Trainer.step

    def step(self):
        stats = original(self)
        if stats.iteration == 3:
            os.kill(os.getpid(), signal.SIGINT)  # as Ctrl-C: handled between iterations
        return stats

    monkeypatch.setattr(Trainer, "step", step)
    assert main(_base(corpus, "--iters", "50", "--checkpoint", str(path))) == 130
    err = capsys.readouterr().err
    assert "interrupted at iteration 3" in err and "--resume" in err
    assert load_checkpoint(path).iteration == 3
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_stops_at_once_and_saves_nothing(
    corpus, tmp_path, capsys, monkeypatch, python_sigint_handler
):
    path = tmp_path / "stopped.npz"
    original = Trainer.step

    def step(self):
        stats = original(self)
        if stats.iteration == 2:
            os.kill(os.getpid(), signal.SIGINT)  # asks to stop after this iteration
            os.kill(os.getpid(), signal.SIGINT)  # and this one stops at once, before the iteration ends
        return stats

    monkeypatch.setattr(Trainer, "step", step)
    assert main(_base(corpus, "--iters", "50", "--checkpoint", str(path))) == 130
    assert "stopped at once (second Ctrl-C); nothing saved" in capsys.readouterr().err
    assert not path.exists()
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_non_finite_loss_exits_with_4_and_keeps_the_last_good_checkpoint(
    corpus, tmp_path, capsys, monkeypatch
):
    path = tmp_path / "run.npz"
    original = Trainer.step

    def step(self):
        if self.iteration == 2:
            raise DivergenceError(Divergence(3, "non-finite loss", float("nan")))
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    assert main(_base(corpus, "--iters", "5", "--checkpoint", str(path), "--checkpoint-every", "2")) == 4
    err = capsys.readouterr().err
    assert "training diverged: the loss became nan at iteration 3" in err
    assert f"nothing was saved over it; the newest good checkpoint is iteration 2 in {path}" in err
    assert load_checkpoint(path).iteration == 2  # the periodic save before the divergence stands


def test_an_exploding_loss_stops_the_run_unless_allowed(corpus, tmp_path, capsys):
    path = tmp_path / "run.npz"
    # a factor of 1.0001 calls nearly every loss above the running median an explosion; at a tiny
    # learning rate the loss stays above the floor of 1 nat per step, and batches vary around it
    tight = [
        "--iters",
        "60",
        "--checkpoint",
        str(path),
        "--divergence-factor",
        "1.0001",
        "--progress",
        "never",
    ]
    argv = _base(corpus, *tight)
    argv[argv.index("--lr") + 1] = "1e-5"
    assert main(argv) == 4
    err = capsys.readouterr().err
    assert "training diverged: the loss per step exploded to" in err and "(limit 1.0001x)" in err
    assert "--allow-divergence trains on regardless" in err
    assert not path.exists()  # nothing saved over (there was no earlier checkpoint)
    assert (
        main(_base(corpus, "--iters", "40", "--checkpoint", str(path), "--allow-divergence", "--quiet")) == 0
    )
    assert load_checkpoint(path).iteration == 40
    assert main(_base(corpus, "--iters", "4", "--allow-divergence", "--divergence-factor", "3")) == 2
    assert "not both" in capsys.readouterr().err


def test_a_run_with_a_huge_learning_rate_is_reported_not_finished(corpus, tmp_path, capsys):
    argv = _base(corpus, "--iters", "300", "--progress", "never")
    argv[argv.index("--lr") + 1] = "1e6"
    assert main(argv) == 4
    out, err = capsys.readouterr()
    assert "training diverged" in err and "bits/char" not in out


def test_failed_periodic_saves_warn_and_training_goes_on(corpus, tmp_path, capsys, monkeypatch):
    path = tmp_path / "run.npz"
    original = Trainer.step

    def step(self):
        if self.iteration == 3:  # the checkpoint path turns into a directory under the run
            path.unlink()
            path.mkdir()
        return original(self)

    monkeypatch.setattr(Trainer, "step", step)
    argv = _base(
        corpus, "--iters", "6", "--checkpoint", str(path), "--checkpoint-every", "2", "--progress", "never"
    )
    assert main(argv) == 3
    out, err = capsys.readouterr()
    assert "iteration 6:" in out  # the run finished and was scored
    assert "warning: the checkpoint at iteration 4 was not saved" in err and "the path is a directory" in err
    assert "training goes on, the newest good checkpoint is iteration 2" in err
    assert "3 of 4 checkpoint save(s) failed; the newest good checkpoint is iteration 2" in err


def test_a_save_that_fails_once_still_ends_with_status_3(corpus, tmp_path, capsys, monkeypatch):
    from rnnscope.engine import atomic

    path = tmp_path / "run.npz"
    original = atomic.os.fsync
    calls = []

    def full_once(descriptor):
        calls.append(descriptor)
        if len(calls) == 1:
            raise OSError(28, "No space left on device")
        return original(descriptor)

    monkeypatch.setattr(atomic.os, "fsync", full_once)
    argv = _base(corpus, "--iters", "4", "--checkpoint", str(path), "--checkpoint-every", "2", "--quiet")
    assert main(argv) == 3
    err = capsys.readouterr().err
    assert "No space left on device" in err and "1 of 3 checkpoint save(s) failed" in err
    assert load_checkpoint(path).iteration == 4
    assert sorted(os.listdir(tmp_path)) == ["run.npz", "tiny.txt"]  # no temporary file left


def test_options_given_on_resume_override_the_saved_ones(corpus, tmp_path, capsys):
    path = tmp_path / "run.npz"
    first = _base(
        corpus, "--iters", "3", "--checkpoint", str(path), "--optimizer", "rmsprop", "--momentum", "0.5"
    )
    assert main([*first, "--quiet"]) == 0
    resume = ["train", "--resume", str(path), "--iters", "5", "--lr", "0.02", "--momentum", "0.7"]
    assert main([*resume, "--clip", "0", "--quiet"]) == 0
    saved = load_checkpoint(path)
    assert saved.iteration == 5 and saved.optimizer_name == "rmsprop"
    assert saved.optimizer_state["lr"] == 0.02 and saved.optimizer_state["momentum"] == 0.7
    assert saved.trainer_state["clip_norm"] is None


def test_periodic_checkpoints(corpus, tmp_path, monkeypatch):
    from rnnscope.commands.train_loop import Saves

    saved = []
    original = Saves.save
    monkeypatch.setattr(
        Saves,
        "save",
        lambda self, setup, progress: (
            saved.append(setup.trainer.iteration) or original(self, setup, progress)
        ),
    )
    path = tmp_path / "p.npz"
    assert (
        main(_base(corpus, "--iters", "6", "--checkpoint", str(path), "--checkpoint-every", "2", "--quiet"))
        == 0
    )
    assert saved == [2, 4, 6, 6]


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--task", "copy", "--data", "x.txt"], "--data and --corpus apply to --task chars only"),
        (["--optimizer", "adagrad", "--momentum", "0.9"], "--momentum applies to sgd and rmsprop"),
        (["--sample-every", "2", "--task", "copy"], "--sample-every needs a character task"),
        (["--checkpoint-every", "2"], "--checkpoint-every needs --checkpoint"),
        (["--data", "/no/such/file.txt"], "does not exist"),
        (["--checkpoint", "/no/such/dir/x.npz"], "no such directory"),
    ],
)
def test_usage_errors_are_named(argv, words, capsys):
    assert main(["train", "--model", "rnn", "--hidden", "4", "--iters", "2", *argv]) == 2
    assert words in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--batch", "1e8"], "batch (sequences per batch B) must be a whole number, got '1e8'"),
        (["--seq-len", "100000000"], "must be from 1 to 100,000, got 100,000,000"),
        (["--hidden", "20000"], "hidden (hidden units H) must be from 1 to 2,048"),
        (
            ["--sample-length", "1000000"],
            "text (characters of typed or sampled text) must be from 1 to 100,000",
        ),
        (["--iters", "1e9"], "iters (training iterations) must be a whole number"),
        (
            ["--checkpoint-every", "-1"],
            "every (iterations between two saves or samples, 0 = never) must be from 0",
        ),
        (["--divergence-factor", "1"], "must be a number > 1"),
    ],
)
def test_sizes_outside_their_bounds_are_usage_errors(argv, words, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["train", "--iters", "2", *argv])
    assert exited.value.code == 2 and words in capsys.readouterr().err


@pytest.mark.parametrize(
    "sizes, words",
    [
        (
            ["--hidden", "2048", "--width", "1024", "--read-heads", "64"],
            "the dnc would have 699,972,998 parameters; at most 50,000,000",
        ),
        (
            ["--hidden", "8", "--slots", "1024", "--batch", "4096", "--seq-len", "1000"],
            "TB of memory",
        ),
    ],
)
def test_work_too_large_for_the_machine_is_refused_before_anything_is_built(sizes, words, capsys):
    tracemalloc.start()
    status = main(["train", "--model", "dnc", *sizes, "--iters", "2"])
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert status == 2 and words in capsys.readouterr().err
    assert peak < 64 * 2**20  # the corpus and the task, not the model


def test_a_bad_resume_file_is_a_usage_error(tmp_path, corpus, capsys):
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"nope")
    assert main(["train", "--resume", str(bad), "--iters", "5"]) == 2
    assert "cannot resume" in capsys.readouterr().err
    good = tmp_path / "good.npz"
    assert main(_base(corpus, "--iters", "2", "--checkpoint", str(good), "--quiet")) == 0
    assert main(["train", "--resume", str(good), "--iters", "5", "--hidden", "16"]) == 2
    assert "--hidden 16 does not match the saved model's hidden_size=8" in capsys.readouterr().err
    assert main(["train", "--resume", str(good), "--iters", "5", "--task", "copy"]) == 2
    assert "task needs D=" in capsys.readouterr().err
