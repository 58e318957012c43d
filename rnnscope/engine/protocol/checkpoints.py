"""Opening a checkpoint of a user's own model: its class comes from the user's file, never the checkpoint.

A checkpoint records where its model class is defined (path, class name, SHA-256 of
the file; :mod:`rnnscope.engine.checkpoint.model_file`). :func:`open_model_checkpoint`
loads the class from the file the user points at, or from the recorded path when the
file is there, and warns when the file's contents changed since the checkpoint was
saved. A checkpoint of a built-in model opens as
:func:`~rnnscope.engine.checkpoint.load_checkpoint` opens it.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from rnnscope.engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint
from rnnscope.engine.checkpoint.archive import open_archive, read_meta
from rnnscope.engine.checkpoint.model_file import ModelSource, read_model_source
from rnnscope.engine.protocol.contract import user_code
from rnnscope.engine.protocol.loader import ModelFile, load_model_file, parse_spec


@dataclass
class OpenedCheckpoint:
    """A loaded checkpoint, the model file its class came from (``None``: a built-in model) and
    warnings for the user (the source changed since saving)."""

    checkpoint: Checkpoint
    model_file: ModelFile | None = None
    warnings: list[str] = field(default_factory=list)


def recorded_source(path: str | os.PathLike[str]) -> ModelSource | None:
    """Where the checkpoint at ``path`` says its model class is defined (``None``: a built-in model)."""
    path = os.fspath(path)
    with open_archive(path) as archive:  # the directory and meta only: no array is read
        _, meta = read_meta(path, archive)
    if not isinstance(meta, dict):
        raise CheckpointError(path, "not an rnnscope checkpoint (its meta record is not a mapping)")
    return read_model_source(path, meta)


def open_model_checkpoint(path: str | os.PathLike[str], model_file: str | None = None) -> OpenedCheckpoint:
    """The checkpoint at ``path`` with its model built by the user's class.

    ``model_file`` (``"path.py"`` or ``"path.py:Class"``) is the file the user points at;
    without it, a checkpoint of a user's model is opened with the recorded file if it is
    still there. Raises :class:`CheckpointError` (the file is gone and none was given,
    or the checkpoint is damaged) and the model-file errors of
    :func:`~rnnscope.engine.protocol.load_model_file`.
    """
    path = os.fspath(path)
    source = recorded_source(path)
    if source is None and model_file is None:
        return OpenedCheckpoint(load_checkpoint(path))
    loaded = _load_class(path, source, model_file)
    with user_code([loaded.folder]):
        checkpoint = load_checkpoint(path, model_class=loaded.model_class)
    return OpenedCheckpoint(checkpoint, loaded, _warnings(source, loaded))


def _load_class(path: str, source: ModelSource | None, model_file: str | None) -> ModelFile:
    if model_file is not None:
        file, class_name = parse_spec(model_file)
        if class_name is None and source is not None:
            class_name = source.class_name
        return load_model_file(file, class_name)
    assert source is not None
    if not os.path.isfile(source.path):
        raise CheckpointError(
            path,
            f"its model class {source.class_name} was defined in {source.path}, which is not there; "
            f"point at the file: --model-file PATH:{source.class_name}",
        )
    return load_model_file(source.path, source.class_name)


def _warnings(source: ModelSource | None, loaded: ModelFile) -> list[str]:
    if source is None:
        return []
    warnings = []
    if loaded.sha256 != source.sha256:
        warnings.append(
            f"{loaded.path} has changed since the checkpoint was saved (its SHA-256 differs): "
            "the saved parameters are loaded into the class as the file defines it now"
        )
    if loaded.class_name != source.class_name:
        warnings.append(
            f"the checkpoint was saved from class {source.class_name}, opened with {loaded.class_name}"
        )
    return warnings
