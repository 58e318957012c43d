"""The relative-error measure and the per-element statuses, including kink detection.

For an analytic derivative ``a`` and a numerical one ``n`` of one element::

    floor = max(thresholds.floor * G, thresholds.absolute)
    rel   = |a - n| / max(|a|, |n|, floor)

where ``G`` is the largest ``|gradient|`` of the whole tensor (analytic, and
numeric where checked). The denominator never reaches zero and never lets a
tiny element's noise dominate; opposite signs give ``rel`` close to 2 (the
largest possible value is 2 when both exceed the floor).

Statuses, in the order they are decided:

* **too small**: ``max(|a|, |n|) < floor``: both are below what the tensor's
  scale lets us judge;
* **ok**: ``rel < thresholds.ok``;
* **kink**: not ok, and the one-sided differences ``fwd = (f(x+h) - f(x)) / h``
  and ``bwd = (f(x) - f(x-h)) / h`` disagree
  (``|fwd - bwd| / max(|fwd|, |bwd|, floor) > thresholds.kink``), and the
  analytic value sits near one of them (``min(|a - fwd|, |a - bwd|) <= |a - n| / 2``).
  For a smooth function ``fwd - bwd`` is only ``h f''``; across a kink inside
  ``[x - h, x + h]`` it is the jump in slope, and the central difference lands
  half-way between the slopes, so ``n - a = (fwd - bwd) / 2`` exactly when the
  analytic value is the slope on the smooth side. A wrong backward pass is
  far from both one-sided differences, so it is never mistaken for a kink;
* **fail**: ``rel > thresholds.fail``; otherwise **warn**.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.result import Status, Thresholds

OK, WARN, FAIL, TOO_SMALL, KINK = (
    Status.OK.code,
    Status.WARN.code,
    Status.FAIL.code,
    Status.TOO_SMALL.code,
    Status.KINK.code,
)


def tensor_floor(scale: float, thresholds: Thresholds) -> float:
    """The absolute floor for a tensor whose largest ``|gradient|`` is ``scale``."""
    return max(thresholds.floor * float(scale), thresholds.absolute)


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float) -> np.ndarray:
    """``|a - n| / max(|a|, |n|, floor)`` element-wise; 0 where both are exactly equal."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    difference = np.abs(analytic - numeric)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(difference == 0, 0.0, difference / np.where(scale > 0, scale, 1.0))
    # a non-finite derivative can never be judged ok
    return np.where(np.isfinite(analytic) & np.isfinite(numeric), rel, np.inf)


def classify(
    analytic: np.ndarray,
    numeric: np.ndarray,
    forward: np.ndarray,
    backward: np.ndarray,
    floor: float,
    thresholds: Thresholds,
) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors ``(K,)`` and status codes ``(K,)`` (int8) of ``K`` comparisons.

    ``forward`` and ``backward`` are the one-sided differences of the same
    evaluations (see the module docstring for the rules).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    forward = np.asarray(forward, dtype=np.float64)
    backward = np.asarray(backward, dtype=np.float64)
    rel = relative_error(analytic, numeric, floor)
    codes = np.full(rel.shape, WARN, dtype=np.int8)
    codes[rel > thresholds.fail] = FAIL
    codes[rel < thresholds.ok] = OK
    mismatch = np.abs(analytic - numeric)
    side_scale = np.maximum(np.maximum(np.abs(forward), np.abs(backward)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        disagreement = np.abs(forward - backward) / side_scale
    nearest_side = np.minimum(np.abs(analytic - forward), np.abs(analytic - backward))
    kink = (
        (codes != OK) & (disagreement > thresholds.kink) & (nearest_side <= 0.5 * mismatch) & np.isfinite(rel)
    )
    codes[kink] = KINK
    small = np.maximum(np.abs(analytic), np.abs(numeric)) < floor
    codes[small & np.isfinite(rel)] = TOO_SMALL
    return rel, codes
