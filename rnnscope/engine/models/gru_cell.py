"""The GRU, readable: one step forward and backward, in both conventions.

This is the reference the fast path (:mod:`rnnscope.engine.models.gru`) is tested equal
to. Gates are fused in the order ``GATES = ("reset", "update", "candidate")``: ``Wx``
``(D, 3H)``, ``Wh`` ``(H, 3H)``, ``b`` (and ``bh``) ``(3H,)`` hold ``[r | z | n]``
columns. For ``x_t`` ``(B, D)`` and ``h_{t-1}`` ``(B, H)``:

**Cho et al. (2014)** (``reset_after=False``, the default; :func:`gru_step_forward`)::

    r_t = sigmoid(x_t Wx_r + h_{t-1} Wh_r + b_r)
    z_t = sigmoid(x_t Wx_z + h_{t-1} Wh_z + b_z)
    n_t = tanh(x_t Wx_n + (r_t * h_{t-1}) Wh_n + b_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

**PyTorch / Keras** (``reset_after=True``; :func:`gru_reset_after_step_forward`): the
reset gate scales the recurrent term after its matmul, which has its own bias ``bh``::

    r_t = sigmoid(x_t Wx_r + b_r + h_{t-1} Wh_r + bh_r)
    z_t = sigmoid(x_t Wx_z + b_z + h_{t-1} Wh_z + bh_z)
    n_t = tanh(x_t Wx_n + b_n + r_t * (h_{t-1} Wh_n + bh_n))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

``z`` is the share of the old state kept. Each forward has its ``..._step_backward``
(CS231n's ``step_forward`` / ``step_backward`` pairs);
:class:`rnnscope.engine.models.reference.ReferenceGRU` loops over them for a whole
sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.models.kernels import sigmoid

GATES = ("reset", "update", "candidate")


@dataclass(frozen=True)
class GRUStepCache:
    """What a GRU ``..._step_backward`` needs from its forward step."""

    x: np.ndarray  # x_t (B, D)
    h_prev: np.ndarray  # h_{t-1} (B, H)
    preact: np.ndarray  # (B, 3H) = [a_r | a_z | a_n], the arguments of sigmoid, sigmoid, tanh
    gates: np.ndarray  # (B, 3H) = [r_t | z_t | n_t]
    # Cho: r_t * h_{t-1}, the input of Wh_n; reset_after: h_{t-1} Wh_n + bh_n, scaled by r_t
    extra: np.ndarray  # (B, H)
    h: np.ndarray  # h_t (B, H)
    Wx: np.ndarray  # (D, 3H)
    Wh: np.ndarray  # (H, 3H)


def _split(fused: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The reset, update and candidate columns of a fused ``(..., 3H)`` array."""
    hidden = fused.shape[-1] // 3
    return fused[..., :hidden], fused[..., hidden : 2 * hidden], fused[..., 2 * hidden :]


def _update(h_prev: np.ndarray, z: np.ndarray, n: np.ndarray) -> np.ndarray:
    """``h_t = (1 - z_t) * n_t + z_t * h_{t-1}``, both conventions."""
    h: np.ndarray = (1.0 - z) * n + z * h_prev
    return h


def gru_step_forward(
    x_t: np.ndarray, h_prev: np.ndarray, params: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, GRUStepCache]:
    """One GRU step, Cho et al.'s convention (reset before the recurrent matmul).

    Inputs:

    * ``x_t`` ``(B, D)``: the inputs of the step;
    * ``h_prev`` ``(B, H)``: the hidden state after the previous step;
    * ``params``: ``"Wx"`` ``(D, 3H)``, ``"Wh"`` ``(H, 3H)``, ``"b"`` ``(3H,)``.

    Returns ``(h_t (B, H), cache)``.
    """
    Wx, Wh = params["Wx"], params["Wh"]
    Wh_r, Wh_z, Wh_n = _split(Wh)
    x_r, x_z, x_n = _split(x_t @ Wx + params["b"])  # the input side of the three gates
    a_r = x_r + h_prev @ Wh_r
    a_z = x_z + h_prev @ Wh_z
    r, z = sigmoid(a_r), sigmoid(a_z)
    reset_hidden = r * h_prev
    a_n = x_n + reset_hidden @ Wh_n
    n = np.tanh(a_n)
    h = _update(h_prev, z, n)
    preact = np.concatenate([a_r, a_z, a_n], axis=-1)
    gates = np.concatenate([r, z, n], axis=-1)
    return h, GRUStepCache(x_t, h_prev, preact, gates, reset_hidden, h, Wx, Wh)


