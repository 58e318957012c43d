"""The user's own sequences as a task: show a model on the arrays it was given, not on a task's samples.

:class:`ArrayTask` serves the rows of one fixed :class:`~rnnscope.engine.tasks.base.Batch`:
:meth:`~ArrayTask.sample` draws rows of it (so training on it overfits that batch, the
classic first test of a new model), and its step labels name one-hot inputs and class
targets by index.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.heads import LOSSES
from rnnscope.engine.tasks.base import Batch, Task, TaskError, as_generator, check_positive_int


class ArrayTask(Task):
    """The rows of ``batch`` (``inputs`` ``(T, B, D)``, ``targets`` ``(T, B)`` class indices or
    ``(T, B, O)``, ``mask`` ``(T, B)``), scored with ``loss`` (and ``many_to_one``)."""

    name = "arrays"
    description = "the given sequences"

    def __init__(
        self, batch: Batch, output_size: int, loss: str = "softmax_ce", many_to_one: bool = False
    ) -> None:
        super().__init__(seed=0)
        if loss not in LOSSES:
            raise TaskError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        inputs = np.asarray(batch.inputs)
        if inputs.ndim != 3:
            raise TaskError(f"inputs must be time-major (T, B, D), got shape {inputs.shape}")
        self.batch = Batch(inputs, np.asarray(batch.targets), np.asarray(batch.mask, dtype=np.float64))
        self.input_size = int(inputs.shape[2])
        self.output_size = int(output_size)
        self.loss = loss
        self.many_to_one = bool(many_to_one)
        self.description = f"the given {inputs.shape[1]} sequence(s) of {inputs.shape[0]} steps"

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        """``batch_size`` rows of the batch, drawn with ``rng`` (all of them, in order, when it fits);
        ``length`` is ignored: the sequences have the length they were given."""
        batch_size = check_positive_int("batch_size", batch_size)
        rows = self.batch.batch_size
        if batch_size == rows:
            return self.batch
        picked = as_generator(rng, self.rng).integers(0, rows, size=batch_size)
        return Batch(self.batch.inputs[:, picked], self.batch.targets[:, picked], self.batch.mask[:, picked])

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        """One-hot inputs by the index of their 1, class targets by their index; otherwise blank."""
        inputs = batch.inputs[:, row]
        one_hot = bool(np.all((inputs == 0) | (inputs == 1)) and np.all(inputs.sum(axis=-1) == 1))
        input_labels = [str(int(i)) for i in inputs.argmax(axis=-1)] if one_hot else [""] * batch.steps
        targets = batch.targets[:, row]
        target_labels = [str(int(t)) for t in targets] if targets.ndim == 1 else [""] * batch.steps
        return input_labels, target_labels
