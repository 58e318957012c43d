"""GRU with fused gates (reset, update, candidate), in both conventions, exact BPTT: the fast path.

The readable reference, one step at a time, is :mod:`rnnscope.engine.models.gru_cell`
(the tests hold this module equal to it).

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
State: ``{"h": (B, H)}``. With ``config.num_layers = L > 1`` the layers stack
(:mod:`rnnscope.engine.models.stack`): ``l0.Wx`` ``(D, 3H)``, ``l1.Wx`` ``(H, 3H)``,
``l1.bh[reset]`` ..., state ``l0.h`` ..., probes ``gru/l1/update_gate`` ...

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

Speed: the input projections of all steps are one matmul (row picks for one-hot
inputs); the loop over time runs the recurrent matmuls and a few in-place NumPy calls
per step, one loop per convention; backward computes every factor that does not
depend on the incoming gradient for all steps at once and forms the weight gradients in
one matmul each after the loop (the pieces are in :mod:`rnnscope.engine.models.gru_kernels`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnscope.engine.models.base import State, init_uniform
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.gru_cell import GATES
from rnnscope.engine.models.gru_kernels import (
    backward_factors,
    backward_steps_cho,
    backward_steps_reset_after,
    forward_steps_cho,
    forward_steps_reset_after,
    weight_gradients_cho,
    weight_gradients_reset_after,
)
from rnnscope.engine.models.kernels import column_major, input_projection
from rnnscope.engine.models.layers import LayerNames
from rnnscope.engine.models.stack import LayerGradients, LayerOutput, StackedModel
from rnnscope.engine.params import GateSlice
from rnnscope.engine.trace import ProbeKind, Trace

__all__ = ["GATES", "GRU", "probe_names", "record_gru_probes"]


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


def record_gru_probes(
    trace: Trace,
    preact: np.ndarray,
    gates: np.ndarray,
    extra: np.ndarray,
    hidden: np.ndarray,
    reset_after: bool,
    names: LayerNames | None = None,
) -> None:
    """Add the ``gru/...`` probes (the table above) of layer ``names`` (default: a one-layer
    model's) to ``trace``.

    ``preact`` ``(T, B, 3H)`` = ``[a_r | a_z | a_n]``; ``gates`` ``(T, B, 3H)`` =
    ``[r | z | n]``; ``extra`` ``(T, B, H)`` is ``r_t * h_{t-1}`` (default) or
    ``h_{t-1} Wh_n + bh_n`` (``reset_after``); ``hidden`` ``(T, B, H)``.
    """
    H = hidden.shape[-1]
    names = names or LayerNames("gru")
    signed, gate, layer = ProbeKind.SIGNED, ProbeKind.GATE, names.layer
    for k, name in enumerate(GATES):
        part = preact[..., k * H : (k + 1) * H]
        trace.add(
            names.probe(f"{name}_preact"),
            part,
            signed,
            ("unit",),
            gate=name,
            description=f"pre-activation of the {name} gate",
            layer=layer,
        )
    rows = [
        ("reset_gate", gates[..., :H], gate, "reset", "reset gate r_t"),
        ("update_gate", gates[..., H : 2 * H], gate, "update", "update gate z_t: share of h_{t-1} kept"),
        ("candidate", gates[..., 2 * H :], signed, "candidate", "candidate n_t"),
    ]
    if reset_after:
        rows.append(("recurrent_candidate", extra, signed, "candidate", "h_{t-1} Wh_n + bh_n, scaled by r_t"))
    else:
        rows.append(("reset_hidden", extra, signed, "reset", "r_t * h_{t-1}, the input of Wh_n"))
    for name, data, kind, gate_name, text in rows:
        trace.add(names.probe(name), data, kind, ("unit",), gate=gate_name, description=text, layer=layer)
    trace.add(names.probe("hidden"), hidden, signed, ("unit",), description="hidden state h_t", layer=layer)


class GRU(StackedModel):
    kind = "gru"
    group = "gru"

    @classmethod
    def layer_shapes(cls, config: ModelConfig, input_size: int) -> dict[str, tuple[int, ...]]:
        H = config.hidden_size
        shapes = {"Wx": (input_size, 3 * H), "Wh": (H, 3 * H), "b": (3 * H,)}
        if config.reset_after:
            shapes["bh"] = (3 * H,)
        return shapes

    def init_layer(
        self, rng: np.random.Generator, input_size: int
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, GateSlice]]]:
        D, H = input_size, self.config.hidden_size
        columns = {gate: (k * H, (k + 1) * H) for k, gate in enumerate(GATES)}
        arrays = {
            "Wx": init_uniform(rng, (D, 3 * H), D, self.dtype),
            "Wh": init_uniform(rng, (H, 3 * H), H, self.dtype),
            "b": np.zeros(3 * H, dtype=self.dtype),
        }
        if self.config.reset_after:
            arrays["bh"] = np.zeros(3 * H, dtype=self.dtype)
        slices = {
            name: {gate: GateSlice(array.ndim - 1, a, z) for gate, (a, z) in columns.items()}
            for name, array in arrays.items()
        }
        return arrays, slices

    # ------------------------------------------------------------------ forward
    def forward_layer(
        self,
        weights: Mapping[str, np.ndarray],
        inputs: np.ndarray,
        state: State,
        trace: Trace | None,
        names: LayerNames,
    ) -> LayerOutput:
        steps, batch, _ = inputs.shape
        Wh = weights["Wh"]
        H = Wh.shape[0]
        take = self.buffers.take
        # all input projections (with bias) in one matmul; the loop only does the recurrent part
        preact = take((steps, batch, 3 * H), self.dtype)
        input_projection(inputs, weights["Wx"], out=preact.reshape(steps * batch, 3 * H))
        preact += weights["b"]
        gates = take((steps, batch, 3 * H), self.dtype)
        hs = take((steps + 1, batch, H), self.dtype)  # hs[0] = h_0, hs[t + 1] = h_t
        hs[0] = state["h"]
        # r * h_{t-1} (default) or h_{t-1} Wh_n + bh_n (reset_after): what backward needs
        extra = take((steps, batch, H), self.dtype)
        # column-major weights: OpenBLAS runs (B, H) @ (H, G) up to 1.7x faster with the
        # right operand transposed in memory (measured here; gemv at B=1 prefers rows)
        layout = column_major if batch > 1 else np.ascontiguousarray
        if self.config.reset_after:
            forward_steps_reset_after(preact, gates, hs, extra, layout(Wh), weights["bh"])
        else:
            forward_steps_cho(preact, gates, hs, extra, layout(Wh[:, : 2 * H]), layout(Wh[:, 2 * H :]))
        hidden = hs[1:]
        if trace is not None:
            record_gru_probes(trace, preact, gates, extra, hidden, self.config.reset_after, names)
        return LayerOutput(
            hidden=hidden, final_state={"h": hs[-1].copy()}, cache={"gates": gates, "hs": hs, "extra": extra}
        )

    # ------------------------------------------------------------------ backward
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
        gates, hs, extra = output.cache["gates"], output.cache["hs"], output.cache["extra"]
        dtype, H = gates.dtype, Wh.shape[0]
        reset_after = self.config.reset_after
        factors = backward_factors(gates, hs[:-1], extra, reset_after, self.buffers)
        dhidden = np.empty((steps, batch, H), dtype=dtype)
        dpreact = self.buffers.take((steps, batch, 3 * H), dtype)  # d(input-side pre-activation)
        dh_next = np.zeros((batch, H), dtype=dtype)
        if dfinal_state is not None:
            dh_next += dfinal_state["h"]
        if reset_after:
            drec = self.buffers.take((steps, batch, 3 * H), dtype)  # d(h Wh + bh)
            backward_steps_reset_after(dhidden_in, gates, factors, Wh, dh_next, dhidden, dpreact, drec)
            grads = weight_gradients_reset_after(inputs, dpreact, hs[:-1], drec)
        else:
            backward_steps_cho(dhidden_in, gates, factors, Wh, dh_next, dhidden, dpreact)
            grads = weight_gradients_cho(inputs, dpreact, hs[:-1], extra)
        flat = steps * batch
        dinputs = (dpreact.reshape(flat, 3 * H) @ Wx.T).reshape(steps, batch, width) if need_inputs else None
        return grads, dinputs, {"h": dh_next}, dhidden
