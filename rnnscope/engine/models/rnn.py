"""Vanilla (Elman) RNN with tanh: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``, the fast path.

The readable reference, one step at a time, is :mod:`rnnscope.engine.models.rnn_cell`
(the tests hold this module equal to it).

Parameters: ``Wx`` ``(D, H)``, ``Wh`` ``(H, H)``, ``b`` ``(H,)``, read-out ``Wy``
``(H, O)``, ``by`` ``(O,)``. State: ``{"h": (B, H)}``. With ``config.num_layers = L > 1``
the layers stack (:mod:`rnnscope.engine.models.stack`): ``l0.Wx``, ``l1.Wh`` ..., state
``l0.h`` ..., probes ``rnn/l1/hidden`` ...

Probes (besides the shared ones in :mod:`rnnscope.engine.trace`):

=================  ============  ==========================
``rnn/preact``     ``(T, B, H)`` ``x_t Wx + h_{t-1} Wh + b``
``rnn/hidden``     ``(T, B, H)`` ``h_t``
=================  ============  ==========================

Speed: the input projections of all steps are one matmul (row picks for one-hot
inputs); the loop over time runs one matmul and one ``tanh`` per step into
preallocated buffers; backward forms the weight gradients in one matmul each after
its loop.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnscope.engine.models.base import State, init_uniform
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.kernels import column_major, input_projection
from rnnscope.engine.models.layers import LayerNames
from rnnscope.engine.models.stack import LayerGradients, LayerOutput, StackedModel
from rnnscope.engine.params import GateSlice
from rnnscope.engine.trace import ProbeKind, Trace


def record_rnn_probes(
    trace: Trace, preact: np.ndarray, hidden: np.ndarray, names: LayerNames | None = None
) -> None:
    """Add the ``rnn/...`` probes (the table above) of layer ``names`` (default: a one-layer
    model's): ``preact``, ``hidden`` ``(T, B, H)``."""
    names = names or LayerNames("rnn")
    signed, layer = ProbeKind.SIGNED, names.layer
    trace.add(names.probe("preact"), preact, signed, ("unit",), description="pre-activation", layer=layer)
    trace.add(names.probe("hidden"), hidden, signed, ("unit",), description="hidden state h_t", layer=layer)


class RNN(StackedModel):
    kind = "rnn"
    group = "rnn"

    @classmethod
    def layer_shapes(cls, config: ModelConfig, input_size: int) -> dict[str, tuple[int, ...]]:
        H = config.hidden_size
        shapes = {"Wx": (input_size, H), "Wh": (H, H), "b": (H,)}
        return shapes

    def init_layer(
        self, rng: np.random.Generator, input_size: int
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, GateSlice]]]:
        D, H = input_size, self.config.hidden_size
        arrays = {
            "Wx": init_uniform(rng, (D, H), D, self.dtype),
            "Wh": init_uniform(rng, (H, H), H, self.dtype),
            "b": np.zeros(H, dtype=self.dtype),
        }
        return arrays, {}

    def forward_layer(
        self,
        weights: Mapping[str, np.ndarray],
        inputs: np.ndarray,
        state: State,
        trace: Trace | None,
        names: LayerNames,
    ) -> LayerOutput:
        steps, batch, width = inputs.shape
        Wx, Wh, b = weights["Wx"], weights["Wh"], weights["b"]
        hidden_size = Wh.shape[0]
        # all input projections in one matmul (row picks for one-hot inputs); the loop only
        # does the recurrent part, into preallocated buffers
        take = self.buffers.take
        preact = take((steps, batch, hidden_size), self.dtype)
        input_projection(inputs, Wx, out=preact.reshape(steps * batch, hidden_size))
        preact += b
        # hs[0] holds the initial state: hs[:-1] is then h_{t-1} for every t
        hs = take((steps + 1, batch, hidden_size), self.dtype)
        hs[0] = state["h"]
        Wh_fast = column_major(Wh) if batch > 1 else Wh
        recurrent = np.empty((batch, hidden_size), dtype=self.dtype)
        for t in range(steps):
            np.matmul(hs[t], Wh_fast, out=recurrent)
            preact[t] += recurrent
            np.tanh(preact[t], out=hs[t + 1])
        hidden = hs[1:]
        if trace is not None:
            record_rnn_probes(trace, preact, hidden, names)
        return LayerOutput(hidden=hidden, final_state={"h": hs[-1].copy()}, cache={"hs": hs})

    def backward_layer(
        self,
        weights: Mapping[str, np.ndarray],
        dhidden_in: np.ndarray,
        output: LayerOutput,
        inputs: np.ndarray,
        dfinal_state: State | None,
        need_inputs: bool,
    ) -> LayerGradients:
        """BPTT from ``dhidden_in`` ``(T, B, H)``; ``dfinal_state`` optionally adds a gradient
        arriving at the final ``h`` (from a later chunk of the same sequence)."""
        steps, batch, width = inputs.shape
        Wx, Wh = weights["Wx"], weights["Wh"]
        hs = output.cache["hs"]
        hidden = hs[1:]
        hidden_size = Wh.shape[0]
        dhidden = np.empty_like(hidden)
        # tanh' = 1 - h^2 for every step at once; the loop then only multiplies by it
        dpreact = np.multiply(hidden, hidden, out=self.buffers.take(hidden.shape, hidden.dtype))
        np.subtract(1.0, dpreact, out=dpreact)
        dh_next = np.zeros((batch, hidden_size), dtype=hidden.dtype)
        if dfinal_state is not None:
            dh_next += dfinal_state["h"]
        WhT = Wh.T  # a transposed view: BLAS reads it as is
        for t in range(steps - 1, -1, -1):
            dh = np.add(dhidden_in[t], dh_next, out=dhidden[t])
            dpreact[t] *= dh
            np.matmul(dpreact[t], WhT, out=dh_next)
        # weight gradients in one matmul each, after the loop
        dpreact_2d = dpreact.reshape(steps * batch, hidden_size)
        grads = {
            "Wx": inputs.reshape(steps * batch, width).T @ dpreact_2d,
            "Wh": hs[:-1].reshape(steps * batch, hidden_size).T @ dpreact_2d,
            "b": dpreact_2d.sum(axis=0),
        }
        dinputs = (dpreact_2d @ Wx.T).reshape(steps, batch, width) if need_inputs else None
        return grads, dinputs, {"h": dh_next}, dhidden
