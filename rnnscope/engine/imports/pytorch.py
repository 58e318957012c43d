"""PyTorch ``state_dict``\\ s of ``nn.RNN`` / ``nn.LSTM`` / ``nn.GRU`` (any ``num_layers``), with an
optional ``nn.Embedding`` in front and ``nn.Linear`` read-out, found by parameter name.

The recurrent module is found by its names ``<prefix>weight_ih_l<k>``, ``weight_hh_l<k>``,
``bias_ih_l<k>``, ``bias_hh_l<k>``; the cell by the gate count (``weight_ih`` is ``(G H,
D)``: 4 for an LSTM, 3 a GRU, 1 an RNN, whose ``tanh`` is assumed: a ``relu`` RNN cannot be
told from its weights). The embedding is a ``<name>.weight`` ``(V, D)`` without a bias whose
width is the first layer's input; the read-out a ``<name>.weight`` ``(O, H)`` with its
``<name>.bias``. ``rnn_prefix``, ``embedding_prefix`` and ``readout_prefix`` name them when
the guess is ambiguous. Mapping (PyTorch computes ``x W_ih^T + b_ih + h W_hh^T + b_hh``):

* LSTM: ``Wx = weight_ih^T``, ``Wh = weight_hh^T`` with the gate blocks i f g o -> i f o g,
  ``b = bias_ih + bias_hh``;
* GRU (``reset_after=True``, PyTorch's convention): ``Wx``, ``Wh`` transposed, r z n as is,
  ``b = bias_ih``, ``bh = bias_hh`` (``b_hn`` stays inside ``r * (h W_hn + b_hn)``);
* RNN: ``b = bias_ih + bias_hh``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.imports.gates import GATE_COUNT, KIND_BY_GATES, reorder
from rnnscope.engine.imports.layout import LayerWeights, RecurrentLayout, WeightImportError, dtype_name

_RECURRENT = re.compile(r"^(?P<prefix>.*?)weight_ih_l(?P<layer>\d+)(?P<reverse>_reverse)?$")
EXPECTED = (
    "an nn.RNN / nn.LSTM / nn.GRU state_dict: <prefix>weight_ih_l0, <prefix>weight_hh_l0, "
    "<prefix>bias_ih_l0, <prefix>bias_hh_l0 (and _l1, ... for more layers), optionally "
    "<embedding>.weight (V, D) and <readout>.weight (O, H) with <readout>.bias (O,)"
)


@dataclass(frozen=True)
class Prefixes:
    """Where the modules are, when the names do not say it unambiguously (``"rnn."``, ``"encoder."``)."""

    rnn: str | None = None
    embedding: str | None = None
    readout: str | None = None


def _listing(tensors: Mapping[str, np.ndarray]) -> str:
    return ", ".join(f"{name} {tuple(np.shape(value))}" for name, value in tensors.items()) or "none"


def find_rnn_prefix(tensors: Mapping[str, np.ndarray], given: str | None) -> str:
    """The prefix of the recurrent module's parameters (``given``, or the only one present)."""
    found: dict[str, set[str]] = {}
    for name in tensors:
        match = _RECURRENT.match(name)
        if match:
            found.setdefault(match.group("prefix"), set()).add(name)
            if match.group("reverse"):
                raise WeightImportError(
                    f"{name}: a bidirectional recurrent layer (nn.LSTM/GRU/RNN(bidirectional=True)) "
                    "is not supported yet"
                )
    if given is not None:
        if given not in found:
            raise WeightImportError(
                f"no recurrent parameters under the prefix {given!r} ({given}weight_ih_l0 is missing); "
                f"prefixes found: {sorted(found) or 'none'}; parameters found: {_listing(tensors)}"
            )
        return given
    if not found:
        raise WeightImportError(f"unknown layout: expected {EXPECTED}; parameters found: {_listing(tensors)}")
    if len(found) > 1:
        raise WeightImportError(
            f"several recurrent modules ({', '.join(repr(p) for p in sorted(found))}); "
            "name one with --rnn-prefix"
        )
    return next(iter(found))


def _tensor(tensors: Mapping[str, np.ndarray], name: str, shape: tuple[int, ...]) -> np.ndarray:
    """``tensors[name]`` as float64, or an error naming the tensor and the shape expected."""
    if name not in tensors:
        raise WeightImportError(f"{name} is missing; expected {EXPECTED}")
    array = np.asarray(tensors[name])
    if array.shape != shape:
        raise WeightImportError(f"{name} has shape {array.shape}, but the model needs {shape}")
    return array.astype(np.float64)


def read_layers(tensors: Mapping[str, np.ndarray], prefix: str) -> tuple[str, list[LayerWeights], int]:
    """``(kind, layers, D)`` of the recurrent module under ``prefix``."""
    if f"{prefix}weight_hr_l0" in tensors:
        raise WeightImportError(f"{prefix}weight_hr_l0: an LSTM with proj_size is not supported")
    first = np.asarray(tensors[f"{prefix}weight_ih_l0"])
    recurrent = np.asarray(tensors.get(f"{prefix}weight_hh_l0", np.zeros((0, 0))))
    if first.ndim != 2 or recurrent.ndim != 2 or recurrent.shape[1] == 0:
        raise WeightImportError(
            f"{prefix}weight_ih_l0 {first.shape} and {prefix}weight_hh_l0 {recurrent.shape} must be matrices"
        )
    hidden, width = recurrent.shape[1], first.shape[1]
    gates, rest = divmod(first.shape[0], hidden)
    if rest or gates not in KIND_BY_GATES:
        raise WeightImportError(
            f"{prefix}weight_ih_l0 has {first.shape[0]} rows for hidden size {hidden} (from weight_hh_l0): "
            "expected 4 H (LSTM), 3 H (GRU) or H (RNN)"
        )
    kind = KIND_BY_GATES[gates]
    count = 0
    while f"{prefix}weight_ih_l{count}" in tensors:
        count += 1
    layers = [_layer(tensors, prefix, kind, k, width if k == 0 else hidden, hidden) for k in range(count)]
    return kind, layers, width


