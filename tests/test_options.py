"""The model options shared by ``rnnscope``, ``rnnscope gradcheck`` and ``rnnscope train``."""

import argparse
import re

import pytest

from rnnscope.app.main import parse_args
from rnnscope.cli import main
from rnnscope.engine.models.config import DEFAULT_HIDDEN_SIZE, ModelConfig
from rnnscope.engine.tasks import build_task
from rnnscope.options import ModelChoice, OptionError, add_model_arguments


def _choice(*argv):
    parser = argparse.ArgumentParser()
    add_model_arguments(parser)
    return ModelChoice.from_args(parser.parse_args(list(argv)))


def test_nothing_given_is_the_shared_default_model():
    task = build_task("copy")
    config = _choice().config_for(task)
    assert config == task.model_config("lstm", DEFAULT_HIDDEN_SIZE, seed=0)
    assert _choice().given() == {}


def test_every_option_reaches_the_config():
    task = build_task("copy")
    config = _choice(
        "--model",
        "gru",
        "--hidden",
        "7",
        "--seed",
        "3",
        "--loss",
        "mse",
        "--many-to-one",
        "--gru-convention",
        "pytorch",
        "--dtype",
        "float32",
    ).config_for(task)
    assert (config.kind, config.hidden_size, config.seed, config.loss) == ("gru", 7, 3, "mse")
    assert config.many_to_one and config.reset_after and config.dtype == "float32"
    dnc = _choice(
        "--model", "dnc", "--slots", "5", "--width", "3", "--read-heads", "2", "--forget-bias", "-0.5"
    ).config_for(task)
    assert (dnc.memory_slots, dnc.memory_width, dnc.read_heads, dnc.forget_bias) == (5, 3, 2, -0.5)
    stack = _choice("--model", "rnn", "--layers", "3", "--embedding", "4").config_for(task)
    assert (stack.num_layers, stack.embedding_size) == (3, 4)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--slots", "4"], "--slots apply to --model dnc only, not lstm"),
        (
            ["--model", "rnn", "--width", "2", "--read-heads", "1"],
            "--width/--read-heads apply to --model dnc",
        ),
        (["--model", "lstm", "--gru-convention", "pytorch"], "--gru-convention applies to --model gru only"),
        (["--model", "gru", "--forget-bias", "2"], "--forget-bias applies to --model lstm and dnc only"),
        (["--loss", "softmax_ce"], "does not fit the copy task's targets, which need sigmoid_bce"),
        (["--model", "dnc", "--layers", "2"], "--layers applies to --model rnn/lstm/gru only, not dnc"),
    ],
)
def test_options_that_do_not_go_together_are_named(argv, message):
    with pytest.raises(OptionError, match=message):
        _choice(*argv).config_for(build_task("copy"))


def test_sigmoid_bce_needs_targets_in_0_to_1():
    with pytest.raises(OptionError, match="needs targets in 0..1; the sine task's are not"):
        _choice("--loss", "sigmoid_bce").config_for(build_task("sine"))


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--hidden", "0"], "hidden units H.* must be from 1 to 2,048, got 0"),
        (["--hidden", "1e9"], "must be a whole number, got '1e9'"),
        (["--hidden", "100000"], "got 100,000"),
        (["--slots", "100000"], "DNC memory slots N"),
        (["--read-heads", "100000"], "DNC read heads R"),
        (["--seed", "-3"], "random seed"),
        (["--forget-bias", "nan"], "within"),
        (["--layers", "9"], "stacked recurrent layers L.* must be from 1 to 8, got 9"),
        (["--embedding", "-1"], "embedding width"),
    ],
)
def test_sizes_out_of_bounds_are_usage_errors_everywhere(argv, message, capsys):
    for command in (["gradcheck"], ["train", "--iters", "1"]):
        with pytest.raises(SystemExit) as info:
            main([*command, *argv])
        assert info.value.code == 2
        assert re.search(message, capsys.readouterr().err), (command, argv)
    with pytest.raises(SystemExit) as info:
        parse_args(argv)
    assert info.value.code == 2


def test_the_window_takes_every_option_with_the_commands_errors(capsys):
    args = parse_args(["--model", "gru", "--layers", "2", "--gru-convention", "pytorch", "--embedding", "4"])
    assert (args.layers, args.gru_convention, args.embedding) == (2, "pytorch", 4)
    with pytest.raises(SystemExit) as info:
        parse_args(["--loss", "mse"])
    assert info.value.code == 2
    assert "--loss mse does not fit the chars task's targets" in capsys.readouterr().err


def test_a_saved_model_is_held_to_the_options_given():
    config = ModelConfig("dnc", 5, 8, 5, memory_slots=6)
    assert _choice("--model", "dnc", "--seed", "9").conflicts_with(config) == []
    assert _choice("--hidden", "9", "--slots", "7").conflicts_with(config) == [
        "--hidden 9 does not match the saved model's hidden_size=8",
        "--slots 7 does not match the saved model's memory_slots=6",
    ]
    assert _choice("--gru-convention", "pytorch").conflicts_with(ModelConfig("gru", 5, 8, 5)) == [
        "--gru-convention pytorch does not match the saved model's reset_after=False"
    ]


def _choice_with_model_file(*argv):
    parser = argparse.ArgumentParser()
    add_model_arguments(parser, model_file=True)
    return ModelChoice.from_args(parser.parse_args(list(argv)))


def test_a_model_file_is_a_custom_kind_that_reads_any_option():
    choice = _choice_with_model_file("--model-file", "my_rnn.py:MyLSTM", "--slots", "5", "--forget-bias", "2")
    assert choice.model_file == "my_rnn.py:MyLSTM" and choice.kind == "custom"
    config = choice.config_for(build_task("copy"))
    assert (config.kind, config.memory_slots, config.forget_bias) == ("custom", 5, 2.0)
    # a model file whose class is a built-in kind (a subclass of the LSTM) is held to that kind's options
    with pytest.raises(OptionError, match="--slots apply to --model dnc only, not lstm"):
        choice.config_for(build_task("copy"), kind="lstm")
    with pytest.raises(OptionError, match="give --model or --model-file, not both"):
        _choice_with_model_file("--model", "gru", "--model-file", "x.py").config_for(build_task("copy"))
    assert _choice().model_file is None  # a parser without --model-file
