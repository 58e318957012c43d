"""What the window remembers between runs (``QSettings``): the last :class:`SessionSpec`.

Keys ``session/<field>``; the window adds ``ui/speed``, ``window/geometry`` and
``window/size``, and the dock layout of each model kind under ``layout/<kind>-<panels>/``
(``state``, ``hidden``; see :mod:`.layouts`).
"""

from __future__ import annotations

from PyQt6.QtCore import QSettings

from rnnscope.app.session import SessionSpec
from rnnscope.engine.models.config import MODEL_KINDS
from rnnscope.engine.tasks import TASK_NAMES

# SessionSpec fields remembered in QSettings, with how to read them back
SPEC_SETTINGS: dict[str, type[str] | type[int]] = {
    "model": str,
    "task": str,
    "hidden": int,
    "seed": int,
    "length": int,
    "slots": int,
    "width": int,
    "read_heads": int,
    "corpus": str,
    "text_file": str,
    "text": str,
}


def load_spec(settings: QSettings) -> SessionSpec:
    """The remembered spec; a missing or unreadable value keeps its default."""
    spec = SessionSpec()
    for key, cast in SPEC_SETTINGS.items():
        value = settings.value(f"session/{key}")
        if value is None or value == "":
            continue
        try:
            setattr(spec, key, cast(value))
        except (TypeError, ValueError):
            pass  # a hand-edited or old settings file: keep the default
    if spec.model not in MODEL_KINDS:
        spec.model = "lstm"
    if spec.task not in TASK_NAMES:
        spec.task = "chars"
    return spec


def save_spec(settings: QSettings, spec: SessionSpec) -> None:
    for key in SPEC_SETTINGS:
        value = getattr(spec, key)
        settings.setValue(f"session/{key}", "" if value is None else value)