def _layer(
    tensors: Mapping[str, np.ndarray], prefix: str, kind: str, k: int, width: int, hidden: int
) -> LayerWeights:
    rows = GATE_COUNT[kind] * hidden
    W_ih = _tensor(tensors, f"{prefix}weight_ih_l{k}", (rows, width))
    W_hh = _tensor(tensors, f"{prefix}weight_hh_l{k}", (rows, hidden))
    biased = f"{prefix}bias_ih_l{k}" in tensors or f"{prefix}bias_hh_l{k}" in tensors
    b_ih = _tensor(tensors, f"{prefix}bias_ih_l{k}", (rows,)) if biased else np.zeros(rows)
    b_hh = _tensor(tensors, f"{prefix}bias_hh_l{k}", (rows,)) if biased else np.zeros(rows)
    Wx = reorder(W_ih.T, "pytorch", kind, axis=1)
    Wh = reorder(W_hh.T, "pytorch", kind, axis=1)
    if kind == "gru":
        return LayerWeights(Wx, Wh, reorder(b_ih, "pytorch", kind, 0), reorder(b_hh, "pytorch", kind, 0))
    return LayerWeights(Wx, Wh, reorder(b_ih + b_hh, "pytorch", kind, 0))


def _modules(
    tensors: Mapping[str, np.ndarray], rnn_prefix: str
) -> dict[str, tuple[np.ndarray, np.ndarray | None]]:
    """Every other ``<name>.weight`` matrix, with its ``<name>.bias`` when there is one, by prefix."""
    modules: dict[str, tuple[np.ndarray, np.ndarray | None]] = {}
    for name, value in tensors.items():
        if name.endswith("weight") and np.ndim(value) == 2 and not name.startswith(rnn_prefix + "weight"):
            module = name[: -len("weight")]
            bias = tensors.get(module + "bias")
            modules[module] = (np.asarray(value), None if bias is None else np.asarray(bias))
    return modules


def _pick(
    modules: dict[str, tuple[np.ndarray, np.ndarray | None]], given: str | None, what: str, fits: str
) -> str | None:
    """The one module named ``given``, or the only candidate left in ``modules``, or None."""
    if given is not None:
        if given not in modules:
            raise WeightImportError(
                f"no {what} {given}weight; modules found: {sorted(modules) or 'none'} ({fits})"
            )
        return given
    if len(modules) > 1:
        names = ", ".join(repr(m) for m in sorted(modules))
        raise WeightImportError(
            f"several possible {what}s ({names}); name one with --{what.split()[0]}-prefix"
        )
    return next(iter(modules), None)


def read_state_dict(tensors: Mapping[str, np.ndarray], prefixes: Prefixes | None = None) -> RecurrentLayout:
    """A PyTorch ``state_dict`` (name -> array) as a :class:`RecurrentLayout`."""
    prefixes = prefixes or Prefixes()
    prefix = find_rnn_prefix(tensors, prefixes.rnn)
    kind, layers, width = read_layers(tensors, prefix)
    hidden = layers[0].Wh.shape[0]
    modules = _modules(tensors, prefix)
    embeddings = {m: wb for m, wb in modules.items() if wb[1] is None and wb[0].shape[1] == width}
    if prefixes.embedding is not None:
        embeddings = {m: wb for m, wb in modules.items() if m == prefixes.embedding}
    embedding_name = _pick(embeddings, prefixes.embedding, "embedding", f"its width must be {width}")
    readouts = {m: wb for m, wb in modules.items() if wb[0].shape[1] == hidden and m != embedding_name}
    if prefixes.readout is not None:
        readouts = {m: wb for m, wb in modules.items() if m == prefixes.readout}
    readout_name = _pick(readouts, prefixes.readout, "readout module", f"its weight must be (O, {hidden})")
    layout = RecurrentLayout("pytorch", kind, layers, reset_after=kind == "gru")
    used = [tensors[n] for n in tensors if n.startswith(prefix)]
    if embedding_name is not None:
        table = modules[embedding_name][0]
        if table.shape[1] != width:
            raise WeightImportError(
                f"{embedding_name}weight has shape {table.shape}; the width must be {width}"
            )
        layout.embedding = table.astype(np.float64)
        used.append(table)
    if readout_name is not None:
        weight, bias = modules[readout_name]
        if weight.shape[1] != hidden:
            raise WeightImportError(
                f"{readout_name}weight has shape {weight.shape}; it must be (O, {hidden})"
            )
        outputs = weight.shape[0]
        if bias is not None and bias.shape != (outputs,):
            raise WeightImportError(f"{readout_name}bias has shape {bias.shape}, expected ({outputs},)")
        by = np.zeros(outputs) if bias is None else bias.astype(np.float64)
        layout.readout = (weight.T.astype(np.float64), by)
        used.append(weight)
    layout.source_dtype = dtype_name(*used)
    return layout
