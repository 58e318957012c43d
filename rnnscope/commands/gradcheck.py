"""``rnnscope gradcheck``: check a model's gradients numerically from the command line.

Builds a model for a task (or loads a checkpoint; see
:mod:`~rnnscope.commands.gradcheck_setup`), draws one fixed batch, runs
:func:`rnnscope.engine.gradcheck.check_gradients` -- every parameter, and by
default the inputs and the initial state -- and prints a table with the
check's notes; ``-o`` writes a CSV / JSON / Markdown / HTML report. A float32
model is checked as a float64 copy (with a note). When a slice's gradient is
negligible for the loss, a setting where it is not is suggested
(:mod:`~rnnscope.commands.gradcheck_suggest`). Exit status: 0 when no row fails,
1 when any row (or gate sub-row) fails, 2 on usage errors.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import TextIO

from rnnscope.commands.argtypes import UsageError, nonnegative_float, positive, positive_float
from rnnscope.commands.gradcheck_setup import build
from rnnscope.commands.gradcheck_suggest import suggest
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
from rnnscope.engine.protocol import UserCodeError, user_code
from rnnscope.engine.tasks import TASK_NAMES
from rnnscope.options import add_model_arguments, size_type
from rnnscope.report import FORMATS, ReportError, format_for, render, to_text, write_report

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
DEFAULTS = CheckOptions()


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Check the analytic gradient of every parameter, of the inputs and of the initial state\n"
        "against central differences, per tensor and per gate slice of fused matrices. A float32\n"
        "model is checked as a float64 copy. Exit status: 0 = no failure, 1 = some row failed,\n"
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
        help="finite-difference step h; the differences at h, 2h and 4h are extrapolated, and h is "
        f"divided by 10 where they do not behave (default: {DEFAULTS.step:g})",
    )
    check.add_argument(
        "--absolute-step",
        action="store_true",
        help="use h as is (default: h * max(1, |x|), scaled by the parameter's magnitude)",
    )
    check.add_argument(
        "--parameters",
        nargs="+",
        metavar="NAME",
        help="check only these tensors (parameters, 'inputs', 'state.h', ...)",
    )
    check.add_argument(
        "--no-inputs",
        action="store_true",
        help="skip the gradients of the inputs and of the initial state (checked by default)",
    )
    check.add_argument(
        "--diagnosis-budget",
        type=int,
        default=DEFAULTS.diagnosis_budget,
        metavar="N",
        help="extra numerical derivatives the likely causes of failing rows may cost; 0 keeps to "
        f"the check's own values, --no-diagnosis skips them (default: {DEFAULTS.diagnosis_budget})",
    )
    check.add_argument(
        "--no-diagnosis", action="store_true", help="do not look for the likely cause of failing rows"
    )
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
        help=f"'too small' below floor * the gate slice's largest |gradient| (default: {limits.floor:g})",
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
        engine=args.engine,
        parameters=args.parameters,
        with_inputs=not args.no_inputs,
        diagnose=not args.no_diagnosis,
        diagnosis_budget=args.diagnosis_budget,
    )


def _warn(text: str) -> None:
    print(f"rnnscope gradcheck: warning: {text}", file=sys.stderr)


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
    model, batch = build(args, warn=_warn)
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
    try:
        with user_code():
            better = suggest(result, args, build)
    except UserCodeError:
        better = None  # the check itself ran; a suggestion is only a courtesy
    if better is not None:
        sys.stdout.write(better.text() + "\n")
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
