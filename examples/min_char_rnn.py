"""A vanilla RNN in the shape of Karpathy's min-char-rnn, as a whole-sequence model for rnnscope.

One step, for x_t (B, D) and h_{t-1} (B, H)::

    h_t = tanh(x_t Wxh + h_{t-1} Whh + bh)

min-char-rnn's ``lossFun`` runs the forward loop over the whole sequence, then the
backward loop in reverse (``dhnext`` carries the gradient from step t+1). Here the same
two loops are ``forward_core`` and ``backward_core`` over time-major ``(T, B, D)``
batches; rnnscope adds the read-out (its ``Why`` / ``by`` are rnnscope's ``Wy`` / ``by``),
the softmax loss and the trace. The weights start as min-char-rnn's: ``0.01 * randn``.

    rnnscope gradcheck --model-file examples/min_char_rnn.py --hidden 16 --mode full
    rnnscope train --model-file examples/min_char_rnn.py --iters 500
"""

import numpy as np

from rnnscope.engine.models.base import CoreOutput
from rnnscope.engine.protocol import Param, Probe, SequenceModel


class MinCharRNN(SequenceModel):
    PARAMS = [
        Param("Wxh", ("D", "H"), init="normal"),  # input to hidden
        Param("Whh", ("H", "H"), init="normal"),  # hidden to hidden
        Param("bh", ("H",), init="zeros"),  # hidden bias
    ]
    STATE = {"h": "H"}
    PROBES = [
        Probe("rnn/preact", "signed", source="preact", description="x_t Wxh + h_{t-1} Whh + bh"),
        Probe("rnn/hidden", "signed", source="hidden", description="h_t"),
    ]

    def forward_core(self, inputs, state, trace):
        """inputs (T, B, D); state {"h": (B, H)} -> CoreOutput with features h_t (T, B, H)."""
        Wxh, Whh, bh = self.params["Wxh"], self.params["Whh"], self.params["bh"]
        steps = inputs.shape[0]
        hs = np.empty((steps + 1, *state["h"].shape), dtype=inputs.dtype)  # hs[t + 1] is h_t
        preacts = np.empty((steps, *state["h"].shape), dtype=inputs.dtype)
        hs[0] = state["h"]
        for t in range(steps):
            preacts[t] = inputs[t] @ Wxh + hs[t] @ Whh + bh
            hs[t + 1] = np.tanh(preacts[t])
        self.record_probes(trace, {"preact": preacts, "hidden": hs[1:]})
        return CoreOutput(features=hs[1:], hidden=hs[1:], final_state={"h": hs[-1].copy()}, cache=hs)

    def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
        """dfeatures (T, B, H), the read-out's gradient -> (dparams, dinputs, dstate, dhidden)."""
        Wxh, Whh = self.params["Wxh"], self.params["Whh"]
        hs = core.cache
        dWxh, dWhh, dbh = np.zeros_like(Wxh), np.zeros_like(Whh), np.zeros_like(self.params["bh"])
        dinputs = np.empty_like(inputs)
        dhidden = np.empty_like(dfeatures)
        dhnext = np.zeros_like(hs[0])
        for t in reversed(range(inputs.shape[0])):
            dh = dfeatures[t] + dhnext  # backprop into h: from the output and from step t + 1
            dhidden[t] = dh
            dhraw = (1 - hs[t + 1] * hs[t + 1]) * dh  # backprop through tanh
            dbh += dhraw.sum(axis=0)
            dWxh += inputs[t].T @ dhraw
            dWhh += hs[t].T @ dhraw
            dinputs[t] = dhraw @ Wxh.T
            dhnext = dhraw @ Whh.T
        grads = {"Wxh": dWxh, "Whh": dWhh, "bh": dbh}
        return grads, dinputs if need_inputs else None, {"h": dhnext}, dhidden
