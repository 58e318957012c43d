"""Tasks: the data a model is stepped through, checked on and trained on.

``build_task(name, **options)`` makes one of :data:`TASK_NAMES`:

- ``chars``: next character of a text (``softmax_ce``); options ``corpus``,
  ``path``, ``text``, ``vocab``.
- ``copy``: reproduce bit vectors after a delimiter (``sigmoid_bce``); ``bits``,
  ``min_length``, ``max_length``.
- ``repeat_copy``: reproduce them ``R`` times, then signal the end
  (``sigmoid_bce``); also ``min_repeats``, ``max_repeats``.
- ``recall``: associative recall of bit-vector items (``sigmoid_bce``); ``bits``,
  ``item_length``, ``min_items``, ``max_items``.
- ``sine``: next clean sin/cos value from noisy ones (``mse``); ``length``,
  ``noise``, ``min_period``, ``max_period``.
- ``sentiment``: positive or negative, from a short sentence (``softmax_ce``,
  many-to-one); ``split``.

Every task also takes ``seed`` (its own generator, used when ``rng=None``).
See ``docs/tasks.md`` for the layouts of the sequences.
"""

from __future__ import annotations

from typing import Any

from rnnscope.engine.tasks.base import Batch, Task, TaskError
from rnnscope.engine.tasks.text import (
    CORPORA,
    DEFAULT_CORPUS,
    CharTask,
    Vocabulary,
    VocabularyError,
    bits_per_character,
    generate_characters,
    sample_text,
    uniform_bits_per_character,
)

TASK_NAMES = ("chars", "copy", "repeat_copy", "recall", "sine", "sentiment")

__all__ = [
    "CORPORA",
    "DEFAULT_CORPUS",
    "TASK_NAMES",
    "Batch",
    "CharTask",
    "Task",
    "TaskError",
    "Vocabulary",
    "VocabularyError",
    "bits_per_character",
    "build_task",
    "generate_characters",
    "task_defaults",
    "sample_text",
    "uniform_bits_per_character",
]


def _task_class(name: str) -> type[Task]:
    if name == "chars":
        return CharTask
    if name in ("copy", "repeat_copy", "recall", "sine"):
        from rnnscope.engine.tasks import synthetic

        return {
            "copy": synthetic.CopyTask,
            "repeat_copy": synthetic.RepeatCopyTask,
            "recall": synthetic.RecallTask,
            "sine": synthetic.SineTask,
        }[name]
    if name == "sentiment":
        from rnnscope.engine.tasks.sentiment import SentimentTask

        return SentimentTask
    raise TaskError(f"unknown task {name!r}; choose one of {TASK_NAMES}")


def task_defaults(name: str) -> dict[str, Any]:
    """The options of task ``name`` and their default values (for a settings dialog or ``--help``)."""
    import inspect

    parameters = inspect.signature(_task_class(name).__init__).parameters
    return {key: p.default for key, p in parameters.items() if key != "self"}


def build_task(name: str, **options: Any) -> Task:
    """The task ``name`` (one of :data:`TASK_NAMES`) built with ``options``.

    Unknown options are an error naming them; ``task.options`` holds the
    options that rebuild the same task (e.g. from a checkpoint).
    """
    cls = _task_class(name)
    try:
        return cls(**options)
    except TypeError:
        import inspect

        accepted = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
        unknown = sorted(set(options) - set(accepted))
        if unknown:
            raise TaskError(f"task {name!r} has no option(s) {unknown}; it accepts {accepted}") from None
        raise
