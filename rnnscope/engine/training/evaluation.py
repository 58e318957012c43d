"""Scores of a model on a task without training: the loss per scored step and the task's metrics."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from rnnscope.engine.heads import loss_per_scored_step
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.tasks import CharTask
from rnnscope.engine.tasks.base import Batch, Task


def evaluate(
    model: RecurrentModel,
    task: Task,
    *,
    batch_size: int = 16,
    seq_len: int = 25,
    batches: int = 20,
    seed: int = 12345,
) -> dict[str, float]:
    """Mean scores of ``model`` on ``task`` without training: ``loss_per_step`` and the task's metrics.

    Text: one pass over the text in consecutive chunks with the state carried
    (``task.evaluation_stream``; at most ``batches`` chunks). Other tasks:
    ``batches`` fresh batches from a generator seeded with ``seed``. Metrics
    are weighted by the scored steps of each batch.
    """
    carry = isinstance(task, CharTask)
    source = _evaluation_batches(task, batch_size, seq_len, batches, seed)
    totals: dict[str, float] = {}
    weight_total = 0.0
    state: State | None = None
    for index, batch in enumerate(source):
        if index >= batches:
            break
        if state is not None and state[next(iter(state))].shape[0] != batch.batch_size:
            state = None
        result = model.forward(batch.inputs, batch.targets, batch.mask, state, record=False)
        if carry:
            state = result.final_state
        weight = float(batch.mask.sum()) if not task.many_to_one else float(batch.batch_size)
        scores = {"loss_per_step": loss_per_scored_step(result.loss, result.mask)}
        scores.update(task.metrics(result.head.probs, batch, result.loss))
        for key, value in scores.items():
            totals[key] = totals.get(key, 0.0) + value * weight
        weight_total += weight
    return {key: value / weight_total for key, value in totals.items()} if weight_total else {}


def _evaluation_batches(
    task: Task, batch_size: int, seq_len: int, batches: int, seed: int
) -> Iterator[Batch]:
    """Consecutive chunks of a text (the state is carried across them), else fresh seeded batches."""
    if isinstance(task, CharTask):
        # a short text cannot be cut into more segments than it has predictions
        segments = max(1, min(batch_size, int(task.data.shape[0]) - 1))
        return task.evaluation_stream(segments, seq_len)
    rng = np.random.default_rng(seed)
    length = seq_len if task.default_length is not None else None
    return (task.sample(batch_size, rng, length=length) for _ in range(batches))
