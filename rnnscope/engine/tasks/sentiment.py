"""Sentence sentiment: many-to-one classification of short sentences, read one character at a time.

The data is ``data/sentiment.tsv`` (written for this project): a header line
``label<TAB>sentence`` and 280 lines, each ``positive`` or ``negative``, a tab
and a short lower-case sentence. Lines come in pairs (a positive sentence and
its negative counterpart); every fifth pair is held out as the ``test`` split.

Each sentence becomes a sequence of one-hot characters (``D = V``). Only the
last step is scored (``many_to_one``, ``softmax_ce`` over the 2 classes), so
sentences of a batch are **left-padded** with zero input vectors: every row
ends on the last step, the step the loss reads. ``mask`` is 1 on real
characters and 0 on padding (the head zeroes all but the last step anyway).
``targets`` holds the class at every step (0 = negative, 1 = positive), so the
views can show it; only the last step counts. Padding is not invisible to a
model: its state evolves over the zero inputs from the zero initial state, so
a padded sentence gives (slightly) different outputs from the unpadded one.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from rnnscope.engine.tasks.base import Batch, Task, TaskError, as_generator, check_positive_int
from rnnscope.engine.tasks.corpus import data_dir, read_corpus
from rnnscope.engine.tasks.vocabulary import Vocabulary

CLASSES = ("negative", "positive")
SPLITS = ("train", "test", "all")
HELD_OUT_EVERY = 5  # every fifth pair of lines is the test split


def load_sentences(path: str | os.PathLike[str]) -> list[tuple[str, int]]:
    """``(sentence, class index)`` for every line of a sentiment TSV file, in file order."""
    text = read_corpus(path)
    lines = text.splitlines()
    if lines and lines[0].strip().lower() == "label\tsentence":
        lines = lines[1:]
        first_line = 2
    else:
        first_line = 1
    examples = []
    for number, line in enumerate(lines, start=first_line):
        if not line.strip():
            continue
        label, tab, sentence = line.partition("\t")
        if not tab:
            raise TaskError(f"{path}: line {number} has no tab between the label and the sentence")
        label = label.strip().lower()
        if label not in CLASSES:
            raise TaskError(f"{path}: line {number} has label {label!r}; labels are {CLASSES}")
        if not sentence.strip():
            raise TaskError(f"{path}: line {number} has an empty sentence")
        examples.append((sentence, CLASSES.index(label)))
    if not examples:
        raise TaskError(f"{path} has no labelled sentences")
    found = {label for _, label in examples}
    if len(found) < 2:
        raise TaskError(f"{path} has only {CLASSES[found.pop()]!r} sentences; both classes are needed")
    return examples


class SentimentTask(Task):
    """Positive or negative, from the characters of a sentence (many-to-one). ``length`` pads to ``T``."""

    name = "sentiment"
    loss = "softmax_ce"
    many_to_one = True

    def __init__(
        self, split: str = "train", path: str | os.PathLike[str] | None = None, seed: int = 0
    ) -> None:
        super().__init__(seed)
        if split not in SPLITS:
            raise TaskError(f"unknown split {split!r}; choose one of {SPLITS}")
        self.split = split
        self.path = Path(path) if path is not None else data_dir() / "sentiment.tsv"
        every = load_sentences(self.path)
        # The vocabulary covers every split, so train and test models share it.
        self.vocab = Vocabulary("".join(sentence for sentence, _ in every))
        if split == "all":
            chosen = every
        else:
            held_out = [(i // 2) % HELD_OUT_EVERY == HELD_OUT_EVERY - 1 for i in range(len(every))]
            chosen = [ex for ex, out in zip(every, held_out, strict=True) if out == (split == "test")]
        if not chosen:
            raise TaskError(f"the {split!r} split of {self.path} is empty")
        self.examples: list[tuple[str, int]] = chosen
        self._encoded = [self.vocab.encode(sentence) for sentence, _ in chosen]
        self._labels = np.array([label for _, label in chosen], dtype=np.int64)
        self.input_size = self.vocab.size
        self.output_size = len(CLASSES)
        self.input_names = self.vocab.labels()
        self.output_names = CLASSES
        self.default_length = None
        self.options = {"split": split, "seed": self.seed}
        if path is not None:
            self.options["path"] = str(path)
        self.description = (
            f"sentiment of short sentences ({split} split: {len(chosen)} sentences, "
            f"{self.vocab.size} symbols)"
        )

    def __len__(self) -> int:
        return len(self.examples)

    def max_steps(self, length: int | None = None) -> int:
        return length or max(len(sequence) for sequence in self._encoded)

    def _batch(self, sequences: list[np.ndarray], labels: np.ndarray, length: int | None) -> Batch:
        steps = max(s.shape[0] for s in sequences) if length is None else length
        batch_size = len(sequences)
        inputs = np.zeros((steps, batch_size, self.input_size))
        mask = np.zeros((steps, batch_size))
        for row, ids in enumerate(sequences):
            ids = ids[-steps:]  # a sentence longer than a fixed length keeps its end
            start = steps - ids.shape[0]
            inputs[np.arange(start, steps), row, ids] = 1.0
            mask[start:, row] = 1.0
        targets = np.broadcast_to(labels, (steps, batch_size)).astype(np.int64)
        return Batch(inputs, targets, mask)

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        """``batch_size`` sentences drawn with replacement, left-padded to the longest (or to ``length``)."""
        batch_size = self.check_batch_size(batch_size)
        if length is not None:
            length = check_positive_int("length", length)
        generator = as_generator(rng, self.rng)
        chosen = generator.integers(0, len(self.examples), size=batch_size)
        return self.batch_of(chosen, length)

    def batch_of(self, indices: Any, length: int | None = None) -> Batch:
        """The sentences ``indices`` of this split, in that order, as one left-padded batch."""
        indices = np.asarray(indices, dtype=np.int64).ravel()
        if indices.size == 0:
            raise TaskError("batch_of needs at least one sentence index")
        if indices.min() < 0 or indices.max() >= len(self.examples):
            raise TaskError(f"sentence indices must lie in 0..{len(self.examples) - 1}")
        return self._batch([self._encoded[i] for i in indices], self._labels[indices], length)

    def encode_text(self, text: str, label: int | str = "positive") -> Batch:
        """A typed sentence as a batch of one; ``label`` (index or name) is its target."""
        if not isinstance(text, str):
            raise TaskError(f"encode_text needs a str, got {type(text).__name__}")
        if not text:
            raise TaskError("the text is empty; type at least one character")
        if isinstance(label, str):
            if label not in CLASSES:
                raise TaskError(f"unknown label {label!r}; labels are {CLASSES}")
            label = CLASSES.index(label)
        elif label not in (0, 1):
            raise TaskError(f"label must be 0, 1 or one of {CLASSES}, got {label!r}")
        return self._batch([self.vocab.encode(text)], np.array([label], dtype=np.int64), None)

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        """Input characters (blank on padding); the class name on the last (scored) step only."""
        labels = self.vocab.labels()
        inputs = batch.inputs[:, row]
        input_labels = [labels[int(x.argmax())] if x.max() > 0 else "" for x in inputs]
        target_labels = [""] * batch.steps
        target_labels[-1] = CLASSES[int(batch.targets[-1, row])]
        return input_labels, target_labels

    def accuracy(self, probs: np.ndarray, batch: Batch) -> float:
        """Fraction of rows whose last-step prediction ``probs`` ``(T, B, 2)`` is the right class."""
        predicted = np.asarray(probs)[-1].argmax(axis=-1)
        return float(np.mean(predicted == batch.targets[-1]))