def gru_step_backward(
    dh: np.ndarray, cache: GRUStepCache
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Backward of :func:`gru_step_forward`.

    Inputs: ``dh`` ``(B, H)``, the whole gradient reaching ``h_t`` (from the read-out
    and from step ``t + 1``); ``cache`` from the forward step.

    Returns ``(dx_t (B, D), dh_prev (B, H), dparams)`` with ``dparams`` holding
    ``"Wx"``, ``"Wh"`` and ``"b"``, the step's share of those gradients.
    """
    r, z, n = _split(cache.gates)
    h_prev, reset_hidden = cache.h_prev, cache.extra
    Wh_r, Wh_z, Wh_n = _split(cache.Wh)
    # h_t = (1 - z) n + z h_{t-1}
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    # n = tanh(a_n), a_n = x Wx_n + b_n + (r * h_{t-1}) Wh_n
    da_n = dn * (1.0 - n * n)
    dreset_hidden = da_n @ Wh_n.T
    dh_prev += dreset_hidden * r
    dr = dreset_hidden * h_prev
    # r, z = sigmoid(a_r), sigmoid(a_z): sigmoid' = s (1 - s)
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dh_prev += da_r @ Wh_r.T + da_z @ Wh_z.T
    dpreact = np.concatenate([da_r, da_z, da_n], axis=-1)
    dWh = np.concatenate([h_prev.T @ da_r, h_prev.T @ da_z, reset_hidden.T @ da_n], axis=-1)
    dparams = {"Wx": cache.x.T @ dpreact, "Wh": dWh, "b": dpreact.sum(axis=0)}
    return dpreact @ cache.Wx.T, dh_prev, dparams


def gru_reset_after_step_forward(
    x_t: np.ndarray, h_prev: np.ndarray, params: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, GRUStepCache]:
    """One GRU step, PyTorch's / Keras's convention (reset after the recurrent matmul).

    Inputs:

    * ``x_t`` ``(B, D)``: the inputs of the step;
    * ``h_prev`` ``(B, H)``: the hidden state after the previous step;
    * ``params``: ``"Wx"`` ``(D, 3H)``, ``"Wh"`` ``(H, 3H)``, ``"b"`` ``(3H,)``,
      ``"bh"`` ``(3H,)``.

    Returns ``(h_t (B, H), cache)``.
    """
    Wx, Wh = params["Wx"], params["Wh"]
    x_r, x_z, x_n = _split(x_t @ Wx + params["b"])  # the input side of the three gates
    h_r, h_z, h_n = _split(h_prev @ Wh + params["bh"])  # the recurrent side
    a_r = x_r + h_r
    a_z = x_z + h_z
    r, z = sigmoid(a_r), sigmoid(a_z)
    a_n = x_n + r * h_n
    n = np.tanh(a_n)
    h = _update(h_prev, z, n)
    preact = np.concatenate([a_r, a_z, a_n], axis=-1)
    gates = np.concatenate([r, z, n], axis=-1)
    return h, GRUStepCache(x_t, h_prev, preact, gates, h_n, h, Wx, Wh)


def gru_reset_after_step_backward(
    dh: np.ndarray, cache: GRUStepCache
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Backward of :func:`gru_reset_after_step_forward`.

    Inputs: ``dh`` ``(B, H)``, the whole gradient reaching ``h_t`` (from the read-out
    and from step ``t + 1``); ``cache`` from the forward step.

    Returns ``(dx_t (B, D), dh_prev (B, H), dparams)`` with ``dparams`` holding
    ``"Wx"``, ``"Wh"``, ``"b"`` and ``"bh"``, the step's share of those gradients.
    """
    r, z, n = _split(cache.gates)
    h_prev, h_n = cache.h_prev, cache.extra
    # h_t = (1 - z) n + z h_{t-1}
    dn = dh * (1.0 - z)
    dz = dh * (h_prev - n)
    dh_prev = dh * z
    # n = tanh(a_n), a_n = x Wx_n + b_n + r * h_n with h_n = h_{t-1} Wh_n + bh_n
    da_n = dn * (1.0 - n * n)
    dr = da_n * h_n
    dh_n = da_n * r
    # r, z = sigmoid(a_r), sigmoid(a_z): sigmoid' = s (1 - s)
    da_r = dr * r * (1.0 - r)
    da_z = dz * z * (1.0 - z)
    dpreact = np.concatenate([da_r, da_z, da_n], axis=-1)  # the input side's gradient
    drecurrent = np.concatenate([da_r, da_z, dh_n], axis=-1)  # the recurrent side's
    dh_prev += drecurrent @ cache.Wh.T
    dparams = {
        "Wx": cache.x.T @ dpreact,
        "Wh": h_prev.T @ drecurrent,
        "b": dpreact.sum(axis=0),
        "bh": drecurrent.sum(axis=0),
    }
    return dpreact @ cache.Wx.T, dh_prev, dparams
