"""An LSTM in the shape of CS231n's ``rnn_layers.py``: a step forward / step backward pair.

``lstm_step_forward`` and ``lstm_step_backward`` are written as the CS231n assignment
asks (gates fused in one ``(N, 4H)`` pre-activation, in the order input, forget,
output, candidate); the class below hands them to rnnscope, which loops over time,
adds the read-out and the loss, sums each step's weight gradients and records the
probes the class declares.

    rnnscope gradcheck --model-file examples/cs231n_lstm.py --hidden 8 --mode full
    rnnscope train --model-file examples/cs231n_lstm.py --iters 500
"""

import numpy as np

from rnnscope.engine.protocol import Param, Probe, StepModel

GATES = ("input", "forget", "output", "candidate")


def sigmoid(x):
    """A numerically stable sigmoid: no overflow for large |x|."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def lstm_step_forward(x, prev_h, prev_c, Wx, Wh, b):
    """
    Forward pass for a single timestep of an LSTM.

    Inputs:
    - x: Input data, of shape (N, D)
    - prev_h: Previous hidden state, of shape (N, H)
    - prev_c: previous cell state, of shape (N, H)
    - Wx: Input-to-hidden weights, of shape (D, 4H)
    - Wh: Hidden-to-hidden weights, of shape (H, 4H)
    - b: Biases, of shape (4H,)

    Returns a tuple of:
    - next_h: Next hidden state, of shape (N, H)
    - next_c: Next cell state, of shape (N, H)
    - cache: Tuple of values needed for backward pass.
    """
    H = prev_h.shape[1]
    a = x @ Wx + prev_h @ Wh + b
    i = sigmoid(a[:, :H])
    f = sigmoid(a[:, H : 2 * H])
    o = sigmoid(a[:, 2 * H : 3 * H])
    g = np.tanh(a[:, 3 * H :])
    next_c = f * prev_c + i * g
    tanh_c = np.tanh(next_c)
    next_h = o * tanh_c
    cache = {
        "x": x,
        "prev_h": prev_h,
        "prev_c": prev_c,
        "i": i,
        "f": f,
        "o": o,
        "g": g,
        "tanh_c": tanh_c,
        "Wx": Wx,
        "Wh": Wh,
    }
    return next_h, next_c, cache


def lstm_step_backward(dnext_h, dnext_c, cache):
    """
    Backward pass for a single timestep of an LSTM.

    Inputs:
    - dnext_h: Gradients of next hidden state, of shape (N, H)
    - dnext_c: Gradients of next cell state, of shape (N, H)
    - cache: Values from the forward pass

    Returns a tuple of:
    - dx: Gradient of input data, of shape (N, D)
    - dprev_h: Gradient of previous hidden state, of shape (N, H)
    - dprev_c: Gradient of previous cell state, of shape (N, H)
    - dWx: Gradient of input-to-hidden weights, of shape (D, 4H)
    - dWh: Gradient of hidden-to-hidden weights, of shape (H, 4H)
    - db: Gradient of biases, of shape (4H,)
    """
    i, f, o, g, tanh_c = cache["i"], cache["f"], cache["o"], cache["g"], cache["tanh_c"]
    dc = dnext_c + dnext_h * o * (1 - tanh_c**2)
    da = np.hstack(
        [
            dc * g * i * (1 - i),  # input gate
            dc * cache["prev_c"] * f * (1 - f),  # forget gate
            dnext_h * tanh_c * o * (1 - o),  # output gate
            dc * i * (1 - g**2),  # candidate
        ]
    )
    dx = da @ cache["Wx"].T
    dprev_h = da @ cache["Wh"].T
    dprev_c = dc * f
    dWx = cache["x"].T @ da
    dWh = cache["prev_h"].T @ da
    db = da.sum(axis=0)
    return dx, dprev_h, dprev_c, dWx, dWh, db


class CS231nLSTM(StepModel):
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
        Probe("lstm/cell", "signed", source="state.c", description="cell state c_t"),
        Probe("lstm/hidden", "signed", source="state.h", description="hidden state h_t"),
    ]

    def step_forward(self, x_t, state, params):
        h, c, cache = lstm_step_forward(x_t, state["h"], state["c"], params["Wx"], params["Wh"], params["b"])
        return h, {"h": h, "c": c}, cache

    def step_backward(self, dh_t, dstate, cache):
        # h_t feeds the read-out and step t + 1: CS231n's dnext_h is the sum of both
        dx, dprev_h, dprev_c, dWx, dWh, db = lstm_step_backward(dh_t + dstate["h"], dstate["c"], cache)
        return dx, {"h": dprev_h, "c": dprev_c}, {"Wx": dWx, "Wh": dWh, "b": db}
