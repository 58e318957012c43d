"""Reading a checkpoint: every entry and every ``meta`` field checked, each by one small function.

:func:`load_checkpoint` reads the archive (:mod:`~rnnscope.engine.checkpoint.archive`),
then each part of the ``meta`` record in turn: the model config and its
parameters, the optimiser, the trainer, the task, the vocabulary and the
iteration. Any problem is a :class:`CheckpointError` naming the file and what
is wrong with it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from rnnscope.engine.checkpoint.archive import check_digest, check_entries, read_archive, read_meta
from rnnscope.engine.checkpoint.format import (
    META,
    OPTIMIZER,
    PARAM,
    TRAINER,
    TRAINER_POSITIONS,
    TRAINER_STATE,
    Checkpoint,
    CheckpointError,
)
from rnnscope.engine.checkpoint.model_file import refuse_without_class
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params
from rnnscope.engine.tasks import TaskError, Vocabulary
from rnnscope.engine.training import OptimizerError, build_optimizer

Arrays = Mapping[str, np.ndarray]


def load_checkpoint(
    path: str | os.PathLike[str], model_class: type[RecurrentModel] | None = None
) -> Checkpoint:
    """Read and check the checkpoint at ``path``. Raises :class:`CheckpointError` naming the problem.

    ``model_class`` builds the model instead of the built-in class of its kind: a model
    class of the user's own, which a checkpoint never supplies (see ``model_file.py``).
    """
    path = os.fspath(path)
    arrays = read_archive(path)
    meta = read_meta(path, arrays[META])
    config = _read_config(path, meta)
    if model_class is None:
        refuse_without_class(path, meta, config)
    params = _read_params(path, meta, arrays, config)
    model = _build_model(path, config, params, model_class)
    optimizer_name, optimizer_state = _read_optimizer(path, meta, arrays, params)
    trainer_state = _read_trainer(path, meta, arrays, model)
    task_name, task_options = _read_task(path, meta)
    vocab = _read_vocab(path, meta.get("vocab"), config)
    check_entries(path, arrays, params, optimizer_state, trainer_state)
    check_digest(path, arrays)
    return Checkpoint(
        path=os.path.abspath(path),
        version=int(meta["version"]),
        config=config,
        model=model,
        iteration=_read_iteration(path, meta),
        vocab=vocab,
        optimizer_name=optimizer_name,
        optimizer_state=optimizer_state,
        trainer_state=trainer_state,
        task_name=task_name,
        task_options=task_options,
        created=str(meta.get("created", "")),
        meta=meta,
    )


def _get(data: object, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


# ---------------------------------------------------------------------- the model
def _read_config(path: str, meta: dict[str, Any]) -> ModelConfig:
    try:
        return ModelConfig.from_dict(dict(meta["model"]))
    except (TypeError, ValueError) as error:
        raise CheckpointError(path, f"the model config is invalid: {error}") from None


def _read_params(
    path: str, meta: dict[str, Any], arrays: Arrays, config: ModelConfig
) -> dict[str, np.ndarray]:
    """Every parameter the ``params`` record names, each checked; no stray ``param/`` entries."""
    params = {
        name: _read_param(path, name, record, arrays, config) for name, record in meta["params"].items()
    }
    stray = sorted(k[len(PARAM) :] for k in arrays if k.startswith(PARAM) and k[len(PARAM) :] not in params)
    if stray:
        raise CheckpointError(path, f"parameters {stray} are in the archive but not in its record")
    return params


def _read_param(path: str, name: str, record: object, arrays: Arrays, config: ModelConfig) -> np.ndarray:
    """Parameter ``name``: present, of the recorded shape and the model's dtype, all finite."""
    key = PARAM + name
    if key not in arrays:
        raise CheckpointError(path, f"parameter {name!r} is missing from the archive")
    array = arrays[key]
    shape = tuple(_get(record, "shape") or ())
    if array.shape != shape:
        raise CheckpointError(
            path, f"parameter {name!r} has shape {array.shape}, but the checkpoint records {shape}"
        )
    if array.dtype != np.dtype(config.dtype):
        raise CheckpointError(
            path, f"parameter {name!r} has dtype {array.dtype}, but the model is {config.dtype}"
        )
    bad = int(np.count_nonzero(~np.isfinite(array)))
    if bad:
        raise CheckpointError(path, f"parameter {name!r} has {bad} non-finite value(s) (NaN or inf)")
    return array


def _build_model(
    path: str,
    config: ModelConfig,
    params: Mapping[str, np.ndarray],
    model_class: type[RecurrentModel] | None = None,
) -> RecurrentModel:
    try:
        if model_class is not None:
            return model_class(config, Params(params))
        return build_model(config, Params(params))
    except ValueError as error:
        raise CheckpointError(path, f"the parameters do not fit the {config.kind} model: {error}") from None


# ---------------------------------------------------------------------- the optimiser
def _read_optimizer(
    path: str, meta: dict[str, Any], arrays: Arrays, params: Mapping[str, np.ndarray]
) -> tuple[str | None, dict[str, Any]]:
    """The optimiser's name and state dict (scalars and slot arrays); ``(None, {})`` when none was saved."""
    record = meta.get("optimizer")
    keys = [k for k in arrays if k.startswith(OPTIMIZER)]
    if record is None:
        if keys:
            raise CheckpointError(path, "optimizer arrays are present but no optimizer is recorded")
        return None, {}
    name = _get(record, "name")
    scalars = _get(record, "scalars")
    if not isinstance(name, str) or not isinstance(scalars, dict):
        raise CheckpointError(path, "the optimizer record is malformed (expected a name and scalars)")
    state: dict[str, Any] = dict(scalars)
    for key in keys:
        entry = key[len(OPTIMIZER) :]
        state[entry] = _read_slot(path, entry, arrays[key], params)
    try:
        build_optimizer(name).load_state_dict(state)
    except OptimizerError as error:
        raise CheckpointError(path, f"the optimizer state is invalid: {error}") from None
    return name, state


