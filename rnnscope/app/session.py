"""What the window shows, computed without Qt: model + task + sequence -> trace.

The window only displays a :class:`Session`; building one is plain NumPy work,
so it can run on a worker thread (:mod:`rnnscope.app.trace_worker`) and be
tested headless.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscope.engine.trace import Trace

MODEL_KINDS = ("rnn", "lstm", "gru", "dnc")
TASKS = ("chars", "copy", "repeat_copy", "recall", "sine", "sentiment")
CORPORA = ("lighthouse", "arithmetic", "toycode")
TEXT_TASKS = ("chars", "sentiment")  # tasks that take typed text
# what "length" means per task and its default: characters (chars), steps (sine), items to copy
# (copy, repeat_copy), items to store (recall); a sentiment sample is one whole sentence
TASK_LENGTHS: dict[str, int | None] = {
    "chars": 60,
    "sine": 50,
    "copy": 6,
    "repeat_copy": 3,
    "recall": 4,
    "sentiment": None,
}


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

    model: Any
    task: Any
    batch: Any
    trace: Trace
    input_labels: list[str]
    target_labels: list[str]
    notes: list[str] = field(default_factory=list)
    spec: SessionSpec | None = None  # what the user picked (None for a model shown from elsewhere)


def build_task_for(spec: SessionSpec) -> Any:
    from rnnscope.engine.tasks import build_task

    if spec.task == "chars":
        if spec.text_file:
            return build_task("chars", path=spec.text_file)
        return build_task("chars", corpus=spec.corpus)
    return build_task(spec.task)


def build_model_for(spec: SessionSpec, task: Any) -> tuple[Any, list[str]]:
    """The model of ``spec`` sized for ``task``, with notes for the user (none so far)."""
    from rnnscope.engine.models.registry import build_model

    overrides: dict[str, Any] = {"seed": spec.seed}
    if spec.model == "dnc":
        overrides.update(memory_slots=spec.slots, memory_width=spec.width, read_heads=spec.read_heads)
    return build_model(task.model_config(spec.model, spec.hidden, **overrides)), []


def sequence_for(spec: SessionSpec, task: Any) -> Any:
    """The batch of one to trace: the typed text if any, otherwise a sample drawn with the seed."""
    if spec.text and spec.task in TEXT_TASKS:
        return task.encode_text(spec.text)  # VocabularyError names a bad character
    rng = np.random.default_rng(spec.seed)
    if TASK_LENGTHS.get(spec.task, 1) is None:
        return task.sample(1, rng)  # the task's own length
    return task.sample(1, rng, spec.length)


def trace_session(model: Any, task: Any, batch: Any, notes: list[str] | None = None) -> Session:
    """Forward + backward with every probe recorded (``grad/hidden_norm`` included)."""
    from rnnscope.engine.models.base import trace_with_gradients

    with np.errstate(all="ignore"):  # NaN weights must give a trace, which the window then reports
        trace, _, _ = trace_with_gradients(model, batch.inputs, batch.targets, batch.mask)
    try:
        inputs, targets = task.step_labels(batch, 0)
    except Exception:
        inputs = targets = [""] * batch.steps
    return Session(model, task, batch, trace, list(inputs), list(targets), list(notes or []))


def build_session(spec: SessionSpec) -> Session:
    """Task, model and sequence of ``spec``, traced (plain NumPy: safe on a worker thread)."""
    task = build_task_for(spec)
    model, notes = build_model_for(spec, task)
    session = trace_session(model, task, sequence_for(spec, task), notes)
    session.spec = spec
    return session
