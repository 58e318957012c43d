"""Gradient clipping, in place: by global norm (the default) and element-wise (the tutorials' way).

``clip_by_global_norm`` scales *all* gradients by one factor so that their joint
L2 norm is at most ``max_norm`` (the direction of the update is kept);
``clip_by_value`` clamps every element to ``[-limit, limit]`` (Karpathy's
min-char-rnn clips to 5 this way; the direction changes).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np


def global_norm(grads: Mapping[str, np.ndarray]) -> float:
    """``sqrt(sum of every squared element)`` over all gradient arrays."""
    total = 0.0
    for grad in grads.values():
        flat = grad.reshape(-1)
        total += float(np.dot(flat, flat))
    return math.sqrt(total)


def clip_by_global_norm(grads: Mapping[str, np.ndarray], max_norm: float, norm: float | None = None) -> float:
    """Scale ``grads`` in place so their global norm is at most ``max_norm``; returns the norm *before*.

    ``norm`` may be passed when already known. A non-finite norm is left alone
    (the trainer reports it as an error rather than hiding it).
    """
    if not max_norm > 0:
        raise ValueError(f"max_norm must be positive, got {max_norm!r}")
    if norm is None:
        norm = global_norm(grads)
    if math.isfinite(norm) and norm > max_norm:
        scale = max_norm / norm
        for grad in grads.values():
            grad *= scale
    return norm


def clip_by_value(grads: Mapping[str, np.ndarray], limit: float) -> int:
    """Clamp every element of ``grads`` to ``[-limit, limit]`` in place; returns how many were clipped."""
    if not limit > 0:
        raise ValueError(f"limit must be positive, got {limit!r}")
    clipped = 0
    for grad in grads.values():
        clipped += int(np.count_nonzero(np.abs(grad) > limit))
        np.clip(grad, -limit, limit, out=grad)
    return clipped
