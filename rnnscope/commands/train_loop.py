"""The iterations of ``rnnscope train``: samples, periodic saves that never end a run, divergence, Ctrl-C.

A periodic save that fails (a full disk, a folder made read-only, a path that became a
directory) is a warning: training goes on, and :class:`Saves` remembers it so that the
command ends with :data:`~rnnscope.commands.argtypes.EXIT_SAVE_FAILED`. A diverging
iteration (:class:`~rnnscope.engine.training.DivergenceError`) stops the run without
saving over the newest good checkpoint.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Callable
from dataclasses import dataclass
from types import FrameType
from typing import Any

import numpy as np

from rnnscope.commands.argtypes import EXIT_DIVERGED, EXIT_FAILED, EXIT_INTERRUPTED
from rnnscope.commands.train_progress import Progress
from rnnscope.commands.train_setup import Setup
from rnnscope.engine.checkpoint import CheckpointError, save_checkpoint
from rnnscope.engine.protocol import UserCodeError, user_code
from rnnscope.engine.tasks import sample_text
from rnnscope.engine.training import DivergenceError, TrainingError


@dataclass
class Saves:
    """The run's checkpoint ``path`` (``None``: none), and how saving it has gone.

    ``good`` is the newest checkpoint known to be intact on disk -- ``(path, iteration)``:
    the resumed file at first, then every successful save -- and ``failed`` counts saves
    that could not be written.
    """

    path: str | None
    good: tuple[str, int] | None = None
    attempted: int = 0
    failed: int = 0

    def save(self, setup: Setup, progress: Progress) -> bool:
        """Save the run now; a failure is a warning on stderr and ``False``, never an exception."""
        if self.path is None:
            return False
        trainer = setup.trainer
        self.attempted += 1
        try:
            written = save_checkpoint(self.path, trainer.model, trainer=trainer, task=setup.task)
        except CheckpointError as error:
            self.failed += 1
            progress.clear()
            print(
                f"rnnscope train: warning: the checkpoint at iteration {trainer.iteration} was not saved "
                f"({error.problem}); training goes on, {self.describe_good()}",
                file=sys.stderr,
            )
            return False
        self.good = (written, trainer.iteration)
        return True

    def describe_good(self) -> str:
        """``"the newest good checkpoint is iteration 40 in run.npz"`` (or that there is none)."""
        if self.good is None:
            return "no checkpoint has been saved"
        path, iteration = self.good
        return f"the newest good checkpoint is iteration {iteration} in {path}"


class Interrupt:
    """First Ctrl-C: ask the loop to stop after this iteration. Second: stop at once."""

    def __init__(self) -> None:
        self.requested = False
        self.previous: Callable[[int, FrameType | None], Any] | int | None = None

    def __enter__(self) -> Interrupt:
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


def train(
    setup: Setup, args: argparse.Namespace, progress: Progress, interrupt: Interrupt, saves: Saves
) -> int | None:
    """Train to ``--iters`` or a first Ctrl-C; the exit status when the run cannot go on, else ``None``."""
    try:
        with user_code():  # an exception in a user's model code: its own frames only
            _steps(setup, args, progress, interrupt, saves)
    except DivergenceError as error:
        return _diverged(error, saves, progress)
    except (TrainingError, UserCodeError, MemoryError) as error:
        progress.clear()
        what = "out of memory" if isinstance(error, MemoryError) else str(error)
        print(
            f"rnnscope train: training failed at iteration {setup.trainer.iteration}: {what}", file=sys.stderr
        )
        print(f"rnnscope train: {saves.describe_good()}", file=sys.stderr)
        return EXIT_FAILED
    except KeyboardInterrupt:
        progress.clear()
        print("rnnscope train: stopped at once (second Ctrl-C); nothing saved", file=sys.stderr)
        return EXIT_INTERRUPTED
    return None


def _steps(
    setup: Setup, args: argparse.Namespace, progress: Progress, interrupt: Interrupt, saves: Saves
) -> None:
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
            saves.save(setup, progress)


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


def _diverged(error: DivergenceError, saves: Saves, progress: Progress) -> int:
    progress.clear()
    print(f"rnnscope train: training diverged: {error}", file=sys.stderr)
    print(f"rnnscope train: nothing was saved over it; {saves.describe_good()}", file=sys.stderr)
    if error.divergence.reason == "exploding loss":
        print(
            "rnnscope train: --divergence-factor F allows a loss up to F times the running median; "
            "--allow-divergence trains on regardless",
            file=sys.stderr,
        )
    return EXIT_DIVERGED
