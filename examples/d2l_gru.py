"""A GRU in the shape of d2l.ai's "GRU from scratch", with the backward pass written by hand.

d2l keeps one matrix per gate (``W_xz``, ``W_hz``, ``b_z`` for the update gate, ``_r``
for the reset gate, ``_h`` for the candidate) and lets autograd do the backward pass;
here the step backward is written out, which is where a GRU from scratch goes wrong.
One step, for X (B, D) and H (B, H)::

    Z  = sigmoid(X W_xz + H W_hz + b_z)            update gate
    R  = sigmoid(X W_xr + H W_hr + b_r)            reset gate
    H~ = tanh(X W_xh + (R * H) W_hh + b_h)         candidate
    H' = Z * H + (1 - Z) * H~

The weights start as d2l's: ``0.01 * randn`` for the matrices, zeros for the biases.

    rnnscope gradcheck --model-file examples/d2l_gru.py --hidden 8 --mode full
    rnnscope train --model-file examples/d2l_gru.py --iters 500
"""

import numpy as np

from rnnscope.engine.protocol import Param, Probe, StepModel


def sigmoid(x):
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def three(name):
    """d2l's ``three()``: the input weights, hidden weights and bias of one gate."""
    return [
        Param(f"W_x{name}", ("D", "H"), init="normal"),
        Param(f"W_h{name}", ("H", "H"), init="normal"),
        Param(f"b_{name}", ("H",), init="zeros"),
    ]


class D2LGRU(StepModel):
    PARAMS = three("z") + three("r") + three("h")
    STATE = {"h": "H"}
    PROBES = [
        Probe("gru/update_gate", "gate", source="Z", gate="update"),
        Probe("gru/reset_gate", "gate", source="R", gate="reset"),
        Probe("gru/candidate", "signed", source="H_tilda", gate="candidate"),
        Probe("gru/hidden", "signed", source="state.h"),
    ]

    def step_forward(self, x_t, state, params):
        X, H = x_t, state["h"]
        Z = sigmoid(X @ params["W_xz"] + H @ params["W_hz"] + params["b_z"])
        R = sigmoid(X @ params["W_xr"] + H @ params["W_hr"] + params["b_r"])
        H_tilda = np.tanh(X @ params["W_xh"] + (R * H) @ params["W_hh"] + params["b_h"])
        H_new = Z * H + (1 - Z) * H_tilda
        cache = {"X": X, "H": H, "Z": Z, "R": R, "H_tilda": H_tilda, "params": params}
        return H_new, {"h": H_new}, cache

    def step_backward(self, dh_t, dstate, cache):
        X, H, Z, R, H_tilda, p = (cache[k] for k in ("X", "H", "Z", "R", "H_tilda", "params"))
        dH_new = dh_t + dstate["h"]  # from the read-out and from step t + 1
        dZ = dH_new * (H - H_tilda)
        dH_tilda = dH_new * (1 - Z)
        dH = dH_new * Z
        da_h = dH_tilda * (1 - H_tilda**2)  # through tanh
        dRH = da_h @ p["W_hh"].T
        dR = dRH * H
        dH += dRH * R
        da_z = dZ * Z * (1 - Z)  # through the sigmoids
        da_r = dR * R * (1 - R)
        dX = da_z @ p["W_xz"].T + da_r @ p["W_xr"].T + da_h @ p["W_xh"].T
        dH += da_z @ p["W_hz"].T + da_r @ p["W_hr"].T
        dparams = {
            "W_xz": X.T @ da_z,
            "W_hz": H.T @ da_z,
            "b_z": da_z.sum(axis=0),
            "W_xr": X.T @ da_r,
            "W_hr": H.T @ da_r,
            "b_r": da_r.sum(axis=0),
            "W_xh": X.T @ da_h,
            "W_hh": (R * H).T @ da_h,
            "b_h": da_h.sum(axis=0),
        }
        return dX, {"h": dH}, dparams
