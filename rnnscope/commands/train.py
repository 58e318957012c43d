"""``rnnscope train``: train a model headless, with a progress bar, checkpoints and resumption.

    rnnscope train --model lstm --task chars --data data/lighthouse.txt --iters 5000 \\
        --checkpoint out.npz [--resume out.npz]

``--iters`` is the *total* number of iterations: resuming a run saved at
iteration 2,300 with ``--iters 5000`` trains 2,700 more, so the same command
line (plus ``--resume``) finishes an interrupted run. Ctrl-C stops after the
current iteration, saves the checkpoint and exits with status 130; a second
Ctrl-C stops at once (the previous checkpoint file is never damaged: saves are
atomic). A periodic save that fails is a warning and training goes on. A loss
that stops being finite, or explodes past ``--divergence-factor`` times its
running median, stops the run without saving over the newest good checkpoint
(``--allow-divergence`` trains on past an exploding loss). Before anything is
built, the memory one iteration needs is estimated and the run refused when this
machine does not have it. Progress goes to stderr (one line redrawn in place on
a terminal, periodic lines otherwise); text samples and the summary go to stdout.

Exit status (the first that applies, in this order): 130 interrupted (after
saving), 4 diverged, 1 training failed (e.g. out of memory), 3 a checkpoint
could not be saved (the run itself finished), 2 usage error (bad options, a bad
checkpoint, work too large for this machine), 0 done.
"""

from __future__ import annotations

import argparse
import math
import sys

from rnnscope.commands.argtypes import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_SAVE_FAILED,
    EXIT_USAGE,
    UsageError,
    factor,
    nonnegative_float,
    positive_float,
    unit_float,
)
from rnnscope.commands.train_loop import Interrupt, Saves, train
from rnnscope.commands.train_progress import PROGRESS_MODES, Progress
from rnnscope.commands.train_setup import Setup, set_up
from rnnscope.engine import limits as sizes
from rnnscope.engine.models.config import CUSTOM_KIND
from rnnscope.engine.protocol import UserCodeError, user_code
from rnnscope.engine.tasks import TASK_NAMES, uniform_bits_per_character
from rnnscope.engine.training import DEFAULT_FACTOR, OPTIMIZER_NAMES, evaluate
from rnnscope.options import add_model_arguments, size_type


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.description = (
        "Train a model headless. --iters is the total iteration count: with --resume, training\n"
        "continues from the checkpoint's iteration up to it. Ctrl-C saves and exits (status 130).\n"
        "Exit status: 0 done, 1 failed, 2 usage error, 3 a checkpoint could not be saved,\n"
        "4 diverged, 130 interrupted.\n\n"
        "examples:\n"
        "  rnnscope train --model lstm --task chars --data data/lighthouse.txt --iters 5000 \\\n"
        "      --checkpoint out.npz --sample-every 500\n"
        "  rnnscope train --resume out.npz --iters 10000\n"
        "  rnnscope train --model-file examples/cs231n_lstm.py --iters 500 --checkpoint mine.npz"
    )
    add_model_arguments(
        parser.add_argument_group("model (with --resume: must match the saved model)"), model_file=True
    )
    _add_data_arguments(parser.add_argument_group("data"))
    _add_optimiser_arguments(parser.add_argument_group("optimiser"))
    _add_run_arguments(parser.add_argument_group("run"))


def _add_data_arguments(data: argparse._ArgumentGroup) -> None:
    data.add_argument("--task", choices=TASK_NAMES, help="task (default: chars, or the checkpoint's)")
    data.add_argument(
        "--data", metavar="PATH", help=f"chars task: a UTF-8 text file (at most {sizes.CORPUS.high:,} bytes)"
    )
    data.add_argument("--corpus", help="chars task: a shipped corpus (lighthouse, arithmetic, toycode)")
    data.add_argument("--batch", type=size_type(sizes.BATCH), help="sequences per batch B (default: 16)")
    data.add_argument(
        "--seq-len",
        type=size_type(sizes.LENGTH),
        help="steps per chunk T, the truncated-BPTT length for text (default: 25)",
    )


def _add_optimiser_arguments(optimiser: argparse._ArgumentGroup) -> None:
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
    optimiser.add_argument(
        "--divergence-factor",
        type=factor,
        metavar="F",
        help=f"stop when the loss exceeds F times its running median (default: {DEFAULT_FACTOR:g})",
    )
    optimiser.add_argument(
        "--allow-divergence",
        action="store_true",
        help="train on past an exploding loss (a non-finite one still stops the run)",
    )


def _add_run_arguments(run: argparse._ArgumentGroup) -> None:
    run.add_argument(
        "--iters", type=size_type(sizes.ITERATIONS), required=True, help="total iterations to reach"
    )
    run.add_argument("--checkpoint", metavar="PATH", help="save here (at the end, on Ctrl-C, periodically)")
    run.add_argument(
        "--checkpoint-every",
        type=size_type(sizes.EVERY),
        default=0,
        metavar="K",
        help="also save every K iterations",
    )
    run.add_argument(
        "--resume",
        metavar="PATH",
        help="continue from this checkpoint (saved back to it without --checkpoint)",
    )
    run.add_argument(
        "--sample-every",
        type=size_type(sizes.EVERY),
        default=0,
        metavar="N",
        help="char models: print a sample every N",
    )
    run.add_argument("--sample-length", type=size_type(sizes.TEXT), default=200, help="characters per sample")
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
    saves = Saves(setup.checkpoint_path, setup.resumed_from)
    with Interrupt() as interrupt:
        stopped = train(setup, args, progress, interrupt, saves)
        if stopped is not None:
            return stopped
        try:
            saves.save(setup, progress)
        except KeyboardInterrupt:  # a second Ctrl-C during the final save: the old file is intact
            progress.clear()
            print("rnnscope train: save interrupted; the previous checkpoint is intact", file=sys.stderr)
            return EXIT_INTERRUPTED
    progress.clear()
    if interrupt.requested:
        return _report_interruption(args, setup, saves)
    if not args.quiet:
        _report_scores(setup, saves)
    return _report_saves(saves)


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


def _report_interruption(args: argparse.Namespace, setup: Setup, saves: Saves) -> int:
    iteration = setup.trainer.iteration
    saved = saves.good is not None and saves.good[1] == iteration
    where = (
        f"; saved to {saves.good[0]}" if saves.good is not None and saved else f"; {saves.describe_good()}"
    )
    print(f"rnnscope train: interrupted at iteration {iteration}{where}", file=sys.stderr)
    if saves.good is not None:
        print(f"continue with: rnnscope train --resume {saves.good[0]} --iters {args.iters}", file=sys.stderr)
    return EXIT_INTERRUPTED


def _report_saves(saves: Saves) -> int:
    """Exit status 3 (and why) when any save failed, else 0."""
    if not saves.failed:
        return EXIT_OK
    failed = f"{saves.failed} of {saves.attempted} checkpoint save(s) failed"
    print(f"rnnscope train: {failed}; {saves.describe_good()}", file=sys.stderr)
    return EXIT_SAVE_FAILED


def _report_scores(setup: Setup, saves: Saves) -> None:
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
    if saves.good is not None and saves.good[1] == trainer.iteration:
        print(f"checkpoint saved to {saves.good[0]}")
