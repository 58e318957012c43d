"""Checkpoints: a model and its training state in one ``.npz``, written atomically, read without pickle.

One file holds, as plain arrays (no object arrays, so it loads with
``allow_pickle=False``):

=========================  ==============================================================
``meta``                   UTF-8 JSON in a ``uint8`` array: format name and version, the
                           model config, the vocabulary, the shape and dtype of every
                           parameter, the optimiser name and hyperparameters, the
                           iteration, the trainer's scalars and RNG state
                           (``bit_generator.state``), the task name and options
``digest``                 SHA-256 (hex, ``uint8``) of ``meta`` and every array below
``param/<name>``           every parameter (``Wx``, ``Wh``, ..., ``Wy``, ``by``)
``optimizer/<slot>/<p>``   the optimiser's per-parameter arrays (Adagrad's ``cache``, ...)
``trainer/positions``      ``(B,)`` where each text stream reads next (text tasks)
``trainer/state/<name>``   the state carried into the next batch (text tasks)
=========================  ==============================================================

:func:`save_checkpoint` writes a temporary file in the target's directory,
fsyncs it and renames it over the target (``os.replace``), so an interrupted or
failed save leaves any earlier checkpoint intact. :func:`load_checkpoint` checks
everything it reads and raises :class:`CheckpointError` naming the file and the
problem: not a checkpoint, truncated or damaged, written by a newer format,
a missing entry, a parameter of the wrong shape or dtype, non-finite values,
or contents that no longer match the digest (edited after saving).
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import numpy as np

from rnnscope.engine.atomic import AtomicWriteError, write_atomically
from rnnscope.engine.models.base import ModelConfig, RecurrentModel
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params

FORMAT_NAME = "rnnscope-checkpoint"
FORMAT_VERSION = 1


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


@dataclass(eq=False)
class Checkpoint:
    """What :func:`load_checkpoint` read.

    ``model`` is rebuilt from ``config`` and the saved parameters.
    ``optimizer_state`` is the flat dict of :meth:`Optimizer.state_dict`
    (hyperparameters, ``t``, arrays ``"<slot>/<parameter>"``), empty when no
    optimiser was saved. ``trainer_state`` is :meth:`Trainer.state_dict` (RNG
    state, text positions, carried state), ``None`` when no trainer was saved.
    ``task`` rebuilds the task from ``task_name`` and ``task_options`` (``None``
    when there is none or it cannot be rebuilt, e.g. a corpus file that moved).
    """

    path: str
    version: int
    config: ModelConfig
    model: RecurrentModel
    iteration: int = 0
    vocab: Any = None  # Vocabulary | None
    optimizer_name: str | None = None
    optimizer_state: dict[str, Any] = field(default_factory=dict)
    trainer_state: dict[str, Any] | None = None
    task_name: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> Params:
        return self.model.params

    @property
    def rng_state(self) -> dict[str, Any] | None:
        """The trainer's ``bit_generator.state`` when it was saved."""
        return None if self.trainer_state is None else self.trainer_state.get("rng")

    @cached_property
    def task(self) -> Any:
        if not self.task_name:
            return None
        from rnnscope.engine.tasks import build_task

        try:
            return build_task(self.task_name, **self.task_options)
        except Exception:  # the model is still usable without its task
            return None

    def build_optimizer(self) -> Any:
        """The saved optimiser with its state (``None`` when none was saved)."""
        if not self.optimizer_name:
            return None
        from rnnscope.engine.training.optimizers import build_optimizer

        optimizer = build_optimizer(self.optimizer_name)
        optimizer.load_state_dict(self.optimizer_state)
        return optimizer


