"""The training panel's settings as plain data, the parsers of its text fields, and the default trainer."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks import sample_text
from rnnscope.engine.tasks.base import Task
from rnnscope.engine.training import Trainer, build_optimizer

OPTIMISERS = ("adagrad", "sgd", "rmsprop", "adam")  # in the order the panel offers them
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "adagrad": 0.1, "rmsprop": 1e-3, "adam": 2e-3}
# which settings each optimiser takes (the others are greyed out)
USES_MOMENTUM = {"sgd": True, "adagrad": False, "rmsprop": True, "adam": False}
SAMPLE_LENGTH = 200


@dataclass
class TrainingSettings:
    """What the panel's controls say, as plain data (see :meth:`TrainingPanel.settings`)."""

    optimiser: str = "adagrad"
    learning_rate: float = 0.1
    momentum: float = 0.0
    clip_norm: float = 5.0  # global gradient-norm clipping; 0 = off
    batch_size: int = 16
    length: int = 25  # T: steps per chunk (truncated BPTT length for text)
    iterations: int = 0  # 0 = until stopped
    sample_every: int = 200  # char models: a text sample every this many iterations; 0 = never
    snapshot_every: int = 0  # keep a weight copy every K iterations; 0 = never
    temperature: float = 0.8
    seed: int = 0

    def optimiser_options(self) -> dict[str, float]:
        options = {"lr": self.learning_rate}
        if USES_MOMENTUM.get(self.optimiser) and self.momentum > 0:
            options["momentum"] = self.momentum
        return options

    @property
    def clip(self) -> float | None:
        """The trainer's ``clip_norm``: ``None`` (off) for 0."""
        return self.clip_norm if self.clip_norm > 0 else None


TrainerFactory = Callable[[RecurrentModel, Task, TrainingSettings], Trainer]


def engine_trainer(model: RecurrentModel, task: Task, settings: TrainingSettings) -> Trainer:
    """A :class:`rnnscope.engine.training.Trainer` for ``model`` on ``task`` with ``settings``."""
    optimizer = build_optimizer(settings.optimiser, **settings.optimiser_options())
    return Trainer(
        model,
        task,
        optimizer,
        batch_size=settings.batch_size,
        seq_len=settings.length,
        clip_norm=settings.clip,
        seed=settings.seed,
    )


def text_sampler(task: Task | None, settings: TrainingSettings) -> Callable[[RecurrentModel], str] | None:
    """Samples of ``SAMPLE_LENGTH`` characters at the settings' temperature (character tasks only)."""
    vocab = task.vocab if task is not None else None
    if vocab is None or settings.sample_every <= 0:
        return None
    rng = np.random.default_rng(settings.seed)

    def sample(model: RecurrentModel) -> str:
        return sample_text(model, vocab, "", SAMPLE_LENGTH, temperature=settings.temperature, rng=rng)

    return sample


def positive_float(text: str, what: str) -> float:
    """``text`` as a number > 0, or a ``ValueError`` naming ``what``."""
    value = float_in(text, what, 0.0, math.inf)
    if value <= 0:
        raise ValueError(f"{what} must be positive, got {text!r}")
    return value


def float_in(text: str, what: str, low: float, high: float) -> float:
    """``text`` as a number in ``low..high`` (finite, or infinite when ``high`` is), else a ``ValueError``."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not (math.isfinite(value) or high == math.inf and value == math.inf) or not low <= value <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g}, got {text!r}")
    return value
