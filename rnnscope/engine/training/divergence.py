"""Divergence: a loss that stops being finite, or explodes far above where it has been.

A run with too large a learning rate does not fail: its loss climbs to ``1e302`` while
every iteration "succeeds". :class:`DivergenceGuard` watches the loss per scored step
(so long and short sequences compare) of the iterations that went through and calls an
iteration *exploding* when its loss is more than ``factor`` times the running median
of the last ``window`` of them *at its lowest so far* -- or than ``factor`` times
``floor``, whichever is larger. The lowest median, not the latest, because a run that
blows up in its second iteration and stays up (Adam at ``lr=1e6``) has a running
median that is itself exploded; the floor, because a model that has learnt its task
almost perfectly (a median of 1e-4 nats) may still meet a bad batch of a few nats.

The trainer asks the guard *before* applying an update: a diverging iteration
changes nothing (weights, optimiser, iteration count), the trainer calls its
divergence callbacks with a :class:`Divergence` and raises :class:`DivergenceError`.
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass

DEFAULT_FACTOR = 100.0  # x the running median: far beyond noise, well before 1e302
DEFAULT_WINDOW = 50  # iterations in the running median
DEFAULT_FLOOR = 1.0  # nats per step: below this a median is "almost perfect"


class TrainingError(FloatingPointError):
    """Training cannot go on; names the iteration."""


@dataclass(frozen=True)
class Divergence:
    """One iteration whose loss was not finite (``reason`` ``"non-finite loss"`` or ``"non-finite
    gradient"``) or exploded (``"exploding loss"``: ``loss`` above ``factor`` x ``reference``).

    ``iteration`` is the iteration that was not applied; ``loss`` its loss per scored step;
    ``reference`` the running median it was compared with (``None`` when not compared).
    """

    iteration: int
    reason: str
    loss: float
    reference: float | None = None
    factor: float | None = None

    @property
    def summary(self) -> str:
        """What happened, where, and which weights are kept (no advice)."""
        kept = f"the weights are those of iteration {self.iteration - 1}"
        if self.reason == "exploding loss" and self.reference is not None:
            ratio = self.loss / self.reference
            return (
                f"the loss per step exploded to {self.loss:.4g} at iteration {self.iteration}, "
                f"{ratio:.3g} times the running median's lowest {self.reference:.4g} "
                f"(limit {self.factor:g}x); {kept}"
            )
        what = "gradient norm" if self.reason == "non-finite gradient" else "loss"
        return f"the {what} became {self.loss} at iteration {self.iteration}; {kept}"

    @property
    def message(self) -> str:
        """:attr:`summary` and what to try."""
        return f"{self.summary}; try a smaller learning rate or gradient clipping"


class DivergenceError(TrainingError):
    """An iteration diverged (its update was not applied); ``divergence`` says how."""

    def __init__(self, divergence: Divergence) -> None:
        self.divergence = divergence
        super().__init__(divergence.message)


class DivergenceGuard:
    """The running median of recent losses per step (and its lowest value so far), and the judgement
    of a new loss against it. ``factor`` ``None`` judges only finiteness (exploding losses pass).
    """

    def __init__(
        self,
        factor: float | None = DEFAULT_FACTOR,
        window: int = DEFAULT_WINDOW,
        floor: float = DEFAULT_FLOOR,
    ) -> None:
        self.factor = check_factor(factor)
        self.floor = floor
        self.recent: deque[float] = deque(maxlen=window)
        self.lowest = math.inf  # the lowest running median so far

    def judge(self, iteration: int, loss: float) -> Divergence | None:
        """The :class:`Divergence` of ``loss`` (per scored step) at ``iteration``, ``None`` if it is fine.

        Until one iteration has gone through there is nothing to compare with: only
        finiteness is judged.
        """
        if not math.isfinite(loss):
            return Divergence(iteration, "non-finite loss", loss)
        if self.factor is None or not self.recent:
            return None
        reference = max(self.lowest, self.floor)
        if loss > self.factor * reference:
            return Divergence(iteration, "exploding loss", loss, reference, self.factor)
        return None

    def accept(self, loss: float) -> None:
        """Count ``loss`` of an iteration that went through."""
        self.recent.append(loss)
        self.lowest = min(self.lowest, statistics.median(self.recent))

    def clear(self) -> None:
        """Forget every loss (the weights changed under the guard, e.g. a checkpoint was restored)."""
        self.recent.clear()
        self.lowest = math.inf


def check_factor(value: float | None) -> float | None:
    """A divergence factor: ``None`` (off) or a finite number > 1."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 1 < value < math.inf:
        raise ValueError(f"the divergence factor must be a finite number > 1 or None, got {value!r}")
    return float(value)
