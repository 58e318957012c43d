"""The Differentiable Neural Computer (Graves et al., Nature 2016) with an LSTM controller.

Sizes: input ``D``, controller ``H``, memory ``N`` slots of width ``W``, ``R`` read
heads, one write head, read-out ``O``; interface ``I = R W + 3 W + 5 R + 3``.

Each step ``t``::

    [h, c] = LSTM([x_t, r_{t-1}], h_{t-1}, c_{t-1})      controller
    xi = h Wi + bi                                       interface (see dnc/interface.py)
    r_t, A_t = access_step_forward(xi, A_{t-1})          memory access (see dnc/access.py):
                                                         usage, allocation, write weighting,
                                                         erase + add, links, read vectors r_t
    features = [h, r_t]  ->  y_t = features Wy + by      (the shared read-out)

Parameters: ``Wx`` ``(D + R W, 4H)`` (the controller input is ``[x_t, r_{t-1}]``),
``Wh`` ``(H, 4H)``, ``b`` ``(4H,)`` with the LSTM gate slices ``[input]``,
``[forget]``, ``[output]``, ``[candidate]``; ``Wi`` ``(H, I)`` and ``bi`` ``(I,)`` with
one slice per interface part (``Wi[write_key]``, ``Wi[erase]``, ``Wi[free_gates]``,
``Wi[read_modes]`` ...); read-out ``Wy`` ``(H + R W, O)``, ``by`` ``(O,)``.
Initialisation: matrices uniform in ``+-1/sqrt(fan_in)``; ``b`` zero but the forget
slice (``forget_bias``); ``bi`` uniform in ``+-1/sqrt(H)`` like a ``torch.nn.Linear``
bias; ``by`` zero.

State (every entry zero at the start of a sequence unless passed in): the controller's
``h``, ``c`` ``(B, H)``; the fields of :class:`~rnnscope.engine.dnc.access.AccessState`
(``memory`` ``(B, N, W)``, ``usage`` ``(B, N)``, ``link`` ``(B, N, N)``, ``precedence``
``(B, N)``, ``read_weightings`` ``(B, R, N)``, ``write_weighting`` ``(B, N)``); the last
read vectors ``read_vectors`` ``(B, R, W)``, the controller's next input.

Probes (besides the shared ones in :mod:`rnnscope.engine.trace`):

===============================  ================  ===========  =========  ===========================
name                             shape             axes         kind       meaning
===============================  ================  ===========  =========  ===========================
``controller/input_gate``        ``(T, B, H)``     unit         gate       LSTM input gate
``controller/forget_gate``       ``(T, B, H)``     unit         gate       LSTM forget gate
``controller/output_gate``       ``(T, B, H)``     unit         gate       LSTM output gate
``controller/candidate``         ``(T, B, H)``     unit         signed     candidate ``tanh``
``controller/cell``              ``(T, B, H)``     unit         signed     cell ``c_t``
``controller/hidden``            ``(T, B, H)``     unit         signed     hidden ``h_t``
``dnc/interface``                ``(T, B, I)``     interface    signed     raw interface vector
``dnc/memory``                   ``(T, B, N, W)``  slot, width  signed     ``M_t`` after the write
``dnc/usage``                    ``(T, B, N)``     slot         weighting  usage ``u_t``
``dnc/retention``                ``(T, B, N)``     slot         weighting  retention ``psi_t``
``dnc/allocation``               ``(T, B, N)``     slot         weighting  allocation ``a_t``
``dnc/write_content_weighting``  ``(T, B, N)``     slot         weighting  ``C(M_{t-1}, k_w, beta_w)``
``dnc/write_weighting``          ``(T, B, N)``     slot         weighting  ``w_w``
``dnc/write_key``                ``(T, B, W)``     width        signed     ``k_w``
``dnc/erase_vector``             ``(T, B, W)``     width        gate       ``e``
``dnc/write_vector``             ``(T, B, W)``     width        signed     ``v``
``dnc/precedence``               ``(T, B, N)``     slot         weighting  ``p_t``
``dnc/link``                     ``(T, B, N, N)``  slot, slot   weighting  ``L_t[i, j]``
``dnc/read_keys``                ``(T, B, R, W)``  head, width  signed     read keys
``dnc/read_content_weighting``   ``(T, B, R, N)``  head, slot   weighting  ``C(M_t, k_r, beta_r)``
``dnc/forward_weighting``        ``(T, B, R, N)``  head, slot   weighting  ``L_t w_r_{t-1}``
``dnc/backward_weighting``       ``(T, B, R, N)``  head, slot   weighting  ``L_t^T w_r_{t-1}``
``dnc/read_modes``               ``(T, B, R, 3)``  head, mode   gate       backward, content, forward
``dnc/read_weighting``           ``(T, B, R, N)``  head, slot   weighting  ``w_r``
``dnc/read_vectors``             ``(T, B, R, W)``  head, width  signed     ``r_t``
``dnc/free_gates``               ``(T, B, R)``     head         gate       ``f``
``dnc/read_strengths``           ``(T, B, R)``     head         signed     ``beta_r >= 1``
``dnc/allocation_gate``          ``(T, B)``                     scalar     ``g_a``
``dnc/write_gate``               ``(T, B)``                     scalar     ``g_w``
``dnc/write_strength``           ``(T, B)``                     scalar     ``beta_w >= 1``
===============================  ================  ===========  =========  ===========================

And the addressing decomposition (:mod:`rnnscope.engine.dnc.decomposition`), computed after
the time loop from the probes above: ``dnc/read_mode_parts`` ``(T, B, R, 3, N)`` (axes head,
mode, slot; ``pi[i][m]`` times the backward / content / forward weighting, summing over the
mode axis to ``w_r``) and ``dnc/write_parts`` ``(T, B, 2, N)`` (axes part, slot:
``g_w g_a a`` and ``g_w (1 - g_a) c_w``, summing to ``w_w``), both of kind weighting.

The backward is exact through every path, the usage included; the allocation's
sort permutation is held fixed (see :mod:`rnnscope.engine.dnc.allocation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from operator import attrgetter

import numpy as np

from rnnscope.engine.dnc.access import (
    AccessCache,
    AccessState,
    access_step_backward,
    access_step_forward,
)
from rnnscope.engine.dnc.decomposition import WRITE_PARTS, read_mode_parts, write_parts
from rnnscope.engine.dnc.interface import INTERFACE_PARTS, READ_MODES, interface_layout, interface_size
from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State, init_uniform
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.lstm_cell import GATES, gate_slices, lstm_cell_backward, lstm_cell_forward
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.trace import ProbeKind, Trace

STATE_KEYS = ("h", "c", *AccessState._fields, "read_vectors")

_WEIGHTING, _GATE, _SIGNED, _SCALAR = ProbeKind.WEIGHTING, ProbeKind.GATE, ProbeKind.SIGNED, ProbeKind.SCALAR
_SLOT, _HEAD_SLOT, _HEAD_MODE = ("slot",), ("head", "slot"), ("head", "mode")

# the memory probes in trace order: name, where (an attribute of _Steps, or with "step." of every
# step's AccessCache), kind, axes, description
_MEMORY_PROBES: tuple[tuple[str, str, ProbeKind, tuple[str, ...], str], ...] = (
    ("memory", "states.memory", _SIGNED, ("slot", "width"), "memory M_t after the write"),
    ("usage", "states.usage", _WEIGHTING, _SLOT, "usage u_t"),
    ("retention", "step.write.retention", _WEIGHTING, _SLOT, "retention psi_t (1 = kept)"),
    ("allocation", "step.write.allocation", _WEIGHTING, _SLOT, "allocation weighting a_t"),
    ("write_content_weighting", "step.write.content", _WEIGHTING, _SLOT, "write content weighting"),
    ("write_weighting", "states.write_weighting", _WEIGHTING, _SLOT, "write weighting w_w"),
    ("write_key", "step.interface.write_key", _SIGNED, ("width",), "write key k_w"),
    ("erase_vector", "step.interface.erase", _GATE, ("width",), "erase vector e"),
    ("write_vector", "step.interface.write_vector", _SIGNED, ("width",), "write vector v"),
    ("precedence", "states.precedence", _WEIGHTING, _SLOT, "precedence p_t"),
    ("link", "states.link", _WEIGHTING, ("slot", "slot"), "link L[i, j]: slot i written after slot j"),
    ("read_keys", "step.interface.read_keys", _SIGNED, ("head", "width"), "read keys"),
    ("read_content_weighting", "step.read.content", _WEIGHTING, _HEAD_SLOT, "read content weighting"),
    ("forward_weighting", "step.read.forward", _WEIGHTING, _HEAD_SLOT, "forward weighting L w_r"),
    ("backward_weighting", "step.read.backward", _WEIGHTING, _HEAD_SLOT, "backward weighting L^T w_r"),
    ("read_modes", "step.interface.read_modes", _GATE, _HEAD_MODE, "read modes (backward, content, forward)"),
    ("read_weighting", "states.read_weightings", _WEIGHTING, _HEAD_SLOT, "read weighting w_r"),
    ("read_vectors", "read_vectors", _SIGNED, ("head", "width"), "r_t"),
    ("free_gates", "step.interface.free_gates", _GATE, ("head",), "free gates f"),
    ("read_strengths", "step.interface.read_strengths", _SIGNED, ("head",), "read strengths (>= 1)"),
    ("allocation_gate", "step.interface.allocation_gate", _SCALAR, (), "allocation gate g_a"),
    ("write_gate", "step.interface.write_gate", _SCALAR, (), "write gate g_w"),
    ("write_strength", "step.interface.write_strength", _SCALAR, (), "write strength (>= 1)"),
)


@dataclass
class _Steps:
    """Everything the forward computed; the backward and the trace read it.

    The controller's arrays and the access states are time-major; the rest of the
    memory step is in one :class:`AccessCache` per step.
    """

    initial: State
    gates: np.ndarray  # (T, B, 4H)
    cell: np.ndarray  # (T, B, H)
    tanh_cell: np.ndarray  # (T, B, H)
    hidden: np.ndarray  # (T, B, H)
    interface: np.ndarray  # (T, B, I) raw
    read_vectors: np.ndarray  # (T, B, R, W)
    states: AccessState  # (T, B, ...) each: the access state after every step
    access: list[AccessCache]  # T entries

    def cell_before(self, t: int) -> np.ndarray:
        """The controller cell ``c_{t-1}`` ``(B, H)`` (the initial one at ``t = 0``)."""
        return self.initial["c"] if t == 0 else self.cell[t - 1]


def _probe_data(s: _Steps, path: str) -> np.ndarray:
    """The ``(T, B, ...)`` array at ``path``: an attribute of ``s``, or (``step.``) of each step's cache."""
    if path.startswith("step."):
        get = attrgetter(path.removeprefix("step."))
        return np.stack([get(cache) for cache in s.access])
    data: np.ndarray = attrgetter(path)(s)
    return data


