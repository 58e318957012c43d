"""Truncated BPTT over a text: ``B`` cursors reading one character task's text side by side.

The streams start at evenly spaced places from one random offset (the same draw
as :meth:`~rnnscope.engine.tasks.CharTask.stream`), and every batch is the next
``T`` characters of each stream, wrapping round at the end of the text. The
trainer keeps its own cursors (rather than the task's generator) so that the
positions can be saved in a checkpoint and restored exactly.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.tasks import CharTask
from rnnscope.engine.tasks.base import Batch, Task


class TextStreams:
    """``B`` parallel read positions over ``task``'s text; :meth:`next_batch` advances them by ``T``.

    ``positions`` ``(B,)`` int64: the index of every stream's next input character.
    """

    def __init__(self, task: CharTask, batch_size: int, seq_len: int, rng: np.random.Generator) -> None:
        self.task = task
        self.batch_size = batch_size
        self.seq_len = seq_len
        length = self.text_length
        offset = int(rng.integers(0, length))
        self.positions: np.ndarray = (offset + (np.arange(batch_size) * length) // batch_size) % length

    @property
    def text_length(self) -> int:
        """``N``, the number of characters in the text."""
        return int(self.task.data.shape[0])

    def next_batch(self) -> Batch:
        """The next ``T`` characters of every stream: one-hot inputs ``(T, B, V)``, targets ``(T, B)``."""
        length = self.text_length
        window = (self.positions[:, None] + np.arange(self.seq_len + 1)) % length  # (B, T + 1)
        ids = self.task.data[window].T  # (T + 1, B)
        self.positions = (self.positions + self.seq_len) % length
        targets = np.ascontiguousarray(ids[1:], dtype=np.int64)
        return Batch(self.task.vocab.one_hot(ids[:-1]), targets, np.ones(targets.shape))

    def restore(self, saved: object) -> str | None:
        """Continue from saved ``positions`` ``(B,)``; a note (the positions kept) when they do not fit."""
        if saved is None:
            return "the text positions were not saved: the streams start afresh"
        positions = np.asarray(saved, dtype=np.int64)
        fits = positions.shape == (self.batch_size,)
        if not fits or positions.min() < 0 or positions.max() >= self.text_length:
            return "the saved text positions do not fit this text: the streams start afresh"
        self.positions = positions.copy()
        return None


def text_streams(task: Task, batch_size: int, seq_len: int, rng: np.random.Generator) -> TextStreams | None:
    """Streams over ``task``'s text when it is a character task (``None`` for every other task)."""
    return TextStreams(task, batch_size, seq_len, rng) if isinstance(task, CharTask) else None
