"""What one training iteration reports: :class:`IterationStats`, and how its ratios and accuracy are made."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

_TINY = 1e-12


@dataclass
class IterationStats:
    """What one training iteration did.

    ``loss`` is the engine's loss of the batch (nats, summed over the scored
    steps, averaged over the batch); ``loss_per_step`` divides it by the scored
    steps per sequence. ``bits_per_char`` is set for text, ``accuracy`` for
    classification (next character, sentiment) and bit tasks (the fraction of
    output bits on the right side of 0.5); both are ``None`` where they do not
    apply. ``grad_norm`` is the global gradient norm *before* clipping;
    ``update_ratio`` maps every parameter to ``|update| / |weight|`` (L2 norms,
    the weight *after* the update, so a zero-initialised bias reads 1 at the
    first step rather than infinity; healthy training sits around 1e-3). ``chars`` is the number of
    timesteps processed (``T * B``) and ``chars_per_s`` their rate over this iteration.
    """

    iteration: int
    loss: float
    loss_per_step: float
    grad_norm: float
    update_ratio: dict[str, float]
    chars: int
    seconds: float
    chars_per_s: float
    lr: float
    clipped: bool = False
    bits_per_char: float | None = None
    accuracy: float | None = None
    metrics: dict[str, float] = field(default_factory=dict)


def update_ratios(params: Mapping[str, np.ndarray], updates: Mapping[str, np.ndarray]) -> dict[str, float]:
    """``|update| / |weight|`` (L2 norms) of every updated parameter, the weight taken after the update."""
    ratios = {}
    for name, update in updates.items():
        weight = params[name].reshape(-1)
        flat = update.reshape(-1)
        ratios[name] = math.sqrt(float(np.dot(flat, flat))) / max(
            math.sqrt(float(np.dot(weight, weight))), _TINY
        )
    return ratios


def accuracy_of(metrics: Mapping[str, float]) -> float | None:
    """The task's accuracy; for bit tasks, the fraction of output bits on the right side of 0.5."""
    accuracy = metrics.get("accuracy")
    if accuracy is None and "bit_error_rate" in metrics:
        accuracy = 1.0 - metrics["bit_error_rate"]
    return accuracy
