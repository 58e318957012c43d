"""What the window shows, computed without Qt: model + task + sequence -> trace.

The window only displays a :class:`Session`; building one is plain NumPy work,
so it can run on a worker thread (:mod:`rnnscope.app.trace_worker`) and be
tested headless. The model kinds, tasks and corpora are the engine's
(:data:`rnnscope.engine.models.base.MODEL_KINDS`, :data:`rnnscope.engine.tasks.TASK_NAMES`,
:data:`rnnscope.engine.tasks.CORPORA`); this module adds only what the window
picks by default.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rnnscope.engine.models.base import RecurrentModel, trace_with_gradients
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import TASK_NAMES, Batch, Task, build_task
from rnnscope.engine.trace import NonFinite, Trace

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
    slots: int = 16
    width: int = 8
    read_heads: int = 2


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


def with_overrides(spec: SessionSpec, overrides: Mapping[str, Any]) -> SessionSpec:
    """``spec`` with ``overrides`` (command-line options) applied; another task without a length
    starts at that task's own default length."""
    changes = dict(overrides)
    if "task" in changes and "length" not in changes and changes["task"] != spec.task:
        changes["length"] = TASK_LENGTHS.get(changes["task"]) or spec.length
    return replace(spec, **changes)


def spec_for_model(spec: SessionSpec, config: ModelConfig, task: Task | None = None) -> SessionSpec:
    """``spec`` following a model shown from elsewhere (training weights, a checkpoint): its kind
    and sizes; with another ``task``, that task's name, default length and text source."""
    new = replace(spec, model=config.kind, hidden=config.hidden_size)
    if config.kind == "dnc":
        new.slots, new.width, new.read_heads = config.memory_slots, config.memory_width, config.read_heads
    if task is None:
        return new
    if task.name != new.task and task.name in TASK_NAMES:
        new.task, new.text = task.name, None
        new.length = TASK_LENGTHS.get(task.name) or new.length
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


def build_model_for(spec: SessionSpec, task: Task) -> tuple[RecurrentModel, list[str]]:
    """The model of ``spec`` sized for ``task``, with notes for the user (none so far)."""
    overrides: dict[str, Any] = {"seed": spec.seed}
    if spec.model == "dnc":
        overrides.update(memory_slots=spec.slots, memory_width=spec.width, read_heads=spec.read_heads)
    return build_model(task.model_config(spec.model, spec.hidden, **overrides)), []


def sequence_for(spec: SessionSpec, task: Task) -> Batch:
    """The batch of one to trace: the typed text if any, otherwise a sample drawn with the seed."""
    if spec.text and spec.task in TEXT_TASKS:
        return task.encode_text(spec.text)  # VocabularyError names a bad character
    rng = np.random.default_rng(spec.seed)
    if TASK_LENGTHS.get(spec.task, 1) is None:
        return task.sample(1, rng)  # the task's own length
    return task.sample(1, rng, spec.length)


def trace_session(model: RecurrentModel, task: Task, batch: Batch, notes: list[str] | None = None) -> Session:
    """Forward + backward with every probe recorded (``grad/hidden_norm`` included)."""
    with np.errstate(all="ignore"):  # NaN weights must give a trace, which the window then reports
        trace, _, _ = trace_with_gradients(model, batch.inputs, batch.targets, batch.mask)
    try:
        inputs, targets = task.step_labels(batch, 0)
    except Exception:  # labels are a nicety: a task that cannot name its steps still shows its trace
        inputs = targets = [""] * batch.steps
    return Session(model, task, batch, trace, list(inputs), list(targets), list(notes or []))


def session_of_model(
    model: RecurrentModel, task: Task | None, batch: Batch | None, spec: SessionSpec
) -> Session:
    """``model`` traced on ``batch`` of ``task`` (a fresh sequence of ``spec`` when ``batch`` is None):
    a model shown from elsewhere (training weights, a checkpoint)."""
    if task is None:
        raise ValueError("there is no task to show the model on yet")
    session = trace_session(model, task, batch if batch is not None else sequence_for(spec, task))
    session.spec = spec
    return session


def build_session(spec: SessionSpec) -> Session:
    """Task, model and sequence of ``spec``, traced (plain NumPy: safe on a worker thread)."""
    task = build_task_for(spec)
    model, notes = build_model_for(spec, task)
    session = trace_session(model, task, sequence_for(spec, task), notes)
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


def first_nonfinite_forward(trace: Trace) -> NonFinite | None:
    """Where NaN / Inf first appeared, looking at the forward pass before the gradients.

    Gradients run backward in time: one NaN at step t makes ``grad/hidden_norm``
    NaN at every earlier step, which is not where the problem started.
    """
    forward = Trace({n: p for n, p in trace.probes.items() if p.group != "grad"}, trace.model_kind)
    return forward.first_nonfinite() or trace.first_nonfinite()
