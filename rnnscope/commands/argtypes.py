"""What the subcommands share: exit statuses, the usage error (exit status 2) and argparse value types."""

from __future__ import annotations

import argparse
import math

EXIT_OK = 0
EXIT_FAILED = 1  # the work itself failed (a gradient check's row, a training run that broke)
EXIT_USAGE = 2  # bad options or inputs, as argparse's own errors, or work too large for this machine
EXIT_SAVE_FAILED = 3  # the work was done, but a file it had to write (a checkpoint) could not be
EXIT_DIVERGED = 4  # training diverged: a non-finite or exploding loss
EXIT_INTERRUPTED = 130  # Ctrl-C, as a shell reports SIGINT


class UsageError(Exception):
    """A bad combination of options or an input that cannot be used (exit status 2)."""


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
