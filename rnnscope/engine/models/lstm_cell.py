"""The LSTM, readable: the cell and one whole step, forward and backward.

This is the reference the fast path (:mod:`rnnscope.engine.models.lstm`, with its
in-place kernels in :mod:`rnnscope.engine.models.lstm_kernels`) is tested equal to, and
the cell the DNC controller runs. Gates are fused in the order ``GATES = ("input",
"forget", "output", "candidate")``: a pre-activation ``(B, 4H)`` holds ``[a_i | a_f |
a_o | a_g]``. One step, for ``x_t`` ``(B, D)`` and the state ``h_{t-1}``, ``c_{t-1}``
``(B, H)``::

    a_t = x_t Wx + h_{t-1} Wh + b                 (B, 4H)     lstm_step_forward
    i, f, o = sigmoid(a_t[:, :3H])   g = tanh(a_t[:, 3H:])     lstm_cell_forward
    c_t = f * c_{t-1} + i * g
    h_t = o * tanh(c_t)

``lstm_step_backward`` / ``lstm_cell_backward`` run it backwards (CS231n's
``step_forward`` / ``step_backward`` pairs); :class:`rnnscope.engine.models.reference.ReferenceLSTM`
loops over the pair for a whole sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

GATES = ("input", "forget", "output", "candidate")


def gate_slices(hidden: int) -> dict[str, tuple[int, int]]:
    """Column range of each gate in a fused ``(..., 4H)`` array."""
    return {gate: (k * hidden, (k + 1) * hidden) for k, gate in enumerate(GATES)}


def lstm_cell_forward(
    preact: np.ndarray, c_prev: np.ndarray, gates_out: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Activate ``preact`` ``(B, 4H)`` and advance the cell from ``c_prev`` ``(B, H)``.

    Returns ``(gates (B, 4H) = [i|f|o|g] activated, c (B, H), tanh_c (B, H), h (B, H))``.
    ``gates_out`` may be a preallocated ``(B, 4H)`` buffer to write the gates into.
    """
    hidden = c_prev.shape[-1]
    gates = gates_out if gates_out is not None else np.empty_like(preact)
    sig = gates[:, : 3 * hidden]
    # sigmoid(x) = 0.5 * (1 + tanh(x / 2)): one transcendental call, no overflow
    np.multiply(preact[:, : 3 * hidden], 0.5, out=sig)
    np.tanh(sig, out=sig)
    sig += 1.0
    sig *= 0.5
    np.tanh(preact[:, 3 * hidden :], out=gates[:, 3 * hidden :])
    input_gate = gates[:, :hidden]
    forget_gate = gates[:, hidden : 2 * hidden]
    output_gate = gates[:, 2 * hidden : 3 * hidden]
    candidate = gates[:, 3 * hidden :]
    c = forget_gate * c_prev
    c += input_gate * candidate
    tanh_c = np.tanh(c)
    h = output_gate * tanh_c
    return gates, c, tanh_c, h


def lstm_cell_backward(
    dh: np.ndarray,
    dc: np.ndarray,
    gates: np.ndarray,
    c_prev: np.ndarray,
    tanh_c: np.ndarray,
    dpreact_out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`lstm_cell_forward`.

    ``dh``, ``dc`` ``(B, H)`` are the total gradients reaching ``h`` and ``c``
    (``dc`` *excluding* the part that flows through ``h``). Returns
    ``(dpreact (B, 4H), dc_prev (B, H))``.
    """
    hidden = c_prev.shape[-1]
    input_gate = gates[:, :hidden]
    forget_gate = gates[:, hidden : 2 * hidden]
    output_gate = gates[:, 2 * hidden : 3 * hidden]
    candidate = gates[:, 3 * hidden :]
    dpreact = dpreact_out if dpreact_out is not None else np.empty_like(gates)
    dc_total = dh * output_gate
    dc_total *= 1.0 - tanh_c * tanh_c
    dc_total += dc
    # d/dx sigmoid = s (1 - s); d/dx tanh = 1 - t^2
    np.multiply(dc_total * candidate, input_gate * (1.0 - input_gate), out=dpreact[:, :hidden])
    np.multiply(dc_total * c_prev, forget_gate * (1.0 - forget_gate), out=dpreact[:, hidden : 2 * hidden])
    np.multiply(dh * tanh_c, output_gate * (1.0 - output_gate), out=dpreact[:, 2 * hidden : 3 * hidden])
    np.multiply(dc_total * input_gate, 1.0 - candidate * candidate, out=dpreact[:, 3 * hidden :])
    dc_prev = dc_total * forget_gate
    return dpreact, dc_prev


@dataclass(frozen=True)
class LSTMStepCache:
    """What :func:`lstm_step_backward` needs from one :func:`lstm_step_forward`."""

    x: np.ndarray  # x_t (B, D)
    h_prev: np.ndarray  # h_{t-1} (B, H)
    c_prev: np.ndarray  # c_{t-1} (B, H)
    preact: np.ndarray  # a_t (B, 4H) = [a_i | a_f | a_o | a_g]
    gates: np.ndarray  # (B, 4H) = [i | f | o | g], activated
    c: np.ndarray  # c_t (B, H)
    tanh_c: np.ndarray  # tanh(c_t) (B, H)
    h: np.ndarray  # h_t (B, H)
    Wx: np.ndarray  # (D, 4H)
    Wh: np.ndarray  # (H, 4H)


def lstm_step_forward(
    x_t: np.ndarray, h_prev: np.ndarray, c_prev: np.ndarray, params: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, LSTMStepCache]:
    """One LSTM step.

    Inputs:

    * ``x_t`` ``(B, D)``: the inputs of the step;
    * ``h_prev``, ``c_prev`` ``(B, H)``: the hidden and cell state after the previous step;
    * ``params``: ``"Wx"`` ``(D, 4H)``, ``"Wh"`` ``(H, 4H)``, ``"b"`` ``(4H,)``, gates in
      the order of :data:`GATES`.

    Returns ``(h_t (B, H), c_t (B, H), cache)``.
    """
    Wx, Wh = params["Wx"], params["Wh"]
    preact = x_t @ Wx + h_prev @ Wh + params["b"]
    gates, c, tanh_c, h = lstm_cell_forward(preact, c_prev)
    cache = LSTMStepCache(x_t, h_prev, c_prev, preact, gates, c, tanh_c, h, Wx, Wh)
    return h, c, cache


def lstm_step_backward(
    dh: np.ndarray, dc: np.ndarray, cache: LSTMStepCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Backward of :func:`lstm_step_forward`.

    Inputs: ``dh`` ``(B, H)``, the whole gradient reaching ``h_t`` (from the read-out
    and from step ``t + 1``); ``dc`` ``(B, H)``, the gradient reaching ``c_t`` from step
    ``t + 1`` (not through ``h_t``); ``cache`` from the forward step.

    Returns ``(dx_t (B, D), dh_prev (B, H), dc_prev (B, H), dparams)`` with ``dparams``
    holding ``"Wx"``, ``"Wh"`` and ``"b"``, the step's share of those gradients.
    """
    dpreact, dc_prev = lstm_cell_backward(dh, dc, cache.gates, cache.c_prev, cache.tanh_c)
    dx = dpreact @ cache.Wx.T
    dh_prev = dpreact @ cache.Wh.T
    dparams = {"Wx": cache.x.T @ dpreact, "Wh": cache.h_prev.T @ dpreact, "b": dpreact.sum(axis=0)}
    return dx, dh_prev, dc_prev, dparams
