"""LSTM with fused gates (input, forget, output, candidate), exact BPTT: the fast path.

The readable reference, one step at a time, is :mod:`rnnscope.engine.models.lstm_cell`
(the tests hold this module equal to it).

Equations, for input ``x_t`` ``(B, D)`` and state ``h_{t-1}``, ``c_{t-1}`` ``(B, H)``::

    a_t = x_t Wx + h_{t-1} Wh + b                 (B, 4H) = [a_i | a_f | a_o | a_g]
    i_t = sigmoid(a_i)   f_t = sigmoid(a_f)   o_t = sigmoid(a_o)   g_t = tanh(a_g)
    c_t = f_t * c_{t-1} + i_t * g_t
    h_t = o_t * tanh(c_t)

Parameters: ``Wx`` ``(D, 4H)``, ``Wh`` ``(H, 4H)``, ``b`` ``(4H,)`` (the forget
slice starts at ``config.forget_bias``, the rest at 0), read-out ``Wy`` ``(H, O)``,
``by`` ``(O,)``. The gate order is :data:`rnnscope.engine.models.lstm_cell.GATES`;
each gate's columns are a named slice: ``Wx[input]``, ``Wh[forget]``, ``b[output]``,
``Wx[candidate]`` ... State: ``{"h": (B, H), "c": (B, H)}``. With
``config.num_layers = L > 1`` the layers stack (:mod:`rnnscope.engine.models.stack`):
``l0.Wx`` ``(D, 4H)``, ``l1.Wx`` ``(H, 4H)``, ``l1.Wh[forget]`` ..., state ``l0.h``,
``l0.c``, ``l1.h`` ..., probes ``lstm/l1/forget_gate`` ... (``Probe.layer`` = 1).

Probes (besides the shared ones in :mod:`rnnscope.engine.trace`), all ``(T, B, H)``
on a ``("unit",)`` axis, group ``"lstm"``:

===========================  ========  ========  ===================================
name                         kind      gate      meaning
===========================  ========  ========  ===================================
``lstm/input_preact``        signed    input     ``a_i``, pre-activation of the input gate
``lstm/forget_preact``       signed    forget    ``a_f``
``lstm/output_preact``       signed    output    ``a_o``
``lstm/candidate_preact``    signed    candidate ``a_g``
``lstm/input_gate``          gate      input     ``i_t`` in 0..1
``lstm/forget_gate``         gate      forget    ``f_t`` in 0..1
``lstm/output_gate``         gate      output    ``o_t`` in 0..1
``lstm/candidate``           signed    candidate ``g_t`` in -1..1
``lstm/cell``                signed              ``c_t``
``lstm/tanh_cell``           signed              ``tanh(c_t)``
``lstm/hidden``              signed              ``h_t``
===========================  ========  ========  ===================================

Speed: the input projections of all steps are one matmul; the loop over time runs
only the recurrent matmul and the in-place cell (``lstm_cell_step``); backward
precomputes every factor that does not depend on the gradient for all steps at once
(``lstm_backward_factors``; both in :mod:`rnnscope.engine.models.lstm_kernels`) and
forms the weight gradients in one matmul each after the loop. One-hot inputs pick
rows of ``Wx`` (:func:`input_projection`); for batches the recurrent weights are used
column-major (:func:`column_major`), the faster OpenBLAS path for ``(B, H) @ (H, 4H)``.
``backward_core`` also accepts a gradient arriving at the final state
(``dfinal_state``) for chunked BPTT.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from rnnscope.engine.models.base import State, init_uniform
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.kernels import column_major, input_projection
from rnnscope.engine.models.layers import LayerNames
from rnnscope.engine.models.lstm_cell import gate_slices
from rnnscope.engine.models.lstm_kernels import (
    lstm_backward_factors,
    lstm_cell_backward_factored,
    lstm_cell_step,
)
from rnnscope.engine.models.stack import LayerGradients, LayerOutput, StackedModel
from rnnscope.engine.params import GateSlice
from rnnscope.engine.trace import ProbeKind, Trace

PROBE_NAMES = (
    "lstm/input_preact",
    "lstm/forget_preact",
    "lstm/output_preact",
    "lstm/candidate_preact",
    "lstm/input_gate",
    "lstm/forget_gate",
    "lstm/output_gate",
    "lstm/candidate",
    "lstm/cell",
    "lstm/tanh_cell",
    "lstm/hidden",
)


def lstm_gate_slices(hidden: int) -> dict[str, dict[str, GateSlice]]:
    """Named gate slices of ``Wx``, ``Wh`` (columns) and ``b`` for ``hidden`` units."""
    columns = gate_slices(hidden)
    return {
        "Wx": {gate: GateSlice(1, a, z) for gate, (a, z) in columns.items()},
        "Wh": {gate: GateSlice(1, a, z) for gate, (a, z) in columns.items()},
        "b": {gate: GateSlice(0, a, z) for gate, (a, z) in columns.items()},
    }


def record_lstm_probes(
    trace: Trace,
    preact: np.ndarray,
    gates: np.ndarray,
    cell: np.ndarray,
    tanh_cell: np.ndarray,
    hidden: np.ndarray,
    names: LayerNames | None = None,
) -> None:
    """Add the ``lstm/...`` probes (the table above) of the layer ``names`` (default: a one-layer
    model's) to ``trace``.

    ``preact`` ``(T, B, 4H)`` = ``[a_i | a_f | a_o | a_g]``; ``gates`` ``(T, B, 4H)`` =
    ``[i | f | o | g]``; ``cell``, ``tanh_cell``, ``hidden`` ``(T, B, H)``: ``c_t``,
    ``tanh(c_t)``, ``h_t``.
    """
    H = hidden.shape[-1]
    names = names or LayerNames("lstm")
    layer = names.layer
    for gate, (lo, hi) in gate_slices(H).items():
        text = f"pre-activation of the {gate} gate"
        trace.add(
            names.probe(f"{gate}_preact"),
            preact[..., lo:hi],
            ProbeKind.SIGNED,
            ("unit",),
            gate=gate,
            description=text,
            layer=layer,
        )
    for gate, (lo, hi) in gate_slices(H).items():
        if gate == "candidate":
            name, kind, text = "candidate", ProbeKind.SIGNED, "candidate g_t = tanh(a_g)"
        else:
            name, kind, text = f"{gate}_gate", ProbeKind.GATE, f"{gate} gate {gate[0]}_t"
        trace.add(
            names.probe(name), gates[..., lo:hi], kind, ("unit",), gate=gate, description=text, layer=layer
        )
    for name, data, text in (("cell", cell, "cell state c_t"), ("tanh_cell", tanh_cell, "tanh(c_t)")):
        trace.add(names.probe(name), data, ProbeKind.SIGNED, ("unit",), description=text, layer=layer)
    trace.add(
        names.probe("hidden"),
        hidden,
        ProbeKind.SIGNED,
        ("unit",),
        description="hidden state h_t",
        layer=layer,
    )


class LSTM(StackedModel):
    kind = "lstm"
    group = "lstm"
    state_names = ("h", "c")

    @classmethod
    def layer_shapes(cls, config: ModelConfig, input_size: int) -> dict[str, tuple[int, ...]]:
        H = config.hidden_size
        shapes = {"Wx": (input_size, 4 * H), "Wh": (H, 4 * H), "b": (4 * H,)}
        return shapes

    def init_layer(
        self, rng: np.random.Generator, input_size: int
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, GateSlice]]]:
        D, H = input_size, self.config.hidden_size
        b = np.zeros(4 * H, dtype=self.dtype)
        b[H : 2 * H] = self.config.forget_bias  # a positive forget bias keeps the cell open early in training
        arrays = {
            "Wx": init_uniform(rng, (D, 4 * H), D, self.dtype),
            "Wh": init_uniform(rng, (H, 4 * H), H, self.dtype),
            "b": b,
        }
        return arrays, lstm_gate_slices(H)

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
        H = Wh.shape[0]
        h3 = 3 * H
        # sigmoid(a) = 0.5 + 0.5 tanh(a / 2): halving the sigmoid columns of the input
        # projection and of Wh (exact: a power of two) lets one tanh do all four gates.
        # (the halved weights and bias are small copies; scaling them rather than the
        # (T, B, 4H) projections saves a pass over the largest array)
        half = np.ones(4 * H, dtype=self.dtype)
        half[:h3] = 0.5
        take = self.buffers.take
        preact = take((steps, batch, 4 * H), self.dtype)
        input_projection(inputs, Wx * half, out=preact.reshape(steps * batch, 4 * H))
        preact += b * half
        # column-major for batches: OpenBLAS runs (B, H) @ (H, 4H) up to 1.7x faster with
        # the right operand transposed in memory (measured here; gemv at B=1 prefers rows)
        Wh_half = column_major(Wh, half) if batch > 1 else Wh * half
        # without a trace the gates overwrite their pre-activations in place
        gates = preact if trace is None else np.empty_like(preact)
        # hs[0] / cs[0] hold the initial state: hs[:-1] is then h_{t-1} for every t
        hs = take((steps + 1, batch, H), self.dtype)
        cs = take((steps + 1, batch, H), self.dtype)
        hs[0] = state["h"]
        cs[0] = state["c"]
        tanh_cs = take((steps, batch, H), self.dtype)
        recurrent = np.empty((batch, 4 * H), dtype=preact.dtype)
        scratch = np.empty((batch, H), dtype=preact.dtype)
        for t in range(steps):
            np.matmul(hs[t], Wh_half, out=recurrent)
            pre = preact[t]
            pre += recurrent
            lstm_cell_step(pre, cs[t], gates[t], cs[t + 1], tanh_cs[t], hs[t + 1], scratch)
        hidden = hs[1:]
        if trace is not None:
            preact[..., :h3] *= 2.0  # back to the true pre-activations (exact)
            record_lstm_probes(trace, preact, gates, cs[1:], tanh_cs, hidden, names)
        return LayerOutput(
            hidden=hidden,
            final_state={"h": hs[-1].copy(), "c": cs[-1].copy()},
            cache={"gates": gates, "hs": hs, "cs": cs, "tanh_cs": tanh_cs},
        )

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
        arriving at the final ``h`` and ``c`` (from a later chunk of the same sequence)."""
        steps, batch, width = inputs.shape
        Wx, Wh = weights["Wx"], weights["Wh"]
        H = Wh.shape[0]
        gates, hs, cs, tanh_cs = (output.cache[k] for k in ("gates", "hs", "cs", "tanh_cs"))
        dtype = gates.dtype
        take = self.buffers.take
        # everything that does not depend on the incoming gradient, for all steps at once
        factors, dcell = lstm_backward_factors(
            gates, cs[:-1], tanh_cs, take(gates.shape, dtype), take(tanh_cs.shape, dtype)
        )
        forget = gates[..., H : 2 * H]
        WhT = Wh.T  # a transposed view: BLAS reads it as is (measured faster than a copy)
        dhidden = np.empty((steps, batch, H), dtype=dtype)
        dpreact = take((steps, batch, 4 * H), dtype)
        dh_next = np.zeros((batch, H), dtype=dtype)
        dc = np.zeros((batch, H), dtype=dtype)
        if dfinal_state is not None:
            dh_next += dfinal_state["h"]
            dc += dfinal_state["c"]
        dc_total = np.empty((batch, H), dtype=dtype)
        for t in range(steps - 1, -1, -1):
            dh = np.add(dhidden_in[t], dh_next, out=dhidden[t])
            lstm_cell_backward_factored(dh, dc, factors[t], dcell[t], forget[t], dpreact[t], dc_total)
            np.matmul(dpreact[t], WhT, out=dh_next)
        # weight gradients in one matmul each, after the loop
        dpreact_2d = dpreact.reshape(steps * batch, 4 * H)
        grads = {
            "Wx": inputs.reshape(steps * batch, width).T @ dpreact_2d,
            "Wh": hs[:-1].reshape(steps * batch, H).T @ dpreact_2d,
            "b": dpreact_2d.sum(axis=0),
        }
        dinputs = (dpreact_2d @ Wx.T).reshape(steps, batch, width) if need_inputs else None
        return grads, dinputs, {"h": dh_next, "c": dc}, dhidden
