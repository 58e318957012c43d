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
import signal
import sys
from collections.abc import Callable
from types import FrameType
from typing import Any

import numpy as np

from rnnscope.commands.argtypes import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
    UsageError,
    natural,
    nonnegative_float,
    positive,
    positive_float,
    unit_float,
)
from rnnscope.commands.train_progress import PROGRESS_MODES, Progress
from rnnscope.commands.train_setup import Setup, set_up
from rnnscope.engine import limits as sizes
from rnnscope.engine.checkpoint import CheckpointError, save_checkpoint
from rnnscope.engine.models.config import CUSTOM_KIND
from rnnscope.engine.protocol import UserCodeError, user_code
from rnnscope.engine.tasks import TASK_NAMES, sample_text, uniform_bits_per_character
from rnnscope.engine.training import OPTIMIZER_NAMES, Trainer, TrainingError, evaluate
from rnnscope.options import add_model_arguments, size_type


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a model headless. --iters is the total iteration count: with --resume, training\n"
        "continues from the checkpoint's iteration up to it. Ctrl-C saves and exits (status 130).\n\n"
        "examples:\n"
        "  rnnscope train --model lstm --task chars --data data/lighthouse.txt --iters 5000 \\\n"
        "      --checkpoint out.npz --sample-every 500\n"
        "  rnnscope train --resume out.npz --iters 10000\n"
        "  rnnscope train --model-file examples/cs231n_lstm.py --iters 500 --checkpoint mine.npz"
    )
    model = parser.add_argument_group("model (with --resume: must match the saved model)")
    add_model_arguments(model, model_file=True)
    data = parser.add_argument_group("data")
    data.add_argument("--task", choices=TASK_NAMES, help="task (default: chars, or the checkpoint's)")
    data.add_argument("--data", metavar="PATH", help="chars task: a UTF-8 text file to train on")
    data.add_argument("--corpus", help="chars task: a shipped corpus (lighthouse, arithmetic, toycode)")
    data.add_argument("--batch", type=size_type(sizes.BATCH), help="sequences per batch B (default: 16)")
    data.add_argument(
        "--seq-len",
        type=size_type(sizes.LENGTH),
        help="steps per chunk T, the truncated-BPTT length for text (default: 25)",
    )

    optimiser = parser.add_argument_group("optimiser")
    optimiser.add_argument(
        "--optimizer",
        "--optimiser",
        choices=OPTIMIZER_NAMES,
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
        choices=PROGRESS_MODES,
        default="auto",
        help="stderr progress: bar (redrawn in place), lines (periodic), auto = bar on a terminal",
    )
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")


# ---------------------------------------------------------------------- the run
def run(args: argparse.Namespace) -> int:
    """Set up (or resume), train with progress until ``--iters`` or Ctrl-C, save, and report."""
    setup = _set_up_or_report(args)
    if setup is None:
        return EXIT_USAGE
    trainer = setup.trainer
    progress = _start_progress(args, setup)
    if trainer.iteration >= args.iters:
        if not args.quiet:
            print(f"already at iteration {trainer.iteration} (>= --iters {args.iters}); nothing to do")
        return EXIT_OK
    with _Interrupt() as interrupt:
        failed = _train(setup, args, progress, interrupt)
        if failed is not None:
            return failed
        interrupted = interrupt.requested
        try:
            saved = _save(setup, progress)
        except (CheckpointError, KeyboardInterrupt) as error:
            return _save_failed(error, progress)
    progress.clear()
    if interrupted:
        return _report_interruption(args, trainer, saved)
    if not args.quiet:
        _report_scores(setup, saved)
    return EXIT_OK


def _set_up_or_report(args: argparse.Namespace) -> Setup | None:
    """The run to train, or ``None`` once the problem with the options is printed."""
    try:
        with user_code():  # an exception in a user's model code: its own frames only
            return set_up(args)
    except (UsageError, ValueError, UserCodeError) as error:  # task, optimiser, checkpoint: ValueErrors
        print(f"rnnscope train: error: {error}", file=sys.stderr)
        return None


