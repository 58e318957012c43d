"""The statistics of every iteration of a run, as growing arrays the plots draw from."""

from __future__ import annotations

import math

import numpy as np

from rnnscope.engine.training import IterationStats


def scalars(stats: IterationStats) -> dict[str, float]:
    """The plotted numbers of one iteration by series name (``nan`` where the trainer reported none)."""
    return {
        "loss": stats.loss_per_step,
        "bits_per_char": math.nan if stats.bits_per_char is None else stats.bits_per_char,
        "accuracy": math.nan if stats.accuracy is None else stats.accuracy,
        "grad_norm": stats.grad_norm,
        "chars_per_s": stats.chars_per_s,
    }


def status_line(stats: IterationStats) -> str:
    """One line on the latest iteration: loss, bits per char or accuracy, gradient norm and speed."""
    parts = [f"iteration {stats.iteration}", f"loss {stats.loss_per_step:.4f}"]
    if stats.bits_per_char is not None:
        parts.append(f"{stats.bits_per_char:.3f} bits/char")
    if stats.accuracy is not None:
        parts.append(f"accuracy {stats.accuracy:.3f}")
    parts.append(f"|g| {stats.grad_norm:.3g}")
    if not math.isnan(stats.chars_per_s):
        parts.append(f"{stats.chars_per_s:,.0f} chars/s")
    return ", ".join(parts)


class StatsHistory:
    """Growing arrays of the statistics of every iteration (amortised O(1) append).

    ``columns`` maps a series name (``"loss"``, ``"bits_per_char"``, ``"accuracy"``,
    ``"grad_norm"``, ``"chars_per_s"``, ``"ratio/<parameter>"``) to a float array
    aligned with ``iterations``; a value the trainer did not report is ``nan``.
    """

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._capacity = 1024
        self.length = 0
        self._iterations = np.zeros(self._capacity)
        self._columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    @property
    def iterations(self) -> np.ndarray:
        """``(N,)`` the iteration numbers."""
        return self._iterations[: self.length]

    def column(self, name: str) -> np.ndarray:
        """``(N,)`` one series (all ``nan`` when it was never reported)."""
        data = self._columns.get(name)
        if data is None:
            return np.full(self.length, np.nan)
        return data[: self.length]

    @property
    def ratio_names(self) -> list[str]:
        return [name[len("ratio/") :] for name in self._columns if name.startswith("ratio/")]

    def _column_for_writing(self, name: str) -> np.ndarray:
        data = self._columns.get(name)
        if data is None:
            data = self._columns[name] = np.full(self._capacity, np.nan)
        return data

    def _grow(self, needed: int) -> None:
        while self._capacity < needed:
            self._capacity *= 2
        self._iterations = np.resize(self._iterations, self._capacity)
        for name, data in self._columns.items():
            grown = np.full(self._capacity, np.nan)
            grown[: self.length] = data[: self.length]
            self._columns[name] = grown

    def extend(self, batch: list[IterationStats]) -> None:
        """Append the statistics of consecutive iterations."""
        needed = self.length + len(batch)
        if needed > self._capacity:
            self._grow(needed)
        for at, stats in enumerate(batch, start=self.length):
            self._iterations[at] = stats.iteration
            for name, value in scalars(stats).items():
                # a series starts at its first reported value (no column of nan only)
                if not math.isnan(value) or name in self._columns:
                    self._column_for_writing(name)[at] = value
            for parameter, ratio in stats.update_ratio.items():
                self._column_for_writing(f"ratio/{parameter}")[at] = float(ratio)
        self.length = needed

    def clear(self) -> None:
        self._reset()
