"""The vanilla (Elman) RNN, readable: one step forward and backward.

This is the reference the fast path (:mod:`rnnscope.engine.models.rnn`) is tested
equal to. One step, for ``x_t`` ``(B, D)`` and ``h_{t-1}`` ``(B, H)``::

    a_t = x_t Wx + h_{t-1} Wh + b        (B, H)
    h_t = tanh(a_t)

:func:`rnn_step_forward` / :func:`rnn_step_backward` are CS231n's ``step_forward`` /
``step_backward`` pair; :class:`rnnscope.engine.models.reference.ReferenceRNN` loops
over them for a whole sequence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class RNNStepCache:
    """What :func:`rnn_step_backward` needs from one :func:`rnn_step_forward`."""

    x: np.ndarray  # x_t (B, D)
    h_prev: np.ndarray  # h_{t-1} (B, H)
    preact: np.ndarray  # a_t (B, H)
    h: np.ndarray  # h_t = tanh(a_t) (B, H)
    Wx: np.ndarray  # (D, H)
    Wh: np.ndarray  # (H, H)


def rnn_step_forward(
    x_t: np.ndarray, h_prev: np.ndarray, params: Mapping[str, np.ndarray]
) -> tuple[np.ndarray, RNNStepCache]:
    """One RNN step.

    Inputs:

    * ``x_t`` ``(B, D)``: the inputs of the step;
    * ``h_prev`` ``(B, H)``: the hidden state after the previous step;
    * ``params``: ``"Wx"`` ``(D, H)``, ``"Wh"`` ``(H, H)``, ``"b"`` ``(H,)``.

    Returns ``(h_t (B, H), cache)``.
    """
    Wx, Wh = params["Wx"], params["Wh"]
    preact = x_t @ Wx + h_prev @ Wh + params["b"]
    h = np.tanh(preact)
    return h, RNNStepCache(x_t, h_prev, preact, h, Wx, Wh)


def rnn_step_backward(
    dh: np.ndarray, cache: RNNStepCache
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Backward of :func:`rnn_step_forward`.

    Inputs: ``dh`` ``(B, H)``, the whole gradient reaching ``h_t`` (from the read-out
    and from step ``t + 1``); ``cache`` from the forward step.

    Returns ``(dx_t (B, D), dh_prev (B, H), dparams)`` with ``dparams`` holding
    ``"Wx"``, ``"Wh"`` and ``"b"``, the step's share of those gradients.
    """
    dpreact = dh * (1.0 - cache.h * cache.h)  # tanh' = 1 - tanh^2
    dx = dpreact @ cache.Wx.T
    dh_prev = dpreact @ cache.Wh.T
    dparams = {"Wx": cache.x.T @ dpreact, "Wh": cache.h_prev.T @ dpreact, "b": dpreact.sum(axis=0)}
    return dx, dh_prev, dparams
