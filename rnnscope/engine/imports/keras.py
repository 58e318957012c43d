"""Keras 3 ``.weights.h5`` files of LSTM / GRU / SimpleRNN models (h5py), stacked or not, with an
optional ``Embedding`` in front and one ``Dense`` read-out.

Keras 3 stores each layer's variables as ``layers/<name>/vars/<i>`` (a recurrent layer's
under ``layers/<name>/cell/vars``): ``kernel`` ``(D, G H)``, ``recurrent_kernel`` ``(H, G
H)``, ``bias``. The file does not record the order of the layers, so stacked recurrent
layers are taken in the order of their names as Keras numbers them (``lstm``, ``lstm_1``,
``lstm_2``, ...) unless ``layer_order`` names them. Keras 3's defaults are assumed
(``activation="tanh"``, ``recurrent_activation="sigmoid"``). Mapping:

* LSTM: gate blocks i f c o -> i f o g in ``kernel``, ``recurrent_kernel`` and ``bias``;
* GRU: z r h -> r z n; ``reset_after=True`` (Keras 3's default) has a ``(2, 3H)`` bias,
  row 0 the input side (``b``), row 1 the recurrent side (``bh``); ``reset_after=False``
  has one ``(3H,)`` bias and is Cho et al.'s convention (rnnscope's default GRU);
* SimpleRNN: as is.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import numpy as np

from rnnscope.engine.imports.gates import GATE_COUNT, KIND_BY_GATES, reorder
from rnnscope.engine.imports.layout import (
    REFERENCE_PREFIX,
    LayerWeights,
    RecurrentLayout,
    References,
    WeightImportError,
    dtype_name,
    read_references,
)

CELL_KINDS = {"lstm_cell": "lstm", "gru_cell": "gru", "simple_rnn_cell": "rnn"}
EXPECTED = (
    "a Keras 3 .weights.h5 of LSTM / GRU / SimpleRNN layers: layers/<name>/cell/vars/0 (kernel), "
    "1 (recurrent_kernel), 2 (bias); optionally layers/<embedding>/vars/0 (V, D) and one "
    "layers/<dense>/vars/0 (H, O), 1 (O,)"
)


def _natural(name: str) -> tuple[str, int]:
    """``"lstm_2"`` -> ``("lstm", 2)``, ``"lstm"`` -> ``("lstm", 0)``: Keras's numbering, in order."""
    match = re.fullmatch(r"(.*?)_(\d+)", name)
    return (match.group(1), int(match.group(2))) if match else (name, 0)


def _variables(group: Any) -> list[np.ndarray]:
    """The arrays under ``group/vars`` in index order."""
    variables = group["vars"]
    return [np.asarray(variables[key]) for key in sorted(variables, key=int)]


def _layer_groups(h5: Any) -> dict[str, Any]:
    if "layers" not in h5:
        raise WeightImportError(f"unknown layout: no 'layers' group; expected {EXPECTED}")
    layers = h5["layers"]
    return {name: layers[name] for name in layers}


def _describe(groups: dict[str, Any]) -> str:
    parts = []
    for name, group in groups.items():
        where = group["cell"] if "cell" in group else group
        shapes = [tuple(v.shape) for v in _variables(where)] if "vars" in where else []
        parts.append(f"{name} {shapes}")
    return ", ".join(parts) or "none"


def _kind_of(name: str, group: Any, variables: list[np.ndarray]) -> str:
    cell_name = str(group["cell"]["vars"].attrs.get("name", ""))
    for prefix, kind in CELL_KINDS.items():
        if cell_name.startswith(prefix):
            return kind
    if len(variables) >= 2 and variables[1].ndim == 2 and variables[1].shape[0]:
        gates, rest = divmod(variables[1].shape[1], variables[1].shape[0])
        if not rest and gates in KIND_BY_GATES:
            return KIND_BY_GATES[gates]
    raise WeightImportError(f"layer {name}: cannot tell an LSTM, GRU or SimpleRNN cell from {cell_name!r}")


def _recurrent_layer(
    name: str, kind: str, variables: list[np.ndarray], width: int
) -> tuple[LayerWeights, bool]:
    """One Keras layer in rnnscope's order, and whether it is a ``reset_after`` GRU."""
    if len(variables) not in (2, 3):
        raise WeightImportError(
            f"layer {name}: expected kernel, recurrent_kernel and bias, got {len(variables)} arrays"
        )
    kernel, recurrent = variables[0], variables[1]
    hidden = recurrent.shape[0]
    columns = GATE_COUNT[kind] * hidden
    for label, array, shape in (
        ("kernel", kernel, (width, columns)),
        ("recurrent_kernel", recurrent, (hidden, columns)),
    ):
        if array.shape != shape:
            raise WeightImportError(
                f"layer {name}: {label} has shape {array.shape}, but the model needs {shape}"
            )
    bias = variables[2].astype(np.float64) if len(variables) == 3 else np.zeros(columns)
    reset_after = kind == "gru" and bias.shape == (2, columns)
    if bias.shape != (columns,) and not reset_after:
        raise WeightImportError(
            f"layer {name}: bias has shape {bias.shape}, expected ({columns},) or (2, {columns})"
        )
    Wx = reorder(kernel.astype(np.float64), "keras", kind, axis=1)
    Wh = reorder(recurrent.astype(np.float64), "keras", kind, axis=1)
    if reset_after:
        return LayerWeights(
            Wx, Wh, reorder(bias[0], "keras", kind, 0), reorder(bias[1], "keras", kind, 0)
        ), True
    return LayerWeights(Wx, Wh, reorder(bias, "keras", kind, 0)), False


