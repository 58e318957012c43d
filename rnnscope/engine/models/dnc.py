"""The Differentiable Neural Computer (Graves et al., Nature 2016) with an LSTM controller.

Sizes: input ``D``, controller ``H``, memory ``N`` slots of width ``W``, ``R`` read
heads, one write head, read-out ``O``; interface ``I = R W + 3 W + 5 R + 3``.

Each step ``t``::

    [h, c] = LSTM([x_t, r_{t-1}], h_{t-1}, c_{t-1})      controller
    xi = h Wi + bi                                       interface (see dnc/interface.py)
    memory update: retention, usage, allocation, write weighting, erase + add,
    link and precedence, then read weightings and read vectors r_t
    features = [h, r_t]  ->  y_t = features Wy + by      (the shared read-out)

Parameters: ``Wx`` ``(D + R W, 4H)`` (the controller input is ``[x_t, r_{t-1}]``),
``Wh`` ``(H, 4H)``, ``b`` ``(4H,)`` with the LSTM gate slices ``[input]``,
``[forget]``, ``[output]``, ``[candidate]``; ``Wi`` ``(H, I)`` and ``bi`` ``(I,)`` with
one slice per interface part (``Wi[write_key]``, ``Wi[erase]``, ``Wi[free_gates]``,
``Wi[read_modes]`` ...); read-out ``Wy`` ``(H + R W, O)``, ``by`` ``(O,)``.
Initialisation: matrices uniform in ``+-1/sqrt(fan_in)``; ``b`` zero but the forget
slice (``forget_bias``); ``bi`` uniform in ``+-1/sqrt(H)`` like a ``torch.nn.Linear``
bias; ``by`` zero.

State (every entry zero at the start of a sequence unless passed in):
``h``, ``c`` ``(B, H)``; ``memory`` ``(B, N, W)``; ``usage`` ``(B, N)``;
``link`` ``(B, N, N)``; ``precedence`` ``(B, N)``; ``read_weightings`` ``(B, R, N)``;
``write_weighting`` ``(B, N)``; ``read_vectors`` ``(B, R, W)``.

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

The backward is exact through every path, the usage included; the allocation's
sort permutation is held fixed (see :mod:`rnnscope.engine.dnc.allocation`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.dnc import allocation as alloc
from rnnscope.engine.dnc import linkage
from rnnscope.engine.dnc.addressing import ContentCache, content_backward, content_forward
from rnnscope.engine.dnc.interface import (
    INTERFACE_PARTS,
    READ_MODES,
    Interface,
    interface_backward,
    interface_forward,
    interface_layout,
    interface_size,
)
from rnnscope.engine.dnc.memory import read_backward, read_forward, write_backward, write_forward
from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State, init_uniform
from rnnscope.engine.models.lstm_cell import GATES, gate_slices, lstm_cell_backward, lstm_cell_forward
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.trace import ProbeKind, Trace

STATE_KEYS = (
    "h",
    "c",
    "memory",
    "usage",
    "link",
    "precedence",
    "read_weightings",
    "write_weighting",
    "read_vectors",
)


@dataclass
class _Steps:
    """Everything the forward computed, time-major; the backward and the trace read it."""

    initial: State
    gates: np.ndarray  # (T, B, 4H)
    cell: np.ndarray  # (T, B, H)
    tanh_cell: np.ndarray  # (T, B, H)
    hidden: np.ndarray  # (T, B, H)
    interface: np.ndarray  # (T, B, I) raw
    memory: np.ndarray  # (T, B, N, W)
    usage: np.ndarray  # (T, B, N)
    retention: np.ndarray  # (T, B, N)
    retention_terms: np.ndarray  # (T, B, R, N)
    allocation: np.ndarray  # (T, B, N)
    write_content: np.ndarray  # (T, B, N)
    write_weighting: np.ndarray  # (T, B, N)
    link: np.ndarray  # (T, B, N, N)
    precedence: np.ndarray  # (T, B, N)
    read_content: np.ndarray  # (T, B, R, N)
    forward_weighting: np.ndarray  # (T, B, R, N)
    backward_weighting: np.ndarray  # (T, B, R, N)
    read_weighting: np.ndarray  # (T, B, R, N)
    read_vectors: np.ndarray  # (T, B, R, W)
    interfaces: list[Interface]
    write_caches: list[ContentCache]
    read_caches: list[ContentCache]
    alloc_caches: list[alloc.AllocationCache]

    def previous(self, name: str, t: int) -> np.ndarray:
        """The value of state ``name`` before step ``t`` (the initial state at ``t = 0``)."""
        if t == 0:
            return self.initial[name]
        return getattr(self, _SERIES[name])[t - 1]


# the _Steps field holding each state entry over time
_SERIES = {
    "h": "hidden",
    "c": "cell",
    "memory": "memory",
    "usage": "usage",
    "link": "link",
    "precedence": "precedence",
    "read_weightings": "read_weighting",
    "write_weighting": "write_weighting",
    "read_vectors": "read_vectors",
}


class DNC(RecurrentModel):
    """DNC with an LSTM controller; ``hidden_size`` is the controller's ``H``."""

    kind = "dnc"

    @property
    def sizes(self) -> tuple[int, int, int, int, int]:
        """``(D, H, N, W, R)``."""
        cfg = self.config
        return cfg.input_size, cfg.hidden_size, cfg.memory_slots, cfg.memory_width, cfg.read_heads

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
        _, H, N, W, R = self.sizes
        shapes = {
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
        return {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}

    # ----------------------------------------------------------------- forward
    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        steps, batch, D = inputs.shape
        _, H, N, W, R = self.sizes
        dt = self.dtype
        Wx, Wh, b, Wi, bi = (self.params[k] for k in ("Wx", "Wh", "b", "Wi", "bi"))
        Wx_read = Wx[D:]
        size = Wi.shape[1]
        # input projections of all steps in one matmul; the loop adds the recurrent parts
        preact = (inputs.reshape(steps * batch, D) @ Wx[:D]).reshape(steps, batch, 4 * H)
        preact += b

        def buf(*shape: int) -> np.ndarray:
            return np.empty((steps, batch) + shape, dtype=dt)

        s = _Steps(
            initial=state,
            gates=buf(4 * H),
            cell=buf(H),
            tanh_cell=buf(H),
            hidden=buf(H),
            interface=buf(size),
            memory=buf(N, W),
            usage=buf(N),
            retention=buf(N),
            retention_terms=buf(R, N),
            allocation=buf(N),
            write_content=buf(N),
            write_weighting=buf(N),
            link=buf(N, N),
            precedence=buf(N),
            read_content=buf(R, N),
            forward_weighting=buf(R, N),
            backward_weighting=buf(R, N),
            read_weighting=buf(R, N),
            read_vectors=buf(R, W),
            interfaces=[],
            write_caches=[],
            read_caches=[],
            alloc_caches=[],
        )
        h, c = state["h"], state["c"]
        memory, usage, link = state["memory"], state["usage"], state["link"]
        precedence, read_w = state["precedence"], state["read_weightings"]
        write_w, read_vec = state["write_weighting"], state["read_vectors"]
        for t in range(steps):
            # controller
            pre = preact[t]
            pre += read_vec.reshape(batch, R * W) @ Wx_read
            pre += h @ Wh
            _, c, tanh_c, h = lstm_cell_forward(pre, c, gates_out=s.gates[t])
            s.cell[t], s.tanh_cell[t], s.hidden[t] = c, tanh_c, h
            raw = np.matmul(h, Wi, out=s.interface[t])
            raw += bi
            iface = interface_forward(raw, W, R)
            s.interfaces.append(iface)
            # write addressing: content on the old memory, allocation from the new usage
            content_w, cache = content_forward(
                memory, iface.write_key[:, None, :], iface.write_strength[:, None]
            )
            s.write_content[t] = content_w[:, 0]
            s.write_caches.append(cache)
            psi, s.retention_terms[t] = alloc.retention_forward(iface.free_gates, read_w)
            s.retention[t] = psi
            usage = s.usage[t] = alloc.usage_forward(usage, write_w, psi)
            allocation, acache = alloc.allocation_forward(usage)
            s.allocation[t] = allocation
            s.alloc_caches.append(acache)
            ga = iface.allocation_gate[:, None]
            gw = iface.write_gate[:, None]
            new_write_w = s.write_weighting[t]
            np.multiply(gw, ga * allocation + (1.0 - ga) * s.write_content[t], out=new_write_w)
            memory = write_forward(memory, new_write_w, iface.erase, iface.write_vector, out=s.memory[t])
            # temporal links, then reads
            link = linkage.link_forward(link, new_write_w, precedence, out=s.link[t])
            precedence = s.precedence[t] = linkage.precedence_forward(precedence, new_write_w)
            fwd, bwd = linkage.directional_forward(link, read_w)
            s.forward_weighting[t], s.backward_weighting[t] = fwd, bwd
            content_r, cache = content_forward(memory, iface.read_keys, iface.read_strengths)
            s.read_content[t] = content_r
            s.read_caches.append(cache)
            modes = iface.read_modes
            read_w = s.read_weighting[t]
            np.multiply(modes[:, :, 0:1], bwd, out=read_w)
            read_w += modes[:, :, 1:2] * content_r
            read_w += modes[:, :, 2:3] * fwd
            read_vec = s.read_vectors[t] = read_forward(memory, read_w)
            write_w = new_write_w
        features = np.concatenate([s.hidden, s.read_vectors.reshape(steps, batch, R * W)], axis=2)
        final = {name: s.previous(name, steps).copy() for name in STATE_KEYS}
        if trace is not None:
            self._record(trace, s)
        return CoreOutput(features=features, hidden=s.hidden, final_state=final, cache=s)

    def _record(self, trace: Trace, s: _Steps) -> None:
        steps, batch = s.hidden.shape[:2]
        H = s.hidden.shape[2]
        W = s.memory.shape[3]
        R = s.read_weighting.shape[2]
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

        def series(field: str) -> np.ndarray:
            return np.stack([getattr(i, field) for i in s.interfaces])

        weighting, gate = ProbeKind.WEIGHTING, ProbeKind.GATE
        signed, scalar = ProbeKind.SIGNED, ProbeKind.SCALAR
        slot, head_slot = ("slot",), ("head", "slot")
        rows = [
            ("memory", s.memory, signed, ("slot", "width"), "memory M_t after the write"),
            ("usage", s.usage, weighting, slot, "usage u_t"),
            ("retention", s.retention, weighting, slot, "retention psi_t (1 = kept)"),
            ("allocation", s.allocation, weighting, slot, "allocation weighting a_t"),
            ("write_content_weighting", s.write_content, weighting, slot, "write content weighting"),
            ("write_weighting", s.write_weighting, weighting, slot, "write weighting w_w"),
            ("write_key", series("write_key"), signed, ("width",), "write key k_w"),
            ("erase_vector", series("erase"), gate, ("width",), "erase vector e"),
            ("write_vector", series("write_vector"), signed, ("width",), "write vector v"),
            ("precedence", s.precedence, weighting, slot, "precedence p_t"),
            ("link", s.link, weighting, ("slot", "slot"), "link L[i, j]: slot i written after slot j"),
            ("read_keys", series("read_keys"), signed, ("head", "width"), "read keys"),
            ("read_content_weighting", s.read_content, weighting, head_slot, "read content weighting"),
            ("forward_weighting", s.forward_weighting, weighting, head_slot, "forward weighting L w_r"),
            ("backward_weighting", s.backward_weighting, weighting, head_slot, "backward weighting L^T w_r"),
        ]
        for name, data, kind, axes, text in rows:
            trace.add(f"dnc/{name}", data, kind, axes, description=text)
        trace.add(
            "dnc/read_modes",
            series("read_modes"),
            gate,
            ("head", "mode"),
            description="read modes (backward, content, forward)",
            tick_labels={1: READ_MODES},
        )
        rows = [
            ("read_weighting", s.read_weighting, weighting, head_slot, "read weighting w_r"),
            ("read_vectors", s.read_vectors.reshape(steps, batch, R, W), signed, ("head", "width"), "r_t"),
            ("free_gates", series("free_gates"), gate, ("head",), "free gates f"),
            ("read_strengths", series("read_strengths"), signed, ("head",), "read strengths (>= 1)"),
            ("allocation_gate", series("allocation_gate"), scalar, (), "allocation gate g_a"),
            ("write_gate", series("write_gate"), scalar, (), "write gate g_w"),
            ("write_strength", series("write_strength"), scalar, (), "write strength (>= 1)"),
        ]
        for name, data, kind, axes, text in rows:
            trace.add(f"dnc/{name}", data, kind, axes, description=text)

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
        nxt = {name: np.zeros_like(value) for name, value in s.initial.items()}
        # two (B, N, N) work buffers for the link gradient, rotated with nxt["link"]
        work = (np.empty_like(nxt["link"]), np.empty_like(nxt["link"]))
        for t in range(steps - 1, -1, -1):
            iface = s.interfaces[t]
            prev = {name: s.previous(name, t) for name in STATE_KEYS}
            memory = s.memory[t]
            read_w = s.read_weighting[t]
            write_w = s.write_weighting[t]
            dread_vec = dfeatures[t, :, H:].reshape(batch, R, W) + nxt["read_vectors"]
            dmemory = nxt["memory"].copy()
            dread_w = nxt["read_weightings"].copy()
            dwrite_w = nxt["write_weighting"].copy()
            # r = M^T w_r
            dm, dw = read_backward(dread_vec, memory, read_w)
            dmemory += dm
            dread_w += dw
            # w_r = pi_b bw + pi_c content + pi_f fw
            modes = iface.read_modes
            dmodes = np.stack(
                [
                    (dread_w * s.backward_weighting[t]).sum(axis=2),
                    (dread_w * s.read_content[t]).sum(axis=2),
                    (dread_w * s.forward_weighting[t]).sum(axis=2),
                ],
                axis=2,
            )
            dm, dread_keys, dread_strengths = content_backward(dread_w * modes[:, :, 1:2], s.read_caches[t])
            dmemory += dm
            dlink, dread_prev = linkage.directional_backward(
                dread_w * modes[:, :, 2:3],
                dread_w * modes[:, :, 0:1],
                s.link[t],
                prev["read_weightings"],
                out=work[0],
            )
            dlink += nxt["link"]
            # precedence and link
            dprec_prev, dw = linkage.precedence_backward(nxt["precedence"], prev["precedence"], write_w)
            dwrite_w += dw
            dlink_prev, dw, dp = linkage.link_backward(
                dlink, prev["link"], write_w, prev["precedence"], overwrite=True, out=work[1]
            )
            work = (work[0], nxt["link"])  # free again: dlink_prev becomes the incoming gradient
            dwrite_w += dw
            dprec_prev += dp
            # erase and add
            dmemory_prev, dw, derase, dwrite_vec = write_backward(
                dmemory, prev["memory"], write_w, iface.erase, iface.write_vector
            )
            dwrite_w += dw
            # w_w = g_w (g_a a + (1 - g_a) c_w)
            ga = iface.allocation_gate[:, None]
            gw = iface.write_gate[:, None]
            allocation = s.allocation[t]
            content_w = s.write_content[t]
            dwrite_gate = (dwrite_w * (ga * allocation + (1.0 - ga) * content_w)).sum(axis=1)
            dalloc_gate = (dwrite_w * gw * (allocation - content_w)).sum(axis=1)
            dusage = nxt["usage"] + alloc.allocation_backward(dwrite_w * gw * ga, s.alloc_caches[t])
            dm, dwrite_key, dwrite_strength = content_backward(
                (dwrite_w * gw * (1.0 - ga))[:, None, :], s.write_caches[t]
            )
            dmemory_prev += dm
            # usage and retention
            dusage_prev, dwrite_prev, dpsi = alloc.usage_backward(
                dusage, prev["usage"], prev["write_weighting"], s.retention[t]
            )
            dfree, dr = alloc.retention_backward(
                dpsi, s.retention_terms[t], iface.free_gates, prev["read_weightings"]
            )
            dread_prev += dr
            # interface, then the controller
            grads = {
                "read_keys": dread_keys,
                "read_strengths": dread_strengths,
                "write_key": dwrite_key[:, 0],
                "write_strength": dwrite_strength[:, 0],
                "erase": derase,
                "write_vector": dwrite_vec,
                "free_gates": dfree,
                "allocation_gate": dalloc_gate,
                "write_gate": dwrite_gate,
                "read_modes": dmodes,
            }
            dinterface[t] = interface_backward(grads, iface, W, R)
            dh = np.add(dfeatures[t, :, :H], nxt["h"], out=dhidden[t])
            dh += dinterface[t] @ WiT
            _, dc_prev = lstm_cell_backward(
                dh, nxt["c"], s.gates[t], prev["c"], s.tanh_cell[t], dpreact_out=dpreact[t]
            )
            nxt = {
                "h": dpreact[t] @ WhT,
                "c": dc_prev,
                "memory": dmemory_prev,
                "usage": dusage_prev,
                "link": dlink_prev,
                "precedence": dprec_prev,
                "read_weightings": dread_prev,
                "write_weighting": dwrite_prev,
                "read_vectors": (dpreact[t] @ WxT_read).reshape(batch, R, W),
            }
        # weight gradients in one matmul each, after the loop
        rows = steps * batch
        dpre_2d = dpreact.reshape(rows, 4 * H)
        read_prev = np.concatenate([s.initial["read_vectors"][None], s.read_vectors[:-1]], axis=0)
        controller_in = np.concatenate(
            [inputs.reshape(rows, D), read_prev.reshape(rows, R * W)], axis=1
        )
        hidden_prev = np.concatenate([s.initial["h"][None], s.hidden[:-1]], axis=0).reshape(rows, H)
        dint_2d = dinterface.reshape(rows, -1)
        param_grads = {
            "Wx": controller_in.T @ dpre_2d,
            "Wh": hidden_prev.T @ dpre_2d,
            "b": dpre_2d.sum(axis=0),
            "Wi": s.hidden.reshape(rows, H).T @ dint_2d,
            "bi": dint_2d.sum(axis=0),
        }
        dinputs = (dpre_2d @ Wx[:D].T).reshape(steps, batch, D) if need_inputs else None
        return param_grads, dinputs, nxt, dhidden