def _start_progress(args: argparse.Namespace, setup: Setup) -> Progress:
    """The progress display, after the notes of a resume and what is being trained."""
    mode = "never" if args.quiet else args.progress
    if mode == "auto":
        mode = "bar" if sys.stderr.isatty() else "lines"
    trainer = setup.trainer
    progress = Progress(sys.stderr, mode, trainer.iteration, args.iters)
    for note in setup.notes:
        progress.message(f"note: {note}")
    if trainer.iteration < args.iters:
        progress.message(("resuming " if args.resume else "training ") + _describe(setup))
    return progress


def _describe(setup: Setup) -> str:
    trainer = setup.trainer
    config = trainer.model.config
    name = type(trainer.model).__name__ if config.kind == CUSTOM_KIND else config.kind
    return (
        f"{name} H={config.hidden_size} on {setup.task.description}; "
        f"{trainer.optimizer!r}, B={trainer.batch_size} T={trainer.seq_len}, "
        f"clip {trainer.clip_norm or 'off'}"
    )


class _Interrupt:
    """First Ctrl-C: ask the loop to stop after this iteration. Second: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> _Interrupt:
        try:
            self.previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C cannot reach us anyway
            self.previous = None
        return self

    def _handle(self, signum: int, frame: FrameType | None) -> None:
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)


def _train(setup: Setup, args: argparse.Namespace, progress: Progress, interrupt: _Interrupt) -> int | None:
    """Train to ``--iters`` or a first Ctrl-C; the exit status when training cannot go on."""
    try:
        with user_code():
            _train_steps(setup, args, progress, interrupt)
    except (TrainingError, UserCodeError) as error:
        progress.clear()
        print(f"rnnscope train: training failed: {error}", file=sys.stderr)
        if setup.checkpoint_path:
            print(f"the last checkpoint saved (if any) is {setup.checkpoint_path}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress.clear()
        print("rnnscope train: stopped at once (second Ctrl-C); nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    return None


def _train_steps(setup: Setup, args: argparse.Namespace, progress: Progress, interrupt: _Interrupt) -> None:
    """The iterations, with the samples and periodic checkpoints that fall due."""
    trainer = setup.trainer
    sample = _sampler(setup, args)
    while trainer.iteration < args.iters and not interrupt.requested:
        stats = trainer.step()
        progress.update(stats)
        if sample is not None and stats.iteration % args.sample_every == 0:
            text = sample()
            progress.clear()
            print(f"--- sample at iteration {stats.iteration} ---\n{text}", flush=True)
        if args.checkpoint_every and stats.iteration % args.checkpoint_every == 0:
            _save(setup, progress)


def _sampler(setup: Setup, args: argparse.Namespace) -> Callable[[], str] | None:
    """``--sample-every``'s text samples of the model being trained (``None``: no samples)."""
    if not args.sample_every or args.quiet:
        return None
    trainer, vocab = setup.trainer, setup.task.vocab
    rng = np.random.default_rng(trainer.seed + trainer.iteration)

    def sample() -> str:
        return sample_text(
            trainer.model, vocab, "", args.sample_length, temperature=args.temperature, rng=rng
        )

    return sample


def _save(setup: Setup, progress: Progress) -> str | None:
    """Save the run to its checkpoint path (``None``: no path was given)."""
    if setup.checkpoint_path is None:
        return None
    trainer = setup.trainer
    return save_checkpoint(setup.checkpoint_path, trainer.model, trainer=trainer, task=setup.task)


def _save_failed(error: BaseException, progress: Progress) -> int:
    progress.clear()
    if isinstance(error, KeyboardInterrupt):
        print("rnnscope train: save interrupted; the previous checkpoint is intact", file=sys.stderr)
        return EXIT_INTERRUPTED
    print(f"rnnscope train: error: {error}", file=sys.stderr)
    return EXIT_USAGE


def _report_interruption(args: argparse.Namespace, trainer: Trainer, saved: str | None) -> int:
    where = f"; saved to {saved}" if saved else " (no --checkpoint: nothing saved)"
    print(f"rnnscope train: interrupted at iteration {trainer.iteration}{where}", file=sys.stderr)
    if saved:
        print(f"continue with: rnnscope train --resume {saved} --iters {args.iters}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _report_scores(setup: Setup, saved: str | None) -> None:
    """The trained model's scores on evaluation batches (stdout), and where it was saved."""
    trainer, task = setup.trainer, setup.task
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
