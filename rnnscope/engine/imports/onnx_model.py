"""ONNX graphs with ``LSTM`` / ``GRU`` / ``RNN`` nodes (the ``onnx`` package), stacked or not, with an
optional embedding (a ``Gather`` from a weight matrix) and a linear read-out (``MatMul`` + ``Add``
or ``Gemm``), as ``torch.onnx.export`` writes them.

The recurrent nodes are the layers in graph order, each reading ``W`` ``[1, G H, D]``,
``R`` ``[1, G H, H]`` and ``B`` ``[1, 2 G H]`` (``W``'s bias then ``R``'s) from the graph's
initializers or ``Constant`` nodes. Mapping (ONNX's gates: LSTM i o f c, GRU z r h):

* LSTM: ``Wx = W[0]^T``, ``Wh = R[0]^T`` with the blocks i o f c -> i f o g, ``b = Wb + Rb``;
* GRU: z r h -> r z n; ``linear_before_reset=1`` (what PyTorch exports) is rnnscope's
  ``reset_after`` with ``b = Wb``, ``bh = Rb``; ``linear_before_reset=0`` (the ONNX default)
  is Cho et al.'s convention with ``b = Wb + Rb`` (``Rb_h`` is added outside ``r``);
* RNN: ``b = Wb + Rb``.

Refused by name: ``direction`` other than forward, activations other than the defaults,
``clip``, ``input_forget``, peepholes (``P``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from rnnscope.engine.imports.gates import GATE_COUNT, reorder
from rnnscope.engine.imports.layout import (
    REFERENCE_PREFIX,
    LayerWeights,
    RecurrentLayout,
    WeightImportError,
    dtype_name,
    read_references,
)

RECURRENT_OPS = {"LSTM": "lstm", "GRU": "gru", "RNN": "rnn"}
DEFAULT_ACTIVATIONS = {
    "lstm": ["Sigmoid", "Tanh", "Tanh"],
    "gru": ["Sigmoid", "Tanh"],
    "rnn": ["Tanh"],
}


class Graph:
    """An ONNX graph's constant tensors (initializers and ``Constant`` nodes) and nodes."""

    def __init__(self, model: Any) -> None:
        from onnx import numpy_helper

        graph = model.graph
        self.nodes = list(graph.node)
        self.constants: dict[str, np.ndarray] = {
            tensor.name: numpy_helper.to_array(tensor) for tensor in graph.initializer
        }
        for node in self.nodes:
            if node.op_type == "Constant":
                for attribute in node.attribute:
                    if attribute.name == "value":
                        self.constants[node.output[0]] = numpy_helper.to_array(attribute.t)
        self.inputs = {value.name for value in graph.input}

    def constant(self, name: str, what: str) -> np.ndarray:
        if name not in self.constants:
            raise WeightImportError(f"{what} ({name!r}) is not a constant of the graph (an initializer)")
        return self.constants[name]

    def consumers(self, name: str) -> list[Any]:
        return [node for node in self.nodes if name in node.input]


def _attributes(node: Any) -> dict[str, Any]:
    from onnx import helper

    return {attribute.name: helper.get_attribute_value(attribute) for attribute in node.attribute}


def _check_node(node: Any, kind: str, attributes: dict[str, Any]) -> None:
    label = f"{node.op_type} node {node.name or node.output[0]!r}"
    direction = attributes.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else str(direction)
    if direction != "forward":
        raise WeightImportError(f"{label}: a {direction} recurrent layer is not supported yet (only forward)")
    activations = [a.decode() if isinstance(a, bytes) else str(a) for a in attributes.get("activations", [])]
    if activations and activations != DEFAULT_ACTIVATIONS[kind]:
        raise WeightImportError(f"{label}: activations {activations} are not supported (only the defaults)")
    for name in ("clip", "input_forget"):
        if attributes.get(name):
            raise WeightImportError(f"{label}: the {name} attribute is not supported")
    if kind == "lstm" and len(node.input) > 7 and node.input[7]:
        raise WeightImportError(f"{label}: peephole weights (P) are not supported")


def _layer(graph: Graph, node: Any, kind: str) -> tuple[LayerWeights, bool, list[np.ndarray]]:
    attributes = _attributes(node)
    _check_node(node, kind, attributes)
    W = graph.constant(node.input[1], f"{node.op_type} weight W")
    R = graph.constant(node.input[2], f"{node.op_type} recurrence weight R")
    if W.ndim != 3 or R.ndim != 3 or W.shape[0] != 1 or R.shape[0] != 1:
        raise WeightImportError(f"{node.op_type} weights W {W.shape} and R {R.shape} must be [1, G H, ...]")
    hidden = R.shape[2]
    rows = GATE_COUNT[kind] * hidden
    if W.shape[1] != rows or R.shape[1] != rows:
        raise WeightImportError(f"{node.op_type} W {W.shape} / R {R.shape} do not fit hidden_size {hidden}")
    has_bias = len(node.input) > 3 and node.input[3]
    B = graph.constant(node.input[3], f"{node.op_type} bias B") if has_bias else np.zeros((1, 2 * rows))
    if B.shape != (1, 2 * rows):
        raise WeightImportError(f"{node.op_type} bias B has shape {B.shape}, expected (1, {2 * rows})")
    Wx = reorder(W[0].T.astype(np.float64), "onnx", kind, axis=1)
    Wh = reorder(R[0].T.astype(np.float64), "onnx", kind, axis=1)
    Wb, Rb = B[0, :rows].astype(np.float64), B[0, rows:].astype(np.float64)
    reset_after = kind == "gru" and bool(attributes.get("linear_before_reset", 0))
    if reset_after:
        layer = LayerWeights(Wx, Wh, reorder(Wb, "onnx", kind, 0), reorder(Rb, "onnx", kind, 0))
    else:
        layer = LayerWeights(Wx, Wh, reorder(Wb + Rb, "onnx", kind, 0))
    return layer, reset_after, [W, R]


