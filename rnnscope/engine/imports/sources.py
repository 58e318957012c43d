"""Opening a source file: by its kind (safetensors, ``.npz``, Keras ``.h5``, ONNX), pickles refused.

:func:`read_source` returns the file's :class:`~rnnscope.engine.imports.layout.RecurrentLayout`
with the reference arrays it holds (``rnnscope.reference.*``, see
:mod:`~rnnscope.engine.imports.layout`). Nothing is ever unpickled: a ``torch.save``
file (``.pt``, ``.pth``, ``.bin``, ``.pkl``, or any file that starts like a pickle or a
zipped pickle) is refused with the two lines that convert it to safetensors.
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence

import numpy as np

from rnnscope.engine.imports.keras import keras_references, read_keras_h5
from rnnscope.engine.imports.layout import (
    REFERENCE_PREFIX,
    RecurrentLayout,
    WeightImportError,
    read_references,
)
from rnnscope.engine.imports.onnx_model import read_onnx_model
from rnnscope.engine.imports.pytorch import Prefixes, read_state_dict

PICKLE_SUFFIXES = (".pt", ".pth", ".bin", ".pkl", ".pickle", ".ckpt")
CONVERSION = (
    "convert it to safetensors once, in Python with torch:\n"
    "    import torch, safetensors.torch\n"
    "    safetensors.torch.save_file(torch.load('{name}', map_location='cpu'), '{stem}.safetensors')\n"
    "(for a whole saved module, save model.state_dict() instead), then import the .safetensors file"
)
FORMATS = "PyTorch .safetensors or .npz state_dicts, Keras 3 .weights.h5, ONNX .onnx"


def source_format(path: str) -> str:
    """``"safetensors"``, ``"npz"``, ``"keras"`` or ``"onnx"`` from the name (and first bytes) of ``path``."""
    name = os.path.basename(path).lower()
    if name.endswith(PICKLE_SUFFIXES) or _looks_pickled(path):
        stem = os.path.splitext(os.path.basename(path))[0]
        raise WeightImportError(
            f"{path} is a pickle (torch.save); rnnscope never unpickles files.\n"
            + CONVERSION.format(name=os.path.basename(path), stem=stem)
        )
    for suffix, kind in (
        (".safetensors", "safetensors"),
        (".npz", "npz"),
        (".h5", "keras"),
        (".onnx", "onnx"),
    ):
        if name.endswith(suffix):
            return kind
    raise WeightImportError(f"{path}: unknown file kind; rnnscope imports {FORMATS}")


def _looks_pickled(path: str) -> bool:
    """A pickle (protocol 2+ starts with 0x80) or a zip holding one (torch.save's default format)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(2)
    except OSError:
        return False
    if head[:1] == b"\x80":
        return True
    if head == b"PK" and not path.lower().endswith((".npz", ".keras")) and zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            return any(item.endswith(".pkl") for item in archive.namelist())
    return False


def split_references(arrays: dict[str, np.ndarray]) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """``(weights, references)``: the ``rnnscope.reference.*`` entries apart, without their prefix."""
    references = {k[len(REFERENCE_PREFIX) :]: v for k, v in arrays.items() if k.startswith(REFERENCE_PREFIX)}
    weights = {k: v for k, v in arrays.items() if not k.startswith(REFERENCE_PREFIX)}
    return weights, references


def read_tensors(path: str, kind: str) -> dict[str, np.ndarray]:
    """Every array of a safetensors or ``.npz`` file (``allow_pickle=False``)."""
    try:
        if kind == "safetensors":
            from safetensors.numpy import load_file

            return dict(load_file(path))
        if not zipfile.is_zipfile(path):  # np.load would take it for a pickle and say so
            raise WeightImportError(f"{path}: not an .npz archive (a zip of .npy arrays)")
        with np.load(path, allow_pickle=False) as archive:
            return {name: archive[name] for name in archive.files}
    except WeightImportError:
        raise
    except Exception as error:  # OSError, a damaged zip, safetensors' own SafetensorError ...
        raise WeightImportError(f"{path}: cannot read it as {kind}: {error}") from None


def read_source(
    path: str, prefixes: Prefixes | None = None, layer_order: Sequence[str] | None = None
) -> RecurrentLayout:
    """The recurrent model in the file at ``path`` (see :func:`source_format` for the kinds)."""
    if not os.path.isfile(path):
        raise WeightImportError(f"{path}: no such file")
    kind = source_format(path)
    if kind in ("safetensors", "npz"):
        weights, references = split_references(read_tensors(path, kind))
        layout = read_state_dict(weights, prefixes or Prefixes())
        layout.references = read_references(references)
        return layout
    if kind == "keras":
        return _read_keras(path, layer_order)
    return _read_onnx(path)


def _read_keras(path: str, layer_order: Sequence[str] | None) -> RecurrentLayout:
    import h5py  # type: ignore[import-untyped]  # h5py ships no type information

    try:
        h5 = h5py.File(path, "r")
    except OSError as error:
        raise WeightImportError(f"{path}: cannot read it as HDF5: {error}") from None
    with h5:
        layout = read_keras_h5(h5, layer_order)
        layout.references = keras_references(h5)
    return layout


def _read_onnx(path: str) -> RecurrentLayout:
    import onnx

    try:
        model = onnx.load(path)
    except Exception as error:  # protobuf's DecodeError and friends
        raise WeightImportError(f"{path}: cannot read it as ONNX: {error}") from None
    return read_onnx_model(model)
