"""Only some steps: rows right on short sequences and wrong on longer ones.

A gradient carried between steps (BPTT) that is dropped or wrong leaves the
gradient of a one-step sequence right -- nothing is carried -- and makes it
wrong once something is. The failing rows that no other diagnosis explains are
re-checked on the first ``L`` steps of the check's batch (same model, same
state), at the lengths :func:`shorter_lengths`, with up to
:data:`STEP_PROBES` of each row's failing elements; lengths go up one at a time
and stop early when the evidence is against it.

A bug in one function also makes the rows downstream of it fail, and those are
right on one step too: the error reaches them through the recurrence. So the
diagnosis is given only when **every** re-checked parameter row is right at its
shortest judged length; a parameter already wrong there is where the bug is, not
in a carry. (The initial state's rows do not count: their gradient *is* the
carry out of the first step, wrong on one step when the carry is.)
For the ``inputs`` the check's own errors are read by distance from the last
step instead (right at the last step, wrong before it), under the same rule.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.gradcheck.diagnosis_context import DiagnosisContext, RowGroup, largest_elements
from rnnscope.engine.gradcheck.diagnosis_fits import Stage, steps_fit
from rnnscope.engine.gradcheck.differences import Losses, element_differences
from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.gradcheck.judge import judge
from rnnscope.engine.gradcheck.plan import TensorPlan, plan_tensor
from rnnscope.engine.gradcheck.result import TensorCheck
from rnnscope.engine.gradcheck.scale import loss_scale
from rnnscope.engine.gradcheck.status import Status
from rnnscope.engine.gradcheck.tensors import INPUTS, CheckBatch, CheckedTensor, checked_tensors

STEP_PROBES = 8  # failing elements of a row re-checked at each shorter sequence length


def shorter_lengths(steps: int) -> list[int]:
    """The lengths a row is re-checked at: 1, 2, 3 and a quarter, half, three quarters of ``steps``."""
    candidates = {1, 2, 3, steps // 4, steps // 2, (3 * steps) // 4}
    return sorted(n for n in candidates if 1 <= n < steps)


@dataclass
class _Pending:
    """A row being re-checked: its tensor's check, the row, the elements re-checked, its stages."""

    check: TensorCheck
    group: RowGroup
    probes: np.ndarray
    stages: list[Stage]


def diagnose_steps(pending: list[tuple[TensorCheck, list[RowGroup]]], context: DiagnosisContext) -> None:
    """Give the rows ``pending`` (no other diagnosis) a ``"steps"`` diagnosis where it is supported."""
    inputs = [(check, group) for check, groups in pending if check.name == INPUTS for group in groups]
    rechecked = [
        _Pending(check, group, _step_probes(group, check), [])
        for check, groups in pending
        if check.name != INPUTS
        for group in groups
    ]
    if rechecked and not _shorter_stages(rechecked, context):
        return
    steps = int(context.batch.inputs.shape[0])
    for item in rechecked:
        row = item.group.row
        item.stages.append(Stage(steps, row.checked, row.failed, row.rel_err_median))
        found = steps_fit(item.stages)
        if found is not None:
            row.diagnoses = [found]
    for check, group in inputs:
        found = steps_fit(input_stages(check), inputs=True)
        if found is not None:
            group.row.diagnoses = [found]


def input_stages(check: TensorCheck) -> list[Stage]:
    """The inputs' check by distance from the last step (element checks only)."""
    elements = check.indices >= 0
    if not elements.any():
        return []
    steps = np.unravel_index(check.indices[elements], check.shape)[0]
    distance = check.shape[0] - 1 - steps
    codes = check.status_codes[elements]
    rel = check.rel_err[elements]
    return [_stage(int(d), codes[distance == d], rel[distance == d]) for d in np.unique(distance)]


def _stage(length: int, codes: np.ndarray, rel: np.ndarray) -> Stage:
    judged = (codes != Status.TOO_SMALL.code) & (codes != Status.KINK.code)
    wrong = (codes == Status.FAIL.code) | (codes == Status.WARN.code)
    median = float(np.median(rel[judged])) if judged.any() else float("nan")
    return Stage(length, int(judged.sum()), bool(np.any(wrong & judged)), median)


