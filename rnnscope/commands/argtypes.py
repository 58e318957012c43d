"""What the subcommands share: exit statuses, the usage error (exit status 2), argparse value types
and the limit on a model's size."""

from __future__ import annotations

import argparse
import math

from rnnscope.engine import budget, limits
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig

EXIT_OK = 0
EXIT_FAILED = 1  # the work itself failed (a gradient check's row, a training run that broke)
EXIT_USAGE = 2  # bad options or inputs, as argparse's own errors, or work too large for this machine
EXIT_SAVE_FAILED = 3  # the work was done, but a file it had to write (a checkpoint) could not be
EXIT_DIVERGED = 4  # training diverged: a non-finite or exploding loss
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class UsageError(Exception):
    """A bad combination of options or an input that cannot be used (exit status 2)."""


def check_parameter_count(config: ModelConfig, model_class: type[RecurrentModel] | None = None) -> None:
    """A :class:`UsageError` when a model of ``config`` (of ``model_class``, a user's class, which
    states its shapes) would have more parameters than :data:`~rnnscope.engine.limits.PARAMETERS`;
    nothing is allocated to find out."""
    count = budget.parameter_count(config, model_class)
    if count > limits.PARAMETERS.high:
        raise UsageError(
            f"the {config.kind} would have {count:,} parameters; at most {limits.PARAMETERS.high:,} "
            "(a smaller --hidden, or for the DNC --width / --read-heads)"
        )


def positive(text: str) -> int:
    """An integer >= 1."""
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def natural(text: str) -> int:
    """An integer >= 0."""
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def positive_float(text: str) -> float:
    """A finite number > 0."""
    value = float(text)
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return value


def nonnegative_float(text: str) -> float:
    """A finite number >= 0."""
    value = float(text)
    if not (math.isfinite(value) and value >= 0):
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {text}")
    return value


def factor(text: str) -> float:
    """A finite number > 1."""
    value = float(text)
    if not (math.isfinite(value) and value > 1):
        raise argparse.ArgumentTypeError(f"must be a number > 1, got {text}")
    return value


def unit_float(text: str) -> float:
    """A number in 0..1."""
    value = float(text)
    if not (0 <= value <= 1):
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return value
