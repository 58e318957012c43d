"""Recurrent models: RNN, LSTM, GRU and DNC on one interface (see base.py)."""

from rnnscope.engine.models.base import (
    MODEL_KINDS,
    Gradients,
    ModelConfig,
    RecurrentModel,
    trace_with_gradients,
)
from rnnscope.engine.models.registry import build_model

__all__ = ["MODEL_KINDS", "Gradients", "ModelConfig", "RecurrentModel", "build_model", "trace_with_gradients"]
