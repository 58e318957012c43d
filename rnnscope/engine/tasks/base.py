"""What every task is: a batch of time-major arrays and the object that makes them.

A :class:`Task` knows the shape of its data (``input_size``, ``output_size``),
which head scores it (``loss``, ``many_to_one``) and how to make batches:

* :meth:`Task.sample` draws a fresh :class:`Batch` from a random generator;
* :meth:`Task.stream` yields batches forever (consecutive chunks of a text for
  the character task, so the trainer can carry the state across them; fresh
  samples for every other task);
* :meth:`Task.model_config` gives a :class:`ModelConfig` whose sizes and loss
  fit the task;
* :meth:`Task.step_labels` names every step of a batch row for the views.

Every batch is reproducible: the same generator state gives the same batch.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.models.config import ModelConfig


class TaskError(ValueError):
    """A task was asked for something it cannot make (bad option, bad length, bad file)."""


@dataclass
class Batch:
    """One batch of sequences, time-major.

    ``inputs`` ``(T, B, D)`` float64; ``targets`` ``(T, B)`` int64 class indices
    (``softmax_ce``) or ``(T, B, O)`` float64 (``sigmoid_bce``, ``mse``);
    ``mask`` ``(T, B)`` float64 loss weight of every step (0 = not scored).
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray

    @property
    def steps(self) -> int:
        """``T``, the number of timesteps."""
        return int(self.inputs.shape[0])

    @property
    def batch_size(self) -> int:
        """``B``, the number of sequences."""
        return int(self.inputs.shape[1])

    def row(self, index: int) -> Batch:
        """Sequence ``index`` alone, as a batch of one (``B = 1``)."""
        if not 0 <= index < self.batch_size:
            raise IndexError(f"row {index} out of range for a batch of {self.batch_size}")
        window = slice(index, index + 1)
        return Batch(
            self.inputs[:, window].copy(), self.targets[:, window].copy(), self.mask[:, window].copy()
        )


def as_generator(rng: np.random.Generator | int | None, fallback: np.random.Generator) -> np.random.Generator:
    """``rng`` itself, a generator seeded with it (an int), or the task's own (``None``)."""
    if rng is None:
        return fallback
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, int | np.integer):
        return np.random.default_rng(int(rng))
    raise TaskError(f"rng must be a numpy Generator, an int seed or None, got {type(rng).__name__}")


