"""The unperturbed run the batched evaluator compares every perturbed copy with.

It is the model's own forward pass (no second implementation of it): the
features, logits and per-step losses of the batch, plus the LSTM's cell states
(from its ``lstm/cell`` probe) where perturbed copies of an LSTM must start
from a stored state.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.heads import linear_forward, step_losses, validate_targets
from rnnscope.engine.models.base import RecurrentModel, State


@dataclass(frozen=True)
class BaseRun:
    """One batch through the unperturbed model, time-major.

    ``inputs`` ``(T, B, D)``; ``targets`` ``(T, B)`` class indices or ``(T, B, O)``;
    ``mask`` ``(T, B)`` loss weights; ``state`` the initial state (``"h"``
    ``(B, H)``, and ``"c"`` for an LSTM); ``features`` ``(T, B, F)`` what the
    read-out sees (``h_t`` for the RNN and LSTM); ``cells`` ``(T, B, H)`` the
    LSTM's ``c_t`` (``None`` otherwise); ``logits`` ``(T, B, O)``; ``step_loss``
    ``(T, B)`` the loss of every step before the mask; ``loss_kind`` the head's loss.
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray
    state: State
    features: np.ndarray
    cells: np.ndarray | None
    logits: np.ndarray
    step_loss: np.ndarray
    loss_kind: str

    @property
    def steps(self) -> int:
        return int(self.inputs.shape[0])

    @property
    def batch(self) -> int:
        return int(self.inputs.shape[1])

    def loss(self) -> float:
        """The model's loss: the masked step losses summed over time, averaged over the batch."""
        return float((self.step_loss * self.mask).sum() / self.batch)

    def state_before(self, t: int, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """``(h_{t-1}, c_{t-1})`` ``(len(rows), H)`` of sequences ``rows`` (``c`` None without cells)."""
        if t == 0:
            cell = self.state.get("c")
            return self.state["h"][rows], None if cell is None else cell[rows]
        cells = None if self.cells is None else self.cells[t - 1, rows]
        return self.features[t - 1, rows], cells


def base_run(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
    with_cells: bool,
) -> BaseRun:
    """Run ``model`` forward once on the batch (recording the trace when ``with_cells``, for the
    LSTM's cell states) and keep what the perturbed copies are measured against."""
    result = model.forward(inputs, targets, mask, state, record=with_cells)
    cfg = model.config
    x = result.inputs
    steps, batch, _ = x.shape
    checked_targets = validate_targets(cfg.loss, targets, steps, batch, cfg.output_size)
    if cfg.loss != "softmax_ce":
        checked_targets = np.asarray(checked_targets, dtype=np.float64)
    features = np.array(result.core.features, dtype=np.float64)
    cells = None
    if with_cells and result.trace is not None and "lstm/cell" in result.trace:
        cells = np.array(result.trace["lstm/cell"].data, dtype=np.float64)
    logits = linear_forward(features, model.params["Wy"], model.params["by"])
    return BaseRun(
        inputs=x,
        targets=checked_targets,
        mask=result.mask,
        state=model.initial_state(batch) if state is None else model.check_state(state, batch),
        features=features,
        cells=cells,
        logits=logits,
        step_loss=step_losses(cfg.loss, logits, checked_targets),
        loss_kind=cfg.loss,
    )