# ---------------------------------------------------------------------- saving
def save_checkpoint(
    path: str | os.PathLike[str],
    model: RecurrentModel,
    optimizer: Any = None,
    trainer: Any = None,
    task: Any = None,
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
        optimizer = optimizer if optimizer is not None else getattr(trainer, "optimizer", None)
        task = task if task is not None else getattr(trainer, "task", None)
        if iteration is None:
            iteration = int(getattr(trainer, "iteration", 0))
    iteration = int(iteration or 0)
    if iteration < 0:
        raise CheckpointError(target, f"the iteration must be >= 0, got {iteration}")
    arrays: dict[str, np.ndarray] = {}
    param_meta: dict[str, dict[str, Any]] = {}
    for name, array in model.params.items():
        array = np.ascontiguousarray(array)
        bad = int(np.count_nonzero(~np.isfinite(array)))
        if bad:
            raise CheckpointError(
                target, f"refusing to save: parameter {name!r} has {bad} non-finite value(s) (NaN or inf)"
            )
        arrays[f"param/{name}"] = array
        param_meta[name] = {"shape": list(array.shape), "dtype": array.dtype.str}
    meta: dict[str, Any] = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "model": model.config.to_dict(),
        "params": param_meta,
        "iteration": iteration,
        "vocab": None,
        "optimizer": None,
        "trainer": None,
        "task": None,
    }
    if optimizer is not None:
        scalars = {}
        for key, value in optimizer.state_dict().items():
            if isinstance(value, np.ndarray):
                arrays[f"optimizer/{key}"] = np.ascontiguousarray(value)
            else:
                scalars[key] = value
        meta["optimizer"] = {"name": optimizer.name, "scalars": scalars}
    if trainer is not None and hasattr(trainer, "state_dict"):
        state = dict(trainer.state_dict())
        positions = state.pop("positions", None)
        carried = state.pop("carried_state", None)
        if positions is not None:
            arrays["trainer/positions"] = np.asarray(positions, dtype=np.int64)
        for key, value in (carried or {}).items():
            arrays[f"trainer/state/{key}"] = np.ascontiguousarray(value)
        meta["trainer"] = state
    if task is not None:
        spec = dict(task.spec()) if hasattr(task, "spec") else {"name": task.name, **task.options}
        meta["task"] = {"name": spec.pop("name"), "options": spec}
        symbols = getattr(getattr(task, "vocab", None), "symbols", None)
        if symbols is not None:
            meta["vocab"] = list(symbols)
    try:
        meta_bytes = json.dumps(meta, ensure_ascii=True, allow_nan=False).encode("utf-8")
    except (TypeError, ValueError) as error:
        raise CheckpointError(target, f"cannot record the checkpoint's settings as JSON: {error}") from None
    arrays["meta"] = np.frombuffer(meta_bytes, dtype=np.uint8)
    arrays["digest"] = np.frombuffer(_digest(arrays).encode("ascii"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    _atomic_write(target, buffer.getvalue())
    return target


def _digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over ``meta`` and every other array except ``digest`` (name, dtype, shape, bytes)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        if name == "digest":
            continue
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _atomic_write(target: str, data: bytes) -> None:
    """``data`` to ``target`` atomically (see :func:`rnnscope.engine.atomic.write_atomically`)."""
    try:
        write_atomically(target, data)
    except AtomicWriteError as error:
        raise CheckpointError(target, f"cannot write the checkpoint: {error.reason}") from None


# ---------------------------------------------------------------------- loading
def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """Read and check the checkpoint at ``path``. Raises :class:`CheckpointError` naming the problem."""
    path = os.fspath(path)
    if not os.path.exists(path):
        raise CheckpointError(path, "the file does not exist")
    if not os.path.isfile(path):
        raise CheckpointError(path, "not a file")
    arrays = _read_arrays(path)
    for key in ("meta", "digest"):
        if key not in arrays:
            raise CheckpointError(
                path,
                f"not an rnnscope checkpoint: the archive has no {key!r} entry (it has {sorted(arrays)[:8]})",
            )
    meta = _read_meta(path, arrays["meta"])
    config = _read_config(path, meta)
    params = _read_params(path, meta, arrays, config)
    try:
        model = build_model(config, params)
    except ImportError as error:
        raise CheckpointError(path, f"this rnnscope cannot build a {config.kind} model: {error}") from None
    except ValueError as error:
        raise CheckpointError(path, f"the parameters do not fit the {config.kind} model: {error}") from None
    optimizer_name, optimizer_state = _read_optimizer(path, meta, arrays, params)
    trainer_state = _read_trainer(path, meta, arrays, model)
    task = meta.get("task")
    if task is not None and (not isinstance(task, dict) or not isinstance(task.get("name"), str)):
        raise CheckpointError(path, "the task entry is malformed (expected a name and options)")
    task_options = dict(task.get("options") or {}) if task else {}
    if not isinstance(task_options, dict):
        raise CheckpointError(path, "the task options are malformed (expected a mapping)")
    vocab = _read_vocab(path, meta.get("vocab"), config)
    expected = {"meta", "digest"} | {f"param/{n}" for n in params}
    expected |= {f"optimizer/{k}" for k, v in optimizer_state.items() if isinstance(v, np.ndarray)}
    if trainer_state is not None:
        if trainer_state.get("positions") is not None:
            expected.add("trainer/positions")
        expected |= {f"trainer/state/{k}" for k in trainer_state.get("carried_state") or {}}
    unexpected = sorted(set(arrays) - expected)
    if unexpected:
        raise CheckpointError(path, f"unexpected entries in the archive: {unexpected}")
    recorded = bytes(arrays["digest"]).decode("ascii", errors="replace")
    if recorded != _digest(arrays):
        raise CheckpointError(
            path, "the contents do not match the digest recorded when it was saved (the file was modified)"
        )
    iteration = meta.get("iteration", 0)
    if isinstance(iteration, bool) or not isinstance(iteration, int) or iteration < 0:
        raise CheckpointError(path, f"the iteration must be a non-negative integer, got {iteration!r}")
    return Checkpoint(
        path=os.path.abspath(path),
        version=int(meta["version"]),
        config=config,
        model=model,
        iteration=iteration,
        vocab=vocab,
        optimizer_name=optimizer_name,
        optimizer_state=optimizer_state,
        trainer_state=trainer_state,
        task_name=task["name"] if task else None,
        task_options=task_options,
        created=str(meta.get("created", "")),
        meta=meta,
    )


def _read_arrays(path: str) -> dict[str, np.ndarray]:
    """Every array of the archive, read in full (so damaged entries fail their CRC check here)."""
    try:
        with open(path, "rb") as stream:
            head = stream.read(4)
    except OSError as error:
        raise CheckpointError(path, f"cannot read the file: {error.strerror or error}") from None
    if not head:
        raise CheckpointError(path, "the file is empty")
    if head != b"PK\x03\x04":
        raise CheckpointError(path, "not an rnnscope checkpoint (not a NumPy .npz archive)")
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {name: np.asarray(archive[name]) for name in archive.files}
    except zipfile.BadZipFile as error:
        raise CheckpointError(path, f"the archive is truncated or damaged ({error})") from None
    except (EOFError, zlib.error) as error:
        raise CheckpointError(path, f"the archive is truncated or damaged ({error})") from None
    except ValueError as error:
        # e.g. an object array: loading it would need pickle, which is never allowed
        raise CheckpointError(path, f"an entry cannot be read safely ({error})") from None
    except OSError as error:
        raise CheckpointError(path, f"cannot read the archive ({error.strerror or error})") from None


def _read_meta(path: str, raw: np.ndarray) -> dict[str, Any]:
    if raw.dtype != np.uint8 or raw.ndim != 1:
        raise CheckpointError(
            path, f"the 'meta' entry must be a 1-D uint8 array, got {raw.dtype} {raw.shape}"
        )
    try:
        meta = json.loads(raw.tobytes().decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CheckpointError(path, f"the 'meta' entry is not valid JSON ({error})") from None
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        raise CheckpointError(path, f"not an rnnscope checkpoint (its format is {_get(meta, 'format')!r})")
    version = meta.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise CheckpointError(path, f"the format version must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"written with checkpoint format version {version}; this rnnscope reads up to "
            f"version {FORMAT_VERSION} (update rnnscope)",
        )
    for key in ("model", "params"):
        if not isinstance(meta.get(key), dict):
            raise CheckpointError(path, f"the checkpoint has no {key!r} record")
    return meta


def _get(data: Any, key: str) -> Any:
    return data.get(key) if isinstance(data, dict) else None


def _read_config(path: str, meta: dict[str, Any]) -> ModelConfig:
    try:
        return ModelConfig.from_dict(dict(meta["model"]))
    except (TypeError, ValueError) as error:
        raise CheckpointError(path, f"the model config is invalid: {error}") from None


def _read_params(
    path: str, meta: dict[str, Any], arrays: Mapping[str, np.ndarray], config: ModelConfig
) -> dict[str, np.ndarray]:
    params: dict[str, np.ndarray] = {}
    for name, record in meta["params"].items():
        key = f"param/{name}"
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
        params[name] = array
    stray = sorted(k[len("param/") :] for k in arrays if k.startswith("param/") and k[6:] not in params)
    if stray:
        raise CheckpointError(path, f"parameters {stray} are in the archive but not in its record")
    return params


def _read_optimizer(
    path: str, meta: dict[str, Any], arrays: Mapping[str, np.ndarray], params: Mapping[str, np.ndarray]
) -> tuple[str | None, dict[str, Any]]:
    record = meta.get("optimizer")
    keys = [k for k in arrays if k.startswith("optimizer/")]
    if record is None:
        if keys:
            raise CheckpointError(path, "optimizer arrays are present but no optimizer is recorded")
        return None, {}
    from rnnscope.engine.training.optimizers import OptimizerError, build_optimizer

    name = _get(record, "name")
    scalars = _get(record, "scalars")
    if not isinstance(name, str) or not isinstance(scalars, dict):
        raise CheckpointError(path, "the optimizer record is malformed (expected a name and scalars)")
    state: dict[str, Any] = dict(scalars)
    for key in keys:
        entry = key[len("optimizer/") :]
        array = arrays[key]
        parameter = entry.split("/", 1)[-1]
        if parameter not in params:
            raise CheckpointError(
                path, f"optimizer state {entry!r} is for an unknown parameter {parameter!r}"
            )
        if array.shape != params[parameter].shape:
            raise CheckpointError(
                path,
                f"optimizer state {entry!r} has shape {array.shape}, "
                f"but parameter {parameter!r} has shape {params[parameter].shape}",
            )
        state[entry] = array
    try:
        build_optimizer(name).load_state_dict(state)
    except OptimizerError as error:
        raise CheckpointError(path, f"the optimizer state is invalid: {error}") from None
    return name, state


def _read_trainer(
    path: str, meta: dict[str, Any], arrays: Mapping[str, np.ndarray], model: RecurrentModel
) -> dict[str, Any] | None:
    record = meta.get("trainer")
    if record is None:
        if any(k.startswith("trainer/") for k in arrays):
            raise CheckpointError(path, "trainer arrays are present but no trainer is recorded")
        return None
    if not isinstance(record, dict):
        raise CheckpointError(path, "the trainer record is malformed")
    state = dict(record)
    rng_state = state.get("rng")
    if rng_state is not None:
        try:
            np.random.default_rng().bit_generator.state = dict(rng_state)
        except (TypeError, ValueError, KeyError) as error:
            raise CheckpointError(path, f"the saved random generator state is invalid: {error}") from None
    for key in ("batch_size", "seq_len"):
        value = state.get(key)
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            raise CheckpointError(path, f"the trainer's {key} must be a positive integer, got {value!r}")
    for key in ("clip_norm", "clip_value"):
        value = state.get(key)
        if value is not None and not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
            raise CheckpointError(path, f"the trainer's {key} must be positive or null, got {value!r}")
    positions = arrays.get("trainer/positions")
    if positions is not None:
        if (
            positions.dtype.kind not in "iu"
            or positions.ndim != 1
            or (positions.size and positions.min() < 0)
        ):
            raise CheckpointError(
                path, "the saved text positions must be a 1-D array of non-negative integers"
            )
    state["positions"] = positions
    carried = {k[len("trainer/state/") :]: v for k, v in arrays.items() if k.startswith("trainer/state/")}
    if carried:
        batch = state.get("batch_size") or next(iter(carried.values())).shape[0]
        try:
            model.check_state(carried, int(batch))
        except ValueError as error:
            raise CheckpointError(path, f"the carried state does not fit the model: {error}") from None
        for key, value in carried.items():
            if not np.all(np.isfinite(value)):
                raise CheckpointError(path, f"the carried state {key!r} has non-finite values")
    state["carried_state"] = carried or None
    return state


def _read_vocab(path: str, symbols: Any, config: ModelConfig) -> Any:
    if symbols is None:
        return None
    if not isinstance(symbols, list) or not all(isinstance(s, str) for s in symbols):
        raise CheckpointError(path, "the vocabulary must be a list of strings")
    from rnnscope.engine.tasks import TaskError, Vocabulary

    try:
        vocab = Vocabulary.from_symbols(symbols)
    except TaskError as error:
        raise CheckpointError(path, f"the vocabulary is invalid: {error}") from None
    if vocab.size != config.input_size:
        raise CheckpointError(
            path, f"the vocabulary has {vocab.size} symbols but the model's input_size is {config.input_size}"
        )
    return vocab