def check_positive_int(name: str, value: Any, minimum: int = 1, maximum: int = limits.LENGTH.high) -> int:
    """``value`` as an int in ``minimum..maximum``, or a :class:`TaskError` naming ``name``.

    No size of a task goes past the longest sequence the engine takes
    (:data:`~rnnscope.engine.limits.LENGTH`) unless a caller says otherwise.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < minimum:
        raise TaskError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if value > maximum:
        raise TaskError(f"{name} must be at most {maximum:,}, got {int(value):,}")
    return int(value)


def check_range(low_name: str, low: Any, high_name: str, high: Any, minimum: int = 1) -> tuple[int, int]:
    """A valid integer range ``low <= high``, both at least ``minimum``."""
    low = check_positive_int(low_name, low, minimum)
    high = check_positive_int(high_name, high, minimum)
    if low > high:
        raise TaskError(f"{low_name} ({low}) must not exceed {high_name} ({high})")
    return low, high


class Task:
    """Base of every task. Subclasses set the attributes and implement :meth:`sample`.

    Attributes: ``name`` (one of ``TASK_NAMES``), ``input_size`` ``D``,
    ``output_size`` ``O``, ``loss`` (a head of :mod:`rnnscope.engine.heads`),
    ``many_to_one`` (score the last step only), ``vocab`` (character tasks),
    ``carries_state`` (``True`` when :meth:`stream` yields consecutive chunks, so
    the final state of one batch is the initial state of the next),
    ``default_length`` (what ``length=None`` means, if the task has a length),
    ``input_names`` / ``output_names`` (one label per input / output unit, for
    the views' axes), ``description`` (one line) and ``options`` (the keyword
    arguments that rebuild the task with :func:`build_task`).
    """

    name: str = ""
    description: str = ""
    input_size: int = 0
    output_size: int = 0
    loss: str = "softmax_ce"
    many_to_one: bool = False
    carries_state: bool = False
    default_length: int | None = None
    vocab: Any = None  # Vocabulary | None (Any: vocabulary.py imports this module for TaskError)

    def __init__(self, seed: int = 0) -> None:
        self.seed = check_positive_int("seed", seed, minimum=0, maximum=limits.SEED.high)
        self.rng = np.random.default_rng(self.seed)
        self.input_names: tuple[str, ...] = ()
        self.output_names: tuple[str, ...] = ()
        self.options: dict[str, Any] = {"seed": self.seed}

    # ----------------------------------------------------------------- subclass API
    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        """A fresh batch of ``batch_size`` sequences drawn with ``rng``."""
        raise NotImplementedError

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        """``(input labels, target labels)``: one short string per step of ``row``."""
        raise NotImplementedError

    # ----------------------------------------------------------------- shared
    def stream(
        self,
        batch_size: int,
        length: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> Iterator[Batch]:
        """Batches forever. Here: a fresh :meth:`sample` each time (no state carried)."""
        generator = as_generator(rng, self.rng)
        while True:
            yield self.sample(batch_size, generator, length)

    def encode_text(self, text: str) -> Batch:
        """Only character tasks turn typed text into a batch."""
        raise TaskError(f"the {self.name!r} task does not take typed text")

    def model_config(self, kind: str, hidden_size: int, **overrides: Any) -> ModelConfig:
        """A :class:`ModelConfig` sized for this task; ``overrides`` set any other field."""
        fields: dict[str, Any] = {
            "kind": kind,
            "input_size": self.input_size,
            "hidden_size": hidden_size,
            "output_size": self.output_size,
            "loss": self.loss,
            "many_to_one": self.many_to_one,
        }
        fields.update(overrides)
        return ModelConfig(**fields)

    def spec(self) -> dict[str, Any]:
        """``{"name": ..., **options}`` (plain JSON data): ``build_task(**task.spec())`` rebuilds the task."""
        return {"name": self.name, **self.options}

    def max_steps(self, length: int | None = None) -> int:
        """The most steps ``T`` a batch of :meth:`sample` (with ``length``) can have: what an estimate of
        a training run's memory needs (:mod:`rnnscope.engine.budget`)."""
        return int(length if length is not None else self.default_length or 1)

    def metrics(self, outputs: np.ndarray, batch: Batch, loss: float | None = None) -> dict[str, float]:
        """Task-level scores of ``outputs`` ``(T, B, O)`` (``model.predict`` / ``output/probs``) on ``batch``.

        Over the scored steps (the mask; the last step only if ``many_to_one``):
        ``softmax_ce``: ``accuracy`` (argmax equals the target); ``sigmoid_bce``:
        ``bit_error_rate`` (fraction of output bits on the wrong side of 0.5) and
        ``sequences_correct`` (fraction of rows with every scored bit right);
        ``mse``: ``rmse``. Subclasses add their own (bits per character).
        """
        outputs = np.asarray(outputs)
        expected = batch.inputs.shape[:2] + (self.output_size,)
        if outputs.shape != expected:
            raise TaskError(f"outputs have shape {outputs.shape}, expected (T, B, O) = {expected}")
        mask = batch.mask.copy()
        if self.many_to_one:
            mask[:-1] = 0.0
        scored = mask > 0
        if not scored.any():
            return {}
        if self.loss == "softmax_ce":
            right = outputs.argmax(axis=-1) == batch.targets
            return {"accuracy": float(right[scored].mean())}
        if self.loss == "sigmoid_bce":
            wrong = (outputs >= 0.5) != (batch.targets >= 0.5)  # (T, B, O)
            wrong_steps = wrong.any(axis=-1) & scored
            return {
                "bit_error_rate": float(wrong[scored].mean()),
                "sequences_correct": float(np.mean(~wrong_steps.any(axis=0))),
            }
        error = (outputs - batch.targets)[scored]
        return {"rmse": float(np.sqrt(np.mean(error * error)))}

    def check_batch_size(self, batch_size: Any) -> int:
        return check_positive_int("batch_size", batch_size, maximum=limits.BATCH.high)

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v!r}" for k, v in self.options.items() if k != "text")
        return f"<{type(self).__name__} {self.name} ({shown}) D={self.input_size} O={self.output_size}>"


def bit_string(values: np.ndarray) -> str:
    """``"0110"`` for a vector of (near) 0/1 values."""
    return "".join("1" if v >= 0.5 else "0" for v in np.asarray(values).ravel())