def _embedding(graph: Graph, width: int) -> np.ndarray | None:
    """The weight matrix of a ``Gather`` that looks up a graph input in a ``(V, width)`` constant."""
    for node in graph.nodes:
        if node.op_type == "Gather" and node.input[0] in graph.constants and node.input[1] in graph.inputs:
            table = graph.constants[node.input[0]]
            if table.ndim == 2 and table.shape[1] == width and not _attributes(node).get("axis", 0):
                return table.astype(np.float64)
    return None


def _readout(graph: Graph, after: int, hidden: int) -> tuple[np.ndarray, np.ndarray] | None:
    """``(Wy (H, O), by (O,))`` of the first ``Gemm`` or ``MatMul`` (+ ``Add``) after node ``after``."""
    for node in graph.nodes[after + 1 :]:
        if node.op_type == "Gemm" and node.input[1] in graph.constants:
            attributes = _attributes(node)
            weight = graph.constants[node.input[1]]
            weight = weight.T if attributes.get("transB", 0) else weight
            if (
                weight.shape[0] != hidden
                or attributes.get("alpha", 1.0) != 1.0
                or attributes.get("beta", 1.0) != 1.0
            ):
                continue
            bias = graph.constants.get(node.input[2]) if len(node.input) > 2 else None
            return weight.astype(np.float64), _bias(bias, weight.shape[1])
        if node.op_type == "MatMul" and node.input[1] in graph.constants:
            weight = graph.constants[node.input[1]]
            if weight.ndim != 2 or weight.shape[0] != hidden:
                continue
            adds = [n for n in graph.consumers(node.output[0]) if n.op_type == "Add"]
            other = [i for n in adds for i in n.input if i != node.output[0] and i in graph.constants]
            return weight.astype(np.float64), _bias(
                graph.constants[other[0]] if other else None, weight.shape[1]
            )
    return None


def _bias(bias: np.ndarray | None, outputs: int) -> np.ndarray:
    if bias is None:
        return np.zeros(outputs)
    if bias.reshape(-1).shape != (outputs,):
        raise WeightImportError(f"the read-out bias has shape {bias.shape}, expected ({outputs},)")
    return bias.reshape(-1).astype(np.float64)


def read_onnx_model(model: Any) -> RecurrentLayout:
    """A loaded ONNX ``ModelProto`` as a :class:`RecurrentLayout`."""
    graph = Graph(model)
    recurrent = [(k, node) for k, node in enumerate(graph.nodes) if node.op_type in RECURRENT_OPS]
    if not recurrent:
        ops = sorted({node.op_type for node in graph.nodes})
        raise WeightImportError(
            f"unknown layout: no LSTM, GRU or RNN node; expected an ONNX graph of LSTM/GRU/RNN nodes "
            f"(with W, R, B initializers); the graph has {ops}"
        )
    kinds = {RECURRENT_OPS[node.op_type] for _, node in recurrent}
    if len(kinds) > 1:
        raise WeightImportError(f"the graph mixes {sorted(kinds)} nodes; a stack needs one kind")
    kind = kinds.pop()
    layers, conventions, stored = [], set(), []
    for _, node in recurrent:
        layer, reset_after, arrays = _layer(graph, node, kind)
        layers.append(layer)
        conventions.add(reset_after)
        stored.extend(arrays)
    if len(conventions) > 1 or len({layer.Wh.shape[0] for layer in layers}) > 1:
        raise WeightImportError("the recurrent nodes differ in linear_before_reset or hidden_size")
    hidden = layers[0].Wh.shape[0]
    for k, layer in enumerate(layers[1:], start=1):
        if layer.Wx.shape[0] != hidden:
            raise WeightImportError(
                f"recurrent node {k} reads {layer.Wx.shape[0]} inputs, expected H={hidden}"
            )
    layout = RecurrentLayout("onnx", kind, layers, reset_after=conventions.pop())
    layout.embedding = _embedding(graph, layers[0].Wx.shape[0])
    layout.readout = _readout(graph, recurrent[-1][0], hidden)
    layout.source_dtype = dtype_name(*stored)
    references = {
        name[len(REFERENCE_PREFIX) :]: value
        for name, value in graph.constants.items()
        if name.startswith(REFERENCE_PREFIX)
    }
    layout.references = read_references(references)
    return layout
