"""What ``rnnscope train`` trains: a fresh trainer from the options, or one resumed from a checkpoint.

Every problem with the options is a :class:`~rnnscope.commands.argtypes.UsageError`
(exit status 2) naming the option. So is a run too large for this machine: before the
model is built, its parameter count is checked against
:data:`~rnnscope.engine.limits.PARAMETERS` and the memory of one iteration is estimated
(:func:`rnnscope.engine.budget.training_cost`) and judged against the memory available
now; more than half of it is a note, more than all of it a refusal naming both numbers.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass
from typing import Any

from rnnscope.commands.argtypes import UsageError, check_parameter_count
from rnnscope.commands.own_model import build_chosen, check_users_model, chosen_config, opened_checkpoint
from rnnscope.engine import budget
from rnnscope.engine.checkpoint import Checkpoint
from rnnscope.engine.models import ModelConfig
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks import build_task
from rnnscope.engine.tasks.base import Task
from rnnscope.engine.training import DEFAULT_FACTOR, Optimizer, Trainer, build_optimizer, optimizer_defaults
from rnnscope.options import ModelChoice, OptionError


@dataclass(frozen=True)
class Defaults:
    """What an option left out means (for a resumed run: unless the checkpoint says otherwise)."""

    batch: int = 16
    seq_len: int = 25
    optimizer: str = "adagrad"
    clip: float = 5.0


DEFAULTS = Defaults()


@dataclass
class Setup:
    """A trainer ready to run, its task, where to save it, notes (on what a resume could not restore,
    on memory) and, when resumed, the checkpoint it came from (``(path, iteration)``)."""

    trainer: Trainer
    task: Task
    checkpoint_path: str | None
    notes: list[str]
    resumed_from: tuple[str, int] | None = None


def set_up(args: argparse.Namespace) -> Setup:
    """The run the options describe (``--resume``: continued from the checkpoint), checked."""
    if args.checkpoint_every and not (args.checkpoint or args.resume):
        raise UsageError("--checkpoint-every needs --checkpoint PATH")
    if args.allow_divergence and args.divergence_factor is not None:
        raise UsageError("give --divergence-factor or --allow-divergence, not both")
    setup = resumed(args) if args.resume else fresh(args)
    setup.trainer.divergence_factor = (
        None if args.allow_divergence else args.divergence_factor or DEFAULT_FACTOR
    )
    if args.sample_every and setup.task.vocab is None:
        raise UsageError(f"--sample-every needs a character task, not {setup.task.name!r}")
    if setup.checkpoint_path is not None:
        directory = os.path.dirname(os.path.abspath(setup.checkpoint_path))
        if not os.path.isdir(directory):
            raise UsageError(f"cannot save checkpoints to {setup.checkpoint_path!r}: no such directory")
    return setup


def _task_options(args: argparse.Namespace) -> dict[str, Any] | None:
    """Options for the chars task from --data / --corpus (``None`` when neither is given)."""
    if args.data is not None and args.corpus is not None:
        raise UsageError("give --data or --corpus, not both")
    if args.data is None and args.corpus is None:
        return None
    if (args.task or "chars") != "chars":
        raise UsageError(f"--data and --corpus apply to --task chars only, not {args.task}")
    if args.data is not None:
        # absolute, so the checkpoint can rebuild the task from any working directory
        return {"path": os.path.abspath(args.data)}
    return {"corpus": args.corpus}


def _build_task(args: argparse.Namespace, seed: int) -> Task:
    options = _task_options(args) or {}
    return build_task(args.task or "chars", seed=seed, **options)


def _optimizer(name: str, args: argparse.Namespace) -> Optimizer:
    options: dict[str, float] = {}
    if args.lr is not None:
        options["lr"] = args.lr
    if args.momentum is not None:
        if "momentum" not in optimizer_defaults(name):
            raise UsageError(f"--momentum applies to sgd and rmsprop, not {name}")
        options["momentum"] = args.momentum
    return build_optimizer(name, **options)


def fresh(args: argparse.Namespace) -> Setup:
    """A new model from the model options on the task, with the options' trainer."""
    seed = 0 if args.seed is None else args.seed
    task = _build_task(args, seed)
    try:
        config, model_file = chosen_config(ModelChoice.from_args(args), task)
    except OptionError as error:
        raise UsageError(str(error)) from None
    clip = DEFAULTS.clip if args.clip is None else args.clip
    optimizer = _optimizer(args.optimizer or DEFAULTS.optimizer, args)
    batch, seq_len = args.batch or DEFAULTS.batch, args.seq_len or DEFAULTS.seq_len
    model_class = None if model_file is None else model_file.model_class
    notes = check_budget(config, task, batch, seq_len, optimizer, model_class)  # before it is built
    trainer = Trainer(
        build_chosen(config, model_file, task),
        task,
        optimizer,
        batch_size=batch,
        seq_len=seq_len,
        clip_norm=clip or None,
        clip_value=args.clip_value,
        seed=seed,
    )
    return Setup(trainer, task, args.checkpoint, notes)


