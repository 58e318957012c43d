"""Central differences of one tensor's plan at three step sizes, refined where the step is too large.

Element ``x`` is moved to ``x +- h``, ``x +- 2h`` and ``x +- 4h``; each divisor is
the perturbation actually applied (``fl(x + kh) - fl(x - kh)``), so rounding of
``x +- kh`` does not bias the result. A direction ``u`` is applied as
``x +- k h u``; its analytic value is taken along the perturbation actually
applied. The three central differences are extrapolated and given an error bar
in :func:`~rnnscope.engine.gradcheck.relerr.extrapolate`.

**Adaptive step.** That error bar assumes the differences behave as ``c h^2``
(checked by :func:`~rnnscope.engine.gradcheck.relerr.settled`), and the kink
detector wants a kink either outside the steps or at ``x`` itself. Where the
differences do not behave -- the function changes on a scale comparable to
``h`` (the DNC's content weighting next to an empty memory row varies on the
scale of ``sqrt(1e-6)``) -- or the one-sided slopes show a kink within ``4h``
(:func:`~rnnscope.engine.gradcheck.relerr.rough`), the check is repeated with the
step divided by 10, up to ``REFINEMENTS`` times; each check keeps the step it was
last computed with. The verdicts are :mod:`~rnnscope.engine.gradcheck.judge`'s.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import TypeVar

import numpy as np

from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.gradcheck.options import CheckOptions
from rnnscope.engine.gradcheck.plan import TensorPlan
from rnnscope.engine.gradcheck.relerr import (
    LEVELS,
    Extrapolated,
    Sides,
    extrapolate,
    noise_level,
    one_sided,
    rough,
    settled,
)

# called with the number of checks just finished (progress, and where a cancel may stop)
Report = Callable[[int], None]
# evaluations per check and step: + and - at every level
EVALUATIONS = 2 * len(LEVELS)
# how often an unsettled check is repeated with a ten times smaller step
REFINEMENTS = 4
# losses(ids, h) -> (K', 6) losses of checks ids with steps h (K',): +h, +2h, +4h, -h, -2h, -4h
Losses6 = Callable[[np.ndarray, np.ndarray], np.ndarray]


@dataclass(frozen=True)
class Differences:
    """The ``K`` comparisons of one tensor before they are judged.

    ``analytic`` ``(K,)`` is the derivative the backward pass gives; ``numeric`` the
    extrapolated central difference with its error bar; ``sides`` the one-sided
    differences at the smallest step (for the kink detector); ``step`` ``(K,)`` the
    step ``h`` each check was finally computed with; ``unsettled`` ``(K,)`` marks the
    checks whose differences never behaved as a smooth function's, down to the
    smallest step tried (a point where the function is not differentiable).
    """

    analytic: np.ndarray
    numeric: Extrapolated
    sides: Sides
    step: np.ndarray
    unsettled: np.ndarray


@dataclass(frozen=True)
class Losses:
    """What the central differences are computed from: the unperturbed loss and the loss scale ``S``
    (``|f|`` plus the scale of the logits: what one loss evaluation is rounded against)."""

    base: float
    scale: float


def element_differences(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: TensorPlan,
    evaluator: LossEvaluator,
    losses: Losses,
    options: CheckOptions,
    report: Report,
) -> Differences:
    """Central differences of the elements ``plan.indices`` of ``array`` (``grad``: its gradient),
    with the step (relative or not) of ``options``."""
    x = array.reshape(-1)[plan.indices].astype(np.float64)
    h0 = options.step * np.maximum(1.0, np.abs(x)) if options.relative_step else np.full_like(x, options.step)

    def losses_at(ids: np.ndarray, h: np.ndarray) -> np.ndarray:
        moved = [x[ids] + sign * k * h for sign in (1.0, -1.0) for k in LEVELS]
        flat = evaluator.element_losses(name, np.tile(plan.indices[ids], EVALUATIONS), np.concatenate(moved))
        return flat.reshape(EVALUATIONS, len(ids)).T

    def applied(ids: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
        # half the perturbation actually applied after rounding x +- kh
        return [0.5 * ((x[ids] + k * h) - (x[ids] - k * h)) for k in LEVELS]

    numeric, sides, step, unsettled = _refined(
        losses_at, applied, h0, evaluator.chunk, losses, options, report
    )
    return Differences(grad.reshape(-1)[plan.indices], numeric, sides, step, unsettled)


def direction_differences(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: TensorPlan,
    evaluator: LossEvaluator,
    losses: Losses,
    options: CheckOptions,
    report: Report,
) -> Differences:
    """Central differences along the unit directions ``plan.directions`` ``(K, *shape)``, each
    scaled by ``options.step``."""
    if plan.directions is None:
        raise ValueError("a directional check needs a plan with directions")
    directions = plan.directions
    x = array.astype(np.float64)[None]
    axes = tuple(range(1, directions.ndim))
    extra = (1,) * (directions.ndim - 1)

    def losses_at(ids: np.ndarray, h: np.ndarray) -> np.ndarray:
        steps = h.reshape(-1, *extra)
        moved = [x + sign * k * steps * directions[ids] for sign in (1.0, -1.0) for k in LEVELS]
        return evaluator.dense_losses(name, np.concatenate(moved)).reshape(EVALUATIONS, len(ids)).T

    def applied(ids: np.ndarray, h: np.ndarray) -> list[np.ndarray]:
        return [k * h for k in LEVELS]

    h0 = np.full(plan.count, options.step)
    chunk = max(1, evaluator.chunk // 8)
    numeric, sides, step, unsettled = _refined(losses_at, applied, h0, chunk, losses, options, report)
    # the derivative along the perturbation actually applied at the final step, so rounding of
    # x + h u cancels
    moves = step.reshape(-1, *extra) * directions
    analytic = (((x + moves) - (x - moves)) * grad[None]).sum(axis=axes) / (2 * step)
    return Differences(analytic, numeric, sides, step, unsettled)


def _refined(
    losses_at: Losses6,
    applied: Callable[[np.ndarray, np.ndarray], list[np.ndarray]],
    h0: np.ndarray,
    chunk: int,
    losses: Losses,
    options: CheckOptions,
    report: Report,
) -> tuple[Extrapolated, Sides, np.ndarray, np.ndarray]:
    """Extrapolated differences and one-sided ones of ``K`` checks, repeating unsettled ones with
    smaller steps: ``(numeric, sides, step (K,), unsettled (K,))``. ``applied(ids, h)`` gives each
    level's step as actually applied."""
    count = len(h0)
    step = h0.copy()
    ids = np.arange(count)
    numeric: Extrapolated | None = None
    sides: Sides | None = None
    for attempt in range(REFINEMENTS + 1):
        # only the first pass counts as progress; repeats still let a cancel through
        values = _run_chunked(
            losses_at, ids, step[ids], chunk, report if attempt == 0 else _no_progress(report)
        )
        pieces = applied(ids, step[ids])
        plus, minus = list(values.T[: len(LEVELS)]), list(values.T[len(LEVELS) :])
        centrals = [(p - m) / (2 * a) for p, m, a in zip(plus, minus, pieces, strict=True)]
        noise = np.broadcast_to(noise_level(losses.scale, pieces[0], options.thresholds), (len(ids),))
        part_numeric = extrapolate((centrals[0], centrals[1], centrals[2]), noise)
        part_sides = one_sided(plus, minus, losses.base, pieces, noise)
        numeric = _merge(numeric, part_numeric, ids, count)
        sides = _merge(sides, part_sides, ids, count)
        # refine where the extrapolation cannot be trusted, and where the one-sided slopes show a
        # kink within the steps: a smaller step may leave it outside, or find it at x itself
        smooth = settled(centrals, noise) & ~rough(part_sides, 0.0, options.thresholds.kink)
        ids = ids[~smooth]
        if not ids.size or attempt == REFINEMENTS:
            break
        step[ids] /= 10.0
    assert numeric is not None and sides is not None
    unsettled = np.zeros(count, dtype=bool)
    unsettled[ids] = True
    return numeric, sides, step, unsettled


_Part = TypeVar("_Part", Extrapolated, Sides)


def _merge(whole: _Part | None, part: _Part, ids: np.ndarray, count: int) -> _Part:
    """``part`` (fields ``(K',)``, for checks ``ids``) written into ``whole`` (fields ``(K,)``)."""
    if whole is None:
        arrays = {f.name: np.full(count, np.nan) for f in fields(part)}
        whole = replace(part, **arrays)
    for f in fields(part):
        target = getattr(whole, f.name)
        target[ids] = getattr(part, f.name)
    return whole


def _no_progress(report: Report) -> Report:
    def poll(count: int) -> None:
        report(0)

    return poll


def _run_chunked(
    losses_at: Losses6, ids: np.ndarray, h: np.ndarray, chunk: int, report: Report
) -> np.ndarray:
    """``(K', 6)`` losses of the checks ``ids`` with steps ``h``, ``chunk`` checks per evaluator call."""
    out = np.empty((len(ids), EVALUATIONS))
    for start in range(0, len(ids), chunk):
        part = slice(start, start + chunk)
        out[part] = losses_at(ids[part], h[part])
        report(len(ids[part]))
    return out
