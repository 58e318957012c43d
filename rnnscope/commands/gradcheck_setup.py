"""What ``rnnscope gradcheck`` checks: a fresh model for a task, or a checkpoint's, and one batch.

The model options are the shared set of :mod:`rnnscope.options` (kind or
``--model-file``, sizes, layers, embedding, loss head, many-to-one, forget bias,
GRU convention, dtype, DNC memory), so the command checks whatever model ``train``
and the window can build. A model whose loss head reads other targets than the
task's gets them in its head's form (one-hot vectors for ``sigmoid_bce`` and
``mse`` from class indices, the largest unit's index for ``softmax_ce``).
Every problem is a
:class:`~rnnscope.commands.argtypes.UsageError` (exit status 2).
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from rnnscope.commands.argtypes import UsageError
from rnnscope.commands.gradcheck_budget import check_cost
from rnnscope.commands.own_model import build_chosen, check_users_model, chosen_config, opened_checkpoint
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks import Batch, TaskError, build_task
from rnnscope.engine.tasks.base import Task
from rnnscope.options import ModelChoice, OptionError


def build(
    args: argparse.Namespace, warn: Callable[[str], None] | None = None, **changes: Any
) -> tuple[RecurrentModel, Batch]:
    """``(model, batch)`` from the options (``changes`` replace some of them, e.g. ``length=20``):
    a fresh model for the task (a built-in kind or the class of ``--model-file``), or a
    checkpoint's model. The check is estimated before a fresh model is allocated
    (:func:`~rnnscope.commands.gradcheck_budget.check_cost`): a :class:`UsageError` when
    it cannot fit, ``warn`` called with each warning (a long check, much of the memory)."""
    if changes:
        args = argparse.Namespace(**{**vars(args), **changes})
    choice = ModelChoice.from_args(args)
    try:
        if args.checkpoint:
            model, task = _from_checkpoint(args, choice)
            notes = check_cost(model.config, task, args, type(model))
        else:
            task = build_task(args.task or "chars", seed=args.seed, **task_options(args))
            config, loaded = chosen_config(choice, task)
            notes = check_cost(config, task, args, None if loaded is None else loaded.model_class)
            model = build_chosen(config, loaded, task)
        if warn is not None:
            for note in notes:
                warn(note)
        batch = task.sample(args.batch, np.random.default_rng(args.seed), length=args.length)
    except (TaskError, OptionError) as error:
        raise UsageError(str(error)) from error
    return model, batch_for_head(batch, task.loss, model.config.loss, model.config.output_size)


def _from_checkpoint(args: argparse.Namespace, choice: ModelChoice) -> tuple[RecurrentModel, Task]:
    opened = opened_checkpoint(
        args.checkpoint, args.model_file, "rnnscope gradcheck", "cannot load checkpoint"
    )
    model, task = opened.checkpoint.model, opened.checkpoint.task
    conflicts = choice.conflicts_with(model.config)
    if conflicts:
        raise UsageError("; ".join(conflicts))
    if task is None or args.task is not None:
        task = build_task(args.task or "chars", seed=args.seed, **task_options(args))
    if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
        raise UsageError(
            f"the checkpoint's model has D={model.config.input_size}, O={model.config.output_size}, "
            f"but the {task.name!r} task needs D={task.input_size}, O={task.output_size}"
        )
    check_users_model(model, task, args.seed)
    return model, task


def task_options(args: argparse.Namespace) -> Mapping[str, Any]:
    """The task's own options given on the command line (``--corpus`` for ``chars``)."""
    if args.corpus is not None:
        if (args.task or "chars") != "chars":
            raise UsageError("--corpus applies to --task chars only")
        return {"corpus": args.corpus}
    return {}


def batch_for_head(batch: Batch, task_loss: str, model_loss: str, outputs: int) -> Batch:
    """``batch`` with its targets in the form ``model_loss`` reads (the task's were for ``task_loss``).

    Class indices ``(T, B)`` become one-hot vectors ``(T, B, O)`` for ``sigmoid_bce`` and
    ``mse``; vectors ``(T, B, O)`` become the index of their largest unit for ``softmax_ce``.
    """
    if (task_loss == "softmax_ce") == (model_loss == "softmax_ce"):
        return batch
    targets = np.asarray(batch.targets)
    if model_loss == "softmax_ce":
        converted = np.argmax(targets, axis=-1).astype(np.int64)
    else:
        converted = np.eye(outputs)[targets]
    return Batch(batch.inputs, converted, batch.mask)
