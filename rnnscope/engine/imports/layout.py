"""What an import reads from a file, in rnnscope's orientation: plain data, framework-free.

Every reader (PyTorch, Keras, ONNX) turns its file into a :class:`RecurrentLayout`: the
cell kind and convention, every layer's ``Wx`` ``(D, G H)``, ``Wh`` ``(H, G H)``, ``b``
(and the GRU's ``bh``) with the gates already in rnnscope's order, the optional
embedding ``E`` ``(V, D)`` and read-out ``Wy`` ``(H, O)``, ``by`` ``(O,)``, and the
reference arrays the file may hold. :mod:`~rnnscope.engine.imports.build` makes the
model from it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


class WeightImportError(ValueError):
    """A file that cannot be imported; the message names the problem (and what was expected)."""


@dataclass
class LayerWeights:
    """One recurrent layer in rnnscope's orientation and gate order."""

    Wx: np.ndarray  # (D, G H)
    Wh: np.ndarray  # (H, G H)
    b: np.ndarray  # (G H,)
    bh: np.ndarray | None = None  # (G H,), the GRU's recurrent bias (reset_after) only


@dataclass
class References:
    """A framework's own results on a probe batch, stored in the source file (time-major).

    ``tokens`` ``(T, B)`` (models with an embedding) or ``inputs`` ``(T, B, D)``;
    ``outputs`` ``(T, B, O)`` the read-out's; ``hidden[k]`` ``(T, B, H)`` layer ``k``'s
    hidden states; ``final_cell[k]`` ``(B, H)`` an LSTM layer's last cell state.
    """

    tokens: np.ndarray | None = None
    inputs: np.ndarray | None = None
    outputs: np.ndarray | None = None
    hidden: dict[int, np.ndarray] = field(default_factory=dict)
    final_cell: dict[int, np.ndarray] = field(default_factory=dict)


@dataclass
class RecurrentLayout:
    """A recurrent model read from a framework's file, ready to become an rnnscope model."""

    framework: str  # "pytorch" | "keras" | "onnx"
    kind: str  # "rnn" | "lstm" | "gru"
    layers: list[LayerWeights]
    reset_after: bool = False  # GRU convention
    embedding: np.ndarray | None = None  # E (V, D)
    readout: tuple[np.ndarray, np.ndarray] | None = None  # Wy (H, O), by (O,)
    source_dtype: str = "float64"  # the precision the file stored the weights in
    notes: list[str] = field(default_factory=list)
    references: References | None = None

    @property
    def hidden_size(self) -> int:
        return int(self.layers[0].Wh.shape[0])

    @property
    def input_size(self) -> int:
        """``V`` with an embedding, otherwise the first layer's ``D``."""
        if self.embedding is not None:
            return int(self.embedding.shape[0])
        return int(self.layers[0].Wx.shape[0])


REFERENCE_PREFIX = "rnnscope.reference."


def read_references(arrays: dict[str, np.ndarray]) -> References | None:
    """The ``rnnscope.reference.*`` entries of ``arrays`` (names without the prefix), or None.

    Names: ``tokens``, ``inputs``, ``outputs``, ``hidden.l<k>``, ``final_cell.l<k>``.
    """
    if not arrays:
        return None
    refs = References()
    for name, value in arrays.items():
        array = np.asarray(value)
        if name in ("tokens", "inputs", "outputs"):
            setattr(refs, name, array)
        elif name.startswith(("hidden.l", "final_cell.l")) and name.rsplit(".l", 1)[1].isdigit():
            what, layer = name.rsplit(".l", 1)
            getattr(refs, what)[int(layer)] = array
        else:
            raise WeightImportError(
                f"unknown reference entry {REFERENCE_PREFIX}{name}; expected tokens, inputs, outputs, "
                "hidden.l<k> or final_cell.l<k>"
            )
    if refs.tokens is None and refs.inputs is None:
        raise WeightImportError(f"the references hold no {REFERENCE_PREFIX}tokens or inputs to run")
    return refs


def dtype_name(*arrays: np.ndarray) -> str:
    """``"float32"`` when any of ``arrays`` is stored in less than double precision, else ``"float64"``."""
    narrow = any(np.asarray(a).dtype.itemsize < 8 for a in arrays if a is not None)
    return "float32" if narrow else "float64"
