"""Writing a checkpoint: a model, and when given its optimiser, trainer and task, to one ``.npz``.

Every array goes in under its entry name (:mod:`~rnnscope.engine.checkpoint.format`),
everything else into the ``meta`` JSON; the digest is computed last and the
archive is written atomically.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.atomic import AtomicWriteError, write_atomically
from rnnscope.engine.checkpoint.format import (
    DIGEST,
    FORMAT_NAME,
    FORMAT_VERSION,
    META,
    META_BYTES,
    OPTIMIZER,
    PARAM,
    TRAINER_POSITIONS,
    TRAINER_STATE,
    CheckpointError,
    archive_digest,
)
from rnnscope.engine.checkpoint.model_file import RECORD, source_of
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks import Task
from rnnscope.engine.training import Optimizer, Trainer

Arrays = dict[str, np.ndarray]


def save_checkpoint(
    path: str | os.PathLike[str],
    model: RecurrentModel,
    optimizer: Optimizer | None = None,
    trainer: Trainer | None = None,
    task: Task | None = None,
    iteration: int | None = None,
) -> str:
    """Write ``model`` (and, when given, the optimiser, trainer and task) to ``path`` atomically.

    With ``trainer`` (a :class:`~rnnscope.engine.training.Trainer`), its
    optimiser, task and iteration are used unless given. Returns the absolute
    path written. Raises :class:`CheckpointError` (the old file, if any, is
    untouched): a directory that does not exist or cannot be written, non-finite
    parameters, task options that are not plain JSON data.
    """
    target = os.path.abspath(os.fspath(path))
    if trainer is not None:
        optimizer = optimizer if optimizer is not None else trainer.optimizer
        task = task if task is not None else trainer.task
        iteration = int(trainer.iteration) if iteration is None else iteration
    iteration = int(iteration or 0)
    if iteration < 0:
        raise CheckpointError(target, f"the iteration must be >= 0, got {iteration}")
    arrays: Arrays = {}
    params = _put_params(target, model, arrays)
    optimizer_record = None if optimizer is None else _put_optimizer(optimizer, arrays)
    trainer_record = None if trainer is None else _put_trainer(trainer, arrays)
    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model.config.to_dict(),
        "params": params,
        "iteration": iteration,
        "vocab": _vocabulary_record(task),
        "optimizer": optimizer_record,
        "trainer": trainer_record,
        "task": _task_record(task),
    }
    source = source_of(model)
    if source is not None:  # a model class of the user's own: where it is defined, never its code
        meta[RECORD] = source.to_meta()
    arrays[META] = _meta_array(target, meta)
    _check_size(target, arrays)
    arrays[DIGEST] = np.frombuffer(archive_digest(arrays).encode("ascii"), dtype=np.uint8)
    _write(target, _archive_bytes(arrays))
    return target


def _put_params(target: str, model: RecurrentModel, arrays: Arrays) -> dict[str, dict[str, Any]]:
    """Add every parameter to ``arrays``; their shapes and dtypes for ``meta``. Refuses NaN and inf."""
    records: dict[str, dict[str, Any]] = {}
    for name, array in model.params.items():
        array = np.ascontiguousarray(array)
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise CheckpointError(
                target, f"refusing to save: parameter {name!r} has {bad} non-finite value(s) (NaN or inf)"
            )
        arrays[PARAM + name] = array
        records[name] = {"shape": list(array.shape), "dtype": array.dtype.str}
    return records


def _put_optimizer(optimizer: Optimizer, arrays: Arrays) -> dict[str, Any]:
    """Add the optimiser's slot arrays to ``arrays``; its name and scalars for ``meta``."""
    scalars = {}
    for key, value in optimizer.state_dict().items():
        if isinstance(value, np.ndarray):
            arrays[OPTIMIZER + key] = np.ascontiguousarray(value)
        else:
            scalars[key] = value
    return {"name": optimizer.name, "scalars": scalars}


def _put_trainer(trainer: Trainer, arrays: Arrays) -> dict[str, Any]:
    """Add the text positions and carried state to ``arrays``; the trainer's other state for ``meta``."""
    state = dict(trainer.state_dict())
    positions = state.pop("positions", None)
    carried = state.pop("carried_state", None)
    if positions is not None:
        arrays[TRAINER_POSITIONS] = np.asarray(positions, dtype=np.int64)
    for key, value in (carried or {}).items():
        arrays[TRAINER_STATE + key] = np.ascontiguousarray(value)
    return state


def _task_record(task: Task | None) -> dict[str, Any] | None:
    """``{"name": ..., "options": {...}}``: what rebuilds the task."""
    if task is None:
        return None
    spec = dict(task.spec())
    return {"name": spec.pop("name"), "options": spec}


def _vocabulary_record(task: Task | None) -> list[str] | None:
    """The task's vocabulary symbols, in order (character tasks and sentiment)."""
    if task is None or task.vocab is None:
        return None
    return list(task.vocab.symbols)


def _meta_array(target: str, meta: Mapping[str, Any]) -> np.ndarray:
    """``meta`` as strict JSON (no NaN) in a ``uint8`` array, or a :class:`CheckpointError` saying why not."""
    try:
        meta_bytes = json.dumps(meta, ensure_ascii=True, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise CheckpointError(target, f"cannot record the checkpoint's settings as JSON: {error}") from None
    if len(meta_bytes) > META_BYTES:  # the reader would refuse it
        raise CheckpointError(
            target,
            f"refusing to save: the settings take {len(meta_bytes):,} bytes of JSON, more than the "
            f"{META_BYTES:,} a checkpoint may hold (a task built from a very long string: use a file)",
        )
    return np.frombuffer(meta_bytes, dtype=np.uint8)


def _check_size(target: str, arrays: Arrays) -> None:
    """Refuse what the reader would refuse: more array bytes than a checkpoint may hold."""
    total, bound = sum(array.nbytes for array in arrays.values()), limits.CHECKPOINT_BYTES.high
    if total > bound:
        raise CheckpointError(
            target, f"refusing to save {total:,} bytes of arrays; a checkpoint holds at most {bound:,}"
        )


def _archive_bytes(arrays: Arrays) -> bytes:
    """The ``.npz`` archive of ``arrays``, in memory."""
    buffer = io.BytesIO()
    np.savez(buffer, allow_pickle=False, **arrays)  # every entry is a plain array; the loader never unpickles
    return buffer.getvalue()


def _write(target: str, data: bytes) -> None:
    """``data`` to ``target`` atomically (see :func:`rnnscope.engine.atomic.write_atomically`)."""
    try:
        write_atomically(target, data)
    except AtomicWriteError as error:
        raise CheckpointError(target, f"cannot write the checkpoint: {error.reason}") from None
