"""What ``rnnscope gradcheck`` checks: a fresh model for a task, or a checkpoint's, and one batch.

The model options (kind, sizes, loss head, many-to-one, forget bias, GRU
convention, dtype, DNC memory) are read from the parsed options by name, so the
command checks whatever model the shared option set describes: an option that is
absent, or ``None``, keeps the task's (or the model's) default. A model whose
loss head differs from the task's gets the task's targets in its head's form
(one-hot vectors for ``sigmoid_bce`` and ``mse`` from class indices, the
largest unit's index for ``softmax_ce``). Every problem is a
:class:`~rnnscope.commands.argtypes.UsageError` (exit status 2).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.commands.argtypes import UsageError
from rnnscope.engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from rnnscope.engine.models import build_model
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks import Batch, TaskError, build_task
from rnnscope.engine.tasks.base import Task

# option attribute -> ModelConfig field, for the model options that set a field as they are
MODEL_FIELDS = {
    "slots": "memory_slots",
    "width": "memory_width",
    "read_heads": "read_heads",
    "loss": "loss",
    "forget_bias": "forget_bias",
    "dtype": "dtype",
}
DNC_FIELDS = ("memory_slots", "memory_width", "read_heads")
DEFAULT_MODEL = "lstm"
DEFAULT_HIDDEN = 16


def model_overrides(args: argparse.Namespace) -> dict[str, Any]:
    """The ``ModelConfig`` fields the options set (absent or ``None`` options set nothing).

    ``--many-to-one`` only ever switches it on (a many-to-one task stays so);
    ``--gru-convention pytorch`` (or ``--reset-after``) sets ``reset_after``.
    """
    out = {
        field: getattr(args, name)
        for name, field in MODEL_FIELDS.items()
        if getattr(args, name, None) is not None
    }
    if getattr(args, "many_to_one", None):
        out["many_to_one"] = True
    convention = getattr(args, "gru_convention", None)
    if convention is not None:
        out["reset_after"] = convention == "pytorch"
    if getattr(args, "reset_after", None) is not None:
        out["reset_after"] = bool(args.reset_after)
    return out


def build(args: argparse.Namespace, **changes: Any) -> tuple[RecurrentModel, Batch]:
    """``(model, batch)`` from the options (``changes`` replace some of them, e.g. ``length=20``):
    a fresh model for the task, or a checkpoint's model."""
    if changes:
        args = argparse.Namespace(**{**vars(args), **changes})
    kind = getattr(args, "model", None) or DEFAULT_MODEL
    overrides = model_overrides(args)
    try:
        if args.checkpoint:
            model, task = _from_checkpoint(args)
        else:
            if kind != "dnc" and any(field in overrides for field in DNC_FIELDS):
                raise UsageError(f"--slots/--width/--read-heads apply to --model dnc only, not {kind}")
            task = build_task(args.task or "chars", seed=args.seed, **task_options(args))
            hidden = getattr(args, "hidden", None) or DEFAULT_HIDDEN
            model = build_model(task.model_config(kind, hidden, seed=args.seed, **overrides))
        batch = task.sample(args.batch, np.random.default_rng(args.seed), length=args.length)
    except TaskError as error:
        raise UsageError(str(error)) from error
    except ValueError as error:  # a model option the model refuses
        raise UsageError(str(error)) from error
    return model, batch_for_head(batch, task.loss, model.config.loss, model.config.output_size)


def _from_checkpoint(args: argparse.Namespace) -> tuple[RecurrentModel, Task]:
    checkpoint = _load_checkpoint(args.checkpoint)
    model, task = checkpoint.model, checkpoint.task
    if task is None or args.task is not None:
        task = build_task(args.task or "chars", seed=args.seed, **task_options(args))
    if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
        raise UsageError(
            f"the checkpoint's model has D={model.config.input_size}, O={model.config.output_size}, "
            f"but the {task.name!r} task needs D={task.input_size}, O={task.output_size}"
        )
    return model, task


def _load_checkpoint(path: str) -> Checkpoint:
    if not os.path.exists(path):
        raise UsageError(f"checkpoint {path!r} does not exist")
    try:
        return load_checkpoint(path)
    except CheckpointError as error:
        # the error names the file; say only what is wrong with it
        raise UsageError(f"cannot load checkpoint {path!r}: {error.problem}") from error


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
