"""An LSTM written gate by gate whose backward stacks two gates' weight gradients in the wrong order.

    rnnscope gradcheck --model-file examples/swapped_gates_lstm.py --hidden 8

exits with status 1: ``Wx[input]`` and ``Wx[forget]`` fail, and under each the check
names the cause -- ``Wx[input] holds the gradient of Wx[forget] ..., and Wx[forget]
holds Wx[input]'s: the two gates are swapped``. (The line marked ``BUG`` stacks the
input-weight gradients as forget, input, output, candidate; the fused ``Wx`` is
input, forget, output, candidate. Put ``da_i`` first and the check is all ok.)

The model is ``buggy_lstm.py``'s with its recurrent-weight gradient fixed.
"""

import numpy as np

from rnnscope.engine.protocol import Param, Probe, StepModel

GATES = ("input", "forget", "output", "candidate")


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def gate(W, k):
    """Columns of gate k (0 input, 1 forget, 2 output, 3 candidate) of a fused (..., 4H) array."""
    H = W.shape[-1] // 4
    return W[..., k * H : (k + 1) * H]


class SwappedGatesLSTM(StepModel):
    PARAMS = [
        Param("Wx", ("D", "4H"), gates=GATES),
        Param("Wh", ("H", "4H"), gates=GATES),
        Param("b", ("4H",), init="zeros", gates=GATES, gate_init={"forget": "forget_bias"}),
    ]
    STATE = {"h": "H", "c": "H"}
    PROBES = [
        Probe("lstm/input_gate", "gate", source="i", gate="input"),
        Probe("lstm/forget_gate", "gate", source="f", gate="forget"),
        Probe("lstm/output_gate", "gate", source="o", gate="output"),
        Probe("lstm/candidate", "signed", source="g", gate="candidate"),
        Probe("lstm/cell", "signed", source="state.c"),
        Probe("lstm/hidden", "signed", source="state.h"),
    ]

    def step_forward(self, x_t, state, params):
        x, h_prev, c_prev = x_t, state["h"], state["c"]
        Wx, Wh, b = params["Wx"], params["Wh"], params["b"]
        i = sigmoid(x @ gate(Wx, 0) + h_prev @ gate(Wh, 0) + gate(b, 0))
        f = sigmoid(x @ gate(Wx, 1) + h_prev @ gate(Wh, 1) + gate(b, 1))
        o = sigmoid(x @ gate(Wx, 2) + h_prev @ gate(Wh, 2) + gate(b, 2))
        g = np.tanh(x @ gate(Wx, 3) + h_prev @ gate(Wh, 3) + gate(b, 3))
        c = f * c_prev + i * g
        tanh_c = np.tanh(c)
        h = o * tanh_c
        cache = {
            "x": x,
            "h_prev": h_prev,
            "c_prev": c_prev,
            "i": i,
            "f": f,
            "o": o,
            "g": g,
            "tanh_c": tanh_c,
            "Wx": Wx,
            "Wh": Wh,
        }
        return h, {"h": h, "c": c}, cache

    def step_backward(self, dh_t, dstate, cache):
        x, h_prev, c_prev = cache["x"], cache["h_prev"], cache["c_prev"]
        i, f, o, g, tanh_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
        Wx, Wh = cache["Wx"], cache["Wh"]
        dh = dh_t + dstate["h"]  # from the read-out and from step t + 1
        dc = dstate["c"] + dh * o * (1 - tanh_c**2)
        # each gate's gradient, then through its nonlinearity
        da_i = dc * g * i * (1 - i)
        da_f = dc * c_prev * f * (1 - f)
        da_o = dh * tanh_c * o * (1 - o)
        da_g = dc * i * (1 - g**2)
        das = (da_i, da_f, da_o, da_g)
        dx = sum(da @ gate(Wx, k).T for k, da in enumerate(das))
        dh_prev = sum(da @ gate(Wh, k).T for k, da in enumerate(das))
        dc_prev = dc * f
        dWx = np.hstack([x.T @ da for da in (da_f, da_i, da_o, da_g)])  # BUG
        dWh = np.hstack([h_prev.T @ da for da in das])
        db = np.hstack([da.sum(axis=0) for da in das])
        return dx, {"h": dh_prev, "c": dc_prev}, {"Wx": dWx, "Wh": dWh, "b": db}
