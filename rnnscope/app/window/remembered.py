"""What the window remembers between runs (``QSettings``): the last :class:`SessionSpec`.

Keys ``session/<field>``; the window adds ``ui/speed``, ``window/geometry`` and
``window/size``, and the dock layout of each model kind under ``layout/<kind>-<panels>/``
(``state``, ``hidden``; see :mod:`.layouts`). A model of the user's own is not remembered:
the next run never executes a file on the settings' word (it opens the default model).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QSettings

from rnnscope.app.session import SessionSpec
from rnnscope.engine import limits
from rnnscope.engine.heads import LOSSES
from rnnscope.engine.models.config import DTYPES, FORGET_BIAS_BOUND, MODEL_KINDS
from rnnscope.engine.tasks import TASK_NAMES
from rnnscope.options import GRU_CONVENTIONS


def _size(limit: limits.SizeLimit) -> Callable[[object], int]:
    return lambda value: limit.check(int(str(value)))


def _choice(choices: tuple[str, ...]) -> Callable[[object], str]:
    def read(value: object) -> str:
        if str(value) not in choices:
            raise ValueError(value)
        return str(value)

    return read


def _flag(value: object) -> bool:
    text = str(value).lower()
    if text not in ("true", "false"):
        raise ValueError(value)
    return text == "true"


def _bias(value: object) -> float:
    number = float(str(value))
    if not abs(number) <= FORGET_BIAS_BOUND:  # NaN too
        raise ValueError(value)
    return number


# SessionSpec fields remembered in QSettings, with how to read them back (a ValueError keeps the default)
SPEC_SETTINGS: dict[str, Callable[[object], Any]] = {
    "model": _choice(MODEL_KINDS),
    "task": _choice(TASK_NAMES),
    "hidden": _size(limits.HIDDEN),
    "seed": _size(limits.SEED),
    "length": _size(limits.LENGTH),
    "slots": _size(limits.SLOTS),
    "width": _size(limits.WIDTH),
    "read_heads": _size(limits.READ_HEADS),
    "layers": _size(limits.LAYERS),
    "embedding": _size(limits.EMBEDDING),
    "loss": _choice(LOSSES),
    "many_to_one": _flag,
    "forget_bias": _bias,
    "gru_convention": _choice(tuple(GRU_CONVENTIONS)),
    "dtype": _choice(DTYPES),
    "corpus": str,
    "text_file": str,
    "text": str,
}


def load_spec(settings: QSettings) -> SessionSpec:
    """The remembered spec; a missing, unreadable or out-of-bounds value keeps its default."""
    spec = SessionSpec()
    for key, read in SPEC_SETTINGS.items():
        value = settings.value(f"session/{key}")
        if value is None or value == "":
            continue
        try:
            setattr(spec, key, read(value))
        except (TypeError, ValueError):
            pass  # a hand-edited or old settings file: keep the default
    return spec


def save_spec(settings: QSettings, spec: SessionSpec) -> None:
    for key in SPEC_SETTINGS:
        value = getattr(spec, key)
        if key == "model" and value not in MODEL_KINDS:
            value = None  # a model of the user's own: the next run starts with the default kind
        if isinstance(value, bool):
            value = "true" if value else "false"
        settings.setValue(f"session/{key}", "" if value is None else value)
