"""Trained weights from other frameworks, mapped onto rnnscope's models exactly.

``import_weights(path, ...)`` reads a PyTorch ``state_dict`` (``.safetensors`` or ``.npz``),
a Keras 3 ``.weights.h5`` or an ONNX graph of LSTM/GRU/RNN nodes, maps every framework's
gate order and bias convention onto rnnscope's (:mod:`~rnnscope.engine.imports.gates`)
and gives an :class:`Imported` model (with its ``chars`` task when there is a vocabulary),
ready for :func:`~rnnscope.engine.checkpoint.save_checkpoint`. :func:`compare` proves it:
the outputs and every layer's hidden states against the framework's own, when the file
holds them. One module per framework (``pytorch``, ``keras``, ``onnx_model``), the shared
plain data in ``layout``; NumPy only (h5py and onnx are read, never Qt or torch).
"""

from __future__ import annotations

from collections.abc import Sequence

from rnnscope.engine.imports.build import Imported, ImportOptions, build_imported
from rnnscope.engine.imports.compare import TOLERANCE, ComparisonRow, compare
from rnnscope.engine.imports.layout import RecurrentLayout, References, WeightImportError
from rnnscope.engine.imports.pytorch import Prefixes
from rnnscope.engine.imports.sources import read_source


def import_weights(
    path: str,
    options: ImportOptions | None = None,
    prefixes: Prefixes | None = None,
    layer_order: Sequence[str] | None = None,
) -> Imported:
    """The model in the file at ``path``; :class:`WeightImportError` names what does not fit."""
    layout = read_source(path, prefixes, layer_order)
    return build_imported(layout, options or ImportOptions())


__all__ = [
    "TOLERANCE",
    "ComparisonRow",
    "ImportOptions",
    "Imported",
    "Prefixes",
    "RecurrentLayout",
    "References",
    "WeightImportError",
    "compare",
    "import_weights",
]
