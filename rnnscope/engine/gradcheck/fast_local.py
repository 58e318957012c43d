"""Perturbed inputs and initial states of an RNN or LSTM: one copy of one sequence each.

An element of the inputs ``x[t, b, d]`` only touches sequence ``b``, from step
``t``: its copy starts there from the stored unperturbed state and, at that one
step, its pre-activations move by ``delta * Wx[d]`` (times the LSTM's halved
sigmoid columns, as the recurrence keeps them). An element of the initial state
``h[b, i]`` (or the LSTM's ``c[b, i]``) touches sequence ``b`` from step 0: its
copy starts from the changed state. The copies run through
:func:`~rnnscope.engine.gradcheck.fast_copies.run_copies`, with the model's own
kernels and head.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.fast_copies import ROWS_PER_PASS, Recurrence, run_copies
from rnnscope.engine.gradcheck.tensors import INPUTS, STATE_PREFIX

# the tensors besides the parameters whose elements the copies perturb
LOCAL_TENSORS = (INPUTS, STATE_PREFIX + "h", STATE_PREFIX + "c")


def local_changes(
    recurrence: Recurrence, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    """Loss changes ``(K,)`` (times ``B``) with element ``indices[k]`` of the inputs ``(T, B, D)`` or
    of the initial state ``(B, H)`` (``name``) changed by ``delta[k]``, one element at a time."""
    if name == INPUTS:
        step, rows, unit = np.unravel_index(indices, shape)
    else:
        rows, unit = np.unravel_index(indices, shape)
        step = np.zeros(len(indices), dtype=np.int64)
    order = np.argsort(step, kind="stable")
    change = np.zeros(len(indices))
    for begin in range(0, len(order), ROWS_PER_PASS):
        part = order[begin : begin + ROWS_PER_PASS]
        start = np.asarray(step[part], dtype=np.int64)
        if name == INPUTS:
            nudge = _InputNudge(recurrence.Wx_half, start, unit[part], delta[part])
            change[part] = run_copies(recurrence, rows[part], start, nudge)
        else:
            join = _StateJoin(name == STATE_PREFIX + "c", unit[part], delta[part])
            change[part] = run_copies(recurrence, rows[part], start, _unchanged, join)
    return change


def _unchanged(t: int, pre: np.ndarray, h_prev: np.ndarray, m: int) -> None:
    """The weights are the unperturbed ones: nothing to add."""


class _InputNudge:
    """Copy ``k`` has input unit ``unit[k]`` of its step ``start[k]`` changed by ``delta[k]``."""

    def __init__(self, Wx_half: np.ndarray, start: np.ndarray, unit: np.ndarray, delta: np.ndarray) -> None:
        self.shift = delta[:, None] * Wx_half[unit]  # (N, G): what each copy's step adds
        self.start = start

    def __call__(self, t: int, pre: np.ndarray, h_prev: np.ndarray, m: int) -> None:
        # the copies whose perturbed step is t: a contiguous block, as starts are sorted
        first, last = np.searchsorted(self.start, [t, t + 1])
        if last > first:
            pre[first:last] += self.shift[first:last]


class _StateJoin:
    """Copy ``k`` starts with unit ``unit[k]`` of ``h`` (or of the LSTM's ``c``) changed by ``delta[k]``."""

    def __init__(self, cell: bool, unit: np.ndarray, delta: np.ndarray) -> None:
        self.cell = cell
        self.unit = unit
        self.delta = delta

    def __call__(self, t: int, h: np.ndarray, c: np.ndarray | None, first: int, last: int) -> None:
        target = c if self.cell else h
        if target is None:
            raise ValueError("a perturbed cell state needs an LSTM")
        copies = np.arange(first, last)
        target[copies, self.unit[first:last]] += self.delta[first:last]
