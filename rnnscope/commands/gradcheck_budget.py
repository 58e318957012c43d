"""Before ``rnnscope gradcheck`` allocates a model: refuse what cannot fit, say how long a big check takes.

Every size option is bounded on its own, but a full check of a big model is two
forward passes per element: an LSTM with H = 2,048 has 17 million parameters, days
of work. The command estimates the check from the config alone
(:func:`rnnscope.engine.budget.gradcheck_cost`, nothing allocated yet): a model over
:data:`~rnnscope.engine.limits.PARAMETERS` or a check that needs more memory than the
machine has now is a :class:`UsageError` with the number; a check expected to run
longer than :data:`LONG_CHECK_SECONDS` gets a warning naming the time and a cheaper mode.
"""

from __future__ import annotations

import argparse

from rnnscope.commands.argtypes import UsageError, check_parameter_count
from rnnscope.engine import budget
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.tasks.base import Task

LONG_CHECK_SECONDS = 120.0
ModelClassArg = type[RecurrentModel] | None  # a user's model class states its shapes; None: a built-in


def checked_elements(
    config: ModelConfig, args: argparse.Namespace, steps: int, model_class: ModelClassArg = None
) -> int:
    """How many elements (or directions) the options' mode checks (:func:`budget.gradcheck_elements`)."""
    return budget.gradcheck_elements(
        config,
        args.mode,
        steps,
        args.batch,
        samples=args.samples,
        directions=args.directions,
        with_inputs=not getattr(args, "no_inputs", False),
        model_class=model_class,
    )


def check_cost(
    config: ModelConfig, task: Task, args: argparse.Namespace, model_class: ModelClassArg = None
) -> list[str]:
    """Warnings for the check the options ask of a model of ``config`` on ``task``; a
    :class:`UsageError` when the model or the check cannot fit."""
    check_parameter_count(config, model_class)
    steps = task.max_steps(args.length)
    checks = checked_elements(config, args, steps, model_class)
    cost = budget.gradcheck_cost(config, steps, args.batch, checks, model_class)
    verdict = budget.judge(cost)
    if verdict.refused:
        raise UsageError(f"{verdict.message}; use a smaller --batch, --length or model")
    notes = [verdict.message] if verdict.level == "warn" else []
    if cost.seconds is not None and cost.seconds > LONG_CHECK_SECONDS:
        cheaper = " (--mode sampled checks a few elements per gate slice)" if args.mode == "full" else ""
        notes.append(f"{cost.describe()}; Ctrl-C stops it{cheaper}")
    return notes
