"""The relative-error measure and the per-element statuses, including kink detection.

For an analytic derivative ``a`` and a numerical one ``n`` of one element,
computed from losses ``f(x + h)`` and ``f(x - h)``::

    noise = thresholds.noise * eps * |f(x)| / h
    floor = max(thresholds.floor * G, thresholds.absolute, noise)
    rel   = max(|a - n| - noise, 0) / max(|a|, |n|, floor)

``G`` is the largest ``|gradient|`` of the whole tensor (analytic, or numeric
beyond its rounding allowance where checked, if larger); ``eps`` is float64's
machine epsilon. ``noise`` is what rounding the two losses to float64 alone can
do to ``n`` (the losses are quantised in steps of about ``eps * |f|``), so only
the part of the mismatch beyond it counts.
The denominator never reaches zero and never lets a tiny element's noise
dominate; opposite signs give ``rel`` close to 2 (at most 2 once both exceed
the floor); both zero gives 0.

Statuses, in the order they are decided:

* **too small**: ``max(|a|, |n|) < floor`` (``|a| < floor`` when ``a`` and ``n``
  agree within ``noise``): both are below what the tensor's scale (or the
  rounding noise) lets us judge;
* **ok**: ``rel < thresholds.ok``;
* **kink**: not ok, and the one-sided differences ``fwd = (f(x+h) - f(x)) / h``
  and ``bwd = (f(x) - f(x-h)) / h`` disagree
  (``(|fwd - bwd| - 2 noise) / max(|fwd|, |bwd|, floor) > thresholds.kink``), and the
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

from rnnscope.engine.gradcheck.status import Status, Thresholds

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


def noise_level(loss: float, step: np.ndarray | float, thresholds: Thresholds) -> np.ndarray:
    """Rounding allowance ``thresholds.noise * eps * |loss| / h`` of a central difference with step ``h``."""
    eps = np.finfo(np.float64).eps
    return thresholds.noise * eps * abs(float(loss)) / np.asarray(step, dtype=np.float64)


def relative_error(
    analytic: np.ndarray, numeric: np.ndarray, floor: float, noise: np.ndarray | float = 0.0
) -> np.ndarray:
    """``max(|a - n| - noise, 0) / max(|a|, |n|, floor)`` element-wise; 0 where both are equal."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    difference = np.maximum(np.abs(analytic - numeric) - noise, 0.0)
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
    noise: np.ndarray | float = 0.0,
) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors ``(K,)`` and status codes ``(K,)`` (int8) of ``K`` comparisons.

    ``forward`` and ``backward`` are the one-sided differences of the same
    evaluations, ``noise`` the rounding allowance (scalar or ``(K,)``, see
    :func:`noise_level`); ``floor`` must already include the noise.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    forward = np.asarray(forward, dtype=np.float64)
    backward = np.asarray(backward, dtype=np.float64)
    rel = relative_error(analytic, numeric, floor, noise)
    codes = np.full(rel.shape, WARN, dtype=np.int8)
    codes[rel > thresholds.fail] = FAIL
    codes[rel < thresholds.ok] = OK
    mismatch = np.abs(analytic - numeric)
    side_scale = np.maximum(np.maximum(np.abs(forward), np.abs(backward)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        disagreement = np.maximum(np.abs(forward - backward) - 2 * noise, 0.0) / side_scale
    nearest_side = np.minimum(np.abs(analytic - forward), np.abs(analytic - backward))
    kink = (
        (codes != OK) & (disagreement > thresholds.kink) & (nearest_side <= 0.5 * mismatch) & np.isfinite(rel)
    )
    codes[kink] = KINK
    # when the two agree within rounding, the (exactly reproducible) analytic value decides,
    # so the verdict does not flip with the last bits of the losses
    magnitude = np.where(mismatch <= noise, np.abs(analytic), np.maximum(np.abs(analytic), np.abs(numeric)))
    small = magnitude < floor
    codes[small & np.isfinite(rel)] = TOO_SMALL
    return rel, codes
