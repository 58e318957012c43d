"""What the window shows, computed without Qt: model + task + sequence -> trace.

The window only displays a :class:`Session`; building one is plain NumPy work,
so it can run on a worker thread (:mod:`rnnscope.app.trace_worker`) and be
tested headless. The model kinds, tasks and corpora are the engine's
(:data:`rnnscope.engine.models.base.MODEL_KINDS`, :data:`rnnscope.engine.tasks.TASK_NAMES`,
:data:`rnnscope.engine.tasks.CORPORA`); this module adds only what the window
picks by default.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rnnscope.engine.checkpoint.model_file import source_of
from rnnscope.engine.gradflow import trace_with_gradient_flow
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import CUSTOM_KIND, STACKED_KINDS, ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.protocol import check_model, user_code
from rnnscope.engine.tasks import TASK_NAMES, Batch, Task, build_task
from rnnscope.engine.tasks.chars import CharTask
from rnnscope.engine.trace import Trace
from rnnscope.options import ModelChoice, OptionError

# the shared defaults (rnnscope/options.py): what `rnnscope gradcheck` and `rnnscope train` build too
_DEFAULT = ModelConfig("lstm", 1, 1, 1)

TEXT_TASKS = ("chars", "sentiment")  # tasks that take typed text
# what "length" means per task and its default in the window: characters (chars), steps (sine),
# items to copy (copy, repeat_copy), items to store (recall); a sentiment sample is one whole
# sentence (None: the task's own length)
TASK_LENGTHS: dict[str, int | None] = {
    "chars": 60,
    "sine": 50,
    "copy": 6,
    "repeat_copy": 3,
    "recall": 4,
    "sentiment": None,
}  # tests/app/test_session.py checks there is one for every task of the engine


@dataclass
class SessionSpec:
    """Everything a user picks: the window rebuilds the session from this."""

    model: str = "lstm"
    task: str = "chars"
    hidden: int = 64
    seed: int = 0
    length: int = 60  # the task's variable length (see TASK_LENGTHS)
    text: str | None = None  # typed sequence (character tasks)
    text_file: str | None = None  # a corpus file for the chars task (wins over ``corpus``)
    corpus: str = "lighthouse"  # a shipped corpus for the chars task
    slots: int = _DEFAULT.memory_slots
    width: int = _DEFAULT.memory_width
    read_heads: int = _DEFAULT.read_heads
    layers: int = 1  # stacked recurrent layers (RNN, LSTM, GRU)
    embedding: int = 0  # width of an embedding table in front of the first layer (0: one-hot inputs)
    loss: str | None = None  # None: the task's
    many_to_one: bool | None = None  # None: the task's
    forget_bias: float = _DEFAULT.forget_bias  # LSTM and the DNC's controller
    gru_convention: str = "cho"  # GRU: "cho" or "pytorch" (options.GRU_CONVENTIONS)
    dtype: str = _DEFAULT.dtype
    model_file: str | None = None  # "path.py:Class" of a model of the user's own (``model`` is "custom")


@dataclass(frozen=True)
class OwnClass:
    """A model class of the user's own that the window builds fresh models of (``model == "custom"``):
    loaded from a file (``folder`` is where it lies, for tracebacks trimmed to the user's frames) or
    the class of a live model shown from a script."""

    model_class: type[RecurrentModel]
    folder: str | None = None

    @property
    def name(self) -> str:
        return self.model_class.__name__

    def build(self, config: ModelConfig) -> RecurrentModel:
        """A fresh model of the class; an exception in the user's code is a ``UserCodeError``."""
        with user_code([self.folder] if self.folder else []):
            return self.model_class(config)


@dataclass
class Session:
    """A traced model. ``trace`` probes are ``(T, B=1, ...)``; labels are one string per step."""

    model: RecurrentModel
    task: Task
    batch: Batch  # inputs (T, 1, D), targets, mask (T, 1)
    trace: Trace
    input_labels: list[str]
    target_labels: list[str]
    notes: list[str] = field(default_factory=list)
    spec: SessionSpec | None = None  # what the user picked (None for a model shown from elsewhere)


def own_class_of(model: RecurrentModel) -> OwnClass | None:
    """The user's class of ``model`` (kind ``"custom"``, or loaded from a model file), else ``None``."""
    source = source_of(model)
    if source is None and model.kind != CUSTOM_KIND:
        return None
    return OwnClass(type(model), os.path.dirname(source.path) if source is not None else None)


def model_file_of(model: RecurrentModel) -> str | None:
    """``"path.py:Class"`` of the file ``model``'s class was loaded from (``None``: no such file)."""
    source = source_of(model)
    return source.spec if source is not None else None


def with_overrides(spec: SessionSpec, overrides: Mapping[str, Any]) -> SessionSpec:
    """``spec`` with ``overrides`` (command-line options) applied; another task without a length
    starts at that task's own default length."""
    changes = dict(overrides)
    if "task" in changes and "length" not in changes and changes["task"] != spec.task:
        changes["length"] = TASK_LENGTHS.get(changes["task"]) or spec.length
    return replace(spec, **changes)


def spec_for_model(
    spec: SessionSpec,
    config: ModelConfig,
    task: Task | None = None,
    shown_task: Task | None = None,
    model_file: str | None = None,
) -> SessionSpec:
    """``spec`` following a model shown from elsewhere (training weights, a checkpoint, an import): its
    kind, sizes, layers, embedding and every other option of its config; with another ``task``, that
    task's name, default length and text source.

    A loss or many-to-one that is the task's own (``task``, else ``shown_task``: the task the model
    is shown on) stays "the task's"; ``model_file`` is where a model of the user's own is defined.
    """
    scored_by = task or shown_task
    own_loss = scored_by is not None and config.loss == scored_by.loss
    own_scoring = scored_by is not None and config.many_to_one == scored_by.many_to_one
    new = replace(
        spec,
        model=config.kind,
        hidden=config.hidden_size,
        layers=config.num_layers,
        embedding=config.embedding_size,
        forget_bias=config.forget_bias,
        gru_convention="pytorch" if config.reset_after else "cho",
        dtype=config.dtype,
        loss=None if own_loss else config.loss,
        many_to_one=None if own_scoring else config.many_to_one,
        model_file=model_file if config.kind == CUSTOM_KIND else None,
    )
    if config.kind == "dnc":
        new.slots, new.width, new.read_heads = config.memory_slots, config.memory_width, config.read_heads
    if task is None:
        return new
    if task.name != new.task and task.name in TASK_NAMES:
        new.task, new.text = task.name, None
        new.length = TASK_LENGTHS.get(task.name) or new.length
    if isinstance(task, CharTask) and new.length >= task.length:
        new.length = max(task.length - 1, 1)  # a short text (an import's vocabulary): all of it
    options = task.options
    if new.task == "chars" and ("path" in options or "corpus" in options):
        new.text_file = options.get("path")
        new.corpus = options.get("corpus", new.corpus)
    return new


def build_task_for(spec: SessionSpec) -> Task:
    if spec.task == "chars":
        if spec.text_file:
            return build_task("chars", path=spec.text_file)
        return build_task("chars", corpus=spec.corpus)
    return build_task(spec.task)


def model_choice(spec: SessionSpec) -> ModelChoice:
    """The shared model options of ``spec`` (:class:`~rnnscope.options.ModelChoice`) that its kind
    has: the window keeps every field, but a GRU convention means nothing to an LSTM."""
    kind = spec.model

    def having(value: Any, *kinds: str) -> Any:
        return value if kind == CUSTOM_KIND or kind in kinds else None

    return ModelChoice(
        model=kind,
        hidden=spec.hidden,
        seed=spec.seed,
        loss=spec.loss,
        many_to_one=spec.many_to_one,
        forget_bias=having(spec.forget_bias, "lstm", "dnc"),
        gru_convention=having(spec.gru_convention, "gru"),
        dtype=spec.dtype,
        slots=having(spec.slots, "dnc"),
        width=having(spec.width, "dnc"),
        read_heads=having(spec.read_heads, "dnc"),
        layers=having(spec.layers, *STACKED_KINDS),
        embedding=spec.embedding,
    )


def config_for(spec: SessionSpec, task: Task, own: OwnClass | None = None) -> ModelConfig:
    """The config of ``spec``'s model for ``task``, made from the same options as the commands make
    it (:meth:`ModelChoice.config_for`): an :class:`~rnnscope.options.OptionError` (or another
    ``ValueError``) names the option that does not fit."""
    kind = own.model_class.kind if spec.model == CUSTOM_KIND and own is not None else None
    return model_choice(spec).config_for(task, kind=kind)


def options_problem(spec: SessionSpec, task: Task, own: OwnClass | None = None) -> str | None:
    """What is wrong with ``spec``'s model options for ``task`` (``None``: nothing)."""
    try:
        config_for(spec, task, own)
    except (OptionError, ValueError) as error:
        return str(error)
    return None


def build_model_for(
    spec: SessionSpec, task: Task, own: OwnClass | None = None
) -> tuple[RecurrentModel, list[str]]:
    """The model of ``spec`` sized for ``task``, with notes for the user (none so far); a model of
    the user's own (``spec.model == "custom"``) is built by ``own``'s class."""
    if spec.model != CUSTOM_KIND:
        return build_model(config_for(spec, task)), []
    if own is None:
        raise ValueError("no model class of your own is open (File > Open model file...)")
    return own.build(config_for(spec, task, own)), []


def sequence_for(spec: SessionSpec, task: Task) -> Batch:
    """The batch of one to trace: the typed text if any, otherwise a sample drawn with the seed."""
    if spec.text and spec.task in TEXT_TASKS:
        return task.encode_text(spec.text)  # VocabularyError names a bad character
    rng = np.random.default_rng(spec.seed)
    if TASK_LENGTHS.get(spec.task, 1) is None:
        return task.sample(1, rng)  # the task's own length
    return task.sample(1, rng, spec.length)


def trace_session(
    model: RecurrentModel,
    task: Task,
    batch: Batch,
    notes: list[str] | None = None,
    own: OwnClass | None = None,
) -> Session:
    """Forward + backward with every probe recorded (``grad/hidden_norm``, ``grad/hidden`` and
    ``grad/cell`` included); an exception in
    the code of a user's model (of ``own``'s folder) is a ``UserCodeError`` with the user's frames."""
    folders = [own.folder] if own is not None and own.folder else []
    # NaN weights must give a trace, which the window then reports
    with np.errstate(all="ignore"), user_code(folders):
        if own is not None:  # a value of the wrong shape is named before anything relies on it
            check_model(model, batch.inputs, batch.targets, batch.mask)
        trace, _, _ = trace_with_gradient_flow(model, batch.inputs, batch.targets, batch.mask)
    try:
        inputs, targets = task.step_labels(batch, 0)
    except Exception:  # labels are a nicety: a task that cannot name its steps still shows its trace
        inputs = targets = [""] * batch.steps
    return Session(model, task, batch, trace, list(inputs), list(targets), list(notes or []))


def session_of_model(
    model: RecurrentModel,
    task: Task | None,
    batch: Batch | None,
    spec: SessionSpec,
    own: OwnClass | None = None,
) -> Session:
    """``model`` traced on ``batch`` of ``task`` (a fresh sequence of ``spec`` when ``batch`` is None):
    a model shown from elsewhere (training weights, a checkpoint, a reloaded model file)."""
    if task is None:
        raise ValueError("there is no task to show the model on yet")
    batch = batch if batch is not None else sequence_for(spec, task)
    session = trace_session(model, task, batch, own=own)
    session.spec = spec
    return session


def build_session(spec: SessionSpec, own: OwnClass | None = None) -> Session:
    """Task, model and sequence of ``spec``, traced (plain NumPy: safe on a worker thread); ``own``
    builds a model of the user's own."""
    task = build_task_for(spec)
    model, notes = build_model_for(spec, task, own)
    session = trace_session(model, task, sequence_for(spec, task), notes, own)
    session.spec = spec
    return session


def same_batch(a: Batch, b: Batch) -> bool:
    """The same sequence: the same batch, or one with equal inputs, targets and mask."""
    if a is b:
        return True
    return all(
        np.array_equal(x, y, equal_nan=True)
        for x, y in ((a.inputs, b.inputs), (a.targets, b.targets), (a.mask, b.mask))
    )
