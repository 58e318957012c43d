"""The GRU's fast path in named pieces: the loops over time (one per convention), the
backward's gradient-free factors and the weight gradients.

Every function writes into arrays it is given, so the loops run a handful of in-place
NumPy calls per step. The numbers are those of the readable cells in
:mod:`rnnscope.engine.models.gru_cell` (the tests hold them equal).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from rnnscope.engine.models.buffers import BufferPool
from rnnscope.engine.models.kernels import sigmoid_into


# --------------------------------------------------------------------------- forward
def _candidate_and_update(pre: np.ndarray, gate: np.ndarray, h_prev: np.ndarray, h: np.ndarray) -> None:
    """One step's ``n_t = tanh(a_n)`` into ``gate``'s last third and ``h_t`` into ``h``, in place."""
    H = h.shape[-1]
    candidate = gate[:, 2 * H :]
    np.tanh(pre[:, 2 * H :], out=candidate)
    # h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)
    np.subtract(h_prev, candidate, out=h)
    h *= gate[:, H : 2 * H]
    h += candidate


def forward_steps_cho(
    preact: np.ndarray,
    gates: np.ndarray,
    hs: np.ndarray,
    reset_hidden: np.ndarray,
    Wh_rz: np.ndarray,
    Wh_n: np.ndarray,
) -> None:
    """The recurrence of the default convention, in place over all ``T`` steps.

    ``preact`` ``(T, B, 3H)`` holds the input side ``x_t Wx + b`` and receives the full
    pre-activations; ``gates`` ``(T, B, 3H)`` receives ``[r | z | n]``; ``hs`` ``(T + 1,
    B, H)`` holds ``h_0`` and receives ``h_1 .. h_T``; ``reset_hidden`` ``(T, B, H)``
    receives ``r_t * h_{t-1}``. ``Wh_rz`` ``(H, 2H)`` and ``Wh_n`` ``(H, H)`` are ``Wh``'s
    columns (in the layout the matmul runs fastest).
    """
    batch, H = hs.shape[1:]
    h2 = 2 * H
    recurrent = np.empty((batch, h2), dtype=preact.dtype)
    candidate_rec = np.empty((batch, H), dtype=preact.dtype)
    for t in range(preact.shape[0]):
        h_prev, pre, gate = hs[t], preact[t], gates[t]
        np.matmul(h_prev, Wh_rz, out=recurrent)
        pre[:, :h2] += recurrent
        sigmoid_into(pre[:, :h2], gate[:, :h2])
        np.multiply(gate[:, :H], h_prev, out=reset_hidden[t])
        np.matmul(reset_hidden[t], Wh_n, out=candidate_rec)
        pre[:, h2:] += candidate_rec
        _candidate_and_update(pre, gate, h_prev, hs[t + 1])


def forward_steps_reset_after(
    preact: np.ndarray,
    gates: np.ndarray,
    hs: np.ndarray,
    recurrent_candidate: np.ndarray,
    Wh: np.ndarray,
    bh: np.ndarray,
) -> None:
    """The recurrence of the ``reset_after`` convention, in place over all ``T`` steps.

    As :func:`forward_steps_cho`, with ``recurrent_candidate`` ``(T, B, H)`` receiving
    ``h_{t-1} Wh_n + bh_n``; ``Wh`` ``(H, 3H)``, ``bh`` ``(3H,)``.
    """
    batch, H = hs.shape[1:]
    h2 = 2 * H
    recurrent = np.empty((batch, 3 * H), dtype=preact.dtype)
    for t in range(preact.shape[0]):
        pre, gate = preact[t], gates[t]
        np.matmul(hs[t], Wh, out=recurrent)
        recurrent += bh
        pre[:, :h2] += recurrent[:, :h2]
        sigmoid_into(pre[:, :h2], gate[:, :h2])
        np.copyto(recurrent_candidate[t], recurrent[:, h2:])
        # a_n = x Wx_n + b_n + r * (h Wh_n + bh_n)
        rec_n = recurrent[:, h2:]
        rec_n *= gate[:, :H]
        pre[:, h2:] += rec_n
        _candidate_and_update(pre, gate, hs[t], hs[t + 1])


# --------------------------------------------------------------------------- backward
class BackwardFactors(NamedTuple):
    """Per-step factors of the GRU backward that do not depend on the gradient, ``(T, B, H)`` each.

    With ``dh`` the gradient reaching ``h_t``: ``da_n = dh * n_factor``,
    ``da_z = dh * z_factor``, and ``da_r = (d(r h) or da_n) * r_factor``.
    """

    n_factor: np.ndarray  # (1 - n^2)(1 - z)
    z_factor: np.ndarray  # (h_{t-1} - n) z (1 - z)
    r_factor: np.ndarray  # r (1 - r) h_{t-1} (default) or r (1 - r) (h_{t-1} Wh_n + bh_n)


def backward_factors(
    gates: np.ndarray, h_prev: np.ndarray, extra: np.ndarray, reset_after: bool, buffers: BufferPool
) -> BackwardFactors:
    """:class:`BackwardFactors` for all steps at once from the forward's ``gates`` ``(T, B, 3H)``,
    ``h_prev`` ``(T, B, H)`` (``h_0 .. h_{T-1}``) and ``extra`` ``(T, B, H)``."""
    H = h_prev.shape[-1]
    r, z, n = gates[..., :H], gates[..., H : 2 * H], gates[..., 2 * H :]
    one_minus_z = np.subtract(1.0, z, out=buffers.take(h_prev.shape, h_prev.dtype))
    f_n = np.multiply(n, n, out=buffers.take(h_prev.shape, h_prev.dtype))
    np.subtract(1.0, f_n, out=f_n)
    f_n *= one_minus_z
    f_z = np.subtract(h_prev, n, out=buffers.take(h_prev.shape, h_prev.dtype))
    f_z *= z
    f_z *= one_minus_z
    f_r = np.subtract(1.0, r, out=one_minus_z)  # (1 - z is no longer needed)
    f_r *= r
    f_r *= extra if reset_after else h_prev
    return BackwardFactors(f_n, f_z, f_r)


def backward_steps_cho(
    dfeatures: np.ndarray,
    gates: np.ndarray,
    factors: BackwardFactors,
    Wh: np.ndarray,
    dh_next: np.ndarray,
    dhidden: np.ndarray,
    dpreact: np.ndarray,
) -> None:
    """BPTT of the default convention, last step first, in place.

    ``dfeatures`` ``(T, B, H)``; ``dh_next`` ``(B, H)`` holds the gradient arriving at
    ``h_T`` and receives the one reaching ``h_0``; ``dhidden`` ``(T, B, H)`` receives the
    total gradient at every ``h_t``; ``dpreact`` ``(T, B, 3H)`` the pre-activations'.
    """
    batch, H = dh_next.shape
    h2 = 2 * H
    r, z = gates[..., :H], gates[..., H:h2]
    f_n, f_z, f_r = factors
    Wh_rzT, Wh_nT = Wh[:, :h2].T, Wh[:, h2:].T  # transposed views: BLAS reads them as they are
    scratch = np.empty((batch, H), dtype=dh_next.dtype)
    drh = np.empty((batch, H), dtype=dh_next.dtype)
    for t in range(dfeatures.shape[0] - 1, -1, -1):
        dh = np.add(dfeatures[t], dh_next, out=dhidden[t])
        dpre = dpreact[t]
        da_n = dpre[:, h2:]
        np.multiply(dh, f_n[t], out=da_n)
        np.multiply(dh, f_z[t], out=dpre[:, H:h2])
        np.multiply(dh, z[t], out=dh_next)
        np.matmul(da_n, Wh_nT, out=drh)
        np.multiply(drh, f_r[t], out=dpre[:, :H])
        drh *= r[t]
        dh_next += drh
        np.matmul(dpre[:, :h2], Wh_rzT, out=scratch)
        dh_next += scratch


def backward_steps_reset_after(
    dfeatures: np.ndarray,
    gates: np.ndarray,
    factors: BackwardFactors,
    Wh: np.ndarray,
    dh_next: np.ndarray,
    dhidden: np.ndarray,
    dpreact: np.ndarray,
    drec: np.ndarray,
) -> None:
    """BPTT of the ``reset_after`` convention, as :func:`backward_steps_cho`; ``drec``
    ``(T, B, 3H)`` receives the gradient of the recurrent side ``h_{t-1} Wh + bh``."""
    batch, H = dh_next.shape
    h2 = 2 * H
    r, z = gates[..., :H], gates[..., H:h2]
    f_n, f_z, f_r = factors
    WhT = Wh.T
    scratch = np.empty((batch, H), dtype=dh_next.dtype)
    for t in range(dfeatures.shape[0] - 1, -1, -1):
        dh = np.add(dfeatures[t], dh_next, out=dhidden[t])
        dpre, dr = dpreact[t], drec[t]
        da_n = dpre[:, h2:]
        np.multiply(dh, f_n[t], out=da_n)
        np.multiply(dh, f_z[t], out=dpre[:, H:h2])
        np.multiply(dh, z[t], out=dh_next)
        np.multiply(da_n, f_r[t], out=dpre[:, :H])
        dr[:, :h2] = dpre[:, :h2]
        np.multiply(da_n, r[t], out=dr[:, h2:])
        np.matmul(dr, WhT, out=scratch)
        dh_next += scratch


# --------------------------------------------------------------------------- weight gradients
def weight_gradients_cho(
    inputs: np.ndarray, dpreact: np.ndarray, h_prev: np.ndarray, reset_hidden: np.ndarray
) -> dict[str, np.ndarray]:
    """``Wx``, ``Wh``, ``b`` gradients in one matmul each, from every step's ``dpreact``
    ``(T, B, 3H)``, the inputs ``(T, B, D)``, ``h_prev`` and ``reset_hidden`` ``(T, B, H)``."""
    flat, H = h_prev.shape[0] * h_prev.shape[1], h_prev.shape[-1]
    dpre_2d = dpreact.reshape(flat, 3 * H)
    dWh = np.empty((H, 3 * H), dtype=dpreact.dtype)
    np.matmul(h_prev.reshape(flat, H).T, dpre_2d[:, : 2 * H], out=dWh[:, : 2 * H])
    np.matmul(reset_hidden.reshape(flat, H).T, dpre_2d[:, 2 * H :], out=dWh[:, 2 * H :])
    return {
        "Wx": inputs.reshape(flat, inputs.shape[-1]).T @ dpre_2d,
        "b": dpre_2d.sum(axis=0),
        "Wh": dWh,
    }


def weight_gradients_reset_after(
    inputs: np.ndarray, dpreact: np.ndarray, h_prev: np.ndarray, drec: np.ndarray
) -> dict[str, np.ndarray]:
    """``Wx``, ``b``, ``Wh``, ``bh`` gradients in one matmul each (see :func:`weight_gradients_cho`)."""
    flat, H = h_prev.shape[0] * h_prev.shape[1], h_prev.shape[-1]
    dpre_2d = dpreact.reshape(flat, 3 * H)
    drec_2d = drec.reshape(flat, 3 * H)
    return {
        "Wx": inputs.reshape(flat, inputs.shape[-1]).T @ dpre_2d,
        "b": dpre_2d.sum(axis=0),
        "Wh": h_prev.reshape(flat, H).T @ drec_2d,
        "bh": drec_2d.sum(axis=0),
    }