def _step_probes(group: RowGroup, check: TensorCheck) -> np.ndarray:
    """Up to STEP_PROBES failing elements of the row (largest numerical value first); its largest
    analytic values when the check compared none (directional mode)."""
    failing = group.failing(check) & (check.indices >= 0)
    if not failing.any():
        return largest_elements(group, check.analytic.reshape(-1), STEP_PROBES)
    positions = np.flatnonzero(failing)
    order = np.argsort(-np.abs(check.numeric[positions]), kind="stable")
    chosen: np.ndarray = check.indices[positions[order[:STEP_PROBES]]].astype(np.int64)
    return chosen


def _wrong_first(stages: list[Stage]) -> bool:
    judged = [stage for stage in stages if stage.judged]
    return bool(judged) and judged[0].failed


def _shorter_stages(items: list[_Pending], context: DiagnosisContext) -> bool:
    """Re-check every item at each shorter length; False when one is wrong at its shortest judged
    length (the evidence is against a carried gradient) or the budget runs out."""
    by_tensor: dict[str, list[_Pending]] = {}
    for item in items:
        by_tensor.setdefault(item.check.name, []).append(item)
    for length in shorter_lengths(int(context.batch.inputs.shape[0])):
        try:
            run = _shorter_run(length, context)
        except Exception as error:
            # the model's own code, on a batch it was not given: this diagnosis is left out and
            # the check stands (a cancellation is raised later, outside this)
            context.notes.append(
                f"diagnosis: the model could not be run on its first {length} step(s) "
                f"({type(error).__name__}: {error}); 'only some steps' was not tested"
            )
            return False
        for name, mine in by_tensor.items():
            indices = np.unique(np.concatenate([item.probes for item in mine]))
            if not context.afford(int(indices.size), mine[0].group.row.name):
                return False
            judged = _recheck(name, indices, run, context)
            for item in mine:
                chosen = np.zeros(0, dtype=bool) if judged is None else np.isin(judged.indices, item.probes)
                codes = np.zeros(0, dtype=np.int8) if judged is None else judged.status_codes[chosen]
                rel = np.zeros(0) if judged is None else judged.rel_err[chosen]
                item.stages.append(_stage(length, codes, rel))
        # a parameter wrong on its shortest sequence is where the bug is; the initial state's
        # gradient is the carry itself, wrong on one step when the carry is
        if any(_wrong_first(item.stages) for item in items if item.group.row.group == "parameter"):
            return False
    return bool(items) and bool(items[0].stages)


@dataclass(frozen=True)
class _ShorterRun:
    """The model on the first steps of the batch: what can be checked there (``tensors``, by row
    name), its evaluator and its losses."""

    tensors: dict[str, CheckedTensor]
    evaluator: LossEvaluator
    losses: Losses


def _shorter_run(length: int, context: DiagnosisContext) -> _ShorterRun:
    """The model run on the first ``length`` steps of the batch, from the same initial state."""
    batch = context.batch
    short = CheckBatch(
        batch.inputs[:length].copy(),
        batch.targets[:length].copy(),
        None if batch.mask is None else batch.mask[:length].copy(),
        {key: value.copy() for key, value in batch.state.items()},
    )
    model = context.model
    _, grads, forward = model.loss_and_gradients(short.inputs, short.targets, short.mask, short.state)
    evaluator = context.make_evaluator(model, short)
    losses = Losses(evaluator.base_loss(), loss_scale(model, forward))
    return _ShorterRun(checked_tensors(model, short, grads, True), evaluator, losses)


def _recheck(
    name: str, indices: np.ndarray, run: _ShorterRun, context: DiagnosisContext
) -> TensorCheck | None:
    """The elements ``indices`` of tensor ``name`` checked in the shorter ``run`` (None when the
    model has no gradient for that tensor there)."""
    tensor = run.tensors.get(name)
    if tensor is None:
        return None
    options = dataclasses.replace(context.options, mode="full")
    full = plan_tensor(name, tensor.analytic, tensor.slices, options)
    plan = TensorPlan(indices, tuple(full.gates[int(i)] for i in indices), scales=full.scales)
    differences = element_differences(
        name, tensor.array, tensor.analytic, plan, run.evaluator, run.losses, options, context.report
    )
    return judge(name, tensor.analytic, plan, differences, options.thresholds)
