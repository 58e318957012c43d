"""Reference numerical gradients for the engine's tests (a plain element loop)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], array: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central differences of ``f()`` with respect to every element of ``array`` (changed in place)."""
    grad = np.zeros_like(array)
    flat = array.reshape(-1)
    out = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + step
        plus = f()
        flat[i] = old - step
        minus = f()
        flat[i] = old
        out[i] = (plus - minus) / (2 * step)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-4) -> float:
    """Largest ``|a - n| / max(|a|, |n|, floor * max|a|, 1e-12)`` over the elements.

    The floor, relative to the tensor's largest gradient, keeps elements whose
    gradient is too small to judge from dominating the figure.
    """
    absolute_floor = max(floor * float(np.abs(analytic).max(initial=0.0)), 1e-12)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), absolute_floor)
    return float((np.abs(analytic - numeric) / scale).max())