def _read_slot(path: str, entry: str, array: np.ndarray, params: Mapping[str, np.ndarray]) -> np.ndarray:
    """Optimiser slot ``entry`` (``"<slot>/<parameter>"``): for a known parameter, of its shape."""
    parameter = entry.split("/", 1)[-1]
    if parameter not in params:
        raise CheckpointError(path, f"optimizer state {entry!r} is for an unknown parameter {parameter!r}")
    if array.shape != params[parameter].shape:
        raise CheckpointError(
            path,
            f"optimizer state {entry!r} has shape {array.shape}, "
            f"but parameter {parameter!r} has shape {params[parameter].shape}",
        )
    return array


# ---------------------------------------------------------------------- the trainer
def _read_trainer(
    path: str, meta: dict[str, Any], arrays: Arrays, model: RecurrentModel
) -> dict[str, Any] | None:
    """The saved :meth:`Trainer.state_dict` (with ``positions`` and ``carried_state``), or ``None``."""
    record = meta.get("trainer")
    if record is None:
        if any(k.startswith(TRAINER) for k in arrays):
            raise CheckpointError(path, "trainer arrays are present but no trainer is recorded")
        return None
    if not isinstance(record, dict):
        raise CheckpointError(path, "the trainer record is malformed")
    state = dict(record)
    _check_rng_state(path, state.get("rng"))
    _check_trainer_settings(path, state)
    state["positions"] = _read_positions(path, arrays.get(TRAINER_POSITIONS))
    state["carried_state"] = _read_carried_state(path, arrays, state.get("batch_size"), model)
    return state


def _check_rng_state(path: str, rng_state: Any) -> None:
    """A ``bit_generator.state`` a generator accepts (or none)."""
    if rng_state is None:
        return
    try:
        np.random.default_rng().bit_generator.state = dict(rng_state)
    except (TypeError, ValueError, KeyError) as error:
        raise CheckpointError(path, f"the saved random generator state is invalid: {error}") from None


def _check_trainer_settings(path: str, state: Mapping[str, Any]) -> None:
    """Batch size and sequence length positive integers, clipping thresholds positive numbers (or null)."""
    for key in ("batch_size", "seq_len"):
        value = state.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise CheckpointError(path, f"the trainer's {key} must be a positive integer, got {value!r}")
    for key in ("clip_norm", "clip_value"):
        value = state.get(key)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise CheckpointError(path, f"the trainer's {key} must be positive or null, got {value!r}")


def _read_positions(path: str, positions: np.ndarray | None) -> np.ndarray | None:
    """The text streams' positions ``(B,)``: non-negative integers (or none saved)."""
    if positions is None:
        return None
    if positions.dtype.kind not in "iu" or positions.ndim != 1 or (positions.size and positions.min() < 0):
        raise CheckpointError(path, "the saved text positions must be a 1-D array of non-negative integers")
    return positions


def _read_carried_state(
    path: str, arrays: Arrays, batch_size: int | None, model: RecurrentModel
) -> State | None:
    """The state carried into the next batch, checked against the model (``None`` when none was saved)."""
    carried = {k[len(TRAINER_STATE) :]: v for k, v in arrays.items() if k.startswith(TRAINER_STATE)}
    if not carried:
        return None
    batch = batch_size or next(iter(carried.values())).shape[0]
    try:
        model.check_state(carried, int(batch))
    except ValueError as error:
        raise CheckpointError(path, f"the carried state does not fit the model: {error}") from None
    for key, value in carried.items():
        if not np.all(np.isfinite(value)):
            raise CheckpointError(path, f"the carried state {key!r} has non-finite values")
    return carried


# ---------------------------------------------------------------------- task, vocabulary, iteration
def _read_task(path: str, meta: dict[str, Any]) -> tuple[str | None, dict[str, Any]]:
    """The task's name and options; ``(None, {})`` when no task was saved."""
    record = meta.get("task")
    if record is None:
        return None, {}
    if not isinstance(record, dict) or not isinstance(record.get("name"), str):
        raise CheckpointError(path, "the task entry is malformed (expected a name and options)")
    options = record.get("options") or {}
    if not isinstance(options, dict):
        raise CheckpointError(path, "the task options are malformed (expected a mapping)")
    return record["name"], dict(options)


def _read_vocab(path: str, symbols: object, config: ModelConfig) -> Vocabulary | None:
    """The saved vocabulary (its size is the model's ``input_size``), ``None`` if none was saved."""
    if symbols is None:
        return None
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise CheckpointError(path, "the vocabulary must be a list of strings")
    try:
        vocab = Vocabulary.from_symbols(symbols)
    except TaskError as error:
        raise CheckpointError(path, f"the vocabulary is invalid: {error}") from None
    if vocab.size != config.input_size:
        raise CheckpointError(
            path, f"the vocabulary has {vocab.size} symbols but the model's input_size is {config.input_size}"
        )
    return vocab


def _read_iteration(path: str, meta: dict[str, Any]) -> int:
    iteration = meta.get("iteration", 0)
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise CheckpointError(path, f"the iteration must be a non-negative integer, got {iteration!r}")
    return iteration
