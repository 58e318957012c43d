"""Recurrent models: RNN, LSTM, GRU and DNC on one interface (see base.py)."""

from rnnscope.engine.models.base import (
    MODEL_KINDS,
    Gradients,
    ModelConfig,
    RecurrentModel,
    build_model,
    trace_with_gradients,
)

__all__ = ["MODEL_KINDS", "Gradients", "ModelConfig", "RecurrentModel", "build_model", "trace_with_gradients"]