def _access_state(state: State) -> AccessState:
    """The memory's part of a DNC state dict."""
    return AccessState(*(state[name] for name in AccessState._fields))


class DNC(RecurrentModel):
    """DNC with an LSTM controller; ``hidden_size`` is the controller's ``H``."""

    kind = "dnc"

    @property
    def sizes(self) -> tuple[int, int, int, int, int]:
        """``(D, H, N, W, R)``; ``D`` is what the controller reads (the embedding's width, if any)."""
        cfg = self.config
        return cfg.core_input_size, cfg.hidden_size, cfg.memory_slots, cfg.memory_width, cfg.read_heads

    @classmethod
    def parameter_shapes(cls, config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter of a DNC of ``config``, in the model's order (nothing allocated)."""
        D, H, O = config.core_input_size, config.hidden_size, config.output_size
        reads = config.read_heads * config.memory_width
        size = interface_size(config.memory_width, config.read_heads)
        shapes: dict[str, tuple[int, ...]] = {}
        if config.embedding_size:
            shapes["E"] = (config.input_size, config.embedding_size)
        shapes.update(
            {
                "Wx": (D + reads, 4 * H),
                "Wh": (H, 4 * H),
                "b": (4 * H,),
                "Wi": (H, size),
                "bi": (size,),
                "Wy": (H + reads, O),
                "by": (O,),
            }
        )
        return shapes

    @classmethod
    def state_shapes_for(cls, config: ModelConfig, batch: int) -> dict[str, tuple[int, ...]]:
        """The shape of every state entry of a DNC of ``config`` for ``batch`` sequences."""
        H, N, W, R = config.hidden_size, config.memory_slots, config.memory_width, config.read_heads
        return {
            "h": (batch, H),
            "c": (batch, H),
            "memory": (batch, N, W),
            "usage": (batch, N),
            "link": (batch, N, N),
            "precedence": (batch, N),
            "read_weightings": (batch, R, N),
            "write_weighting": (batch, N),
            "read_vectors": (batch, R, W),
        }

    def init_params(self, rng: np.random.Generator) -> Params:
        D, H, N, W, R = self.sizes
        O = self.config.output_size
        size = interface_size(W, R)
        b = np.zeros(4 * H, dtype=self.dtype)
        b[H : 2 * H] = self.config.forget_bias
        arrays = {
            "Wx": init_uniform(rng, (D + R * W, 4 * H), D + R * W, self.dtype),
            "Wh": init_uniform(rng, (H, 4 * H), H, self.dtype),
            "b": b,
            "Wi": init_uniform(rng, (H, size), H, self.dtype),
            # like torch.nn.Linear's bias (the usual DNC interface layer): keys and write vectors
            # then start away from zero, where the cosine's gradient (~ 1 / |k|) and curvature
            # (~ 1 / |k|^2) are moderate; with a zero bias they scale with the small h of a fresh LSTM
            "bi": init_uniform(rng, (size,), H, self.dtype),
            "Wy": init_uniform(rng, (H + R * W, O), H + R * W, self.dtype),
            "by": np.zeros(O, dtype=self.dtype),
        }
        lstm = gate_slices(H)
        layout = interface_layout(W, R)
        slices = {
            "Wx": {g: GateSlice(1, *lstm[g]) for g in GATES},
            "Wh": {g: GateSlice(1, *lstm[g]) for g in GATES},
            "b": {g: GateSlice(0, *lstm[g]) for g in GATES},
            "Wi": {p: GateSlice(1, *layout[p]) for p in INTERFACE_PARTS},
            "bi": {p: GateSlice(0, *layout[p]) for p in INTERFACE_PARTS},
        }
        return Params(arrays, slices)

    def initial_state(self, batch: int) -> State:
        shapes = self.state_shapes_for(self.config, batch)
        return {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}

    # ----------------------------------------------------------------- forward
    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        steps, batch, D = inputs.shape
        _, H, N, W, R = self.sizes
        Wx, Wh, b, Wi, bi = (self.params[k] for k in ("Wx", "Wh", "b", "Wi", "bi"))
        Wx_read = Wx[D:]
        # input projections of all steps in one matmul; the loop adds the recurrent parts
        preact = (inputs.reshape(steps * batch, D) @ Wx[:D]).reshape(steps, batch, 4 * H)
        preact += b

        def buf(*shape: int) -> np.ndarray:
            return np.empty((steps, batch) + shape, dtype=self.dtype)

        states = AccessState(buf(N, W), buf(N), buf(N, N), buf(N), buf(R, N), buf(N))
        s = _Steps(state, buf(4 * H), buf(H), buf(H), buf(H), buf(Wi.shape[1]), buf(R, W), states, [])
        h, c, read_vec = state["h"], state["c"], state["read_vectors"]
        access = _access_state(state)
        for t in range(steps):
            # controller on [x_t, r_{t-1}]
            pre = preact[t]
            pre += read_vec.reshape(batch, R * W) @ Wx_read
            pre += h @ Wh
            _, c, tanh_c, h = lstm_cell_forward(pre, c, gates_out=s.gates[t])
            s.cell[t], s.tanh_cell[t], s.hidden[t] = c, tanh_c, h
            raw = np.matmul(h, Wi, out=s.interface[t])
            raw += bi
            out = AccessState(*(series[t] for series in states))
            read_vec, access, cache = access_step_forward(raw, access, out=out)
            s.read_vectors[t] = read_vec
            s.access.append(cache)
        features = np.concatenate([s.hidden, s.read_vectors.reshape(steps, batch, R * W)], axis=2)
        final = {"h": h, "c": c, **access._asdict(), "read_vectors": read_vec}
        final = {name: value.copy() for name, value in final.items()}
        if trace is not None:
            self._record(trace, s)
        return CoreOutput(features=features, hidden=s.hidden, final_state=final, cache=s)

    def _record(self, trace: Trace, s: _Steps) -> None:
        H = s.hidden.shape[2]
        for k, gate in enumerate(GATES):
            kind = ProbeKind.SIGNED if gate == "candidate" else ProbeKind.GATE
            name = "controller/candidate" if gate == "candidate" else f"controller/{gate}_gate"
            trace.add(
                name,
                s.gates[:, :, k * H : (k + 1) * H],
                kind,
                ("unit",),
                gate=gate,
                description=f"controller LSTM {gate}" + ("" if gate == "candidate" else " gate"),
            )
        trace.add("controller/cell", s.cell, ProbeKind.SIGNED, ("unit",), description="controller cell c_t")
        trace.add("controller/hidden", s.hidden, ProbeKind.SIGNED, ("unit",), description="controller h_t")
        trace.add("dnc/interface", s.interface, ProbeKind.SIGNED, ("interface",), description="raw interface")
        for name, path, kind, axes, text in _MEMORY_PROBES:
            data = _probe_data(s, path)
            labels: dict[int, tuple[str, ...]] | None = {1: READ_MODES} if name == "read_modes" else None
            trace.add(f"dnc/{name}", data, kind, axes, description=text, tick_labels=labels)
        _record_decomposition(trace)

    # ----------------------------------------------------------------- backward
    def backward_core(
        self, dfeatures: np.ndarray, core: CoreOutput, inputs: np.ndarray, *, need_inputs: bool = True
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]:
        s: _Steps = core.cache
        steps, batch, D = inputs.shape
        _, H, N, W, R = self.sizes
        Wx, Wh, Wi = self.params["Wx"], self.params["Wh"], self.params["Wi"]
        WxT_read = Wx[D:].T.copy()
        WhT = Wh.T.copy()
        WiT = Wi.T.copy()
        dpreact = np.empty_like(s.gates)
        dinterface = np.empty_like(s.interface)
        dhidden = np.empty_like(s.hidden)
        # gradients arriving at step t from step t + 1 (zero after the last step)
        dh_next, dc_next = np.zeros_like(s.initial["h"]), np.zeros_like(s.initial["c"])
        dread_next = np.zeros_like(s.initial["read_vectors"])
        daccess = AccessState(*(np.zeros_like(value) for value in _access_state(s.initial)))
        # the link gradient's scratch; the incoming one is overwritten by the outgoing one
        scratch = np.empty_like(daccess.link)
        for t in range(steps - 1, -1, -1):
            dreads = dfeatures[t, :, H:].reshape(batch, R, W) + dread_next
            dinterface[t], daccess = access_step_backward(
                dreads, daccess, s.access[t], work=(scratch, daccess.link)
            )
            dh = np.add(dfeatures[t, :, :H], dh_next, out=dhidden[t])
            dh += dinterface[t] @ WiT
            _, dc_next = lstm_cell_backward(
                dh, dc_next, s.gates[t], s.cell_before(t), s.tanh_cell[t], dpreact_out=dpreact[t]
            )
            dh_next = dpreact[t] @ WhT
            dread_next = (dpreact[t] @ WxT_read).reshape(batch, R, W)
        dstate = {"h": dh_next, "c": dc_next, **daccess._asdict(), "read_vectors": dread_next}
        param_grads = _controller_weight_gradients(s, inputs, dpreact, dinterface)
        rows = steps * batch
        dinputs = (dpreact.reshape(rows, 4 * H) @ Wx[:D].T).reshape(steps, batch, D) if need_inputs else None
        return param_grads, dinputs, dstate, dhidden


def _record_decomposition(trace: Trace) -> None:
    """The read and write weightings split into their terms, from the probes just recorded."""
    probe = trace.probes
    modes = read_mode_parts(
        probe["dnc/read_modes"].data,
        probe["dnc/backward_weighting"].data,
        probe["dnc/read_content_weighting"].data,
        probe["dnc/forward_weighting"].data,
    )
    trace.add(
        "dnc/read_mode_parts",
        modes,
        _WEIGHTING,
        ("head", "mode", "slot"),
        description="read weighting by mode: pi_b bw, pi_c c, pi_f fw (they sum to w_r)",
        tick_labels={1: READ_MODES},
    )
    written = write_parts(
        probe["dnc/allocation_gate"].data,
        probe["dnc/write_gate"].data,
        probe["dnc/allocation"].data,
        probe["dnc/write_content_weighting"].data,
    )
    trace.add(
        "dnc/write_parts",
        written,
        _WEIGHTING,
        ("part", "slot"),
        description="write weighting by term: g_w g_a a, g_w (1 - g_a) c_w (they sum to w_w)",
        tick_labels={0: WRITE_PARTS},
    )


def _controller_weight_gradients(
    s: _Steps, inputs: np.ndarray, dpreact: np.ndarray, dinterface: np.ndarray
) -> dict[str, np.ndarray]:
    """``Wx``, ``Wh``, ``b``, ``Wi``, ``bi`` gradients in one matmul each, after the time loop.

    ``inputs`` ``(T, B, D)``, ``dpreact`` ``(T, B, 4H)``, ``dinterface`` ``(T, B, I)``.
    """
    steps, batch, D = inputs.shape
    H = s.hidden.shape[2]
    rows = steps * batch
    dpre_2d = dpreact.reshape(rows, 4 * H)
    read_prev = np.concatenate([s.initial["read_vectors"][None], s.read_vectors[:-1]], axis=0)
    controller_in = np.concatenate([inputs.reshape(rows, D), read_prev.reshape(rows, -1)], axis=1)
    hidden_prev = np.concatenate([s.initial["h"][None], s.hidden[:-1]], axis=0).reshape(rows, H)
    dint_2d = dinterface.reshape(rows, -1)
    return {
        "Wx": controller_in.T @ dpre_2d,
        "Wh": hidden_prev.T @ dpre_2d,
        "b": dpre_2d.sum(axis=0),
        "Wi": s.hidden.reshape(rows, H).T @ dint_2d,
        "bi": dint_2d.sum(axis=0),
    }
