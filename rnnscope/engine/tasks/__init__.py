"""Tasks: the data a model is stepped through, checked on and trained on.

``build_task(name, **options)`` makes one of :data:`TASK_NAMES`:

- ``chars``: next character of a text (``softmax_ce``); options ``corpus``,
  ``path``, ``text``, ``vocab``, ``split``, ``valid_fraction``.
- ``copy``: reproduce bit vectors after a delimiter (``sigmoid_bce``); ``bits``,
  ``min_length``, ``max_length``.
- ``repeat_copy``: reproduce them ``R`` times, then signal the end
  (``sigmoid_bce``); also ``min_repeats``, ``max_repeats``.
- ``recall``: associative recall of bit-vector items (``sigmoid_bce``); ``bits``,
  ``item_length``, ``min_items``, ``max_items``.
- ``sine``: next clean sin/cos value from noisy ones (``mse``); ``length``,
  ``noise``, ``min_period``, ``max_period``.
- ``sentiment``: positive or negative, from a short sentence (``softmax_ce``,
  many-to-one); ``split``, ``path``.

Every task also takes ``seed`` (its own generator, used when ``rng=None``).
See ``docs/tasks.md`` for the layouts of the sequences.

The modules: ``base`` (:class:`Task`, :class:`Batch`, :class:`TaskError`),
``registry`` (names to classes), ``corpus`` (finding and reading texts),
``vocabulary``, ``chars`` (the character task), ``sampling`` (generating text,
bits per character), ``synthetic`` and ``sentiment``.
"""

from __future__ import annotations

from rnnscope.engine.tasks.base import Batch, Task, TaskError
from rnnscope.engine.tasks.chars import CHAR_SPLITS, CharTask
from rnnscope.engine.tasks.corpus import CORPORA, DEFAULT_CORPUS, corpus_path, data_dir, read_corpus
from rnnscope.engine.tasks.registry import TASK_CLASSES, TASK_NAMES, build_task, task_defaults
from rnnscope.engine.tasks.sampling import (
    bits_per_character,
    generate_characters,
    sample_text,
    uniform_bits_per_character,
)
from rnnscope.engine.tasks.vocabulary import Vocabulary, VocabularyError, visible_symbol

__all__ = [
    "CHAR_SPLITS",
    "CORPORA",
    "DEFAULT_CORPUS",
    "TASK_CLASSES",
    "TASK_NAMES",
    "Batch",
    "CharTask",
    "Task",
    "TaskError",
    "Vocabulary",
    "VocabularyError",
    "bits_per_character",
    "build_task",
    "corpus_path",
    "data_dir",
    "generate_characters",
    "read_corpus",
    "sample_text",
    "task_defaults",
    "uniform_bits_per_character",
    "visible_symbol",
]
