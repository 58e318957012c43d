"""``rnnscope gradcheck``: check a model's gradients numerically from the command line.

Builds a model for a task (or loads a checkpoint), draws one fixed batch, runs
:func:`rnnscope.engine.gradcheck.check_gradients` and prints a table; ``-o``
writes a CSV / JSON / Markdown / HTML report. Exit status: 0 when no row
fails, 1 when any row (or gate sub-row) fails, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any, TextIO

import numpy as np

from rnnscope.commands.argtypes import UsageError, nonnegative_float, positive, positive_float
from rnnscope.commands.own_model import check_users_model, chosen_model, opened_checkpoint
from rnnscope.engine import limits as sizes
from rnnscope.engine.gradcheck import (
    ENGINES,
    MODES,
    CheckOptions,
    GradcheckResult,
    PrecisionError,
    Thresholds,
    check_gradients,
)
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.protocol import UserCodeError, user_code
from rnnscope.engine.tasks import TASK_NAMES, Batch, TaskError, build_task
from rnnscope.options import ModelChoice, OptionError, add_model_arguments, size_type
from rnnscope.report import FORMATS, ReportError, format_for, render, to_text, write_report

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULTS = CheckOptions()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Check every parameter's analytic gradient against central differences, per parameter and\n"
        "per gate slice of fused matrices. Exit status: 0 = no failure, 1 = some row failed,\n"
        "2 = usage error.\n\n"
        "example:\n"
        "  rnnscope gradcheck --model lstm --task chars --hidden 64 --mode sampled \\\n"
        "      --format html -o report.html\n"
        "  rnnscope gradcheck --model-file examples/buggy_lstm.py:BuggyLSTM --hidden 8"
    )
    model = parser.add_argument_group("model")
    add_model_arguments(model, model_file=True)
    parser.set_defaults(seed=0)  # the seed also draws the batch and the sampled elements
    data = parser.add_argument_group("data")
    data.add_argument(
        "--task",
        choices=TASK_NAMES,
        help="task that provides the batch (default: chars, or the checkpoint's task with --checkpoint)",
    )
    data.add_argument("--corpus", help="chars task: name of a shipped corpus (default: the task's default)")
    data.add_argument(
        "--batch", type=size_type(sizes.BATCH), default=2, help="sequences in the batch B (default: 2)"
    )
    data.add_argument(
        "--length", type=size_type(sizes.LENGTH), help="steps T (default: the task's default length)"
    )
    model.add_argument(
        "--checkpoint",
        metavar="PATH",
        help="check the model saved in a checkpoint instead of a fresh one (its task unless --task is given)",
    )
    model.add_argument("--upcast", action="store_true", help="check a float64 copy of a float32 model")

    check = parser.add_argument_group("check")
    check.add_argument(
        "--mode",
        choices=MODES,
        default=DEFAULTS.mode,
        help="sampled: --samples elements per tensor or gate slice (always including the largest "
        "gradient); full: every element; directional: --directions random unit directions "
        f"(default: {DEFAULTS.mode})",
    )
    check.add_argument(
        "--samples",
        type=positive,
        default=DEFAULTS.samples,
        help=f"elements per tensor/gate slice (default: {DEFAULTS.samples})",
    )
    check.add_argument(
        "--directions",
        type=positive,
        default=DEFAULTS.directions,
        help=f"directions per tensor/gate (default: {DEFAULTS.directions})",
    )
    check.add_argument(
        "--step",
        type=positive_float,
        default=DEFAULTS.step,
        help=f"finite-difference step h (default: {DEFAULTS.step:g})",
    )
    check.add_argument(
        "--absolute-step",
        action="store_true",
        help="use h as is (default: h * max(1, |x|), scaled by the parameter's magnitude)",
    )
    check.add_argument("--parameters", nargs="+", metavar="NAME", help="check only these parameters")
    check.add_argument(
        "--engine",
        choices=ENGINES,
        default=DEFAULTS.engine,
        help="auto: batched evaluation where available (same central differences); naive: two "
        f"forwards per element (default: {DEFAULTS.engine})",
    )

    limits = DEFAULTS.thresholds
    thresholds = parser.add_argument_group("thresholds")
    thresholds.add_argument(
        "--ok", type=nonnegative_float, default=limits.ok, help=f"ok below (default: {limits.ok:g})"
    )
    thresholds.add_argument(
        "--fail", type=nonnegative_float, default=limits.fail, help=f"fail above (default: {limits.fail:g})"
    )
    thresholds.add_argument(
        "--floor",
        type=nonnegative_float,
        default=limits.floor,
        help=f"'too small' below floor * the tensor's largest |gradient| (default: {limits.floor:g})",
    )
    thresholds.add_argument(
        "--kink",
        type=nonnegative_float,
        default=limits.kink,
        help=f"one-sided differences disagreeing by more than this mark a kink (default: {limits.kink:g})",
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=FORMATS,
        help="report format (default: from the -o extension; without -o, print the report instead of "
        "the table)",
    )
    output.add_argument("-o", "--output", metavar="PATH", help="write the report to PATH (atomically)")
    output.add_argument(
        "--progress",
        choices=("auto", "always", "never"),
        default="auto",
        help="progress bar on stderr: auto = when stderr is a terminal and the check takes a while",
    )
    output.add_argument("--quiet", action="store_true", help="print nothing but errors")
    output.add_argument(
        "--colour",
        "--color",
        choices=("auto", "always", "never"),
        default="auto",
        help="colour the status column (auto: when stdout is a terminal and NO_COLOR is unset)",
    )


class ProgressBar:
    """A one-line progress bar on a stream, redrawn at most ten times a second."""

    def __init__(self, stream: TextIO, enabled: bool, delay: float = 0.5) -> None:
        self.stream = stream
        self.enabled = enabled
        self.started = time.monotonic()
        self.delay = delay
        self.last = 0.0
        self.drawn = False

    def __call__(self, done: int, total: int, name: str) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.started < self.delay or (now - self.last < 0.1 and done < total):
            return
        self.last = now
        fraction = done / total if total else 1.0
        filled = int(30 * fraction)
        self.stream.write(
            f"\r[{'#' * filled}{'.' * (30 - filled)}] {fraction:4.0%} {name:<12} {done}/{total}"
        )
        self.stream.flush()
        self.drawn = True

    def close(self) -> None:
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()


def _build(args: argparse.Namespace) -> tuple[RecurrentModel, Batch]:
    """``(model, batch)`` from the options: a fresh model for the task, or a checkpoint's model."""
    choice = ModelChoice.from_args(args)
    try:
        if args.checkpoint:
            opened = opened_checkpoint(
                args.checkpoint, args.model_file, "rnnscope gradcheck", "cannot load checkpoint"
            )
            checkpoint = opened.checkpoint
            model, task = checkpoint.model, checkpoint.task
            conflicts = choice.conflicts_with(model.config)
            if conflicts:
                raise UsageError("; ".join(conflicts))
            if task is None or args.task is not None:
                task = build_task(args.task or "chars", seed=args.seed, **_task_options(args))
            if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
                raise UsageError(
                    f"the checkpoint's model has D={model.config.input_size}, O={model.config.output_size}, "
                    f"but the {task.name!r} task needs D={task.input_size}, O={task.output_size}"
                )
            check_users_model(model, task, args.seed)
        else:
            task = build_task(args.task or "chars", seed=args.seed, **_task_options(args))
            model = chosen_model(choice, task)
        batch = task.sample(args.batch, np.random.default_rng(args.seed), length=args.length)
    except (TaskError, OptionError) as error:
        raise UsageError(str(error)) from error
    return model, batch


