"""GRU with fused gates (reset, update, candidate), in both conventions, exact BPTT.

**Default** (``config.reset_after=False``): Cho et al. (2014) and the from-scratch
tutorials -- the reset gate scales the hidden state *before* the recurrent matmul::

    r_t = sigmoid(x_t Wx_r + h_{t-1} Wh_r + b_r)
    z_t = sigmoid(x_t Wx_z + h_{t-1} Wh_z + b_z)
    n_t = tanh(x_t Wx_n + (r_t * h_{t-1}) Wh_n + b_n)
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

``reset_after=True``: PyTorch / Keras (``reset_after=True``, cuDNN) -- the reset gate
scales the recurrent term *after* the matmul, which has its own bias ``bh``::

    r_t = sigmoid(x_t Wx_r + b_r + h_{t-1} Wh_r + bh_r)
    z_t = sigmoid(x_t Wx_z + b_z + h_{t-1} Wh_z + bh_z)
    n_t = tanh(x_t Wx_n + b_n + r_t * (h_{t-1} Wh_n + bh_n))
    h_t = (1 - z_t) * n_t + z_t * h_{t-1}

In both, the update gate ``z`` is the fraction of the *old* state kept (``z = 1``
copies ``h_{t-1}``), as in Cho et al. and PyTorch. With ``reset_after=True`` the
parameters map one to one onto ``torch.nn.GRU`` (``Wx = weight_ih.T``, ``Wh =
weight_hh.T``, ``b = bias_ih``, ``bh = bias_hh``; PyTorch's gate order is also r, z, n).

Parameters: ``Wx`` ``(D, 3H)``, ``Wh`` ``(H, 3H)``, ``b`` ``(3H,)``, with
``reset_after`` also ``bh`` ``(3H,)``; read-out ``Wy`` ``(H, O)``, ``by`` ``(O,)``.
Gate order ``GATES = ("reset", "update", "candidate")``; each gate's columns are a
named slice (``Wx[reset]``, ``Wh[update]``, ``b[candidate]``, ``bh[reset]``).
State: ``{"h": (B, H)}``.

Probes (besides the shared ones in :mod:`rnnscope.engine.trace`), all ``(T, B, H)``
on a ``("unit",)`` axis, group ``"gru"``:

============================  ========  =========  ======================================
name                          kind      gate       meaning
============================  ========  =========  ======================================
``gru/reset_preact``          signed    reset      pre-activation of ``r_t``
``gru/update_preact``         signed    update     pre-activation of ``z_t``
``gru/candidate_preact``      signed    candidate  pre-activation of ``n_t``
``gru/reset_gate``            gate      reset      ``r_t`` in 0..1
``gru/update_gate``           gate      update     ``z_t`` in 0..1 (share of ``h_{t-1}`` kept)
``gru/candidate``             signed    candidate  ``n_t`` in -1..1
``gru/reset_hidden``          signed    reset      ``r_t * h_{t-1}`` (default convention only)
``gru/recurrent_candidate``   signed    candidate  ``h_{t-1} Wh_n + bh_n`` (``reset_after`` only)
``gru/hidden``                signed               ``h_t``
============================  ========  =========  ======================================
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State, init_uniform
from rnnscope.engine.models.kernels import column_major, input_projection
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.trace import ProbeKind, Trace

GATES = ("reset", "update", "candidate")


def probe_names(reset_after: bool) -> tuple[str, ...]:
    """The ``gru/...`` probe names of a trace, in recording order."""
    middle = "gru/recurrent_candidate" if reset_after else "gru/reset_hidden"
    return (
        "gru/reset_preact",
        "gru/update_preact",
        "gru/candidate_preact",
        "gru/reset_gate",
        "gru/update_gate",
        "gru/candidate",
        middle,
        "gru/hidden",
    )


def _sigmoid_into(preact: np.ndarray, out: np.ndarray) -> None:
    """``out = sigmoid(preact) = 0.5 + 0.5 tanh(preact / 2)``: one transcendental, no overflow."""
    np.multiply(preact, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


class GRU(RecurrentModel):
    kind = "gru"

    def init_params(self, rng: np.random.Generator) -> Params:
        cfg = self.config
        D, H, O = cfg.input_size, cfg.hidden_size, cfg.output_size
        columns = {gate: (k * H, (k + 1) * H) for k, gate in enumerate(GATES)}
        arrays = {
            "Wx": init_uniform(rng, (D, 3 * H), D, self.dtype),
            "Wh": init_uniform(rng, (H, 3 * H), H, self.dtype),
            "b": np.zeros(3 * H, dtype=self.dtype),
        }
        names = ["Wx", "Wh", "b"]
        if cfg.reset_after:
            arrays["bh"] = np.zeros(3 * H, dtype=self.dtype)
            names.append("bh")
        arrays["Wy"] = init_uniform(rng, (H, O), H, self.dtype)
        arrays["by"] = np.zeros(O, dtype=self.dtype)
        slices = {
            name: {gate: GateSlice(arrays[name].ndim - 1, a, z) for gate, (a, z) in columns.items()}
            for name in names
        }
        return Params(arrays, slices)

    def initial_state(self, batch: int) -> State:
        return {"h": np.zeros((batch, self.config.hidden_size), dtype=self.dtype)}

    # ------------------------------------------------------------------ forward
    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        steps, batch, width = inputs.shape
        Wx, Wh, b = self.params["Wx"], self.params["Wh"], self.params["b"]
        H = Wh.shape[0]
        h2 = 2 * H
        # all input projections (with bias) in one matmul; the loop only does the recurrent part
        take = self.buffers.take
        preact = take((steps, batch, 3 * H), self.dtype)
        input_projection(inputs, Wx, out=preact.reshape(steps * batch, 3 * H))
        preact += b
        gates = take((steps, batch, 3 * H), self.dtype)
        hs = take((steps + 1, batch, H), self.dtype)  # hs[0] = h_0, hs[t + 1] = h_t
        hs[0] = state["h"]
        # r * h_{t-1} (default) or h_{t-1} Wh_n + bh_n (reset_after): what backward needs
        extra = take((steps, batch, H), self.dtype)
        reset_after = self.config.reset_after
        # column-major weights: OpenBLAS runs (B, H) @ (H, G) up to 1.7x faster with the
        # right operand transposed in memory (measured here; gemv at B=1 prefers rows)
        layout = column_major if batch > 1 else np.ascontiguousarray
        if reset_after:
            bh = self.params["bh"]
            Wh_step = layout(Wh)
            recurrent = np.empty((batch, 3 * H), dtype=preact.dtype)
        else:
            Wh_rz = layout(Wh[:, :h2])
            Wh_n = layout(Wh[:, h2:])
            recurrent = np.empty((batch, h2), dtype=preact.dtype)
            candidate_rec = np.empty((batch, H), dtype=preact.dtype)
        for t in range(steps):
            h_prev = hs[t]
            pre = preact[t]
            gate = gates[t]
            if reset_after:
                np.matmul(h_prev, Wh_step, out=recurrent)
                recurrent += bh
                pre[:, :h2] += recurrent[:, :h2]
                _sigmoid_into(pre[:, :h2], gate[:, :h2])
                np.copyto(extra[t], recurrent[:, h2:])
                # a_n = x Wx_n + b_n + r * (h Wh_n + bh_n)
                rec_n = recurrent[:, h2:]
                rec_n *= gate[:, :H]
                pre[:, h2:] += rec_n
            else:
                np.matmul(h_prev, Wh_rz, out=recurrent)
                pre[:, :h2] += recurrent
                _sigmoid_into(pre[:, :h2], gate[:, :h2])
                np.multiply(gate[:, :H], h_prev, out=extra[t])
                np.matmul(extra[t], Wh_n, out=candidate_rec)
                pre[:, h2:] += candidate_rec
            candidate = gate[:, h2:]
            np.tanh(pre[:, h2:], out=candidate)
            # h_t = (1 - z) n + z h_{t-1} = n + z (h_{t-1} - n)
            h = hs[t + 1]
            np.subtract(h_prev, candidate, out=h)
            h *= gate[:, H:h2]
            h += candidate
        hidden = hs[1:]
        if trace is not None:
            for k, gate_name in enumerate(GATES):
                trace.add(
                    f"gru/{gate_name}_preact",
                    preact[..., k * H : (k + 1) * H],
                    ProbeKind.SIGNED,
                    ("unit",),
                    gate=gate_name,
                    description=f"pre-activation of the {gate_name} gate",
                )
            trace.add(
                "gru/reset_gate",
                gates[..., :H],
                ProbeKind.GATE,
                ("unit",),
                gate="reset",
                description="reset gate r_t",
            )
            trace.add(
                "gru/update_gate",
                gates[..., H:h2],
                ProbeKind.GATE,
                ("unit",),
                gate="update",
                description="update gate z_t: share of h_{t-1} kept",
            )
            trace.add(
                "gru/candidate",
                gates[..., h2:],
                ProbeKind.SIGNED,
                ("unit",),
                gate="candidate",
                description="candidate n_t",
            )
            if reset_after:
                trace.add(
                    "gru/recurrent_candidate",
                    extra,
                    ProbeKind.SIGNED,
                    ("unit",),
                    gate="candidate",
                    description="h_{t-1} Wh_n + bh_n, scaled by r_t",
                )
            else:
                trace.add(
                    "gru/reset_hidden",
                    extra,
                    ProbeKind.SIGNED,
                    ("unit",),
                    gate="reset",
                    description="r_t * h_{t-1}, the input of Wh_n",
                )
            trace.add("gru/hidden", hidden, ProbeKind.SIGNED, ("unit",), description="hidden state h_t")
        return CoreOutput(
            features=hidden,
            hidden=hidden,
            final_state={"h": hs[-1].copy()},
            cache={"gates": gates, "hs": hs, "extra": extra},
        )

    # ------------------------------------------------------------------ backward
    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]:
        """BPTT from ``dfeatures`` ``(T, B, H)``; ``dfinal_state`` optionally adds a gradient
        arriving at the final ``h`` (from a later chunk of the same sequence)."""
        steps, batch, width = inputs.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        H = Wh.shape[0]
        h2 = 2 * H
        gates, hs, extra = core.cache["gates"], core.cache["hs"], core.cache["extra"]
        dtype = gates.dtype
        h_prev = hs[:-1]
        r, z, n = gates[..., :H], gates[..., H:h2], gates[..., h2:]
        reset_after = self.config.reset_after
        # factors that do not depend on the incoming gradient, for all steps at once:
        # da_n = dh * f_n, da_z = dh * f_z, da_r = (d(r h) or da_n) * f_r
        take = self.buffers.take
        shape = (steps, batch, H)
        one_minus_z = np.subtract(1.0, z, out=take(shape, dtype))
        f_n = np.multiply(n, n, out=take(shape, dtype))
        np.subtract(1.0, f_n, out=f_n)
        f_n *= one_minus_z
        f_z = np.subtract(h_prev, n, out=take(shape, dtype))
        f_z *= z
        f_z *= one_minus_z
        f_r = np.subtract(1.0, r, out=one_minus_z)  # (1 - z is no longer needed)
        f_r *= r
        f_r *= extra if reset_after else h_prev
        del one_minus_z
        dhidden = np.empty((steps, batch, H), dtype=dtype)
        dpreact = take((steps, batch, 3 * H), dtype)  # d(input-side pre-activation)
        dh_next = np.zeros((batch, H), dtype=dtype)
        if dfinal_state is not None:
            dh_next += dfinal_state["h"]
        scratch = np.empty((batch, H), dtype=dtype)
        if reset_after:
            drec = take((steps, batch, 3 * H), dtype)  # d(h Wh + bh)
            WhT = Wh.T
        else:
            Wh_rzT = Wh[:, :h2].T
            Wh_nT = Wh[:, h2:].T
            drh = np.empty((batch, H), dtype=dtype)
        for t in range(steps - 1, -1, -1):
            dh = np.add(dfeatures[t], dh_next, out=dhidden[t])
            dpre = dpreact[t]
            da_n = dpre[:, h2:]
            np.multiply(dh, f_n[t], out=da_n)
            np.multiply(dh, f_z[t], out=dpre[:, H:h2])
            np.multiply(dh, z[t], out=dh_next)
            if reset_after:
                dr = drec[t]
                np.multiply(da_n, f_r[t], out=dpre[:, :H])
                dr[:, :h2] = dpre[:, :h2]
                np.multiply(da_n, r[t], out=dr[:, h2:])
                np.matmul(dr, WhT, out=scratch)
                dh_next += scratch
            else:
                np.matmul(da_n, Wh_nT, out=drh)
                np.multiply(drh, f_r[t], out=dpre[:, :H])
                drh *= r[t]
                dh_next += drh
                np.matmul(dpre[:, :h2], Wh_rzT, out=scratch)
                dh_next += scratch
        # weight gradients in one matmul each, after the loop
        flat = steps * batch
        dpre_2d = dpreact.reshape(flat, 3 * H)
        h_prev_2d = h_prev.reshape(flat, H)
        grads = {
            "Wx": inputs.reshape(flat, width).T @ dpre_2d,
            "b": dpre_2d.sum(axis=0),
        }
        if reset_after:
            drec_2d = drec.reshape(flat, 3 * H)
            grads["Wh"] = h_prev_2d.T @ drec_2d
            grads["bh"] = drec_2d.sum(axis=0)
        else:
            dWh = np.empty_like(Wh)
            np.matmul(h_prev_2d.T, dpre_2d[:, :h2], out=dWh[:, :h2])
            np.matmul(extra.reshape(flat, H).T, dpre_2d[:, h2:], out=dWh[:, h2:])
            grads["Wh"] = dWh
        dinputs = (dpre_2d @ Wx.T).reshape(steps, batch, width) if need_inputs else None
        return grads, dinputs, {"h": dh_next}, dhidden
