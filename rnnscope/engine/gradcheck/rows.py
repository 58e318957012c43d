"""Table rows from per-element checks: one row per tensor, one sub-row per gate slice.

A row summarises a group of comparisons (all of a tensor's, or those of one gate
slice): value ranges, relative-error statistics over the judged elements, the
resolution (the smallest relative error its best judged element could show),
the worst element and the most severe status (see :class:`GradRow`).
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.result import GradRow, TensorCheck
from rnnscope.engine.gradcheck.status import STATUS_BY_CODE, Status, summarise_statuses
from rnnscope.engine.params import GateSlice


def build_row(check: TensorCheck, slices: dict[str, GateSlice]) -> GradRow:
    """The table row of one tensor, with a sub-row per gate slice when it is fused."""
    everything = np.ones(len(check.gates), dtype=bool)
    row = group_row(check, everything, check.name, None, check.shape)
    gates = np.array(check.gates, dtype=object)
    for gate, piece in slices.items():
        members = gates == gate
        if not members.any():
            continue
        shape = list(check.shape)
        shape[piece.axis] = piece.stop - piece.start
        row.sub_rows.append(group_row(check, members, f"{check.name}[{gate}]", gate, tuple(shape)))
    return row


def group_row(
    check: TensorCheck, members: np.ndarray, name: str, gate: str | None, shape: tuple[int, ...]
) -> GradRow:
    """The row of the comparisons ``members`` (a ``(K,)`` boolean mask) of ``check``."""
    codes = check.status_codes[members]
    judged = codes != Status.TOO_SMALL.code
    rel = check.rel_err[members]
    analytic = check.analytic_values[members]
    numeric = check.numeric[members]
    statuses = [STATUS_BY_CODE[int(c)] for c in codes]
    local = _worst_position(codes, rel)
    worst = int(np.flatnonzero(members)[local])
    flat_index = int(check.indices[worst])
    worst_index = None if flat_index < 0 else tuple(int(i) for i in np.unravel_index(flat_index, check.shape))
    judged_rel = rel[judged]
    allowance = check.allowance()[members]
    magnitude = np.maximum(np.abs(analytic), np.abs(numeric))
    plain = judged & (codes != Status.KINK.code)
    with np.errstate(divide="ignore", invalid="ignore"):
        resolution = allowance[plain] / magnitude[plain]
    return GradRow(
        name=name,
        parameter=check.name,
        gate=gate,
        shape=shape,
        checked=int(members.sum()),
        total=int(np.prod(shape, dtype=np.int64)),
        analytic_min=_min(analytic),
        analytic_max=_max(analytic),
        numeric_min=_min(numeric),
        numeric_max=_max(numeric),
        rel_err_min=_min(judged_rel),
        rel_err_max=_max(judged_rel),
        rel_err_mean=float(np.mean(judged_rel)) if judged_rel.size else float("nan"),
        rel_err_median=float(np.median(judged_rel)) if judged_rel.size else float("nan"),
        raw_rel_err_max=_max(check.raw_rel_err[members][judged]),
        resolution=_min(resolution[np.isfinite(resolution)]),
        allowance_min=_min(allowance[np.isfinite(allowance)]),
        worst_index=worst_index,
        worst_direction=local if flat_index < 0 else None,
        worst_analytic=float(check.analytic_values[worst]),
        worst_numeric=float(check.numeric[worst]),
        status=summarise_statuses(statuses),
        counts={status.value: int(sum(s is status for s in statuses)) for status in Status},
    )


def _worst_position(codes: np.ndarray, rel: np.ndarray) -> int:
    """Position of the largest relative error, among plain judged elements if any (no kinks,
    nothing too small), else among the judged ones, else among all."""
    judged = codes != Status.TOO_SMALL.code
    plain = judged & (codes != Status.KINK.code)
    pool = plain if plain.any() else judged if judged.any() else np.ones_like(judged)
    return int(np.flatnonzero(pool)[np.argmax(np.where(np.isfinite(rel[pool]), rel[pool], np.inf))])


def _min(values: np.ndarray) -> float:
    return float(np.min(values)) if values.size else float("nan")


def _max(values: np.ndarray) -> float:
    return float(np.max(values)) if values.size else float("nan")
