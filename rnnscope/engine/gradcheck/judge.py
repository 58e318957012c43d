"""Verdicts on one tensor's differences: floors per gate slice, relative errors and statuses.

Every gate slice (or tensor without slices) is judged on its own magnitudes: its
floor is ``thresholds.floor`` times its own largest gradient -- the analytic one
over the whole slice, or a checked numerical one beyond its allowance when that
is larger (a backward pass that returns zeros) -- so the small slices of a fused
matrix are never measured against their large siblings. An element is then "too
small" only below that floor or below its own numerical allowance; a slice every
element of which is below its allowance has a gradient negligible for the loss
(see :mod:`rnnscope.engine.gradcheck.negligible`).
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.differences import Differences
from rnnscope.engine.gradcheck.plan import TensorPlan
from rnnscope.engine.gradcheck.relerr import classify, relative_error, slice_floor
from rnnscope.engine.gradcheck.status import Status, Thresholds
from rnnscope.engine.gradcheck.tensor_check import TensorCheck


def judge(
    name: str,
    grad: np.ndarray,
    plan: TensorPlan,
    differences: Differences,
    thresholds: Thresholds,
    differentiable: bool = True,
) -> TensorCheck:
    """Relative errors and statuses of every comparison: the :class:`TensorCheck` of one tensor.

    ``differentiable=False`` (the loss is not differentiable at this point in this tensor, see
    :mod:`~rnnscope.engine.gradcheck.linearity`): every mismatching comparison is a kink.
    """
    d = differences
    numeric = d.numeric
    truncation = thresholds.truncation * numeric.truncation
    allowance = numeric.rounding + truncation
    floor = _floors(plan, np.abs(numeric.numeric) - allowance, thresholds)
    rel, codes = classify(d.analytic, numeric.numeric, d.sides, floor, thresholds, allowance, d.unsettled)
    if not differentiable:
        mismatched = (codes == Status.WARN.code) | (codes == Status.FAIL.code)
        codes[mismatched] = Status.KINK.code
    return TensorCheck(
        name=name,
        shape=tuple(grad.shape),
        analytic=np.array(grad, dtype=np.float64),
        indices=plan.indices.copy(),
        gates=plan.gates,
        analytic_values=d.analytic,
        numeric=numeric.numeric,
        forward=d.sides.forward,
        backward=d.sides.backward,
        rel_err=rel,
        status_codes=codes,
        floor=floor,
        noise=numeric.rounding,
        raw_rel_err=relative_error(d.analytic, numeric.numeric, floor),
        directions=None if plan.directions is None else plan.directions.copy(),
        central=numeric.central,
        truncation=truncation,
        differentiable=differentiable,
        step=np.array(d.step, dtype=np.float64),
    )


def _floors(plan: TensorPlan, beyond: np.ndarray, thresholds: Thresholds) -> np.ndarray:
    """``(K,)``: the floor of each check's slice. ``beyond`` ``(K,)`` is each numerical value's
    magnitude beyond its allowance: where it exceeds the slice's analytic scale, it sets the scale."""
    gates = np.array(plan.gates, dtype=object)
    floor = np.empty(plan.count)
    for gate in dict.fromkeys(plan.gates):
        members = gates == gate
        largest = float(np.max(beyond[members], initial=0.0))
        finite = largest if np.isfinite(largest) else 0.0
        floor[members] = slice_floor(max(plan.scales.get(gate, 0.0), finite), thresholds)
    return floor