def _ordered(recurrent: dict[str, Any], layer_order: Sequence[str] | None) -> list[str]:
    if layer_order is None:
        return sorted(recurrent, key=_natural)
    unknown = [name for name in layer_order if name not in recurrent]
    if unknown or sorted(layer_order) != sorted(recurrent):
        raise WeightImportError(
            f"--layer-order {','.join(layer_order)} must name each recurrent layer once; "
            f"the file has {sorted(recurrent, key=_natural)}"
        )
    return list(layer_order)


def read_keras_h5(h5: Any, layer_order: Sequence[str] | None = None) -> RecurrentLayout:
    """An open ``h5py.File`` of a Keras 3 ``.weights.h5`` as a :class:`RecurrentLayout`."""
    groups = _layer_groups(h5)
    recurrent: dict[str, Any] = {}
    others: dict[str, list[np.ndarray]] = {}
    for name, group in groups.items():
        if "forward_layer" in group or "backward_layer" in group:
            raise WeightImportError(f"layer {name}: a Bidirectional recurrent layer is not supported yet")
        if "cell" in group:
            recurrent[name] = group
        elif "vars" in group and len(group["vars"]):
            others[name] = _variables(group)
    if not recurrent:
        raise WeightImportError(
            f"unknown layout: no recurrent layer; expected {EXPECTED}; layers found: {_describe(groups)}"
        )
    names = _ordered(recurrent, layer_order)
    embedding = _embedding(others)
    width = embedding.shape[1] if embedding is not None else None
    layers: list[LayerWeights] = []
    conventions: set[bool] = set()
    kinds: set[str] = set()
    for name in names:
        variables = _variables(recurrent[name]["cell"])
        kind = _kind_of(name, recurrent[name], variables)
        if width is None:
            width = variables[0].shape[0]
        weights, reset_after = _recurrent_layer(name, kind, variables, width)
        layers.append(weights)
        kinds.add(kind)
        conventions.add(reset_after)
        width = weights.Wh.shape[0]
    if len(kinds) > 1 or len(conventions) > 1 or len({w.Wh.shape[0] for w in layers}) > 1:
        raise WeightImportError(
            f"the recurrent layers {names} differ in kind, GRU convention or units; a stack needs one of each"
        )
    layout = RecurrentLayout("keras", kinds.pop(), layers, reset_after=conventions.pop(), embedding=embedding)
    layout.readout = _readout(others, layers[0].Wh.shape[0])
    layout.source_dtype = dtype_name(*(np.asarray(v) for v in _variables(recurrent[names[0]]["cell"])))
    layout.notes.append(f"recurrent layers in this order: {', '.join(names)}")
    return layout


def _embedding(others: dict[str, list[np.ndarray]]) -> np.ndarray | None:
    tables = {name: v for name, v in others.items() if len(v) == 1 and v[0].ndim == 2}
    if len(tables) > 1:
        raise WeightImportError(f"several embedding-like layers {sorted(tables)}; rnnscope takes one")
    for name, variables in tables.items():
        others.pop(name)
        return variables[0].astype(np.float64)
    return None


def _readout(others: dict[str, list[np.ndarray]], hidden: int) -> tuple[np.ndarray, np.ndarray] | None:
    if len(others) > 1:
        raise WeightImportError(
            f"layers {sorted(others)} after the recurrent ones: rnnscope reads one Dense read-out"
        )
    for name, variables in others.items():
        if (
            len(variables) != 2
            or variables[0].shape[:1] != (hidden,)
            or variables[1].shape != variables[0].shape[1:]
        ):
            shapes = [v.shape for v in variables]
            raise WeightImportError(
                f"layer {name} {shapes} is not a Dense read-out of (H={hidden}, O) and (O,)"
            )
        return variables[0].astype(np.float64), variables[1].astype(np.float64)
    return None


def keras_references(h5: Any) -> References | None:
    """The reference arrays of the group ``rnnscope.reference`` (written by the fixture script), if any."""
    group_name = REFERENCE_PREFIX.rstrip(".")
    if group_name not in h5:
        return None
    group = h5[group_name]
    return read_references({name: np.asarray(group[name]) for name in group})
