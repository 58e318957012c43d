"""Perturbed inputs and initial states of any model: copies of sequences as rows of one batch.

Changing one element of the inputs ``x[t, b, d]`` or of the initial state
``state[key][b, ...]`` only changes sequence ``b``: its loss is the model's loss
with that one sequence replaced. The rows of a batch are independent in every
engine model, so many such copies -- each a perturbed copy of one sequence --
run as the rows of one batch through the model's own ``forward``, and the
perturbed loss is ``L0 + (new row loss - old row loss) / B``. A directional
check replaces the whole tensor: each direction is a copy of the whole batch.
This serves every model with the shared ``forward`` (the GRU and the DNC
included); the RNN's and LSTM's copies start later still
(:mod:`~rnnscope.engine.gradcheck.fast_local`).
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.tensors import INPUTS, STATE_PREFIX, CheckBatch
from rnnscope.engine.models.base import RecurrentModel, State

# sequences per forward call: enough to amortise the per-step Python work of a forward,
# small enough that a DNC's link matrices of every row stay a few megabytes
ROWS_PER_CALL = 256


class RowCopies:
    """Loss changes of perturbed copies of single sequences (or of whole batches), for ``model``
    on ``batch``; ``row_loss`` ``(B,)`` is each unperturbed sequence's masked loss (not / B)."""

    def __init__(self, model: RecurrentModel, batch: CheckBatch) -> None:
        self.model = model
        self.batch = batch
        steps, size, _ = batch.inputs.shape
        self.mask = np.ones((steps, size)) if batch.mask is None else batch.mask
        result = model.forward(batch.inputs, batch.targets, self.mask, batch.state, record=False)
        self.row_loss: np.ndarray = result.head.step_loss.sum(axis=0)

    def element_changes(
        self, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        """``(K,)``: sum of the masked step-loss changes (times ``B``) with element ``indices[k]`` of
        the inputs ``(T, B, D)`` or of state entry ``name`` ``(B, ...)`` changed by ``delta[k]``."""
        out = np.empty(len(indices))
        for start in range(0, len(indices), ROWS_PER_CALL):
            part = slice(start, start + ROWS_PER_CALL)
            out[part] = self._element_block(name, shape, indices[part], delta[part])
        return out

    def _element_block(
        self, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
    ) -> np.ndarray:
        count = len(indices)
        copies = np.arange(count)
        inputs, state = self.batch.inputs, self.batch.state
        if name == INPUTS:
            step, rows, unit = np.unravel_index(indices, shape)
            x = inputs[:, rows].copy()  # (T, K, D)
            x[step, copies, unit] += delta
            moved = {key: value[rows] for key, value in state.items()}
        else:
            key = name.removeprefix(STATE_PREFIX)
            rows, *rest = np.unravel_index(indices, shape)
            x = inputs[:, rows]
            moved = {other: value[rows] for other, value in state.items()}
            changed = moved[key].copy()
            changed[(copies, *rest)] += delta
            moved[key] = changed
        change: np.ndarray = self._losses(x, rows, moved) - self.row_loss[rows]
        return change

    def dense_changes(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """``(K,)``: loss changes (times ``B``) with the whole inputs or state entry ``name`` replaced
        by each of ``tensors`` ``(K, *shape)``: ``K`` copies of the whole batch."""
        size = self.batch.inputs.shape[1]
        per_call = max(1, ROWS_PER_CALL // size)
        out = np.empty(len(tensors))
        for start in range(0, len(tensors), per_call):
            block = tensors[start : start + per_call]
            count = len(block)
            rows = np.tile(np.arange(size), count)
            inputs, state = self.batch.inputs, self.batch.state
            if name == INPUTS:
                x = np.concatenate(list(block), axis=1)  # copy k is rows k B .. k B + B - 1
                moved = {key: value[rows] for key, value in state.items()}
            else:
                key = name.removeprefix(STATE_PREFIX)
                x = inputs[:, rows]
                moved = {other: value[rows] for other, value in state.items()}
                moved[key] = block.reshape(count * size, *block.shape[2:])
            change = self._losses(x, rows, moved) - self.row_loss[rows]
            out[start : start + count] = change.reshape(count, size).sum(axis=1)
        return out

    def _losses(self, inputs: np.ndarray, rows: np.ndarray, state: State) -> np.ndarray:
        """Each row's masked loss (not / B) with ``inputs`` ``(T, N, D)`` and ``state`` for copies of
        sequences ``rows`` ``(N,)``."""
        targets = self.batch.targets[:, rows]
        result = self.model.forward(inputs, targets, self.mask[:, rows], state, record=False)
        losses: np.ndarray = result.head.step_loss.sum(axis=0)
        return losses
