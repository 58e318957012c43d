"""``rnnscope train``: train a model headless, with a progress bar, checkpoints and resumption.

    rnnscope train --model lstm --task chars --data data/lighthouse.txt --iters 5000 \\
        --checkpoint out.npz [--resume out.npz]

``--iters`` is the *total* number of iterations: resuming a run saved at
iteration 2,300 with ``--iters 5000`` trains 2,700 more, so the same command
line (plus ``--resume``) finishes an interrupted run. Ctrl-C stops after the
current iteration, saves the checkpoint and exits with status 130; a second
Ctrl-C stops at once (the previous checkpoint file is never damaged: saves are
atomic). Progress goes to stderr (one line redrawn in place on a terminal,
periodic lines otherwise); text samples and the summary go to stdout.

Exit status: 0 done, 1 training failed (a non-finite loss), 2 usage error,
130 interrupted (after saving).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import sys
import time
from dataclasses import dataclass
from typing import Any, TextIO

from rnnscope.commands.argtypes import (
    UsageError,
    natural,
    nonnegative_float,
    positive,
    positive_float,
    unit_float,
)
from rnnscope.engine.models.base import MODEL_KINDS

TASKS = ("chars", "copy", "repeat_copy", "recall", "sine", "sentiment")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
DEFAULTS = {"model": "lstm", "hidden": 128, "batch": 16, "seq_len": 25, "optimizer": "adagrad", "clip": 5.0}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a model headless. --iters is the total iteration count: with --resume, training\n"
        "continues from the checkpoint's iteration up to it. Ctrl-C saves and exits (status 130).\n\n"
        "examples:\n"
        "  rnnscope train --model lstm --task chars --data data/lighthouse.txt --iters 5000 \\\n"
        "      --checkpoint out.npz --sample-every 500\n"
        "  rnnscope train --resume out.npz --iters 10000"
    )
    model = parser.add_argument_group("model and data")
    model.add_argument("--model", choices=MODEL_KINDS, help="model kind (default: lstm)")
    model.add_argument("--hidden", type=positive, help="hidden units H (default: 128)")
    model.add_argument("--task", choices=TASKS, help="task (default: chars, or the checkpoint's)")
    model.add_argument("--data", metavar="PATH", help="chars task: a UTF-8 text file to train on")
    model.add_argument("--corpus", help="chars task: a shipped corpus (lighthouse, arithmetic, toycode)")
    model.add_argument("--batch", type=positive, help="sequences per batch B (default: 16)")
    model.add_argument(
        "--seq-len",
        type=positive,
        help="steps per chunk T, the truncated-BPTT length for text (default: 25)",
    )
    model.add_argument("--seed", type=natural, help="seeds the initial weights and the batches (default: 0)")

    optimiser = parser.add_argument_group("optimiser")
    optimiser.add_argument(
        "--optimizer",
        "--optimiser",
        choices=("sgd", "adagrad", "rmsprop", "adam"),
        help="default: adagrad, or the checkpoint's",
    )
    optimiser.add_argument("--lr", type=positive_float, help="learning rate (default: the optimiser's)")
    optimiser.add_argument("--momentum", type=unit_float, help="momentum (sgd, rmsprop)")
    optimiser.add_argument(
        "--clip", type=nonnegative_float, help="global gradient-norm clipping, 0 = off (default: 5)"
    )
    optimiser.add_argument(
        "--clip-value", type=positive_float, help="also clip every gradient element to [-v, v]"
    )

    run = parser.add_argument_group("run")
    run.add_argument("--iters", type=positive, required=True, help="total iterations to reach")
    run.add_argument("--checkpoint", metavar="PATH", help="save here (at the end, on Ctrl-C, periodically)")
    run.add_argument(
        "--checkpoint-every", type=natural, default=0, metavar="K", help="also save every K iterations"
    )
    run.add_argument(
        "--resume",
        metavar="PATH",
        help="continue from this checkpoint (saved back to it without --checkpoint)",
    )
    run.add_argument(
        "--sample-every", type=natural, default=0, metavar="N", help="char models: print a sample every N"
    )
    run.add_argument("--sample-length", type=positive, default=200, help="characters per sample")
    run.add_argument("--temperature", type=positive_float, default=0.8, help="sampling temperature")
    run.add_argument(
        "--progress",
        choices=("auto", "bar", "lines", "never"),
        default="auto",
        help="stderr progress: bar (redrawn in place), lines (periodic), auto = bar on a terminal",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")


# ---------------------------------------------------------------------- progress
class Progress:
    """Training progress on ``stream``: a bar redrawn in place (``bar``) or periodic lines (``lines``).

    Shows the iteration, the mean loss (and bits per char or accuracy) since the
    last report, the throughput over that stretch and the time left.
    """

    def __init__(self, stream: TextIO, mode: str, start: int, total: int) -> None:
        self.stream = stream
        self.mode = mode
        self.start = start
        self.total = total
        self.every = max(1, (total - start) // 20)
        self.begun = self.last_time = time.perf_counter()
        self.last_draw = 0.0
        self.window: list[Any] = []
        self.drawn = False
        self.line = ""

    def update(self, stats: Any) -> None:
        if self.mode == "never":
            return
        self.window.append(stats)
        now = time.perf_counter()
        final = stats.iteration >= self.total
        if self.mode == "bar":
            if now - self.last_draw >= 0.1 or final:
                self._draw(self._text(stats, now), newline=False)
                self.last_draw = now
        elif (stats.iteration - self.start) % self.every == 0 or final:
            self._draw(self._text(stats, now), newline=True)
        if self.mode == "lines" and ((stats.iteration - self.start) % self.every == 0 or final):
            self.window = []
        elif self.mode == "bar" and len(self.window) >= 50:
            self.window = self.window[-25:]

    def _text(self, stats: Any, now: float) -> str:
        window = self.window or [stats]
        loss = sum(s.loss_per_step for s in window) / len(window)
        parts = [f"iteration {stats.iteration}/{self.total}", f"loss {loss:.4f}"]
        bpc = [s.bits_per_char for s in window if s.bits_per_char is not None]
        accuracy = [s.accuracy for s in window if s.accuracy is not None]
        if bpc:
            parts.append(f"{sum(bpc) / len(bpc):.3f} bits/char")
        elif accuracy:
            parts.append(f"accuracy {sum(accuracy) / len(accuracy):.3f}")
        parts.append(f"|g| {stats.grad_norm:.3g}")
        seconds = sum(s.seconds for s in window)
        chars = sum(s.chars for s in window)
        if seconds > 0:
            parts.append(f"{chars / seconds:,.0f} chars/s")
        done = stats.iteration - self.start
        elapsed = now - self.begun
        if 0 < done < self.total - self.start:
            left = elapsed / done * (self.total - stats.iteration)
            parts.append(f"{_clock(left)} left")
        fraction = (stats.iteration - self.start) / max(self.total - self.start, 1)
        if self.mode == "bar":
            filled = int(20 * fraction)
            return f"[{'#' * filled}{'.' * (20 - filled)}] " + ", ".join(parts)
        return f"{fraction:4.0%} " + ", ".join(parts)

    def _draw(self, text: str, newline: bool) -> None:
        if newline:
            self.stream.write(text + "\n")
        else:
            pad = " " * max(len(self.line) - len(text), 0)
            self.stream.write("\r" + text + pad)
            self.drawn = True
        self.line = text
        self.stream.flush()

    def clear(self) -> None:
        """Move past the bar (before other output, and at the end)."""
        if self.drawn:
            self.stream.write("\n")
            self.stream.flush()
            self.drawn = False

    def message(self, text: str) -> None:
        self.clear()
        if self.mode != "never":
            self.stream.write(text + "\n")
            self.stream.flush()


def _clock(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, seconds = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{seconds:02d}" if hours else f"{minutes}:{seconds:02d}"


# ---------------------------------------------------------------------- set-up
@dataclass
class Setup:
    trainer: Any
    task: Any
    checkpoint_path: str | None
    notes: list[str]


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


def _build_task(args: argparse.Namespace, seed: int) -> Any:
    from rnnscope.engine.tasks import build_task

    options = _task_options(args) or {}
    return build_task(args.task or "chars", seed=seed, **options)


def _optimizer(name: str, args: argparse.Namespace) -> Any:
    from rnnscope.engine.training import build_optimizer, optimizer_defaults

    options: dict[str, float] = {}
    if args.lr is not None:
        options["lr"] = args.lr
    if args.momentum is not None:
        if "momentum" not in optimizer_defaults(name):
            raise UsageError(f"--momentum applies to sgd and rmsprop, not {name}")
        options["momentum"] = args.momentum
    return build_optimizer(name, **options)


def _fresh(args: argparse.Namespace) -> Setup:
    from rnnscope.engine.models import build_model
    from rnnscope.engine.training import Trainer

    seed = 0 if args.seed is None else args.seed
    task = _build_task(args, seed)
    kind = args.model or DEFAULTS["model"]
    config = task.model_config(kind, args.hidden or DEFAULTS["hidden"], seed=seed)
    model = build_model(config)
    clip = DEFAULTS["clip"] if args.clip is None else args.clip
    trainer = Trainer(
        model,
        task,
        _optimizer(args.optimizer or DEFAULTS["optimizer"], args),
        batch_size=args.batch or DEFAULTS["batch"],
        seq_len=args.seq_len or DEFAULTS["seq_len"],
        clip_norm=clip or None,
        clip_value=args.clip_value,
        seed=seed,
    )
    return Setup(trainer, task, args.checkpoint, [])


def _resumed(args: argparse.Namespace) -> Setup:
    from rnnscope.engine.checkpoint import CheckpointError, load_checkpoint
    from rnnscope.engine.training import Trainer

    try:
        checkpoint = load_checkpoint(args.resume)
    except CheckpointError as error:
        raise UsageError(f"cannot resume: {error}") from None
    config = checkpoint.config
    if args.model is not None and args.model != config.kind:
        raise UsageError(f"--model {args.model} does not match the checkpoint's {config.kind} model")
    if args.hidden is not None and args.hidden != config.hidden_size:
        raise UsageError(f"--hidden {args.hidden} does not match the checkpoint's H={config.hidden_size}")
    saved = checkpoint.trainer_state or {}
    seed = args.seed if args.seed is not None else int(saved.get("seed", 0))
    if args.task is not None or _task_options(args) is not None:
        task = _build_task(args, seed)
    else:
        task = checkpoint.task
        if task is None:
            raise UsageError(
                f"the checkpoint's task ({checkpoint.task_name or 'none recorded'} "
                f"{checkpoint.task_options or ''}) cannot be rebuilt here; give --task / --data / --corpus"
            )
    if (task.input_size, task.output_size) != (config.input_size, config.output_size):
        raise UsageError(
            f"the checkpoint's model has D={config.input_size}, O={config.output_size}, but the "
            f"{task.name!r} task needs D={task.input_size}, O={task.output_size}"
        )
    if args.clip is not None:
        clip = args.clip or None
    else:
        clip = saved.get("clip_norm", DEFAULTS["clip"]) if saved else DEFAULTS["clip"]
    name = args.optimizer or checkpoint.optimizer_name or DEFAULTS["optimizer"]
    optimizer = _optimizer(name, args)
    trainer = Trainer(
        checkpoint.model,
        task,
        optimizer,
        batch_size=args.batch or int(saved.get("batch_size") or DEFAULTS["batch"]),
        seq_len=args.seq_len or int(saved.get("seq_len") or DEFAULTS["seq_len"]),
        clip_norm=clip,
        clip_value=args.clip_value if args.clip_value is not None else saved.get("clip_value"),
        seed=seed,
    )
    notes = trainer.restore(checkpoint)
    # options given on the command line win over the saved hyperparameters
    if args.lr is not None:
        optimizer.lr = args.lr
    if args.momentum is not None:
        optimizer.momentum = args.momentum
    return Setup(trainer, task, args.checkpoint or args.resume, notes)


# ---------------------------------------------------------------------- the run
class _Interrupt:
    """First Ctrl-C: ask the loop to stop after this iteration. Second: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Any = None

    def __enter__(self) -> _Interrupt:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C cannot reach us anyway
            self.previous = None
        return self

    def _handle(self, signum: int, frame: Any) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: Any) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _save(setup: Setup, progress: Progress) -> str | None:
    from rnnscope.engine.checkpoint import save_checkpoint

    if setup.checkpoint_path is None:
        return None
    trainer = setup.trainer
    return save_checkpoint(setup.checkpoint_path, trainer.model, trainer=trainer, task=setup.task)


