"""The LSTM cell split for a whole sequence: the fast path's in-place kernels.

The numbers are those of the readable cell in :mod:`rnnscope.engine.models.lstm_cell`
(:func:`lstm_cell_forward` / :func:`lstm_cell_backward`); the tests check them against
it. What does not depend on the recurrence is computed for all timesteps at once
(vectorised over ``T``), so the Python loop over time runs only a handful of NumPy
calls per step, each writing into a preallocated buffer.
"""

from __future__ import annotations

import numpy as np


def lstm_cell_step(
    half_preact: np.ndarray,
    c_prev: np.ndarray,
    gates: np.ndarray,
    c: np.ndarray,
    tanh_c: np.ndarray,
    h: np.ndarray,
    scratch: np.ndarray,
) -> None:
    """:func:`lstm_cell_forward` in place, from a pre-activation with its sigmoid columns halved.

    ``half_preact`` ``(B, 4H)`` is ``[i|f|o|g]`` with the first ``3H`` columns
    multiplied by 0.5 (exact in floating point), so one ``tanh`` over all ``4H``
    columns serves both ``sigmoid(x) = 0.5 + 0.5 tanh(x/2)`` and the candidate.
    Writes ``gates`` ``(B, 4H)`` (may be ``half_preact`` itself), ``c``, ``tanh_c``,
    ``h`` ``(B, H)``; ``scratch`` is a ``(B, H)`` work buffer. The values are those
    of :func:`lstm_cell_forward` bit for bit.
    """
    hidden = c_prev.shape[-1]
    np.tanh(half_preact, out=gates)
    sig = gates[:, : 3 * hidden]
    sig *= 0.5
    sig += 0.5
    np.multiply(gates[:, hidden : 2 * hidden], c_prev, out=c)
    np.multiply(gates[:, :hidden], gates[:, 3 * hidden :], out=scratch)
    c += scratch
    np.tanh(c, out=tanh_c)
    np.multiply(gates[:, 2 * hidden : 3 * hidden], tanh_c, out=h)


def lstm_backward_factors(
    gates: np.ndarray,
    c_prev: np.ndarray,
    tanh_c: np.ndarray,
    factors: np.ndarray | None = None,
    dcell: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-step factors of :func:`lstm_cell_backward` that do not depend on the gradient.

    ``gates`` ``(..., 4H)``, ``c_prev`` and ``tanh_c`` ``(..., H)`` (any leading
    shape, typically ``(T, B)``). Returns ``(K (..., 4H), Q (..., H))`` with::

        K = [g i(1-i) | c_prev f(1-f) | tanh_c o(1-o) | i (1-g^2)]
        Q = o (1 - tanh_c^2)

    so that with ``dc_total = dh * Q + dc`` the pre-activation gradient is
    ``[dc_total K_i | dc_total K_f | dh K_o | dc_total K_g]`` and ``dc_prev = dc_total f``.
    ``factors`` and ``dcell`` may be given as preallocated outputs of those shapes.
    """
    hidden = c_prev.shape[-1]
    h3 = 3 * hidden
    if factors is None:
        factors = np.empty_like(gates)
    if dcell is None:
        dcell = np.empty_like(tanh_c)
    sig = gates[..., :h3]
    np.subtract(1.0, sig, out=factors[..., :h3])
    factors[..., :h3] *= sig  # sigmoid' = s (1 - s)
    candidate = gates[..., h3:]
    cand_factor = factors[..., h3:]
    np.multiply(candidate, candidate, out=cand_factor)
    np.subtract(1.0, cand_factor, out=cand_factor)  # tanh' = 1 - g^2
    factors[..., :hidden] *= candidate
    factors[..., hidden : 2 * hidden] *= c_prev
    factors[..., 2 * hidden : h3] *= tanh_c
    cand_factor *= gates[..., :hidden]
    np.multiply(tanh_c, tanh_c, out=dcell)
    np.subtract(1.0, dcell, out=dcell)
    dcell *= gates[..., 2 * hidden : h3]
    return factors, dcell


def lstm_cell_backward_factored(
    dh: np.ndarray,
    dc: np.ndarray,
    factors: np.ndarray,
    dcell: np.ndarray,
    forget_gate: np.ndarray,
    dpreact: np.ndarray,
    dc_total: np.ndarray,
) -> None:
    """:func:`lstm_cell_backward` from the factors of :func:`lstm_backward_factors`, in place.

    ``dh`` ``(B, H)``; ``dc`` ``(B, H)`` is read and then overwritten with
    ``dc_prev``; ``factors`` ``(B, 4H)``, ``dcell`` ``(B, H)`` and ``forget_gate``
    ``(B, H)`` are one step's; ``dpreact`` ``(B, 4H)`` receives the pre-activation
    gradient; ``dc_total`` is a ``(B, H)`` work buffer.
    """
    batch, hidden = dh.shape
    if not dpreact.flags.c_contiguous:
        raise ValueError("dpreact must be C-contiguous (it is written through a (B, 4, H) view)")
    np.multiply(dh, dcell, out=dc_total)
    dc_total += dc
    np.multiply(
        dc_total[:, None, :], factors.reshape(batch, 4, hidden), out=dpreact.reshape(batch, 4, hidden)
    )
    np.multiply(dh, factors[:, 2 * hidden : 3 * hidden], out=dpreact[:, 2 * hidden : 3 * hidden])
    np.multiply(dc_total, forget_gate, out=dc)
