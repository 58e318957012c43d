"""Recurrent models: RNN, LSTM, GRU and DNC on one interface (see base.py).

Readable references first: ``rnn_cell.py``, ``lstm_cell.py`` and ``gru_cell.py`` hold
one step forward and backward of each cell; ``reference.py`` loops over them for a whole
sequence. ``rnn.py``, ``lstm.py`` and ``gru.py`` are the fast paths, tested equal.
"""

from rnnscope.engine.models.base import (
    CoreOutput,
    ForwardResult,
    Gradients,
    RecurrentModel,
    State,
    init_uniform,
    trace_with_gradients,
)
from rnnscope.engine.models.config import DEFAULT_HIDDEN_SIZE, MODEL_KINDS, ModelConfig
from rnnscope.engine.models.registry import build_model

__all__ = [
    "DEFAULT_HIDDEN_SIZE",
    "MODEL_KINDS",
    "CoreOutput",
    "ForwardResult",
    "Gradients",
    "ModelConfig",
    "RecurrentModel",
    "State",
    "build_model",
    "init_uniform",
    "trace_with_gradients",
]
