"""Character-level language modelling: next-character prediction on a text (the ``chars`` task).

The input at step ``t`` is the one-hot vector of character ``t``; the target is
the index of character ``t + 1`` (``softmax_ce`` head, every step scored).
:meth:`CharTask.sample` draws random windows, :meth:`CharTask.stream` yields
consecutive chunks from ``B`` evenly spaced offsets so a trainer can carry the
state between them (truncated BPTT), :meth:`CharTask.evaluation_stream` reads
the text once for scoring, and :meth:`CharTask.encode_text` turns typed text
into a sequence of one. The text comes from :mod:`~rnnscope.engine.tasks.corpus`,
the vocabulary from :mod:`~rnnscope.engine.tasks.vocabulary`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import numpy as np

from rnnscope.engine.tasks.base import Batch, Task, TaskError, as_generator, check_positive_int
from rnnscope.engine.tasks.corpus import (
    DEFAULT_CORPUS,
    corpus_path,
    corpus_pieces,
    encode_corpus,
    text_pieces,
)
from rnnscope.engine.tasks.sampling import bits_per_character
from rnnscope.engine.tasks.vocabulary import Vocabulary

CHAR_SPLITS = ("all", "train", "valid")


def _check_choices(given: Sequence[tuple[str, object]], split: str, valid_fraction: float) -> None:
    """At most one text source is ``given``; ``split`` and ``valid_fraction`` are valid."""
    named = [name for name, value in given if value is not None]
    if len(named) > 1:
        raise TaskError(f"give at most one of path, text and corpus, got {named}")
    if split not in CHAR_SPLITS:
        raise TaskError(f"unknown split {split!r}; choose one of {CHAR_SPLITS}")
    if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, int | float):
        raise TaskError(f"valid_fraction must be a number, got {valid_fraction!r}")
    if not 0 < valid_fraction < 1:
        raise TaskError(f"valid_fraction must lie strictly between 0 and 1, got {valid_fraction}")


def _source(
    path: str | os.PathLike[str] | None, text: str | None, corpus: str | None
) -> tuple[Callable[[], Iterable[str]], str, dict[str, Any]]:
    """How to read the one source given (its pieces, see :func:`encode_corpus`), where it came from,
    and the option that names it."""
    if text is not None:
        if not isinstance(text, str):
            raise TaskError(f"corpus text must be a str, got {type(text).__name__}")
        return (lambda: text_pieces(text)), "the given text", {"text": text}
    if path is not None:
        return (lambda: corpus_pieces(path)), f"corpus file {str(path)!r}", {"path": str(path)}
    corpus = DEFAULT_CORPUS if corpus is None else corpus
    location = corpus_path(corpus)
    return (lambda: corpus_pieces(location)), f"shipped corpus {corpus!r}", {"corpus": corpus}


def _given_vocabulary(vocab: Vocabulary | Sequence[str] | None) -> Vocabulary | None:
    """A vocabulary given to the task (a checkpoint's), checked; ``None`` when none was."""
    if vocab is None:
        return None
    given = vocab if isinstance(vocab, Vocabulary) else Vocabulary.from_symbols(vocab)
    if given.size < 2:
        raise TaskError(f"a vocabulary needs at least 2 symbols, got {given.size}")
    return given


def _split_window(length: int, split: str, valid_fraction: float) -> slice:
    """The characters of ``split``: the first ``1 - valid_fraction`` (train) or the rest (valid)."""
    cut = int(round(length * (1 - valid_fraction)))
    return slice(0, cut) if split == "train" else slice(cut, None)


class CharTask(Task):
    """Next-character prediction on a text.

    ``build_task("chars")`` uses the shipped corpus ``lighthouse``; ``corpus=``
    picks another shipped one, ``path=`` any UTF-8 file, ``text=`` a string.
    ``vocab`` is the text's vocabulary unless one is given (a checkpoint's),
    in which case every character of the text must be in it.

    ``split`` holds out the end of the text for validation: ``"train"`` is the
    first ``1 - valid_fraction`` of it, ``"valid"`` the rest, ``"all"`` (the
    default) the whole text. The vocabulary always comes from the whole text,
    so models trained on one split can be scored on the other.

    ``data`` is the text's indices ``(N,)`` in the vocabulary's ``index_dtype``
    (``uint8`` for up to 256 symbols: a file is streamed into it, see
    :func:`~rnnscope.engine.tasks.corpus.encode_corpus`), ``length`` is ``N`` and
    ``text`` decodes ``data`` back (on each use).
    """

    name = "chars"
    loss = "softmax_ce"
    many_to_one = False
    carries_state = True
    default_length = 25

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        text: str | None = None,
        corpus: str | None = None,
        vocab: Vocabulary | Sequence[str] | None = None,
        split: str = "all",
        valid_fraction: float = 0.1,
        seed: int = 0,
    ) -> None:
        super().__init__(seed)
        _check_choices((("path", path), ("text", text), ("corpus", corpus)), split, valid_fraction)
        pieces, source, self.options = _source(path, text, corpus)
        given = _given_vocabulary(vocab)
        self.vocab, full_data = encode_corpus(pieces, source, given)  # (N,) uint8 for up to 256 symbols
        if given is not None:
            self.options["vocab"] = list(given.symbols)
        if split != "all":
            full_data = full_data[_split_window(len(full_data), split, valid_fraction)]
            if len(full_data) < 2:
                raise TaskError(
                    f"the {split!r} split of {source} would have {len(full_data)} character(s); "
                    "it needs at least 2 (use a longer text or another valid_fraction)"
                )
            source = f"{source} ({split} split)"
            self.options.update(split=split, valid_fraction=float(valid_fraction))
        self.split = split
        self.data = full_data
        self.source = source
        self.options["seed"] = self.seed
        self.input_size = self.output_size = self.vocab.size
        self.input_names = self.output_names = self.vocab.labels()
        self.description = (
            f"next-character prediction on {source} ({self.length:,} characters, {self.vocab.size} symbols)"
        )

    @property
    def text(self) -> str:
        """The task's text (its split), decoded from :attr:`data` on each call: for a long corpus, costly."""
        decoded: str = self.vocab.decode(self.data)
        return decoded

    def spec(self) -> dict[str, Any]:
        """Like :meth:`Task.spec`, always with the vocabulary, so a rebuilt task encodes identically."""
        return {**super().spec(), "vocab": list(self.vocab.symbols)}

    @property
    def length(self) -> int:
        """``N``, the number of characters in the text."""
        return int(self.data.shape[0])

    def _batch_from_windows(self, windows: np.ndarray) -> Batch:
        """A batch from index windows ``(B, T + 1)``: inputs are ``[:, :-1]``, targets ``[:, 1:]``."""
        ids = np.ascontiguousarray(windows.T)  # (T + 1, B)
        inputs = self.vocab.one_hot(ids[:-1])
        targets = ids[1:].astype(np.int64)
        return Batch(inputs, targets, np.ones(targets.shape, dtype=np.float64))

    def _check_length(self, length: int | None) -> int:
        return self.default_length if length is None else check_positive_int("length", length)

    def sample(
        self, batch_size: int, rng: np.random.Generator | int | None = None, length: int | None = None
    ) -> Batch:
        """``batch_size`` windows of ``length`` steps at random places in the text.

        Windows never wrap around the end of the text, so ``length`` must be at
        most ``N - 1``.
        """
        batch_size = self.check_batch_size(batch_size)
        length = self._check_length(length)
        if length > self.length - 1:
            raise TaskError(
                f"length {length} is too long for a text of {self.length} characters "
                f"(at most {self.length - 1})"
            )
        generator = as_generator(rng, self.rng)
        starts = generator.integers(0, self.length - length, size=batch_size)
        windows = self.data[starts[:, None] + np.arange(length + 1)]
        return self._batch_from_windows(windows)

    def stream(
        self,
        batch_size: int,
        length: int | None = None,
        rng: np.random.Generator | int | None = None,
    ) -> Iterator[Batch]:
        """Consecutive chunks of ``length`` steps from ``batch_size`` evenly spaced places, forever.

        Row ``b`` starts at ``offset + b * N / B`` (``offset`` drawn with ``rng``)
        and every batch continues exactly where the previous one stopped, so the
        final state of one batch is the right initial state of the next. The
        text is read as a loop: after its last character comes its first.
        """
        batch_size = self.check_batch_size(batch_size)
        length = self._check_length(length)
        generator = as_generator(rng, self.rng)
        offset = int(generator.integers(0, self.length))
        positions = (offset + (np.arange(batch_size) * self.length) // batch_size) % self.length
        steps = np.arange(length + 1)
        while True:
            windows = self.data[(positions[:, None] + steps) % self.length]
            yield self._batch_from_windows(windows)
            positions = (positions + length) % self.length

    def evaluation_stream(self, batch_size: int, length: int | None = None) -> Iterator[Batch]:
        """One pass over the text in consecutive chunks, for scoring (finite; no randomness).

        The ``N - 1`` predictions of the text are cut into ``batch_size`` equal
        contiguous segments (the last ``(N - 1) % batch_size`` are left out) and
        every row reads its segment from the start in chunks of ``length``
        steps; the last chunk is shorter if ``length`` does not divide the
        segment. Carry the state from chunk to chunk, as in training.
        """
        batch_size = self.check_batch_size(batch_size)
        length = self._check_length(length)
        segment = (self.length - 1) // batch_size
        if segment < 1:
            raise TaskError(f"a text of {self.length} characters cannot be split into {batch_size} segments")
        starts = np.arange(batch_size) * segment
        for begin in range(0, segment, length):
            steps = np.arange(begin, min(begin + length, segment) + 1)
            yield self._batch_from_windows(self.data[starts[:, None] + steps])

    def encode_text(self, text: str) -> Batch:
        """A sequence of one (``B = 1``) from typed ``text``.

        Inputs are ``text[:-1]`` and targets ``text[1:]``. A one-character text
        becomes a single step whose target is the character itself (there is no
        next character to predict). Raises :class:`VocabularyError` naming the
        first character outside the vocabulary.
        """
        if not isinstance(text, str):
            raise TaskError(f"encode_text needs a str, got {type(text).__name__}")
        if not text:
            raise TaskError("the text is empty; type at least one character")
        ids = self.vocab.encode(text)
        if ids.shape[0] == 1:
            ids = np.concatenate([ids, ids])
        return self._batch_from_windows(ids[None, :])

    def metrics(self, outputs: np.ndarray, batch: Batch, loss: float | None = None) -> dict[str, float]:
        """``accuracy`` of the next-character guess, and ``bits_per_char`` when ``loss`` is given."""
        scores = super().metrics(outputs, batch, loss)
        if loss is not None:
            scores["bits_per_char"] = bits_per_character(loss, batch.mask)
        return scores

    def step_labels(self, batch: Batch, row: int = 0) -> tuple[list[str], list[str]]:
        """Input and target characters of every step (whitespace made visible)."""
        labels = self.vocab.labels()
        inputs = batch.inputs[:, row]
        has_input = inputs.max(axis=-1) > 0
        input_ids = inputs.argmax(axis=-1)
        input_labels = [labels[i] if present else "" for i, present in zip(input_ids, has_input, strict=True)]
        target_labels = [labels[i] for i in batch.targets[:, row]]
        return input_labels, target_labels
