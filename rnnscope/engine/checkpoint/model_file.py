"""The optional ``model_file`` record of a checkpoint: where a user's model class is defined. Never code.

A model loaded from a user's ``.py`` file (:mod:`rnnscope.engine.protocol`) carries a
:class:`ModelSource` on its class: the file's absolute path, the class name and the
SHA-256 of the file's source. :func:`~rnnscope.engine.checkpoint.save_checkpoint`
stores it in ``meta`` as ``"model_file": {"path", "class", "sha256"}``; nothing of the
source itself is stored. :func:`~rnnscope.engine.checkpoint.load_checkpoint` never
imports anything: a checkpoint of a model of the user's own is opened by passing its
class (``model_class=``), which :mod:`rnnscope.engine.protocol.checkpoints` loads from
the file the user points at (or finds at the recorded path).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from rnnscope.engine.checkpoint.format import CheckpointError
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import CUSTOM_KIND, ModelConfig

RECORD = "model_file"  # the key in meta
SOURCE_ATTRIBUTE = "rnnscope_source"  # the class attribute the model-file loader sets
_SHA256 = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class ModelSource:
    """Where a model class is defined: ``path`` (absolute), ``class_name`` and ``sha256`` of the file."""

    path: str
    class_name: str
    sha256: str

    @property
    def spec(self) -> str:
        """``"path:Class"``, as ``--model-file`` takes it."""
        return f"{self.path}:{self.class_name}"

    def to_meta(self) -> dict[str, str]:
        return {"path": self.path, "class": self.class_name, "sha256": self.sha256}


def source_of(model: RecurrentModel) -> ModelSource | None:
    """The source record of ``model``'s own class (not one inherited from a loaded parent class)."""
    source = vars(type(model)).get(SOURCE_ATTRIBUTE)
    return source if isinstance(source, ModelSource) else None


def read_model_source(path: str, meta: dict[str, Any]) -> ModelSource | None:
    """The checkpoint's ``model_file`` record, checked (``None`` when there is none)."""
    record = meta.get(RECORD)
    if record is None:
        return None
    fields = ("path", "class", "sha256")
    if not isinstance(record, dict) or not all(isinstance(record.get(key), str) for key in fields):
        raise CheckpointError(path, f"the {RECORD} record is malformed (expected path, class and sha256)")
    if not record["class"].isidentifier() or not _SHA256.match(record["sha256"]):
        raise CheckpointError(
            path, f"the {RECORD} record is malformed (a class name and a SHA-256 hex digest)"
        )
    return ModelSource(record["path"], record["class"], record["sha256"])


def refuse_without_class(path: str, meta: dict[str, Any], config: ModelConfig) -> None:
    """A :class:`CheckpointError` for a checkpoint whose model class must come from the user."""
    source = read_model_source(path, meta)
    if source is not None:
        raise CheckpointError(
            path,
            f"the model is {source.class_name}, defined in {source.path}; rnnscope imports no code on a "
            f"checkpoint's word: open it with --model-file {source.spec} (or "
            "rnnscope.engine.protocol.open_model_checkpoint)",
        )
    if config.kind == CUSTOM_KIND:
        raise CheckpointError(
            path,
            "the model is a class of the user's own and the checkpoint does not say where it is defined: "
            "pass the class (load_checkpoint(path, model_class=...))",
        )
