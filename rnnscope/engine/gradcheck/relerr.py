"""The numerical derivative with its error bar, the judged relative error and the statuses.

**The numerical derivative.** Every checked element (or direction) is moved by
``+-h``, ``+-2h`` and ``+-4h``, giving three central differences ``D1``, ``D2``,
``D4`` whose truncation errors grow as ``c h^2 + c' h^4``. Richardson
extrapolation removes the ``h^2`` term::

    numeric = R12 = (4 D1 - D2) / 3        R24 = (4 D2 - D4) / 3

and, as ``R24``'s ``h^4`` error is 16 times ``R12``'s, ``|R12 - R24| / 15``
estimates what is left. The element's **allowance** -- how far the numerical
value may honestly be from the true derivative -- is::

    rounding   = (4 r1 + r2) / 3           r_k = noise * eps * S / (k h)  (D_k's rounding)
    truncation = thresholds.truncation * |R12 - R24| / 15
    allowance  = rounding + truncation

with ``S`` the loss scale (``|f|`` plus the scale of the logits, see
:func:`~rnnscope.engine.gradcheck.scale.loss_scale`): each loss is computed to
within about ``noise * eps * S``.

**The judged relative error** of an analytic value ``a`` against the numerical ``n``::

    rel = max(|a - n| - allowance, 0) / max(|a|, |n|, floor)

is 0 whenever the two agree within the numerical error bar, so the ok and fail
thresholds can sit far below the raw accuracy of a central difference (the
defaults are 1e-8 and 1e-7; a planted error of 1e-6 fails wherever the allowance
is below about 9e-7 of the gradient). ``floor`` is the gate slice's
(``thresholds.floor`` times its largest gradient). Opposite signs give ``rel``
close to 2; both zero gives 0.

**Statuses**, in the order they are decided:

* **too small**: ``max(|a|, |n|)`` below the slice's floor or below the element's
  own allowance (``|a|`` when ``a`` and ``n`` agree within the allowance): the
  value cannot be told from zero at this precision;
* **ok**: ``rel < thresholds.ok``;
* **kink**: not ok, the function is not smooth within the steps, and the
  analytic value is one the function's slopes around ``x`` can explain; or,
  ok or not, the function is not differentiable at ``x`` (below). With
  the one-sided differences ``fwd_k = (f(x+kh) - f(x)) / kh`` and ``bwd_k``
  likewise, a smooth function has ``g_k = fwd_k - bwd_k = k h f''`` (plus
  ``O(h^3)``); across a corner ``g_k`` is the jump in slope at every ``k``. So
  the point is *not smooth* when ``max(|g1 - g2 / 2|, |g1 - g4 / 4|)``, less its
  rounding ``5 r1``, exceeds ``thresholds.kink`` times ``max(|fwd1|, |bwd1|,
  floor)``. The analytic value is *explained* when it sits near one of the
  one-sided differences at ``h`` (``min(|a - fwd1|, |a - bwd1|) <= |a - D1| / 2``:
  across one kink ``D1`` lands half-way between the two slopes, so this holds
  exactly when ``a`` is the slope of one side) or, at a point where several
  pieces meet (the DNC's allocation ties of more than two slots, where the
  backward's fixed sort order is neither side's), when it lies no farther from
  the range of the six one-sided slopes than that range is wide. A wrong
  backward pass far from every slope the function shows is never mistaken for a
  kink -- except at a point that is not differentiable at all, where there is
  no derivative to compare with (and a match is luck, so such a point is a kink
  even where the numbers agree): where the one-sided slopes disagree (by more
  than ``thresholds.kink / 100``) by about the same at every step (``g4`` within
  half of ``g1``, where a smooth function has ``g4 = 4 g1``: a corner at ``x``
  itself), or where the differences never
  behaved as a smooth function's down to the smallest step tried
  (``step / 10^4``, see :mod:`~rnnscope.engine.gradcheck.differences`). The DNC's
  zero state, where every empty slot ties with every other, is such a point for
  its memory, usage and write weighting;
* **fail**: ``rel > thresholds.fail``; otherwise **warn**.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.gradcheck.status import Status, Thresholds

OK, WARN, FAIL, TOO_SMALL, KINK = (
    Status.OK.code,
    Status.WARN.code,
    Status.FAIL.code,
    Status.TOO_SMALL.code,
    Status.KINK.code,
)
# the step multiples of the three central differences
LEVELS = (1, 2, 4)
# how far from 4 the ratio (D2 - D4) / (D1 - D2) may be before the step is refined
SETTLED = 0.02
# a corner at x is judged on a finer scale than a kink near x: its slopes disagree by the same at
# every step, which a smooth function's never do, so a jump of kink / 100 is enough
CORNER = 1e-2
EPS = float(np.finfo(np.float64).eps)


def slice_floor(scale: float, thresholds: Thresholds) -> float:
    """The floor of a gate slice (or tensor) whose largest ``|gradient|`` is ``scale``."""
    return max(thresholds.floor * float(scale), thresholds.absolute)


def noise_level(scale: float, step: np.ndarray | float, thresholds: Thresholds) -> np.ndarray:
    """Rounding allowance ``thresholds.noise * eps * scale / h`` of one central difference with step
    ``h`` (``scale``: the loss scale ``S``)."""
    return thresholds.noise * EPS * abs(float(scale)) / np.asarray(step, dtype=np.float64)


@dataclass(frozen=True)
class Extrapolated:
    """The numerical derivative of ``K`` checks and its error bar, from three central differences.

    ``numeric`` ``(K,)`` is ``R12``; ``central`` is ``D1``, the plain central difference at
    ``h``; ``rounding`` and ``truncation`` ``(K,)`` the two parts of the allowance
    (``truncation`` before the safety factor ``thresholds.truncation``).
    """

    numeric: np.ndarray
    central: np.ndarray
    rounding: np.ndarray
    truncation: np.ndarray


def extrapolate(
    differences: tuple[np.ndarray, np.ndarray, np.ndarray], single_noise: np.ndarray | float
) -> Extrapolated:
    """Richardson extrapolation of ``(D1, D2, D4)`` (each ``(K,)``, steps ``h``, ``2h``, ``4h``);
    ``single_noise`` is ``D1``'s rounding allowance (``(K,)`` or a scalar)."""
    d1, d2, d4 = differences
    r12 = (4.0 * d1 - d2) / 3.0
    r24 = (4.0 * d2 - d4) / 3.0
    noise = np.broadcast_to(np.asarray(single_noise, dtype=np.float64), r12.shape)
    with np.errstate(invalid="ignore"):
        truncation = np.abs(r12 - r24) / 15.0
    # D2's rounding is half of D1's: (4 r1 + r1 / 2) / 3
    return Extrapolated(r12, d1, 1.5 * noise, np.where(np.isfinite(truncation), truncation, np.inf))


