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

from rnnscope.commands.argtypes import UsageError, natural, nonnegative_float, positive, positive_float
from rnnscope.engine.models.base import MODEL_KINDS

TASKS = ("chars", "copy", "repeat_copy", "recall", "sine", "sentiment")
EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Check every parameter's analytic gradient against central differences, per parameter and\n"
        "per gate slice of fused matrices. Exit status: 0 = no failure, 1 = some row failed,\n"
        "2 = usage error.\n\n"
        "example:\n"
        "  rnnscope gradcheck --model lstm --task chars --hidden 64 --mode sampled \\\n"
        "      --format html -o report.html"
    )
    model = parser.add_argument_group("model and data")
    model.add_argument("--model", choices=MODEL_KINDS, default="lstm", help="model kind (default: lstm)")
    model.add_argument(
        "--task",
        choices=TASKS,
        help="task that provides the batch (default: chars, or the checkpoint's task with --checkpoint)",
    )
    model.add_argument("--corpus", help="chars task: name of a shipped corpus (default: the task's default)")
    model.add_argument("--hidden", type=positive, default=16, help="hidden units H (default: 16)")
    model.add_argument("--slots", type=positive, help="DNC: memory slots N (default: the model's, 16)")
    model.add_argument("--width", type=positive, help="DNC: memory width W (default: the model's, 16)")
    model.add_argument("--read-heads", type=positive, help="DNC: read heads R (default: the model's, 4)")
    model.add_argument("--batch", type=positive, default=2, help="sequences in the batch B (default: 2)")
    model.add_argument("--length", type=positive, help="steps T (default: the task's default length)")
    model.add_argument(
        "--seed",
        type=natural,
        default=0,
        help="seeds the model's initialisation, the batch and the sampling",
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
        choices=("sampled", "full", "directional"),
        default="sampled",
        help="sampled: --samples elements per tensor or gate slice (always including the largest "
        "gradient); full: every element; directional: --directions random unit directions "
        "(default: sampled)",
    )
    check.add_argument(
        "--samples", type=positive, default=10, help="elements per tensor/gate slice (default: 10)"
    )
    check.add_argument(
        "--directions", type=positive, default=3, help="directions per tensor/gate (default: 3)"
    )
    check.add_argument(
        "--step", type=positive_float, default=1e-5, help="finite-difference step h (default: 1e-5)"
    )
    check.add_argument(
        "--absolute-step",
        action="store_true",
        help="use h as is (default: h * max(1, |x|), scaled by the parameter's magnitude)",
    )
    check.add_argument("--parameters", nargs="+", metavar="NAME", help="check only these parameters")
    check.add_argument(
        "--engine",
        choices=("auto", "fast", "naive"),
        default="auto",
        help="auto: batched evaluation where available (same central differences); naive: two "
        "forwards per element (default: auto)",
    )

    thresholds = parser.add_argument_group("thresholds")
    thresholds.add_argument("--ok", type=nonnegative_float, default=1e-7, help="ok below (default: 1e-7)")
    thresholds.add_argument(
        "--fail", type=nonnegative_float, default=1e-4, help="fail above (default: 1e-4)"
    )
    thresholds.add_argument(
        "--floor",
        type=nonnegative_float,
        default=1e-4,
        help="'too small' below floor * the tensor's largest |gradient| (default: 1e-4)",
    )
    thresholds.add_argument(
        "--kink",
        type=nonnegative_float,
        default=1e-3,
        help="one-sided differences disagreeing by more than this mark a kink (default: 1e-3)",
    )

    output = parser.add_argument_group("output")
    output.add_argument(
        "--format",
        choices=("csv", "json", "md", "html"),
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


def _load_checkpoint(path: str) -> Any:
    if not os.path.exists(path):
        raise UsageError(f"checkpoint {path!r} does not exist")
    try:
        from rnnscope.engine.checkpoint import load_checkpoint
    except ImportError:
        raise UsageError(
            "this version of rnnscope cannot read checkpoints yet (rnnscope.engine.checkpoint is missing)"
        ) from None
    try:
        return load_checkpoint(path)
    except Exception as error:  # any reason a file cannot be read is a usage error here
        # a CheckpointError already names the file; say only what is wrong with it
        reason = getattr(error, "problem", None) or error
        raise UsageError(f"cannot load checkpoint {path!r}: {reason}") from error


def _checkpoint_parts(checkpoint: Any) -> tuple[Any, Any]:
    """``(model, task or None)`` from whatever ``load_checkpoint`` returned."""
    from rnnscope.engine.models.base import RecurrentModel

    if isinstance(checkpoint, RecurrentModel):
        return checkpoint, None
    model = getattr(checkpoint, "model", None)
    if not isinstance(model, RecurrentModel):
        raise UsageError("the checkpoint holds no model")
    from rnnscope.engine.tasks import build_task

    task = getattr(checkpoint, "task", None)
    spec = getattr(checkpoint, "task_spec", None)
    name = getattr(checkpoint, "task_name", None)
    if task is None and isinstance(spec, dict) and "name" in spec:
        task = build_task(spec["name"], **{k: v for k, v in spec.items() if k != "name"})
    elif task is None and isinstance(name, str) and name:
        task = build_task(name, **dict(getattr(checkpoint, "task_options", None) or {}))
    return model, task


def _build(args: argparse.Namespace) -> tuple[Any, Any]:
    """``(model, batch)`` from the options."""
    from rnnscope.engine.models import build_model
    from rnnscope.engine.tasks import TaskError, build_task

    dnc_options = {"memory_slots": args.slots, "memory_width": args.width, "read_heads": args.read_heads}
    given = {k: v for k, v in dnc_options.items() if v is not None}
    task = None
    try:
        if args.checkpoint:
            model, task = _checkpoint_parts(_load_checkpoint(args.checkpoint))
            if task is None or args.task is not None:
                task = build_task(args.task or "chars", seed=args.seed, **_task_options(args))
            if (task.input_size, task.output_size) != (model.config.input_size, model.config.output_size):
                raise UsageError(
                    f"the checkpoint's model has D={model.config.input_size}, O={model.config.output_size}, "
                    f"but the {task.name!r} task needs D={task.input_size}, O={task.output_size}"
                )
        else:
            if given and args.model != "dnc":
                raise UsageError(f"--slots/--width/--read-heads apply to --model dnc only, not {args.model}")
            task = build_task(args.task or "chars", seed=args.seed, **_task_options(args))
            config = task.model_config(args.model, args.hidden, seed=args.seed, **given)
            model = build_model(config)
        batch = task.sample(args.batch, np.random.default_rng(args.seed), length=args.length)
    except TaskError as error:
        raise UsageError(str(error)) from error
    except ImportError as error:
        raise UsageError(f"the {args.model!r} model is not available in this version: {error}") from error
    return model, batch


def _task_options(args: argparse.Namespace) -> dict[str, Any]:
    if args.corpus is not None:
        if (args.task or "chars") != "chars":
            raise UsageError("--corpus applies to --task chars only")
        return {"corpus": args.corpus}
    return {}


def _use_colour(choice: str, stream: TextIO) -> bool:
    if choice != "auto":
        return choice == "always"
    return stream.isatty() and not os.environ.get("NO_COLOR")


def run(args: argparse.Namespace) -> int:
    from rnnscope.engine.gradcheck import GradcheckCancelled, PrecisionError, Thresholds, check_gradients
    from rnnscope.report import ReportError, format_for, render, to_text, write_report

    try:
        if args.ok > args.fail:
            raise UsageError(f"--ok ({args.ok:g}) must not exceed --fail ({args.fail:g})")
        if args.output is not None:
            fmt = format_for(args.output, args.format)
        else:
            fmt = args.format
        model, batch = _build(args)
        thresholds = Thresholds(ok=args.ok, fail=args.fail, floor=args.floor, kink=args.kink)
        progress = ProgressBar(
            sys.stderr,
            enabled=not args.quiet
            and (args.progress == "always" or (args.progress == "auto" and sys.stderr.isatty())),
            delay=0.0 if args.progress == "always" else 0.5,
        )
        try:
            result = check_gradients(
                model,
                batch.inputs,
                batch.targets,
                batch.mask,
                mode=args.mode,
                samples=args.samples,
                directions=args.directions,
                seed=args.seed,
                step=args.step,
                relative_step=not args.absolute_step,
                thresholds=thresholds,
                upcast=args.upcast,
                progress=progress,
                engine=args.engine,
                parameters=args.parameters,
            )
        finally:
            progress.close()
    except (UsageError, PrecisionError, ReportError, ValueError) as error:
        print(f"rnnscope gradcheck: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except GradcheckCancelled:  # pragma: no cover - the command never cancels
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("\nrnnscope gradcheck: interrupted", file=sys.stderr)
        return 130
    if args.output is not None:
        try:
            write_report(result, args.output, fmt)
        except ReportError as error:
            print(f"rnnscope gradcheck: error: {error}", file=sys.stderr)
            return EXIT_USAGE
    if not args.quiet:
        if args.output is None and fmt is not None:
            sys.stdout.write(render(result, fmt))
        else:
            sys.stdout.write(to_text(result, colour=_use_colour(args.colour, sys.stdout)))
            if args.output is not None:
                sys.stdout.write(f"report written to {args.output} ({fmt})\n")
    return EXIT_FAILED if result.failed else EXIT_OK
