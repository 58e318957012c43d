"""Diagnosing a check's failing rows: the values each test needs, within a bounded budget.

For every failing row (a tensor, or one of its gate slices) the tests of
:mod:`~rnnscope.engine.gradcheck.diagnosis_fits` run in order -- zero, scaled,
swapped gates, transposed -- and then, for the rows none of them explains,
only some steps (:mod:`~rnnscope.engine.gradcheck.diagnosis_steps`). The row
keeps what they find (``GradRow.diagnoses``). What each test reads:

* **zero** and **scaled** read the comparisons the check made: every element in
  full mode, the sampled elements in sampled mode, the directions in
  directional mode (``u . grad`` against the derivative along ``u`` is scaled by
  the same ``c``).
* **swapped** and **transposed** compare the analytic gradient at up to
  :data:`~rnnscope.engine.gradcheck.diagnosis_context.PROBES` elements of a row
  (its largest) with the numerical one at the places they would have come from:
  the same element of every other gate slice of the same size, the transposed
  element of a square matrix or slice. Where the check has no numerical value
  there (sampled and directional modes), it is computed now, like the check's own.
* **only some steps** re-checks a few failing elements on shorter sequences.

The numerical derivatives computed for diagnoses are at most
``options.diagnosis_budget`` (2000) per check (elements times lengths for the
re-checks); a test that would exceed it is not run, and
the result's notes say for which rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from rnnscope.engine.gradcheck.diagnosis import Diagnosis
from rnnscope.engine.gradcheck.diagnosis_context import (
    DiagnosisContext,
    RowGroup,
    largest_elements,
    row_groups,
)
from rnnscope.engine.gradcheck.diagnosis_fits import (
    Values,
    match_count,
    mismatched,
    scale_fit,
    swapped_diagnosis,
    transposed_diagnosis,
    zero_fit,
)
from rnnscope.engine.gradcheck.diagnosis_steps import diagnose_steps
from rnnscope.engine.gradcheck.differences import element_differences
from rnnscope.engine.gradcheck.plan import TensorPlan
from rnnscope.engine.gradcheck.result import GradRow, TensorCheck
from rnnscope.engine.gradcheck.tensors import INPUTS, CheckedTensor

FIRST_PROBES = 4  # places compared first for a swap or a transpose, before the whole probe


def diagnose(rows: list[GradRow], checks: dict[str, TensorCheck], context: DiagnosisContext) -> list[str]:
    """Fill in ``diagnoses`` of every failing row and sub-row; returns notes (rows a test skipped)."""
    unexplained: list[tuple[TensorCheck, list[RowGroup]]] = []
    for row in rows:
        if not (row.failed and row.parameter in context.tensors):
            continue
        check = checks[row.parameter]
        tensor = context.tensors[row.parameter]
        known = Known(check)
        groups = row_groups(row, check, tensor)
        for group in groups:
            group.row.diagnoses = _value_tests(group, check, tensor, known, context)
        rest = [group for group in groups if not group.row.diagnoses]
        if rest:
            unexplained.append((check, rest))
    diagnose_steps(unexplained, context)
    if not context.short:
        return list(context.notes)
    return [
        f"diagnosis: the budget of {context.budget} extra numerical derivatives ran out; "
        f"not every test was run for {', '.join(context.short)}",
        *context.notes,
    ]


class Known:
    """Numerical derivatives (and their allowances) known for one tensor, by flat index (nan: unknown)."""

    def __init__(self, check: TensorCheck) -> None:
        size = int(np.prod(check.shape, dtype=np.int64))
        self.numeric = np.full(size, np.nan)
        self.allowance = np.full(size, np.nan)
        elements = check.indices >= 0
        self.numeric[check.indices[elements]] = check.numeric[elements]
        self.allowance[check.indices[elements]] = check.allowance()[elements]

    def ensure(
        self, indices: np.ndarray, row: str, tensor: CheckedTensor, name: str, context: DiagnosisContext
    ) -> bool:
        """Compute what is missing at ``indices``; False when the budget does not allow it."""
        missing = np.unique(indices[np.isnan(self.numeric[indices])])
        if not missing.size:
            return True
        if not context.afford(int(missing.size), row):
            return False
        plan = TensorPlan(missing, (None,) * int(missing.size))
        options = context.options
        d = element_differences(
            name,
            tensor.array,
            tensor.analytic,
            plan,
            context.evaluator,
            context.losses,
            options,
            context.report,
        )
        self.numeric[missing] = d.numeric.numeric
        self.allowance[missing] = d.numeric.rounding + options.thresholds.truncation * d.numeric.truncation
        return True


def _value_tests(
    group: RowGroup, check: TensorCheck, tensor: CheckedTensor, known: Known, context: DiagnosisContext
) -> list[Diagnosis]:
    m = group.members
    failing = group.failing(check)
    values = Values(check.analytic_values[m], check.numeric[m], check.allowance()[m], failing[m])
    analytic = check.analytic.reshape(-1)[group.elements]
    for found in (
        zero_fit(values, whole=not np.any(analytic), size=int(analytic.size), where=_where(check, failing)),
        scale_fit(values, context.sizes),
    ):
        if found is not None:
            return [found]
    out = _swaps(group, check, tensor, known, context) if group.piece is not None else []
    transposed = _transposed(group, check, tensor, known, context)
    return out + ([transposed] if transposed is not None else [])


def _where(check: TensorCheck, failing: np.ndarray) -> str:
    """For the inputs: the step all failing elements are at, when they share one."""
    indices = check.indices[failing]
    if check.name != INPUTS or not indices.size or np.any(indices < 0):
        return ""
    steps = np.unique(np.unravel_index(indices, check.shape)[0])
    if steps.size != 1:
        return ""
    last = check.shape[0] - 1
    return f" (all at step t = {int(steps[0])}{', the last' if steps[0] == last else ''})"


def _moved(
    indices: np.ndarray, shape: tuple[int, ...], move: Callable[[list[np.ndarray]], list[np.ndarray]]
) -> np.ndarray:
    coords = list(np.unravel_index(indices, shape))
    return np.asarray(np.ravel_multi_index(tuple(move(coords)), shape), dtype=np.int64)


def _swaps(
    group: RowGroup, check: TensorCheck, tensor: CheckedTensor, known: Known, context: DiagnosisContext
) -> list[Diagnosis]:
    piece = group.piece
    assert piece is not None and group.row.gate is not None
    analytic = check.analytic.reshape(-1)
    p = largest_elements(group, analytic)
    out: list[Diagnosis] = []
    for gate, other in tensor.slices.items():
        if (
            gate == group.row.gate
            or other.stop - other.start != piece.stop - piece.start
            or other.axis != piece.axis
        ):
            continue

        def shift(coords: list[np.ndarray], by: int = other.start - piece.start) -> list[np.ndarray]:
            coords[piece.axis] = coords[piece.axis] + by
            return coords

        q = _moved(p, check.shape, shift)
        count = _staged_match(
            analytic[p], q, np.ones(p.size, dtype=bool), group, tensor, check, known, context
        )
        if count:
            both = known.ensure(p, group.row.name, tensor, check.name, context) and bool(
                match_count(analytic[q], known.numeric[p], known.allowance[p], np.ones(p.size, dtype=bool))
            )
            out.append(swapped_diagnosis(group.row.name, f"{check.name}[{gate}]", count, both))
    return out


def _transposed(
    group: RowGroup, check: TensorCheck, tensor: CheckedTensor, known: Known, context: DiagnosisContext
) -> Diagnosis | None:
    if group.elements.ndim != 2 or group.elements.shape[0] != group.elements.shape[1]:
        return None
    start = 0 if group.piece is None else group.piece.start
    axis = 0 if group.piece is None else group.piece.axis
    analytic = check.analytic.reshape(-1)
    p = largest_elements(group, analytic)

    def transpose(coords: list[np.ndarray]) -> list[np.ndarray]:
        local = [c.copy() for c in coords]
        local[axis] = local[axis] - start
        local = [local[1], local[0]]
        local[axis] = local[axis] + start
        return local

    q = _moved(p, check.shape, transpose)
    count = _staged_match(analytic[p], q, p != q, group, tensor, check, known, context)
    return transposed_diagnosis(group.row.name, count) if count else None


def _staged_match(
    analytic: np.ndarray,
    places: np.ndarray,
    usable: np.ndarray,
    group: RowGroup,
    tensor: CheckedTensor,
    check: TensorCheck,
    known: Known,
    context: DiagnosisContext,
) -> int:
    """How many of ``analytic`` match the numerical values at ``places`` (see ``match_count``),
    computing those first for a few places: one clear mismatch there ends it (a wrong gate is
    usually no swap), so a row pays the whole probe only when the swap is likely."""
    for stop in (FIRST_PROBES, len(places)):
        wanted = places[:stop][usable[:stop]]
        if not wanted.size or not known.ensure(wanted, group.row.name, tensor, check.name, context):
            return 0
        numeric, allowance = known.numeric[places[:stop]], known.allowance[places[:stop]]
        if mismatched(analytic[:stop], numeric, allowance, usable[:stop]):
            return 0
    return match_count(analytic, known.numeric[places], known.allowance[places], usable)
