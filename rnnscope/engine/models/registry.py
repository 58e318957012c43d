"""Model kinds to model classes: :func:`build_model` (above every model module, so none imports it)."""

from __future__ import annotations

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import MODEL_KINDS, ModelConfig
from rnnscope.engine.models.dnc import DNC
from rnnscope.engine.models.gru import GRU
from rnnscope.engine.models.lstm import LSTM
from rnnscope.engine.models.rnn import RNN
from rnnscope.engine.params import Params

MODEL_CLASSES: dict[str, type[RecurrentModel]] = {"rnn": RNN, "lstm": LSTM, "gru": GRU, "dnc": DNC}
assert tuple(MODEL_CLASSES) == MODEL_KINDS


def build_model(config: ModelConfig, params: Params | None = None) -> RecurrentModel:
    """The model class for ``config.kind``, constructed (with ``params``, or fresh ones from the seed)."""
    if config.kind not in MODEL_CLASSES:
        raise ValueError(
            f"build_model makes the built-in kinds {MODEL_KINDS}; a {config.kind!r} model is made by "
            "its own class: type(model)(config, params)"
        )
    return MODEL_CLASSES[config.kind](config, params)
