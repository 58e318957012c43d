"""What diagnosing a check's failing rows may use, and the rows it works on.

See :mod:`~rnnscope.engine.gradcheck.diagnosis_run` for the tests and their budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from rnnscope.engine.gradcheck.differences import Losses, Report
from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.gradcheck.options import CheckOptions
from rnnscope.engine.gradcheck.result import GradRow, TensorCheck
from rnnscope.engine.gradcheck.status import Status
from rnnscope.engine.gradcheck.tensors import CheckBatch, CheckedTensor
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.params import GateSlice

PROBES = 16  # elements of a slice compared with another slice (swap) or with their transposes

MakeEvaluator = Callable[[RecurrentModel, CheckBatch], LossEvaluator]


@dataclass
class DiagnosisContext:
    """What the diagnoses may use: the checked (float64) model, the check's batch, its tensors, the
    evaluator and losses of the check, its options, ``report`` (polls cancellation) and how to make
    an evaluator for a shorter batch. ``spent`` counts the numerical derivatives added so far;
    ``short`` names the rows a test was skipped for, the budget being spent; ``notes`` are other
    sentences for the result (a test that could not run)."""

    model: RecurrentModel
    batch: CheckBatch
    tensors: dict[str, CheckedTensor]
    evaluator: LossEvaluator
    losses: Losses
    options: CheckOptions
    report: Report
    make_evaluator: MakeEvaluator
    spent: int = 0
    short: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def budget(self) -> int:
        """How many numerical derivatives the diagnoses may add (``options.diagnosis_budget``)."""
        return int(self.options.diagnosis_budget)

    @property
    def sizes(self) -> dict[str, int]:
        """The sizes a factor may be made of: steps ``T``, batch ``B``, hidden units ``H``."""
        steps, batch, _ = self.batch.inputs.shape
        return {"T": int(steps), "B": int(batch), "H": int(self.model.config.hidden_size)}

    def afford(self, count: int, row: str) -> bool:
        """Spend ``count`` numerical derivatives on ``row`` if the budget allows (else note the row)."""
        if self.spent + count > self.budget:
            if row not in self.short:
                self.short.append(row)
            return False
        self.spent += count
        return True


@dataclass(frozen=True)
class RowGroup:
    """A failing row to diagnose: the ``row``, which comparisons of its tensor's check belong to it
    (``members``, ``(K,)``), the flat indices of its elements in the tensor (``elements``, in the
    shape of the row) and its gate slice (``piece``; None for a whole tensor)."""

    row: GradRow
    members: np.ndarray
    elements: np.ndarray
    piece: GateSlice | None

    def failing(self, check: TensorCheck) -> np.ndarray:
        """``(K,)``: the comparisons of this row that failed."""
        failed: np.ndarray = self.members & (check.status_codes == Status.FAIL.code)
        return failed


def row_groups(row: GradRow, check: TensorCheck, tensor: CheckedTensor) -> list[RowGroup]:
    """The failing row of a tensor, then its failing gate sub-rows."""
    size = int(np.prod(check.shape, dtype=np.int64))
    flat = np.arange(size, dtype=np.int64).reshape(check.shape)
    gates = np.array(check.gates, dtype=object)
    groups = [RowGroup(row, np.ones(len(gates), dtype=bool), flat, None)]
    for sub in row.sub_rows:
        piece = tensor.slices.get(sub.gate or "")
        if sub.failed and piece is not None:
            groups.append(RowGroup(sub, gates == sub.gate, flat[piece.index(flat.ndim)], piece))
    return groups


def largest_elements(group: RowGroup, analytic: np.ndarray, count: int = PROBES) -> np.ndarray:
    """Flat indices of the ``count`` elements of the row with the largest ``|analytic|`` (flat)."""
    elements = group.elements.reshape(-1)
    order = np.argsort(-np.abs(analytic[elements]), kind="stable")
    chosen: np.ndarray = elements[order[:count]]
    return chosen
