"""The gradient-flow probes: ``dLoss/dh_t`` and, for LSTM cells, ``dLoss/dc_t`` at every step.

Both come from the model's own backward pass, never from a second implementation of its
numerics: ``grad/hidden`` is the ``dhidden`` that ``backward_core`` returns (the total
gradient reaching ``h_t``: from the read-out at ``t`` and from every later step), split
per layer in a stack; ``grad/cell`` runs the LSTM's own backward kernel
(:func:`~rnnscope.engine.models.lstm_kernels.lstm_cell_backward_factored`) over that
``dhidden``, which is exactly the cell-gradient recursion of the model's backward loop::

    dc_t = dh_t * o_t * (1 - tanh(c_t)^2) + f_{t+1} * dc_{t+1}

==========================  ==============  ==============================================
name                        shape           meaning
==========================  ==============  ==============================================
``grad/hidden``             ``(T, B, H)``   ``dLoss/dh_t`` per unit (signed); the DNC's is
                                            its controller's ``h_t``
``grad/cell``               ``(T, B, H)``   ``dLoss/dc_t`` per unit (LSTM and the DNC's
                                            controller)
==========================  ==============  ==============================================

A model of several layers names them per layer as its other probes are named
(``grad/l1/hidden``, ``grad/l1/cell``, ``Probe.layer`` = 1).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.models.base import ForwardResult, Gradients, RecurrentModel, State, trace_with_gradients
from rnnscope.engine.models.dnc import DNC
from rnnscope.engine.models.layers import LayerNames, stack_names
from rnnscope.engine.models.lstm import LSTM
from rnnscope.engine.models.lstm_cell import GATES
from rnnscope.engine.models.lstm_kernels import lstm_backward_factors, lstm_cell_backward_factored
from rnnscope.engine.trace import ProbeKind, Trace


def trace_with_gradient_flow(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
) -> tuple[Trace, ForwardResult, Gradients]:
    """:func:`~rnnscope.engine.models.base.trace_with_gradients` plus ``grad/hidden`` and ``grad/cell``."""
    trace, result, grads = trace_with_gradients(model, inputs, targets, mask, state)
    batch = result.inputs.shape[1]
    start = model.initial_state(batch) if state is None else model.check_state(state, batch)
    add_gradient_probes(trace, model, grads, start)
    return trace, result, grads


def add_gradient_probes(trace: Trace, model: RecurrentModel, grads: Gradients, initial_state: State) -> None:
    """Add ``grad/hidden`` (per layer) and, for LSTM cells, ``grad/cell`` to ``trace``.

    ``grads`` is the model's backward of the forward that recorded ``trace``;
    ``initial_state`` the state that forward started from (the LSTM's ``c_{-1}``).
    """
    layers = model.config.num_layers if model.stacked else 1
    per_layer = np.split(grads.hidden, layers, axis=-1)  # (T, B, H) each
    for layer, dhidden in enumerate(per_layer):
        names = LayerNames("grad", layers, layer)
        which = "" if layers == 1 else f" of layer {layer}"
        subject = "the controller's h_t" if isinstance(model, DNC) else "h_t"
        trace.add(
            names.probe("hidden"),
            np.ascontiguousarray(dhidden),
            ProbeKind.SIGNED,
            ("unit",),
            description=f"dLoss/dh_t{which}: the gradient reaching {subject}",
            layer=layer if model.stacked else None,
        )
    for layer, cell in enumerate(lstm_cells(model)):
        dcell = cell_gradients(trace, cell, per_layer[layer], initial_state[cell.initial_cell])
        which = "" if layers == 1 else f" of layer {layer}"
        trace.add(
            LayerNames("grad", layers, layer).probe("cell"),
            dcell,
            ProbeKind.SIGNED,
            ("unit",),
            description=f"dLoss/dc_t{which}: the gradient reaching the cell state",
            layer=layer if model.stacked else None,
        )


@dataclass(frozen=True)
class CellProbes:
    """Where one LSTM cell's forward is in a trace: the probes of its gates (in the fused order
    ``[input, forget, output, candidate]``) and of ``c_t``, and the state entry of ``c_{-1}``."""

    gates: tuple[str, ...]
    cell: str
    initial_cell: str


def lstm_cells(model: RecurrentModel) -> list[CellProbes]:
    """Every LSTM cell of ``model``, bottom layer first (the DNC's controller; none for RNN / GRU)."""
    if isinstance(model, DNC):
        gates = tuple("controller/candidate" if g == "candidate" else f"controller/{g}_gate" for g in GATES)
        return [CellProbes(gates, "controller/cell", "c")]
    if not isinstance(model, LSTM):
        return []
    return [
        CellProbes(
            tuple(names.probe("candidate" if g == "candidate" else f"{g}_gate") for g in GATES),
            names.probe("cell"),
            names.state("c"),
        )
        for names in stack_names("lstm", model.config.num_layers)
    ]


def cell_gradients(
    trace: Trace, cell: CellProbes, dhidden: np.ndarray, initial_cell: np.ndarray
) -> np.ndarray:
    """``dLoss/dc_t`` ``(T, B, H)`` of ``cell`` from the model's ``dhidden`` ``(T, B, H)`` (the total
    gradient reaching ``h_t``), run through the LSTM's own backward kernels step by step.

    ``initial_cell`` ``(B, H)`` is ``c_{-1}``, the cell the forward started from.
    """
    gates = np.concatenate([trace[name].data for name in cell.gates], axis=-1)  # (T, B, 4H)
    cells = trace[cell.cell].data
    steps, batch, hidden = cells.shape
    c_prev = np.concatenate([initial_cell[None].astype(cells.dtype), cells[:-1]], axis=0)
    factors, dcell_factor = lstm_backward_factors(gates, c_prev, np.tanh(cells))
    forget = gates[..., hidden : 2 * hidden]
    out = np.empty_like(cells)
    dc = np.zeros((batch, hidden), dtype=cells.dtype)  # reaching c_t from c_{t+1}: none after the last step
    dpreact = np.empty((batch, 4 * hidden), dtype=cells.dtype)  # the kernel's other output, unused here
    for t in range(steps - 1, -1, -1):
        lstm_cell_backward_factored(dhidden[t], dc, factors[t], dcell_factor[t], forget[t], dpreact, out[t])
    return out