def settled(centrals: list[np.ndarray], noise: np.ndarray) -> np.ndarray:
    """``(K,)``: the central differences ``[D1, D2, D4]`` behave as ``D(h) = f' + c h^2``, so that
    the truncation estimate of :func:`extrapolate` can be trusted.

    Then ``D2 - D4`` is four times ``D1 - D2``: within 2 % (a smooth function's ``h^4``
    terms move the ratio by about ``15 (h / r)^2`` where ``r`` is the scale it changes on:
    0.2 % for ``r = 0.1`` at ``h = 1e-3``), and within their rounding, about ``7 r1`` with
    ``r1`` = ``noise``, ``D1``'s rounding allowance. Where the function changes on the
    scale of the step, or a kink -- even a slight one -- lies within ``4h``, the ratio is
    anything: the step is too large for this element.
    """
    d1, d2, d4 = centrals
    first = d1 - d2
    second = d2 - d4
    with np.errstate(invalid="ignore"):
        ok: np.ndarray = np.abs(second - 4.0 * first) <= SETTLED * np.abs(second) + 7.0 * noise
    return ok


def rough(sides: Sides, floor: np.ndarray | float, kink: float) -> np.ndarray:
    """``(K,)``: the one-sided differences do not behave as a smooth function's within the steps
    (the curvature gap, less its rounding, exceeds ``kink`` times the slopes)."""
    side_scale = np.maximum(np.maximum(np.abs(sides.forward), np.abs(sides.backward)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        out: np.ndarray = np.maximum(sides.curvature_gap - 5.0 * sides.noise, 0.0) / side_scale > kink
    return out


def relative_error(
    analytic: np.ndarray, numeric: np.ndarray, floor: np.ndarray | float, allowance: np.ndarray | float = 0.0
) -> np.ndarray:
    """``max(|a - n| - allowance, 0) / max(|a|, |n|, floor)`` element-wise; 0 where both are equal."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        difference = np.maximum(np.abs(analytic - numeric) - allowance, 0.0)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), floor)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(difference == 0, 0.0, difference / np.where(scale > 0, scale, 1.0))
    # a non-finite derivative can never be judged ok
    return np.where(np.isfinite(analytic) & np.isfinite(numeric), rel, np.inf)


@dataclass(frozen=True)
class Sides:
    """What the kink detector reads for ``K`` checks, ``(K,)`` each: the one-sided differences
    ``forward`` and ``backward`` at step ``h``, the central difference ``central`` (``D1``),
    ``D1``'s rounding allowance ``noise``, the curvature gap ``max(|g1 - g2/2|, |g1 - g4/4|)``
    (zero for a smooth function, up to ``O(h^3)``), the lowest and highest of the six
    one-sided differences at ``h``, ``2h`` and ``4h``, and ``widest_gap`` ``g4 = fwd4 - bwd4``."""

    forward: np.ndarray
    backward: np.ndarray
    central: np.ndarray
    noise: np.ndarray | float
    curvature_gap: np.ndarray
    lowest: np.ndarray
    highest: np.ndarray
    widest_gap: np.ndarray


def one_sided(
    plus: list[np.ndarray],
    minus: list[np.ndarray],
    base: float,
    steps: list[np.ndarray],
    noise: np.ndarray | float,
) -> Sides:
    """:class:`Sides` from the losses ``plus[k]``, ``minus[k]`` ``(K,)`` at ``x +- steps[k]`` (the
    perturbations actually applied, ``(K,)`` or scalars, for the levels ``h``, ``2h``, ``4h``)
    and the unperturbed loss ``base``."""
    forward = [(p - base) / step for p, step in zip(plus, steps, strict=True)]
    backward = [(base - m) / step for m, step in zip(minus, steps, strict=True)]
    gap = [f - b for f, b in zip(forward, backward, strict=True)]
    slopes = np.stack(forward + backward)
    centrals = [(p - m) / (2 * step) for p, m, step in zip(plus, minus, steps, strict=True)]
    return Sides(
        forward=forward[0],
        backward=backward[0],
        central=centrals[0],
        noise=noise,
        curvature_gap=np.maximum(np.abs(gap[0] - gap[1] / 2), np.abs(gap[0] - gap[2] / 4)),
        lowest=slopes.min(axis=0),
        highest=slopes.max(axis=0),
        widest_gap=gap[2],
    )


def classify(
    analytic: np.ndarray,
    numeric: np.ndarray,
    sides: Sides,
    floor: np.ndarray | float,
    thresholds: Thresholds,
    allowance: np.ndarray | float = 0.0,
    unsettled: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Relative errors ``(K,)`` and status codes ``(K,)`` (int8) of ``K`` comparisons.

    ``floor`` (scalar or ``(K,)``) is each check's slice floor; ``allowance`` the
    numerical error bar of ``numeric``; ``unsettled`` ``(K,)`` marks checks whose
    differences never behaved as a smooth function's down to the smallest step
    (see the module docstring and :mod:`~rnnscope.engine.gradcheck.differences`).
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    rel = relative_error(analytic, numeric, floor, allowance)
    codes = np.full(rel.shape, WARN, dtype=np.int8)
    codes[rel > thresholds.fail] = FAIL
    codes[rel < thresholds.ok] = OK
    near_kink, not_differentiable = _kinks(analytic, sides, floor, thresholds, unsettled)
    finite = np.isfinite(rel)
    codes[near_kink & (codes != OK) & finite] = KINK
    # no derivative to compare with: not judged, even where the numbers happen to agree
    codes[not_differentiable & finite] = KINK
    # when the two agree within the allowance, the (exactly reproducible) analytic value decides,
    # so the verdict does not flip with the last bits of the losses
    mismatch = np.abs(analytic - numeric)
    magnitude = np.where(
        mismatch <= allowance, np.abs(analytic), np.maximum(np.abs(analytic), np.abs(numeric))
    )
    small = magnitude < np.maximum(floor, allowance)
    codes[small & np.isfinite(rel)] = TOO_SMALL
    return rel, codes


def _kinks(
    analytic: np.ndarray,
    sides: Sides,
    floor: np.ndarray | float,
    thresholds: Thresholds,
    unsettled: np.ndarray | None,
) -> tuple[np.ndarray, np.ndarray]:
    """``(near_kink, not_differentiable)``, ``(K,)`` each: the function is not smooth within the
    steps and a slope around ``x`` explains the analytic value; the function is not
    differentiable at ``x`` at all (see the module docstring)."""
    forward = np.asarray(sides.forward, dtype=np.float64)
    backward = np.asarray(sides.backward, dtype=np.float64)
    side_scale = np.maximum(np.maximum(np.abs(forward), np.abs(backward)), floor)
    gap = forward - backward
    bumpy = rough(sides, floor, thresholds.kink)
    with np.errstate(invalid="ignore", divide="ignore"):
        nearest_side = np.minimum(np.abs(analytic - forward), np.abs(analytic - backward))
        one_side = nearest_side <= 0.5 * np.abs(analytic - sides.central)
        spread = sides.highest - sides.lowest
        outside = np.maximum(sides.lowest - analytic, analytic - sides.highest)
        # a corner at x: the slopes disagree by about the same at every step (a smooth
        # function's g_k = k h f'' grows with the step), and need no large jump to be one
        disagree = np.maximum(np.abs(gap) - 4.0 * sides.noise, 0.0) / side_scale > CORNER * thresholds.kink
        steady = np.abs(sides.widest_gap - gap) <= 0.5 * np.abs(gap) + 5.0 * sides.noise
    nowhere_smooth = np.zeros_like(bumpy) if unsettled is None else unsettled & (bumpy | disagree)
    near_kink: np.ndarray = bumpy & (one_side | (outside <= spread))
    not_differentiable: np.ndarray = (disagree & steady) | nowhere_smooth
    return near_kink, not_differentiable
