"""Vanilla (Elman) RNN with tanh: ``h_t = tanh(x_t Wx + h_{t-1} Wh + b)``.

Parameters: ``Wx`` ``(D, H)``, ``Wh`` ``(H, H)``, ``b`` ``(H,)``, read-out ``Wy``
``(H, O)``, ``by`` ``(O,)``. State: ``{"h": (B, H)}``.

Probes (besides the shared ones in :mod:`rnnscope.engine.trace`):

=================  ============  ==========================
``rnn/preact``     ``(T, B, H)`` ``x_t Wx + h_{t-1} Wh + b``
``rnn/hidden``     ``(T, B, H)`` ``h_t``
=================  ============  ==========================
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State, init_uniform
from rnnscope.engine.params import Params
from rnnscope.engine.trace import ProbeKind, Trace


class RNN(RecurrentModel):
    kind = "rnn"

    def init_params(self, rng: np.random.Generator) -> Params:
        cfg = self.config
        D, H, O = cfg.input_size, cfg.hidden_size, cfg.output_size
        return Params(
            {
                "Wx": init_uniform(rng, (D, H), D, self.dtype),
                "Wh": init_uniform(rng, (H, H), H, self.dtype),
                "b": np.zeros(H, dtype=self.dtype),
                "Wy": init_uniform(rng, (H, O), H, self.dtype),
                "by": np.zeros(O, dtype=self.dtype),
            }
        )

    def initial_state(self, batch: int) -> State:
        return {"h": np.zeros((batch, self.config.hidden_size), dtype=self.dtype)}

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        steps, batch, width = inputs.shape
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        hidden_size = Wh.shape[0]
        # all input projections in one matmul; the loop only does the recurrent part
        preact = (inputs.reshape(steps * batch, width) @ Wx).reshape(steps, batch, hidden_size)
        preact += b
        hidden = np.empty_like(preact)
        h = state["h"]
        for t in range(steps):
            preact[t] += h @ Wh
            h = np.tanh(preact[t], out=hidden[t])
        if trace is not None:
            trace.add("rnn/preact", preact, ProbeKind.SIGNED, ("unit",), description="pre-activation")
            trace.add("rnn/hidden", hidden, ProbeKind.SIGNED, ("unit",), description="hidden state h_t")
        return CoreOutput(
            features=hidden,
            hidden=hidden,
            final_state={"h": hidden[-1].copy()},
            cache={"h0": state["h"]},
        )

    def backward_core(
        self, dfeatures: np.ndarray, core: CoreOutput, inputs: np.ndarray, *, need_inputs: bool = True
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]:
        steps, batch, width = inputs.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        hidden = core.hidden
        hidden_size = Wh.shape[0]
        dhidden = np.empty_like(hidden)
        dpreact = np.empty_like(hidden)
        dh_next = np.zeros((batch, hidden_size), dtype=hidden.dtype)
        WhT = Wh.T.copy()
        for t in range(steps - 1, -1, -1):
            dh = np.add(dfeatures[t], dh_next, out=dhidden[t])
            np.multiply(dh, 1.0 - hidden[t] * hidden[t], out=dpreact[t])
            dh_next = dpreact[t] @ WhT
        # weight gradients in one matmul each, after the loop
        dpreact_2d = dpreact.reshape(steps * batch, hidden_size)
        previous = np.concatenate([core.cache["h0"][None], hidden[:-1]], axis=0)
        grads = {
            "Wx": inputs.reshape(steps * batch, width).T @ dpreact_2d,
            "Wh": previous.reshape(steps * batch, hidden_size).T @ dpreact_2d,
            "b": dpreact_2d.sum(axis=0),
        }
        dinputs = (dpreact_2d @ Wx.T).reshape(steps, batch, width) if need_inputs else None
        return grads, dinputs, {"h": dh_next}, dhidden
