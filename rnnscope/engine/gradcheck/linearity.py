"""Is the loss differentiable at this point in this tensor? A probe of three directions.

Where a loss is differentiable, its derivative along a direction is linear in the
direction: ``D_{u+v} = D_u + D_v``. Where a sort or a max has a tie of several
entries -- the DNC's allocation at its zero state, where every empty slot has
the same usage -- the derivative along a direction depends on which way the
direction breaks the tie: it is piecewise linear, and a line through ``x`` can
even look smooth while the backward's fixed order is no piece that line
crosses. Elementwise probes cannot see that; three directions can: two random
unit directions ``u``, ``v`` over the whole tensor and ``w = (u + v) / |u + v|``,
each differenced like any direction (extrapolated, with its allowance).

The tensor is **not differentiable at x** when ``|D_w |u + v| - D_u - D_v|``
exceeds their allowances plus ``thresholds.kink`` times their size. The probe
reads the loss only, never the analytic gradient, so a wrong backward pass
cannot make a tensor look non-differentiable; a tensor that is has its
mismatching elements called kinks (see :func:`~rnnscope.engine.gradcheck.judge.judge`)
and the result a note.
"""

from __future__ import annotations

import zlib

import numpy as np

from rnnscope.engine.gradcheck.differences import Losses, Report, direction_differences
from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.gradcheck.options import CheckOptions
from rnnscope.engine.gradcheck.plan import TensorPlan


def differentiable(
    name: str,
    array: np.ndarray,
    evaluator: LossEvaluator,
    losses: Losses,
    options: CheckOptions,
    report: Report,
) -> bool:
    """Whether the loss's derivatives along three directions through ``array`` are linear."""
    if array.size < 2:
        return True  # one element: every direction is the same line
    rng = np.random.default_rng([int(options.seed) & 0xFFFFFFFF, zlib.crc32(name.encode()), 7])
    u, v = (_unit(rng.standard_normal(array.shape)) for _ in range(2))
    total = u + v
    length = float(np.linalg.norm(total))
    plan = TensorPlan(np.full(3, -1, dtype=np.int64), (None,) * 3, np.stack([u, v, total / length]))
    grad = np.zeros(array.shape)  # the analytic side plays no part
    d = direction_differences(name, array, grad, plan, evaluator, losses, options, _polling(report))
    numeric = d.numeric.numeric
    allowance = d.numeric.rounding + options.thresholds.truncation * d.numeric.truncation
    gap = abs(numeric[2] * length - numeric[0] - numeric[1])
    slack = allowance[2] * length + allowance[0] + allowance[1]
    size = abs(numeric[2]) * length + abs(numeric[0]) + abs(numeric[1])
    return bool(gap <= slack + options.thresholds.kink * size)


def _unit(vector: np.ndarray) -> np.ndarray:
    unit: np.ndarray = vector / np.linalg.norm(vector)
    return unit


def _polling(report: Report) -> Report:
    """The probe is not progress, but lets a cancel through."""

    def poll(count: int) -> None:
        report(0)

    return poll
