"""Reading a checkpoint through one gate: the record first, the headers next, the data last.

:func:`load_checkpoint` opens the archive (:mod:`~rnnscope.engine.checkpoint.archive`),
checks every field of the ``meta`` record (:mod:`~rnnscope.engine.checkpoint.records`),
derives from it the exact shape and dtype of every array the archive may hold and
checks each ``.npy`` header against that *before* inflating anything, then checks
the values (finite parameters and state, non-negative sums of squares, text
positions) and finally the digest. Nothing is allocated on a file's word beyond
what a valid config of bounded size needs. Any problem is a :class:`CheckpointError`
naming the file and the field.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.engine.checkpoint.archive import check_digest, open_archive, read_arrays, read_meta
from rnnscope.engine.checkpoint.format import (
    META,
    OPTIMIZER,
    PARAM,
    TRAINER_POSITIONS,
    TRAINER_STATE,
    Checkpoint,
    CheckpointError,
)
from rnnscope.engine.checkpoint.records import (
    MetaRecord,
    check_groups,
    expected_entries,
    read_records,
)
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params
from rnnscope.engine.tasks import TaskError, Vocabulary
from rnnscope.engine.training import OptimizerError

Arrays = Mapping[str, np.ndarray]


def load_checkpoint(
    path: str | os.PathLike[str], model_class: type[RecurrentModel] | None = None
) -> Checkpoint:
    """Read and check the checkpoint at ``path``. Raises :class:`CheckpointError` naming the problem.

    ``model_class`` builds the model instead of the built-in class of its kind: a model
    class of the user's own, which a checkpoint never supplies (see ``model_file.py``);
    a ``"custom"`` model's shapes come from it.
    """
    path = os.fspath(path)
    with open_archive(path) as archive:
        raw_meta, meta = read_meta(path, archive)
        record = read_records(path, meta, model_class)
        expected = expected_entries(record)
        check_groups(path, record, set(archive.entries))
        arrays = read_arrays(path, archive, expected)
    arrays[META] = raw_meta
    params = _read_params(path, arrays)
    optimizer_state = _read_optimizer(path, record, arrays)
    trainer_state = _read_trainer(path, record, arrays)
    vocab = _read_vocab(path, record.vocab, record.config)
    check_digest(path, arrays)
    return Checkpoint(
        path=os.path.abspath(path),
        version=record.version,
        config=record.config,
        model=_build_model(path, record.config, params, model_class),
        iteration=record.iteration,
        vocab=vocab,
        optimizer_name=None if record.optimizer is None else record.optimizer.name,
        optimizer_state=optimizer_state,
        trainer_state=trainer_state,
        task_name=record.task_name,
        task_options=record.task_options,
        created=record.created,
        meta=meta,
    )


def _entries(arrays: Arrays, prefix: str) -> dict[str, np.ndarray]:
    return {key[len(prefix) :]: value for key, value in arrays.items() if key.startswith(prefix)}


def _check_finite(path: str, what: str, array: np.ndarray) -> None:
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise CheckpointError(path, f"{what} has {bad} non-finite value(s) (NaN or inf)")


# ---------------------------------------------------------------------- the model
def _read_params(path: str, arrays: Arrays) -> dict[str, np.ndarray]:
    """Every parameter (their shapes and dtype were checked against the config), all finite."""
    params = _entries(arrays, PARAM)
    for name, array in params.items():
        _check_finite(path, f"parameter {name!r}", array)
    return params


def _build_model(
    path: str,
    config: ModelConfig,
    params: Mapping[str, np.ndarray],
    model_class: type[RecurrentModel] | None,
) -> RecurrentModel:
    try:
        if model_class is not None:
            return model_class(config, Params(params))
        return build_model(config, Params(params))
    except ValueError as error:
        raise CheckpointError(path, f"the parameters do not fit the {config.kind} model: {error}") from None


# ---------------------------------------------------------------------- the optimiser
def _read_optimizer(path: str, record: MetaRecord, arrays: Arrays) -> dict[str, Any]:
    """The optimiser's flat state dict (scalars and ``"<slot>/<parameter>"`` arrays), ``{}`` when none."""
    if record.optimizer is None:
        return {}
    state: dict[str, Any] = {**record.optimizer_scalars, **_entries(arrays, OPTIMIZER)}
    try:
        record.optimizer.load_state_dict(state)
    except OptimizerError as error:
        raise CheckpointError(path, f"the optimizer state is invalid: {error}") from None
    return state


# ---------------------------------------------------------------------- the trainer
def _read_trainer(path: str, record: MetaRecord, arrays: Arrays) -> dict[str, Any] | None:
    """The saved :meth:`Trainer.state_dict` (with ``positions`` and ``carried_state``), or ``None``."""
    if record.trainer is None:
        return None
    state = dict(record.trainer)
    positions = arrays.get(TRAINER_POSITIONS)
    if positions is not None and positions.size and positions.min() < 0:
        raise CheckpointError(path, "the saved text positions must be non-negative")
    state["positions"] = positions
    carried = _entries(arrays, TRAINER_STATE)
    for name, value in carried.items():
        _check_finite(path, f"the carried state {name!r}", value)
    state["carried_state"] = carried or None
    return state


# ---------------------------------------------------------------------- vocabulary
def _read_vocab(path: str, symbols: list[str] | None, config: ModelConfig) -> Vocabulary | None:
    """The saved vocabulary (its size is the model's ``input_size``), ``None`` if none was saved."""
    if symbols is None:
        return None
    try:
        vocab = Vocabulary.from_symbols(symbols)
    except TaskError as error:
        raise CheckpointError(path, f"the vocabulary is invalid: {error}") from None
    if vocab.size != config.input_size:
        raise CheckpointError(
            path, f"the vocabulary has {vocab.size} symbols but the model's input_size is {config.input_size}"
        )
    return vocab
