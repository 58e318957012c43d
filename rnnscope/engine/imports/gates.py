"""Every framework's order of the fused gates, and the permutation onto rnnscope's.

A fused weight holds one block of ``H`` rows (PyTorch, ONNX: ``(G H, D)``) or columns
(Keras: ``(D, G H)``) per gate. The frameworks disagree on the order of the blocks:

============  ==========================  ==========================  =======================
cell          rnnscope                    PyTorch                     Keras 3 / ONNX
============  ==========================  ==========================  =======================
LSTM          input, forget, output,      input, forget, candidate    Keras: input, forget,
              candidate (i f o g)         (g), output (i f g o)       candidate, output (i f c o);
                                                                      ONNX: input, output,
                                                                      forget, candidate (i o f c)
GRU           reset, update, candidate    reset, update, candidate    update, reset, candidate
              (r z n)                     (r z n)                     (z r h)
RNN           one block                   one block                   one block
============  ==========================  ==========================  =======================

:func:`reorder` moves the blocks of a fused array from a framework's order into rnnscope's
(:data:`rnnscope.engine.models.lstm_cell.GATES`, :data:`rnnscope.engine.models.gru_cell.GATES`).
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.models.gru_cell import GATES as GRU_GATES
from rnnscope.engine.models.lstm_cell import GATES as LSTM_GATES

RNNSCOPE_ORDER: dict[str, tuple[str, ...]] = {"lstm": LSTM_GATES, "gru": GRU_GATES, "rnn": ("hidden",)}

# each framework's gate order, in rnnscope's gate names
FRAMEWORK_ORDER: dict[str, dict[str, tuple[str, ...]]] = {
    "pytorch": {
        "lstm": ("input", "forget", "candidate", "output"),
        "gru": ("reset", "update", "candidate"),
        "rnn": ("hidden",),
    },
    "keras": {
        "lstm": ("input", "forget", "candidate", "output"),
        "gru": ("update", "reset", "candidate"),
        "rnn": ("hidden",),
    },
    "onnx": {
        "lstm": ("input", "output", "forget", "candidate"),
        "gru": ("update", "reset", "candidate"),
        "rnn": ("hidden",),
    },
}

GATE_COUNT = {"lstm": 4, "gru": 3, "rnn": 1}
KIND_BY_GATES = {count: kind for kind, count in GATE_COUNT.items()}


def reorder(array: np.ndarray, framework: str, kind: str, axis: int) -> np.ndarray:
    """``array`` with the gate blocks along ``axis`` moved from ``framework``'s order into rnnscope's.

    ``array.shape[axis]`` is ``G H``; the result is a new array of the same shape.
    """
    source = FRAMEWORK_ORDER[framework][kind]
    target = RNNSCOPE_ORDER[kind]
    blocks = np.split(np.asarray(array), len(source), axis=axis)
    return np.concatenate([blocks[source.index(gate)] for gate in target], axis=axis)
