"""The ``meta`` record of a checkpoint, every field checked before any array is read.

:func:`read_records` turns the parsed JSON into a :class:`MetaRecord`: the model
config (sizes bounded, parameter count bounded), the recorded parameter shapes
(which must be the config's), the iteration, the vocabulary, the optimiser (its
name, every hyperparameter and step count, nothing else), the trainer (batch
size, length, clipping, seed, a PCG64 state shaped as NumPy writes it) and the
task (a known name and options of the types its constructor takes). From it,
:func:`expected_entries` says which arrays the archive must (or may) hold, with
their exact shapes and dtypes, so the archive's headers can be checked before
its data is read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.budget import ModelClass, parameter_count, parameter_shapes, state_shapes
from rnnscope.engine.checkpoint.format import (
    FORMAT_NAME,
    FORMAT_VERSION,
    OPTIMIZER,
    PARAM,
    TRAINER_POSITIONS,
    TRAINER_STATE,
    CheckpointError,
)
from rnnscope.engine.checkpoint.model_file import RECORD as MODEL_FILE
from rnnscope.engine.checkpoint.model_file import ModelSource, read_model_source, refuse_without_class
from rnnscope.engine.jsondata import JsonDataError, Record, show
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.tasks import TASK_NAMES, task_defaults
from rnnscope.engine.training import OPTIMIZERS, Optimizer, OptimizerError, build_optimizer

_META_REQUIRED = ("format", "version", "model", "params")
_META_OPTIONAL = ("created", "iteration", "vocab", "optimizer", "trainer", "task", MODEL_FILE)
_TRAINER_FIELDS = ("iteration", "batch_size", "seq_len", "clip_norm", "clip_value", "seed", "rng")
_RNG_FIELDS = ("bit_generator", "state", "has_uint32", "uinteger")
_TASK_TEXT = 50_000_000  # characters of a task's own text (``build_task("chars", text=...)``)


@dataclass(frozen=True)
class Expected:
    """An array the archive may hold: its ``shape`` and ``dtype``, whether it must be there, and what
    it is in words (``"parameter 'Wh'"``)."""

    shape: tuple[int, ...]
    dtype: np.dtype
    required: bool
    what: str

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * self.dtype.itemsize


@dataclass
class MetaRecord:
    """The checked ``meta`` record."""

    version: int
    config: ModelConfig
    iteration: int = 0
    created: str = ""
    vocab: list[str] | None = None
    optimizer: Optimizer | None = None  # built from the recorded hyperparameters
    optimizer_scalars: dict[str, Any] = field(default_factory=dict)
    trainer: dict[str, Any] | None = None
    task_name: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    model_source: ModelSource | None = None  # where a model class of the user's own is defined
    model_class: ModelClass = None  # that class, given by the caller (never by the file)

    def parameter_shapes(self) -> dict[str, tuple[int, ...]]:
        return parameter_shapes(self.config, self.model_class)

    def state_shapes(self, batch: int) -> dict[str, tuple[int, ...]]:
        return state_shapes(self.config, batch, self.model_class)


def read_records(path: str, meta: object, model_class: ModelClass = None) -> MetaRecord:
    """Every field of ``meta`` checked (a :class:`CheckpointError` names the first wrong one).

    ``model_class``: the class of a model of the user's own, which states its shapes; a
    checkpoint that records such a model is refused without it (nothing is imported on a
    file's word).
    """
    try:
        return _read_records(path, meta, model_class)
    except JsonDataError as error:
        raise CheckpointError(path, str(error)) from None


def _read_records(path: str, meta: object, model_class: ModelClass) -> MetaRecord:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT_NAME:
        found = meta.get("format") if isinstance(meta, dict) else None
        raise CheckpointError(path, f"not an rnnscope checkpoint (its format is {show(found)})")
    version = meta.get("version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise CheckpointError(
            path,
            f"written with checkpoint format version {version}; this rnnscope reads up to "
            f"version {FORMAT_VERSION} (update rnnscope)",
        )
    top = Record(meta, "meta", _META_REQUIRED, _META_OPTIONAL)
    config = _model_config(path, meta["model"])
    if model_class is None:
        refuse_without_class(path, meta, config)
    record = MetaRecord(
        version=top.integer("version", 1, FORMAT_VERSION),
        config=_bounded(path, config, model_class),
        model_source=read_model_source(path, meta),
        model_class=model_class,
    )
    _check_params(path, meta["params"], record)
    record.iteration = top.integer("iteration", 0, limits.ITERATIONS.high, default=0)
    record.created = top.string("created", max_length=64) if meta.get("created") is not None else ""
    record.vocab = None if meta.get("vocab") is None else top.symbols("vocab", limits.INPUT.high)
    if meta.get("optimizer") is not None:
        record.optimizer, record.optimizer_scalars = _optimizer(path, meta["optimizer"])
    if meta.get("trainer") is not None:
        record.trainer = _trainer(path, meta["trainer"])
    if meta.get("task") is not None:
        record.task_name, record.task_options = _task(path, meta["task"])
    return record


# ---------------------------------------------------------------------- the model
def _model_config(path: str, value: object) -> ModelConfig:
    if not isinstance(value, dict):
        raise CheckpointError(path, "the checkpoint has no 'model' record (a mapping)")
    try:
        return ModelConfig.from_dict(dict(value))
    except (TypeError, ValueError, OverflowError) as error:
        raise CheckpointError(path, f"the model config is invalid: {error}") from None


def _bounded(path: str, config: ModelConfig, model_class: ModelClass) -> ModelConfig:
    """``config`` when the model it describes has a readable number of parameters."""
    try:
        count = parameter_count(config, model_class)
    except ValueError as error:  # a user's declarations that cannot be resolved for this config
        raise CheckpointError(path, f"the model's shapes cannot be worked out: {error}") from None
    if count > limits.PARAMETERS.high:
        raise CheckpointError(
            path,
            f"the model config declares {count:,} parameters; at most {limits.PARAMETERS.high:,} are read",
        )
    return config


def _check_params(path: str, value: object, record: MetaRecord) -> None:
    """The ``params`` record names exactly the config's parameters, each with its shape and dtype."""
    config = record.config
    shapes = record.parameter_shapes()
    params = Record(value, "params", required=shapes)
    dtype = np.dtype(config.dtype)
    for name, expected in shapes.items():
        entry = Record(params.get(name), f"params.{name}", required=("shape", "dtype"))
        shape = entry.get("shape")
        if not isinstance(shape, list) or tuple(shape) != expected or any(isinstance(n, bool) for n in shape):
            raise CheckpointError(
                path,
                f"parameter {name!r} is recorded with shape "
                f"{show(tuple(shape) if isinstance(shape, list) else shape)}, which does not fit the "
                f"{config.kind} model of the config (it needs {expected})",
            )
        if entry.string("dtype", max_length=16) != dtype.str:
            raise CheckpointError(
                path,
                f"parameter {name!r} is recorded as {show(entry.get('dtype'))}, but the model is {dtype}",
            )


# ---------------------------------------------------------------------- optimiser, trainer, task
def _optimizer(path: str, value: object) -> tuple[Optimizer, dict[str, Any]]:
    """The recorded optimiser, built from its hyperparameters, and its scalars (with the step count ``t``)."""
    record = Record(value, "optimizer", required=("name", "scalars"))
    name = record.string("name", choices=OPTIMIZERS)
    cls = OPTIMIZERS[name]
    scalars = Record(record.get("scalars"), "optimizer.scalars", required=(*cls.HYPER, "t"))
    hyper = {key: scalars.number(key) for key in cls.HYPER}
    steps = scalars.integer("t", 0, limits.ITERATIONS.high)
    try:
        optimizer = build_optimizer(name, **hyper)
    except OptimizerError as error:
        raise CheckpointError(path, f"the optimizer state is invalid: {error}") from None
    return optimizer, {**hyper, "t": steps}


def _trainer(path: str, value: object) -> dict[str, Any]:
    """The trainer's scalars and random generator state (positions and carried state are arrays)."""
    record = Record(value, "trainer", required=_TRAINER_FIELDS)
    return {
        "iteration": record.integer("iteration", 0, limits.ITERATIONS.high),
        "batch_size": record.size("batch_size", limits.BATCH),
        "seq_len": record.size("seq_len", limits.LENGTH),
        "clip_norm": record.positive_or_null("clip_norm"),
        "clip_value": record.positive_or_null("clip_value"),
        "seed": record.size("seed", limits.SEED),
        "rng": _rng_state(path, record.get("rng")),
    }


def _rng_state(path: str, value: object) -> dict[str, Any]:
    """A ``PCG64`` ``bit_generator.state`` as NumPy writes it (128-bit state and increment)."""
    record = Record(value, "trainer.rng", required=_RNG_FIELDS)
    record.string("bit_generator", choices=("PCG64",))
    words = Record(record.get("state"), "trainer.rng.state", required=("state", "inc"))
    state = {
        "bit_generator": "PCG64",
        "state": {key: words.integer(key, 0, 2**128 - 1) for key in ("state", "inc")},
        "has_uint32": record.integer("has_uint32", 0, 1),
        "uinteger": record.integer("uinteger", 0, 2**32 - 1),
    }
    try:
        np.random.default_rng().bit_generator.state = state
    except (TypeError, ValueError, KeyError, OverflowError) as error:
        raise CheckpointError(path, f"trainer.rng is not a state NumPy accepts: {error}") from None
    return state


def _task(path: str, value: object) -> tuple[str, dict[str, Any]]:
    """The task's name and options, each of the type the task's constructor takes."""
    record = Record(value, "task", required=("name",), optional=("options",))
    name = record.string("name", choices=TASK_NAMES)
    defaults = task_defaults(name)
    given = record.get("options")
    options = Record({} if given is None else given, "task.options", optional=defaults)
    return name, {
        key: _task_option(options, key, default) for key, default in defaults.items() if key in options.value
    }


def _task_option(options: Record, key: str, default: Any) -> Any:
    """Option ``key``, checked by its name, or else against the type of its default."""
    if default is None and options.get(key) is None:
        return None
    if key in _NAMED_OPTIONS:
        return _NAMED_OPTIONS[key](options, key)
    if isinstance(default, bool):
        if not isinstance(options.get(key), bool):
            raise options.error(f"{options.field(key)} must be true or false, got {show(options.get(key))}")
        return options.get(key)
    if isinstance(default, int):
        return options.integer(key, 0, limits.LENGTH.high)
    if isinstance(default, float):
        return options.number(key)
    if isinstance(default, str):
        return options.string(key)
    raise options.error(f"{options.field(key)} cannot be read from a checkpoint")


# options checked by name: their defaults (None) do not say what they hold
_NAMED_OPTIONS: dict[str, Callable[[Record, str], Any]] = {
    "seed": lambda options, key: options.size(key, limits.SEED),
    "vocab": lambda options, key: options.symbols(key, limits.INPUT.high),
    "text": lambda options, key: options.string(key, max_length=_TASK_TEXT),
    "path": lambda options, key: options.string(key),
    "corpus": lambda options, key: options.string(key),
}


# ---------------------------------------------------------------------- the arrays
def expected_entries(record: MetaRecord) -> dict[str, Expected]:
    """Every array the archive may hold (``meta`` and ``digest`` aside), by entry name."""
    config = record.config
    dtype = np.dtype(config.dtype)
    shapes = record.parameter_shapes()
    entries = {
        PARAM + name: Expected(shape, dtype, True, f"parameter {name!r}") for name, shape in shapes.items()
    }
    if record.optimizer is not None:
        for slot in record.optimizer.SLOTS:
            for name, shape in shapes.items():
                entry = f"{slot}/{name}"
                entries[OPTIMIZER + entry] = Expected(shape, dtype, False, f"optimizer state {entry!r}")
    if record.trainer is not None:
        batch = record.trainer["batch_size"]
        entries[TRAINER_POSITIONS] = Expected((batch,), np.dtype(np.int64), False, "the text positions")
        for name, shape in record.state_shapes(batch).items():
            entries[TRAINER_STATE + name] = Expected(shape, dtype, False, f"the carried state {name!r}")
    return entries


def check_groups(path: str, record: MetaRecord, present: set[str]) -> None:
    """Optional arrays come in whole groups: each optimiser slot for every parameter (and every slot
    the optimiser fills once it has taken a step), the carried state for every state name."""
    names = list(record.parameter_shapes())
    if record.optimizer is not None:
        optimizer = record.optimizer
        for slot in optimizer.SLOTS:
            have = [n for n in names if f"{OPTIMIZER}{slot}/{n}" in present]
            needed = slot in optimizer.active_slots() and record.optimizer_scalars["t"] > 0
            if (have or needed) and len(have) != len(names):
                lacking = [n for n in names if n not in have]
                raise CheckpointError(
                    path,
                    f"the {optimizer.name} optimizer state lacks {slot!r} for {lacking} "
                    f"(after {record.optimizer_scalars['t']} step(s) every parameter has one)",
                )
    if record.trainer is not None:
        state = list(record.state_shapes(record.trainer["batch_size"]))
        have = [n for n in state if TRAINER_STATE + n in present]
        if not have and TRAINER_POSITIONS in present and record.trainer["iteration"] > 0:
            raise CheckpointError(
                path, "the carried state is missing (a text run past iteration 0 always carries one)"
            )
        if have and len(have) != len(state):
            raise CheckpointError(
                path, f"the carried state lacks {[n for n in state if n not in have]} (it has {have})"
            )