def _describe(trainer: Any) -> str:
    config = trainer.model.config
    return (
        f"{config.kind} H={config.hidden_size} on {trainer.task.description}; "
        f"{trainer.optimizer!r}, B={trainer.batch_size} T={trainer.seq_len}, "
        f"clip {trainer.clip_norm or 'off'}"
    )


def run(args: argparse.Namespace) -> int:
    from rnnscope.engine.checkpoint import CheckpointError
    from rnnscope.engine.tasks import TaskError, sample_text, uniform_bits_per_character
    from rnnscope.engine.training import OptimizerError, TrainingError, evaluate

    try:
        if args.checkpoint_every and not (args.checkpoint or args.resume):
            raise UsageError("--checkpoint-every needs --checkpoint PATH")
        setup = _resumed(args) if args.resume else _fresh(args)
        trainer, task = setup.trainer, setup.task
        if args.sample_every and task.vocab is None:
            raise UsageError(f"--sample-every needs a character task, not {task.name!r}")
        if setup.checkpoint_path is not None:
            directory = os.path.dirname(os.path.abspath(setup.checkpoint_path))
            if not os.path.isdir(directory):
                raise UsageError(f"cannot save checkpoints to {setup.checkpoint_path!r}: no such directory")
    except (UsageError, TaskError, OptimizerError, ValueError) as error:
        print(f"rnnscope train: error: {error}", file=sys.stderr)
        return EXIT_USAGE
    except ImportError as error:
        print(f"rnnscope train: error: the model is not available in this version: {error}", file=sys.stderr)
        return EXIT_USAGE

    mode = "never" if args.quiet else args.progress
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "lines"
    start = trainer.iteration
    progress = Progress(sys.stderr, mode, start, args.iters)
    for note in setup.notes:
        progress.message(f"note: {note}")
    if start >= args.iters:
        if not args.quiet:
            print(f"already at iteration {start} (>= --iters {args.iters}); nothing to do")
        return EXIT_OK
    progress.message(("resuming " if args.resume else "training ") + _describe(trainer))
    sample_rng = None
    if args.sample_every:
        import numpy as np

        sample_rng = np.random.default_rng(trainer.seed + start)
    status = EXIT_OK
    with _Interrupt() as interrupt:
        try:
            while trainer.iteration < args.iters and not interrupt.requested:
                stats = trainer.step()
                progress.update(stats)
                if args.sample_every and stats.iteration % args.sample_every == 0 and not args.quiet:
                    text = sample_text(
                        trainer.model,
                        task.vocab,
                        "",
                        args.sample_length,
                        temperature=args.temperature,
                        rng=sample_rng,
                    )
                    progress.clear()
                    print(f"--- sample at iteration {stats.iteration} ---\n{text}", flush=True)
                if args.checkpoint_every and stats.iteration % args.checkpoint_every == 0:
                    _save(setup, progress)
        except TrainingError as error:
            progress.clear()
            print(f"rnnscope train: training failed: {error}", file=sys.stderr)
            if setup.checkpoint_path:
                print(f"the last checkpoint saved (if any) is {setup.checkpoint_path}", file=sys.stderr)
            return EXIT_FAILED
        except KeyboardInterrupt:
            progress.clear()
            print("rnnscope train: stopped at once (second Ctrl-C); nothing saved", file=sys.stderr)
            return EXIT_INTERRUPTED
        if interrupt.requested:
            status = EXIT_INTERRUPTED
        try:
            saved = _save(setup, progress)
        except CheckpointError as error:
            progress.clear()
            print(f"rnnscope train: error: {error}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            progress.clear()
            print("rnnscope train: save interrupted; the previous checkpoint is intact", file=sys.stderr)
            return EXIT_INTERRUPTED
    progress.clear()
    if status == EXIT_INTERRUPTED:
        where = f"; saved to {saved}" if saved else " (no --checkpoint: nothing saved)"
        print(f"rnnscope train: interrupted at iteration {trainer.iteration}{where}", file=sys.stderr)
        if saved:
            print(f"continue with: rnnscope train --resume {saved} --iters {args.iters}", file=sys.stderr)
        return status
    if not args.quiet:
        scores = evaluate(trainer.model, task, batch_size=trainer.batch_size, seq_len=trainer.seq_len)
        parts = [f"loss {scores.get('loss_per_step', math.nan):.4f}/step"]
        if "bits_per_char" in scores:
            baseline = uniform_bits_per_character(task.vocab.size)
            parts.append(f"{scores['bits_per_char']:.3f} bits/char (uniform: {baseline:.3f})")
        if "accuracy" in scores:
            parts.append(f"accuracy {scores['accuracy']:.3f}")
        if "bit_error_rate" in scores:
            parts.append(f"bit error rate {scores['bit_error_rate']:.3f}")
        print(f"iteration {trainer.iteration}: " + ", ".join(parts) + " (evaluation batches)")
        if saved:
            print(f"checkpoint saved to {saved}")
    return status