def resumed(args: argparse.Namespace) -> Setup:
    """The checkpoint's run, continued: its saved settings unless an option overrides them."""
    opened = opened_checkpoint(args.resume, args.model_file, "rnnscope train", "cannot resume")
    checkpoint = opened.checkpoint
    conflicts = ModelChoice.from_args(args).conflicts_with(checkpoint.config)
    if conflicts:
        raise UsageError("cannot resume: " + "; ".join(conflicts))
    saved = checkpoint.trainer_state or {}
    seed = args.seed if args.seed is not None else int(saved.get("seed", 0))
    task = _resumed_task(args, checkpoint, seed)
    check_users_model(checkpoint.model, task, seed)
    optimizer = _optimizer(args.optimizer or checkpoint.optimizer_name or DEFAULTS.optimizer, args)
    batch = args.batch or int(saved.get("batch_size") or DEFAULTS.batch)
    seq_len = args.seq_len or int(saved.get("seq_len") or DEFAULTS.seq_len)
    budget_notes = check_budget(checkpoint.config, task, batch, seq_len, optimizer, type(checkpoint.model))
    trainer = Trainer(
        checkpoint.model,
        task,
        optimizer,
        batch_size=batch,
        seq_len=seq_len,
        clip_norm=_resumed_clip(args, saved),
        clip_value=args.clip_value if args.clip_value is not None else saved.get("clip_value"),
        seed=seed,
    )
    notes = budget_notes + trainer.restore(checkpoint)
    # options given on the command line win over the saved hyperparameters
    if args.lr is not None:
        optimizer.lr = args.lr
    if args.momentum is not None:
        optimizer.set_hyperparameter("momentum", args.momentum)
    return Setup(
        trainer, task, args.checkpoint or args.resume, notes, (checkpoint.path, checkpoint.iteration)
    )


def check_budget(
    config: ModelConfig,
    task: Task,
    batch: int,
    seq_len: int,
    optimizer: Optimizer,
    model_class: type[RecurrentModel] | None = None,
) -> list[str]:
    """A :class:`UsageError` when one iteration needs more memory than this machine has now (or the
    model more parameters than :data:`~rnnscope.engine.limits.PARAMETERS`); a note above half of it.
    ``model_class``: a user's model class, which states the shapes of a ``"custom"`` model."""
    check_parameter_count(config, model_class)
    steps = task.max_steps(seq_len if task.default_length is not None else None)
    cost = budget.training_cost(
        config, steps, batch, optimizer_slots=len(optimizer.SLOTS), model_class=model_class
    )
    verdict = budget.judge(cost)
    if verdict.refused:
        raise UsageError(f"{verdict.message}; use a smaller --batch, --seq-len or model")
    return [verdict.message] if verdict.level == "warn" else []


def _resumed_task(args: argparse.Namespace, checkpoint: Checkpoint, seed: int) -> Task:
    """The task the options name, else the checkpoint's; it must fit the checkpoint's model."""
    if args.task is not None or _task_options(args) is not None:
        task: Task | None = _build_task(args, seed)
    else:
        task = checkpoint.task
    if task is None:
        raise UsageError(
            f"the checkpoint's task ({checkpoint.task_name or 'none recorded'} "
            f"{checkpoint.task_options or ''}) cannot be rebuilt here; give --task / --data / --corpus"
        )
    config = checkpoint.config
    if (task.input_size, task.output_size) != (config.input_size, config.output_size):
        raise UsageError(
            f"the checkpoint's model has D={config.input_size}, O={config.output_size}, but the "
            f"{task.name!r} task needs D={task.input_size}, O={task.output_size}"
        )
    return task


def _resumed_clip(args: argparse.Namespace, saved: dict[str, Any]) -> float | None:
    """``--clip`` (0 = off), else the saved clip norm, else the default."""
    if args.clip is not None:
        return float(args.clip) or None
    clip: float | None = saved.get("clip_norm", DEFAULTS.clip) if saved else DEFAULTS.clip
    return clip