def _task_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.corpus is not None:
        if (args.task or "chars") != "chars":
            raise UsageError("--corpus applies to --task chars only")
        return {"corpus": args.corpus}
    return {}


def _options(args: argparse.Namespace) -> CheckOptions:
    """How to check, from the options (a ``UsageError`` for thresholds that contradict each other)."""
    if args.ok > args.fail:
        raise UsageError(f"--ok ({args.ok:g}) must not exceed --fail ({args.fail:g})")
    return CheckOptions(
        mode=args.mode,
        samples=args.samples,
        directions=args.directions,
        seed=args.seed,
        step=args.step,
        relative_step=not args.absolute_step,
        thresholds=Thresholds(ok=args.ok, fail=args.fail, floor=args.floor, kink=args.kink),
        upcast=args.upcast,
        engine=args.engine,
        parameters=args.parameters,
    )


def _use_colour(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR")


def _check(args: argparse.Namespace) -> tuple[GradcheckResult, str | None]:
    """Run the check the options ask for: ``(result, report format or None)``."""
    fmt = format_for(args.output, args.format) if args.output is not None else args.format
    options = _options(args)
    with user_code():  # an exception in a user's model code: its own frames only
        return _run_check(args, options, fmt)


def _run_check(
    args: argparse.Namespace, options: CheckOptions, fmt: str | None
) -> tuple[GradcheckResult, str | None]:
    model, batch = _build(args)
    progress = ProgressBar(
        sys.stderr,
        enabled=not args.quiet
        and (args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())),
        delay=0.0 if args.progress == "always" else 0.5,
    )
    try:
        result = check_gradients(
            model, batch.inputs, batch.targets, batch.mask, options=options, progress=progress
        )
    finally:
        progress.close()
    return result, fmt


def _show(result: GradcheckResult, args: argparse.Namespace, fmt: str | None) -> None:
    """Print the table, or the report itself when a format was asked for without ``-o``."""
    if args.quiet:
        return
    if args.output is None and fmt is not None:
        sys.stdout.write(render(result, fmt))
        return
    sys.stdout.write(to_text(result, colour=_use_colour(args.colour, sys.stdout)))
    if args.output is not None:
        sys.stdout.write(f"report written to {args.output} ({fmt})\n")


def run(args: argparse.Namespace) -> int:
    try:
        result, fmt = _check(args)
        if args.output is not None:
            write_report(result, args.output, fmt)
    except (UsageError, PrecisionError, ReportError, ValueError, UserCodeError) as error:
        print(f"rnnscope gradcheck: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nrnnscope gradcheck: interrupted", file=sys.stderr)
        return 130
    _show(result, args, fmt)
    return EXIT_FAILED if result.failed else EXIT_OK
