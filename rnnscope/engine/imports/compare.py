"""The proof of an import: the rnnscope model's outputs and every layer's hidden states against the
framework's own, on the probe batch stored in the source file.

Each row compares one array: ``rel = max |rnnscope - framework| / max |framework|``. The
tolerance follows the precision the framework computed in: ``1e-10`` for float64 weights,
``1e-5`` for float32 (the framework's own rounding, about ``1e-7`` per operation, compounds
over the steps; rnnscope recomputes in float64).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.imports.layout import References, WeightImportError
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.layers import LayerNames

TOLERANCE = {"float64": 1e-10, "float32": 1e-5}


@dataclass(frozen=True)
class ComparisonRow:
    """One array compared: what, its shape, the largest difference and the relative error."""

    what: str
    shape: tuple[int, ...]
    max_difference: float
    relative: float
    tolerance: float

    @property
    def ok(self) -> bool:
        return bool(self.relative <= self.tolerance)


def probe_inputs(model: RecurrentModel, references: References) -> np.ndarray:
    """The probe batch as the model's ``(T, B, V)`` inputs (token ids become one-hot vectors)."""
    size = model.config.input_size
    if references.tokens is not None:
        tokens = np.asarray(references.tokens)
        if tokens.ndim != 2 or not np.issubdtype(tokens.dtype, np.integer):
            raise WeightImportError(
                f"reference tokens must be (T, B) integers, got {tokens.shape} {tokens.dtype}"
            )
        if tokens.size and (tokens.min() < 0 or tokens.max() >= size):
            raise WeightImportError(f"reference tokens must lie in 0..{size - 1}")
        one_hot: np.ndarray = np.eye(size)[tokens]
        return one_hot
    assert references.inputs is not None
    inputs = np.asarray(references.inputs, dtype=np.float64)
    if inputs.ndim != 3 or inputs.shape[2] != size:
        raise WeightImportError(f"reference inputs have shape {inputs.shape}; the model reads (T, B, {size})")
    return inputs


def _row(what: str, ours: np.ndarray, theirs: np.ndarray, tolerance: float) -> ComparisonRow:
    theirs = np.asarray(theirs, dtype=np.float64)
    if ours.shape != theirs.shape:
        raise WeightImportError(
            f"reference {what} has shape {theirs.shape}, but the model gives {ours.shape}"
        )
    difference = float(np.abs(ours - theirs).max(initial=0.0))
    scale = max(float(np.abs(theirs).max(initial=0.0)), np.finfo(np.float64).tiny)
    return ComparisonRow(what, tuple(theirs.shape), difference, difference / scale, tolerance)


def compare(model: RecurrentModel, references: References, source_dtype: str) -> list[ComparisonRow]:
    """Run ``model`` on the references' probe batch; one row per output and per layer's states."""
    tolerance = TOLERANCE[source_dtype]
    inputs = probe_inputs(model, references)
    steps, batch, _ = inputs.shape
    config = model.config
    shape = (steps, batch) if config.loss == "softmax_ce" else (steps, batch, config.output_size)
    targets = np.zeros(shape, dtype=np.int64 if config.loss == "softmax_ce" else np.float64)
    result = model.forward(inputs, targets, record=True)
    assert result.trace is not None
    rows = []
    if references.outputs is not None:
        rows.append(
            _row("outputs (logits)", result.trace["output/logits"].data, references.outputs, tolerance)
        )
    layers = config.num_layers
    for layer, hidden in sorted(references.hidden.items()):
        if layer >= layers:
            raise WeightImportError(
                f"the references hold hidden states of layer {layer}; the model has {layers}"
            )
        names = LayerNames(config.kind, layers, layer)
        rows.append(
            _row(f"layer {layer} hidden states", result.trace[names.probe("hidden")].data, hidden, tolerance)
        )
    for layer, cell in sorted(references.final_cell.items()):
        names = LayerNames(config.kind, layers, layer)
        if names.state("c") not in result.final_state:
            raise WeightImportError(
                f"the references hold a final cell state of layer {layer}; the model has none"
            )
        rows.append(_row(f"layer {layer} final cell", result.final_state[names.state("c")], cell, tolerance))
    return rows
