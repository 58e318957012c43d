"""Central differences of one tensor's plan, and their verdicts.

Element ``x`` is moved to ``x + h`` and ``x - h``; the divisor is the
perturbation actually applied (``fl(x + h) - x`` and ``x - fl(x - h)``), so
rounding of ``x +- h`` does not bias the result. A direction ``u`` is applied
as ``x +- step * u`` and its analytic value is taken along the perturbation
actually applied, so that rounding cancels the same way.

:func:`judge` turns the differences into per-element relative errors and
statuses (see :mod:`rnnscope.engine.gradcheck.relerr`): the tensor's floor comes
from its largest gradient (analytic, or numeric beyond the rounding allowance
when larger, e.g. a backward pass that returns zeros).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.gradcheck.options import CheckOptions
from rnnscope.engine.gradcheck.plan import TensorPlan
from rnnscope.engine.gradcheck.relerr import classify, noise_level, relative_error, tensor_floor
from rnnscope.engine.gradcheck.result import TensorCheck
from rnnscope.engine.gradcheck.status import Thresholds

# called with the number of evaluations just finished (progress, and where a cancel may stop)
Report = Callable[[int], None]


@dataclass(frozen=True)
class Differences:
    """The ``K`` comparisons of one tensor before they are judged.

    ``analytic`` and ``numeric`` ``(K,)`` are the two derivatives compared;
    ``forward`` and ``backward`` ``(K,)`` the one-sided differences (for the kink
    detector); ``step`` is the step of each central difference (``(K,)`` or a
    scalar) and ``scale`` the tensor's largest possible ``|analytic|`` value.
    """

    analytic: np.ndarray
    numeric: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    step: np.ndarray | float
    scale: float


def element_differences(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: TensorPlan,
    evaluator: LossEvaluator,
    base_loss: float,
    options: CheckOptions,
    report: Report,
) -> Differences:
    """Central differences of the elements ``plan.indices`` of ``array`` (``grad``: its gradient),
    with the step (relative or not) of ``options``."""
    x = array.reshape(-1)[plan.indices].astype(np.float64)
    step = options.step
    h = step * np.maximum(1.0, np.abs(x)) if options.relative_step else np.full_like(x, step)
    up = x + h
    down = x - h
    # the perturbations actually applied after rounding x +- h
    h_up = up - x
    h_down = x - down

    def evaluate(ids: np.ndarray) -> np.ndarray:
        idx = plan.indices[ids]
        return evaluator.element_losses(
            name, np.concatenate([idx, idx]), np.concatenate([up[ids], down[ids]])
        )

    plus, minus = _run_chunked(evaluate, plan.count, evaluator.chunk, report)
    return Differences(
        analytic=grad.reshape(-1)[plan.indices],
        numeric=(plus - minus) / (h_up + h_down),
        forward=(plus - base_loss) / h_up,
        backward=(base_loss - minus) / h_down,
        step=0.5 * (h_up + h_down),
        scale=float(np.abs(grad).max(initial=0.0)),
    )


def direction_differences(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: TensorPlan,
    evaluator: LossEvaluator,
    base_loss: float,
    options: CheckOptions,
    report: Report,
) -> Differences:
    """Central differences along the unit directions ``plan.directions`` ``(K, *shape)``, each
    scaled by ``options.step``."""
    step = options.step
    if plan.directions is None:
        raise ValueError("a directional check needs a plan with directions")
    directions = plan.directions
    x = array.astype(np.float64)
    up = x[None] + step * directions
    down = x[None] - step * directions
    # derivative along the perturbations actually applied, so rounding of x + h u cancels
    applied = (up - x[None]) + (x[None] - down)
    axes = tuple(range(1, applied.ndim))

    def evaluate(ids: np.ndarray) -> np.ndarray:
        return evaluator.dense_losses(name, np.concatenate([up[ids], down[ids]]))

    plus, minus = _run_chunked(evaluate, plan.count, max(1, evaluator.chunk // 8), report)
    # the largest directional derivative possible is |grad| (per slice)
    norms = [float(np.linalg.norm(grad[d != 0])) for d in directions]
    return Differences(
        analytic=(applied * grad[None]).sum(axis=axes) / (2 * step),
        numeric=(plus - minus) / (2 * step),
        forward=(plus - base_loss) / step,
        backward=(base_loss - minus) / step,
        step=step,
        scale=max(norms, default=0.0),
    )


def judge(
    name: str,
    grad: np.ndarray,
    plan: TensorPlan,
    differences: Differences,
    base_loss: float,
    thresholds: Thresholds,
) -> TensorCheck:
    """Relative errors and statuses of every comparison: the :class:`TensorCheck` of one tensor."""
    d = differences
    noise = noise_level(base_loss, d.step, thresholds)
    # the tensor's scale comes from the analytic gradient unless a numeric value exceeds it
    # by more than rounding (e.g. a backward pass that returns zeros)
    beyond_noise = float((np.abs(d.numeric) - noise).max(initial=0.0))
    floor = tensor_floor(max(d.scale, beyond_noise), thresholds)
    limit = np.maximum(floor, noise)
    rel, codes = classify(d.analytic, d.numeric, d.forward, d.backward, limit, thresholds, noise)
    return TensorCheck(
        name=name,
        shape=tuple(grad.shape),
        analytic=grad.copy(),
        indices=plan.indices.copy(),
        gates=plan.gates,
        analytic_values=d.analytic,
        numeric=d.numeric,
        forward=d.forward,
        backward=d.backward,
        rel_err=rel,
        status_codes=codes,
        floor=floor,
        noise=np.broadcast_to(noise, rel.shape).copy(),
        raw_rel_err=relative_error(d.analytic, d.numeric, limit),
        directions=None if plan.directions is None else plan.directions.copy(),
    )


def _run_chunked(
    evaluate: Callable[[np.ndarray], np.ndarray], count: int, chunk: int, report: Report
) -> tuple[np.ndarray, np.ndarray]:
    """Losses ``(plus (K,), minus (K,))``; ``evaluate(check_ids)`` returns plus then minus losses."""
    plus = np.empty(count)
    minus = np.empty(count)
    for start in range(0, count, chunk):
        ids = np.arange(start, min(start + chunk, count))
        losses = evaluate(ids)
        plus[ids] = losses[: len(ids)]
        minus[ids] = losses[len(ids) :]
        report(len(ids))
    return plus, minus
