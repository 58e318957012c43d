"""Task names to task classes: :func:`build_task` and :func:`task_defaults` (the one list of tasks)."""

from __future__ import annotations

import inspect
from typing import Any

from rnnscope.engine.tasks.base import Task, TaskError
from rnnscope.engine.tasks.chars import CharTask
from rnnscope.engine.tasks.sentiment import SentimentTask
from rnnscope.engine.tasks.synthetic import CopyTask, RecallTask, RepeatCopyTask, SineTask

TASK_CLASSES: dict[str, type[Task]] = {
    "chars": CharTask,
    "copy": CopyTask,
    "repeat_copy": RepeatCopyTask,
    "recall": RecallTask,
    "sine": SineTask,
    "sentiment": SentimentTask,
}
TASK_NAMES = tuple(TASK_CLASSES)


def _task_class(name: str) -> type[Task]:
    if name not in TASK_CLASSES:
        raise TaskError(f"unknown task {name!r}; choose one of {TASK_NAMES}")
    return TASK_CLASSES[name]


def _options_of(cls: type[Task]) -> dict[str, inspect.Parameter]:
    """The keyword arguments of the task class's constructor, by name."""
    return {key: p for key, p in inspect.signature(cls.__init__).parameters.items() if key != "self"}


def task_defaults(name: str) -> dict[str, Any]:
    """The options of task ``name`` and their default values (for a settings dialog or ``--help``)."""
    return {key: p.default for key, p in _options_of(_task_class(name)).items()}


def build_task(name: str, **options: Any) -> Task:
    """The task ``name`` (one of :data:`TASK_NAMES`) built with ``options``.

    Unknown options are an error naming them; ``task.options`` holds the
    options that rebuild the same task (e.g. from a checkpoint).
    """
    cls = _task_class(name)
    try:
        return cls(**options)
    except TypeError:
        accepted = list(_options_of(cls))
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise TaskError(f"task {name!r} has no option(s) {unknown}; it accepts {accepted}") from None
        raise
