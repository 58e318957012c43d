"""Perturbed copies of an RNN or LSTM, many per batched pass, stepped by the model's own kernels.

* **Many perturbed copies in one batched forward.** Each perturbed copy of each
  sequence is one row of a large batch; every step runs one shared matmul
  ``h @ Wh`` over all rows plus an exact per-row correction for what differs
  (``pre[row, j] += delta * h[row, i]`` for ``Wh[i, j]``; a whole changed matrix
  per copy in directional mode).
* **Rows start where the perturbation first matters.** A copy of sequence ``b``
  with ``Wx[i, j]`` changed is identical to the unperturbed run until the first
  step where input ``i`` is non-zero in that sequence (for one-hot text: the
  first occurrence of symbol ``i``); it starts there from the stored state of
  the unperturbed run, and sequences where the symbol never occurs cost
  nothing. ``Wh`` matters from the first step whose previous state has a
  non-zero unit ``i`` (step 1 from a zero state).

The step is the model's: the input projection of
:func:`~rnnscope.engine.models.kernels.input_projection`, column-major recurrent
weights (:func:`~rnnscope.engine.models.kernels.column_major`) and, for the
LSTM, pre-activations with the sigmoid columns halved as ``LSTM.forward_core``
keeps them, advanced by :func:`~rnnscope.engine.models.lstm_kernels.lstm_cell_step`.
The step losses are the head's (:func:`~rnnscope.engine.heads.step_losses`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from rnnscope.engine.gradcheck.fast_base import BaseRun
from rnnscope.engine.heads import step_losses
from rnnscope.engine.models.kernels import column_major, input_projection
from rnnscope.engine.models.lstm_kernels import lstm_cell_step

# rows of perturbed sequences per batched pass: large enough to amortise the
# per-step Python overhead, small enough that a (rows, 4H) array stays in cache
ROWS_PER_PASS = 512
# the core parameters the copies perturb
CORE_PARAMETERS = ("Wx", "Wh", "b")

# nudge(t, pre, h_prev, m): add the perturbation of the m running copies at step t to their
# pre-activations pre (m, G); h_prev (m, H) is their state before the step
Nudge = Callable[[int, np.ndarray, np.ndarray, int], None]
# on_join(t, h, c, first, last): change the state (m, H) of the copies first..last that have just
# joined at step t (copies of a perturbed initial state); c is None for the RNN
OnJoin = Callable[[int, np.ndarray, np.ndarray | None, int, int], None]


class Recurrence:
    """The RNN or LSTM recurrence of ``params`` on the batch of ``base``, ready to run copies.

    ``xproj`` ``(T, B, G)`` is the input projection with the bias, ``Wh``
    ``(H, G)`` the recurrent weights (column-major); for the LSTM both have their
    sigmoid columns scaled by ``half`` ``(G,)`` = 0.5 (1 elsewhere), as the model does.
    """

    def __init__(self, params: Mapping[str, np.ndarray], base: BaseRun, lstm: bool) -> None:
        Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
        hidden, width = Wh.shape
        self.base = base
        self.lstm = lstm
        self.half = np.ones(width)
        if lstm:
            self.half[: 3 * hidden] = 0.5
        steps, batch = base.steps, base.batch
        self.Wx_half = Wx * self.half  # what one input unit adds to the (scaled) pre-activations
        self.xproj = input_projection(base.inputs, self.Wx_half).reshape(steps, batch, width)
        self.xproj += b * self.half
        self.Wh = column_major(Wh, self.half if lstm else None)
        self.Wy = params["Wy"]
        self.by = params["by"]
        self.first_nonzero_input = _first_nonzero(base.inputs)

    def step(self, pre: np.ndarray, h: np.ndarray, c: np.ndarray | None, work: np.ndarray) -> None:
        """Advance ``m`` copies one step in place: ``pre`` ``(m, G)`` is consumed, ``h`` (and the
        LSTM's ``c``) ``(m, H)`` move from ``t - 1`` to ``t``; ``work`` is ``(2, m, H)`` scratch."""
        if c is None:
            np.tanh(pre, out=h)
        else:
            lstm_cell_step(pre, c, pre, c, work[0], h, work[1])


def run_copies(
    recurrence: Recurrence, rows: np.ndarray, start: np.ndarray, nudge: Nudge, on_join: OnJoin | None = None
) -> np.ndarray:
    """Run perturbed copies of sequences ``rows`` ``(N,)`` from their ``start`` step (ascending).

    Returns ``(N,)``: each copy's masked step-loss change, summed over time. Copies
    are sorted by start, so the running ones are always a prefix of the buffers
    and every array operation works on contiguous memory, in place. ``on_join``
    may change the state copies start from.
    """
    base = recurrence.base
    count = len(rows)
    hidden, width = recurrence.Wh.shape
    h = np.empty((count, hidden))
    c = np.empty((count, hidden)) if recurrence.lstm else None
    pre_buffer = np.empty((count, width))
    work = np.empty((2, count, hidden))
    logits_buffer = np.empty((count, recurrence.Wy.shape[1]))
    change = np.zeros(count)
    joined = np.searchsorted(start, np.arange(base.steps), side="right")
    active = 0
    for t in range(int(start[0]), base.steps):
        now = int(joined[t])
        if now > active:
            # copies join from the unperturbed state before their first affected step
            h[active:now], c_before = base.state_before(t, rows[active:now])
            if c is not None and c_before is not None:
                c[active:now] = c_before
            if on_join is not None:
                on_join(t, h, c, active, now)
            active = now
        m = active
        seq = rows[:m]
        h_now = h[:m]
        pre = np.matmul(h_now, recurrence.Wh, out=pre_buffer[:m])
        pre += recurrence.xproj[t, seq]
        nudge(t, pre, h_now, m)
        recurrence.step(pre, h_now, None if c is None else c[:m], work[:, :m])
        weights = base.mask[t, seq]
        if weights.any():
            logits = np.matmul(h_now, recurrence.Wy, out=logits_buffer[:m])
            logits += recurrence.by
            new_loss = step_losses(base.loss_kind, logits, base.targets[t, seq], overwrite=True)
            new_loss -= base.step_loss[t, seq]
            new_loss *= weights
            change[:m] += new_loss
    return change


def element_changes(
    recurrence: Recurrence, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    """Loss changes ``(K,)`` (times ``B``) with core parameter ``name`` changed by ``delta[k]`` at flat
    index ``indices[k]``, one element at a time: a copy of every sequence it affects."""
    batch = recurrence.base.batch
    if name == "b":
        source, column = np.full(len(indices), -1), indices
    else:
        source, column = np.divmod(indices, shape[1])
    scaled = delta * recurrence.half[column]  # the pre-activations are scaled by `half`
    checks = np.repeat(np.arange(len(indices)), batch)
    rows = np.tile(np.arange(batch), len(indices))
    start = _first_affected_step(recurrence, name, rows, source[checks])
    live = start < recurrence.base.steps
    checks, rows, start = checks[live], rows[live], start[live]
    order = np.argsort(start, kind="stable")
    checks, rows, start = checks[order], rows[order], start[order]
    change = np.zeros(len(rows))
    for begin in range(0, len(rows), ROWS_PER_PASS):
        part = slice(begin, begin + ROWS_PER_PASS)
        ids = checks[part]
        nudge = _ElementNudge(name, recurrence.base.inputs, rows[part], source[ids], column[ids], scaled[ids])
        change[part] = run_copies(recurrence, rows[part], start[part], nudge)
    return np.bincount(checks, weights=change, minlength=len(indices))


def dense_changes(recurrence: Recurrence, name: str, delta: np.ndarray) -> np.ndarray:
    """Loss changes ``(K,)`` (times ``B``) with the whole core parameter ``name`` changed by
    ``delta[k]`` ``(K, *shape)``: ``K`` copies of the whole batch, from the first step."""
    count = len(delta)
    batch = recurrence.base.batch
    rows = np.tile(np.arange(batch), count)
    nudge = _DenseNudge(name, recurrence.base.inputs, delta * recurrence.half)
    change = run_copies(recurrence, rows, np.zeros(len(rows), dtype=np.int64), nudge)
    summed: np.ndarray = change.reshape(count, batch).sum(axis=1)
    return summed


class _ElementNudge:
    """One element of ``Wx``, ``Wh`` or ``b`` changed per copy: ``pre[k, column[k]]`` moves by
    ``delta[k]`` times input ``source[k]`` (``Wx``), unit ``source[k]`` of ``h_{t-1}`` (``Wh``) or 1."""

    def __init__(
        self,
        name: str,
        inputs: np.ndarray,
        rows: np.ndarray,
        source: np.ndarray,
        column: np.ndarray,
        delta: np.ndarray,
    ) -> None:
        self.name = name
        self.inputs = inputs
        self.rows = rows
        self.source = source
        self.column = column
        self.delta = delta
        self.order = np.arange(len(rows))

    def __call__(self, t: int, pre: np.ndarray, h_prev: np.ndarray, m: int) -> None:
        idx = self.order[:m]
        col = self.column[:m]
        if self.name == "Wx":
            pre[idx, col] += self.delta[:m] * self.inputs[t, self.rows[:m], self.source[:m]]
        elif self.name == "Wh":
            pre[idx, col] += self.delta[:m] * h_prev[idx, self.source[:m]]
        else:
            pre[idx, col] += self.delta[:m]


class _DenseNudge:
    """A whole changed ``Wx``, ``Wh`` or ``b`` per copy; copy ``k`` of sequence ``b`` is row ``k B + b``."""

    def __init__(self, name: str, inputs: np.ndarray, delta: np.ndarray) -> None:
        steps, batch, _ = inputs.shape
        self.name = name
        self.count = len(delta)
        self.batch = batch
        self.delta = delta
        if name == "Wx":
            # x_t @ delta_k for every step and copy at once: (T, K * B, G)
            self.shift = np.matmul(inputs[:, None], delta[None]).reshape(steps, self.count * batch, -1)
        elif name == "b":
            self.shift = np.repeat(delta, batch, axis=0)  # (K * B, G)

    def __call__(self, t: int, pre: np.ndarray, h_prev: np.ndarray, m: int) -> None:
        if self.name == "Wx":
            pre += self.shift[t]
        elif self.name == "b":
            pre += self.shift
        else:
            hidden = h_prev.shape[-1]
            pre += np.matmul(h_prev.reshape(self.count, self.batch, hidden), self.delta).reshape(m, -1)


def _first_affected_step(
    recurrence: Recurrence, name: str, rows: np.ndarray, source: np.ndarray
) -> np.ndarray:
    """``(N,)``: the first step a change of ``name`` at input or unit ``source`` affects sequence ``rows``."""
    if name == "Wx":
        first: np.ndarray = recurrence.first_nonzero_input[rows, source]
        return first
    if name == "Wh":
        # h_{-1} @ Wh is unchanged while unit `source` of the previous state is zero
        return np.where(recurrence.base.state["h"][rows, source] != 0, 0, 1)
    return np.zeros(len(rows), dtype=np.int64)


def _first_nonzero(x: np.ndarray) -> np.ndarray:
    """``(B, D)``: first step where input unit ``d`` of sequence ``b`` is non-zero (``T`` if never)."""
    nonzero = x != 0
    first: np.ndarray = np.argmax(nonzero, axis=0)
    first[~nonzero.any(axis=0)] = x.shape[0]
    return first
