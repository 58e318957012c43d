"""One LSTM cell step, forward and backward, shared by the LSTM and the DNC controller.

Gates are fused in the order ``GATES = ("input", "forget", "output", "candidate")``:
a pre-activation ``(B, 4H)`` holds ``[i | f | o | g]``. The cell computes::

    i, f, o = sigmoid(pre[:, :3H])     g = tanh(pre[:, 3H:])
    c = f * c_prev + i * g             h = o * tanh(c)
"""

from __future__ import annotations

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
