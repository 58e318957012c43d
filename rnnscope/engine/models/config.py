"""A model's configuration: everything needed to rebuild it, validated field by field.

The one place that says what a valid model is: the model kinds, the defaults every
entry point shares (the app, ``rnnscope gradcheck``, ``rnnscope train``), and the
checks that run when a config is made -- from code, from command-line options or
from a checkpoint's record, where a wrong type or an absurd size must be refused
before any array is allocated.
"""

from __future__ import annotations

import math
import numbers
from dataclasses import asdict, dataclass, fields
from typing import Any

from rnnscope.engine import limits
from rnnscope.engine.heads import LOSSES

MODEL_KINDS = ("rnn", "lstm", "gru", "dnc")
# a model class of the user's own (rnnscope.engine.protocol): made by its class, never by build_model
CUSTOM_KIND = "custom"
DTYPES = ("float64", "float32")
DEFAULT_HIDDEN_SIZE = 64  # H when none is given, in the app and both commands
FORGET_BIAS_BOUND = 100.0  # |forget_bias| above this saturates the gate to 0 or 1 in any float

# the sizes of a config and the bounds each is checked against
_SIZES = {
    "input_size": limits.INPUT,
    "hidden_size": limits.HIDDEN,
    "output_size": limits.OUTPUT,
    "memory_slots": limits.SLOTS,
    "memory_width": limits.WIDTH,
    "read_heads": limits.READ_HEADS,
    "seed": limits.SEED,
    "num_layers": limits.LAYERS,
    "embedding_size": limits.EMBEDDING,
}
STACKED_KINDS = ("rnn", "lstm", "gru")  # the kinds whose recurrent layers can be stacked (num_layers > 1)


@dataclass
class ModelConfig:
    """Everything needed to rebuild a model (and to save it in a checkpoint).

    Made only with valid values: a wrong type, a size out of bounds (see
    :mod:`rnnscope.engine.limits`) or an unknown name is a ``ValueError`` naming the
    field. Whole numbers of NumPy types become ``int``, so :meth:`to_dict` is plain JSON data.
    """

    kind: str  # "rnn" | "lstm" | "gru" | "dnc", or "custom" for a user's own model class
    input_size: int  # D: width of one input vector (vocabulary size for one-hot text)
    hidden_size: int  # H: recurrent units (the DNC controller's LSTM size)
    output_size: int  # O: width of the read-out (vocabulary size for text)
    loss: str = "softmax_ce"  # "softmax_ce" | "sigmoid_bce" | "mse" (see heads.py)
    many_to_one: bool = False  # score only the last timestep (sequence classification)
    dtype: str = "float64"  # "float64" (default; gradcheck requires it) or "float32"
    seed: int = 0  # seeds the parameter initialisation
    forget_bias: float = 1.0  # LSTM / DNC controller: initial forget-gate bias
    reset_after: bool = False  # GRU: False = Cho et al. (reset before Wh), True = PyTorch/Keras
    memory_slots: int = 16  # DNC: N, rows of the memory matrix
    memory_width: int = 16  # DNC: W, width of each memory row
    read_heads: int = 4  # DNC: R
    num_layers: int = 1  # L: stacked recurrent layers (RNN, LSTM, GRU); layer l feeds layer l + 1
    embedding_size: int = 0  # width of an embedding table E (input_size, embedding_size); 0 = none

    def __post_init__(self) -> None:
        _check_choice("kind", self.kind, (*MODEL_KINDS, CUSTOM_KIND))
        _check_choice("loss", self.loss, LOSSES)
        _check_choice("dtype", self.dtype, DTYPES)
        for name in ("many_to_one", "reset_after"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        for name, limit in _SIZES.items():
            try:
                setattr(self, name, limit.check(getattr(self, name)))
            except limits.SizeError as error:
                raise ValueError(f"{name}: {error}") from None
        self.forget_bias = _check_forget_bias(self.forget_bias)
        if self.num_layers > 1 and self.kind not in STACKED_KINDS:
            raise ValueError(
                f"num_layers: the {self.kind} has one recurrent layer; layers stack for {STACKED_KINDS} only"
            )

    @property
    def core_input_size(self) -> int:
        """Width of the vectors the first recurrent layer reads: the embedding's, or ``input_size``."""
        return self.embedding_size or self.input_size

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        """The config recorded by :meth:`to_dict` (a ``ValueError`` names an unknown or missing field)."""
        if not isinstance(data, dict):
            raise ValueError(f"a model config must be a mapping, got {type(data).__name__}")
        known = {field.name for field in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown model config fields: {sorted(map(str, unknown))}")
        missing = {"kind", "input_size", "hidden_size", "output_size"} - set(data)
        if missing:
            raise ValueError(f"the model config lacks {sorted(missing)}")
        return cls(**data)


def _check_choice(name: str, value: object, choices: tuple[str, ...]) -> None:
    if not isinstance(value, str) or value not in choices:
        raise ValueError(f"unknown {_label(name)} {value!r}; choose one of {choices}")


def _label(name: str) -> str:
    return "model kind" if name == "kind" else name


def _check_forget_bias(value: object) -> float:
    number = _finite_float(value)
    if number is None:
        raise ValueError(f"forget_bias must be a finite number, got {value!r}")
    if abs(number) > FORGET_BIAS_BOUND:
        raise ValueError(f"forget_bias must be within +-{FORGET_BIAS_BOUND:g}, got {value!r}")
    return number


def _finite_float(value: object) -> float | None:
    """``value`` as a finite float; ``None`` for anything else (true/false, NaN, a whole number too
    large for a float such as 2**1100 from a file)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None
