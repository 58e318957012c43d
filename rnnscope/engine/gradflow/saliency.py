"""Input saliency: which earlier inputs the loss at step ``t`` depends on.

``saliency[s, t] = sum_d |dLoss_t / dx_{s,d}|`` ``(T, T)``, where ``Loss_t`` is the loss of
step ``t`` alone (with its weight in the model's mask; a step the loss does not score has
a zero column) and ``x_s`` the input vector of step ``s`` (the one-hot character, before
any embedding). Zero above the diagonal (``s > t``): the model is causal.

Through the model's own forward and backward: the sequence is copied into one batch row
per target step, row ``k`` scoring only its step ``t_k`` (a mask), and one backward gives
every row's input gradient at once. Rows go in chunks of :data:`CHUNK` target steps, each
forward running only up to the chunk's last step.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradflow.replicas import check_row, replicated, replicated_state, state_row
from rnnscope.engine.heads import make_mask
from rnnscope.engine.models.base import RecurrentModel, State

CHUNK = 64  # target steps per forward / backward (batch rows)


def input_saliency(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    *,
    state: State | None = None,
    row: int = 0,
) -> np.ndarray:
    """``saliency`` ``(T, T)``, ``[s, t]`` = ``sum_d |dLoss_t / dx_{s,d}|`` for batch row ``row`` of
    ``inputs`` ``(T, B, D)``, ``targets`` and ``mask`` as :meth:`RecurrentModel.forward` takes them."""
    inputs = model.check_inputs(inputs)
    check_row(inputs, row)
    steps, batch, _ = inputs.shape
    weights = make_mask(steps, batch, mask, model.config.many_to_one, model.dtype)[:, row]
    start = state_row(model, state, row, batch)
    targets = np.asarray(targets)
    saliency = np.zeros((steps, steps), dtype=model.dtype)
    scored = np.flatnonzero(weights)
    if model.config.many_to_one:  # the last step is the only one scored, whatever the length
        if scored.size:
            saliency[:, -1] = _rows(model, inputs, targets, row, start, None)[:, 0]
        return saliency
    for begin in range(0, scored.size, CHUNK):
        chosen = scored[begin : begin + CHUNK]
        end = int(chosen[-1]) + 1
        rows_mask = np.zeros((end, chosen.size), dtype=model.dtype)
        rows_mask[chosen, np.arange(chosen.size)] = weights[chosen]
        saliency[:end, chosen] = _rows(model, inputs[:end], targets[:end], row, start, rows_mask)
    return saliency


def _rows(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    row: int,
    start: State,
    rows_mask: np.ndarray | None,
) -> np.ndarray:
    """``sum_d |dLoss_k / dx_s|`` ``(S, K)`` for ``K`` copies of the sequence, copy ``k`` scored by
    column ``k`` of ``rows_mask`` ``(S, K)`` (None: one copy, the model's own mask)."""
    copies = 1 if rows_mask is None else rows_mask.shape[1]
    result = model.forward(
        replicated(inputs, row, copies),
        replicated(targets, row, copies),
        rows_mask,
        replicated_state(start, copies),
        record=False,
    )
    dinputs = model.backward(result).inputs
    assert dinputs is not None  # asked for: input_gradient defaults to True
    # the head averages over the batch: undo it, so each copy's step loss counts once
    sums: np.ndarray = np.abs(dinputs).sum(axis=-1)
    return sums * copies
