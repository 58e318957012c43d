"""``rnnscope gradcheck`` estimates a check before it allocates the model."""

from __future__ import annotations

import argparse
import tracemalloc

import pytest

from rnnscope.cli import main
from rnnscope.commands.argtypes import UsageError
from rnnscope.commands.gradcheck import add_arguments
from rnnscope.commands.gradcheck_budget import LONG_CHECK_SECONDS, check_cost, checked_elements
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.tasks import build_task


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    return parser.parse_args(list(argv))


def test_a_model_beyond_the_parameter_limit_is_refused_before_it_is_allocated(capsys):
    tracemalloc.start()
    try:
        code = main(
            ["gradcheck", "--model", "dnc", "--slots", "1024", "--width", "1024", "--read-heads", "64",
             "--hidden", "2048", "--quiet"]
        )  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert code == 2
    assert "would have 699,972,998 parameters; at most 50,000,000" in capsys.readouterr().err
    assert peak < 50 * 2**20  # the 5.6 GB of weights were never allocated


def test_a_full_check_of_a_big_model_is_warned_about_with_its_time_and_a_cheaper_mode():
    task = build_task("chars")
    config = task.model_config("lstm", 2048)
    (note,) = check_cost(config, task, _args("--mode", "full", "--hidden", "2048"))
    assert note.startswith("a gradient check of 17,474,905 elements of the lstm (H=2048) needs about")
    assert "days" in note and "--mode sampled" in note
    smaller = task.model_config("lstm", 256)
    assert check_cost(smaller, task, _args("--mode", "sampled")) == []  # a few elements per slice: no note


def test_the_elements_counted_follow_the_mode_and_the_inputs_option():
    task = build_task("chars")
    config: ModelConfig = task.model_config("rnn", 4)
    parameters = 67 * 4 + 4 * 4 + 4 + 4 * 67 + 67
    inputs = 60 * 2 * 67  # the task's default T=60, B=2, D=67
    assert checked_elements(config, _args("--mode", "full"), 60) == parameters + inputs
    assert checked_elements(config, _args("--mode", "full", "--no-inputs"), 60) == parameters
    assert checked_elements(config, _args("--mode", "sampled", "--samples", "3"), 60) < parameters
    assert LONG_CHECK_SECONDS > 0


def test_a_check_that_cannot_fit_in_memory_is_refused_with_the_number(monkeypatch):
    from rnnscope.engine import budget

    monkeypatch.setattr(budget, "available_memory", lambda: 10 * 2**20)
    task = build_task("chars")
    with pytest.raises(UsageError, match=r"needs about .* more than the 10\.5 MB available"):
        check_cost(task.model_config("lstm", 256), task, _args("--mode", "full"))
