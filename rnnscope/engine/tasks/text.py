"""Character-level language modelling: vocabulary, corpora, batches, sampling, bits per character.

The input at step ``t`` is the one-hot vector of character ``t``; the target is
the index of character ``t + 1`` (``softmax_ce`` head, every step scored).

* :class:`Vocabulary` maps characters to indices (sorted unique symbols).
* :class:`CharTask` makes batches from a corpus: :meth:`CharTask.sample` draws
  random windows, :meth:`CharTask.stream` yields consecutive chunks from ``B``
  evenly spaced offsets so a trainer can carry the state between them
  (truncated BPTT), :meth:`CharTask.encode_text` turns typed text into a
  sequence of one.
* :func:`sample_text` generates text from a model one character at a time.
* :func:`bits_per_character` converts a loss to bits per character;
  :func:`uniform_bits_per_character` is the baseline of a model that knows
  nothing but the vocabulary (``log2 V``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rnnscope.engine.heads import loss_per_scored_step
from rnnscope.engine.shipped import find_shipped_dir, shipped_dir_candidates
from rnnscope.engine.tasks.base import Batch, Task, TaskError, as_generator, check_positive_int

#: Corpora shipped in ``data/`` (the project wrote or generated them), by name.
CORPORA: dict[str, str] = {
    "lighthouse": "lighthouse.txt",
    "arithmetic": "arithmetic.txt",
    "toycode": "toycode.txt",
}
DEFAULT_CORPUS = "lighthouse"
CHAR_SPLITS = ("all", "train", "valid")

#: Characters that would be invisible or break a one-line label, shown as these instead.
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


def data_dir() -> Path:
    """The shipped ``data/`` directory (``RNNSCOPE_DATA`` overrides it).

    ``<repo>/data`` for a clone or an editable install; ``<prefix>/share/rnnscope/data``
    where a wheel puts it (``[tool.setuptools.data-files]`` in ``pyproject.toml``).
    """
    override = os.environ.get("RNNSCOPE_DATA")
    if override:
        return Path(override)
    found = find_shipped_dir("data", CORPORA[DEFAULT_CORPUS])
    # when missing, the reader reports the files absent from the first place, naming it
    return found if found is not None else shipped_dir_candidates("data")[0]


def corpus_path(name: str) -> Path:
    """Path of the shipped corpus ``name`` (one of :data:`CORPORA`)."""
    if name not in CORPORA:
        raise TaskError(f"unknown corpus {name!r}; shipped corpora are {sorted(CORPORA)}")
    return data_dir() / CORPORA[name]


def visible_symbol(symbol: str) -> str:
    """A printable stand-in for whitespace symbols (``" "`` -> ``"␣"``, ``"\\n"`` -> ``"↵"``)."""
    if symbol in _VISIBLE:
        return _VISIBLE[symbol]
    if not symbol.isprintable():
        return f"U+{ord(symbol):04X}"
    return symbol


class VocabularyError(TaskError):
    """A character is not in the vocabulary. ``character`` and ``position`` say which and where."""

    def __init__(self, character: str, position: int, vocabulary_size: int) -> None:
        self.character = character
        self.position = position
        super().__init__(
            f"character {character!r} (U+{ord(character):04X}) at position {position} is not in the "
            f"vocabulary of {vocabulary_size} symbols"
        )


class Vocabulary:
    """Characters <-> indices.

    ``Vocabulary(text)`` takes the sorted unique characters of ``text``;
    ``Vocabulary.from_symbols(symbols)`` keeps a given order (e.g. from a
    checkpoint). ``symbols`` is a tuple of one-character strings; ``size`` is ``V``.
    """

    def __init__(self, text: str) -> None:
        if not isinstance(text, str):
            raise TaskError(f"Vocabulary needs a str, got {type(text).__name__}")
        self._set_symbols(tuple(sorted(set(text))))

    @classmethod
    def from_symbols(cls, symbols: Iterable[str]) -> Vocabulary:
        """A vocabulary with exactly these symbols, in this order."""
        symbols = tuple(symbols)
        for symbol in symbols:
            if not isinstance(symbol, str) or len(symbol) != 1:
                raise TaskError(f"vocabulary symbols must be single characters, got {symbol!r}")
        if len(set(symbols)) != len(symbols):
            duplicated = sorted({s for s in symbols if symbols.count(s) > 1})
            raise TaskError(f"vocabulary symbols repeat: {duplicated}")
        vocab = cls.__new__(cls)
        vocab._set_symbols(symbols)
        return vocab

    def _set_symbols(self, symbols: tuple[str, ...]) -> None:
        self.symbols: tuple[str, ...] = symbols
        codes = np.array([ord(s) for s in symbols], dtype=np.int64)
        # encode() finds each code point by binary search over the sorted codes.
        self._order = np.argsort(codes, kind="stable")
        self._sorted_codes = codes[self._order]
        self._index = {s: i for i, s in enumerate(symbols)}

    @property
    def size(self) -> int:
        """``V``, the number of symbols."""
        return len(self.symbols)

    def __len__(self) -> int:
        return len(self.symbols)

    def __contains__(self, symbol: object) -> bool:
        return symbol in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and other.symbols == self.symbols

    def __hash__(self) -> int:
        return hash(self.symbols)

    def __repr__(self) -> str:
        preview = "".join(visible_symbol(s) for s in self.symbols[:40])
        more = "..." if self.size > 40 else ""
        return f"Vocabulary({self.size} symbols: {preview}{more})"

    def index(self, symbol: str) -> int:
        """Index of one symbol (raises :class:`VocabularyError` if absent)."""
        try:
            return self._index[symbol]
        except KeyError:
            raise VocabularyError(symbol, 0, self.size) from None

    def encode(self, text: str) -> np.ndarray:
        """Indices ``(T,)`` int64 of the characters of ``text``.

        Raises :class:`VocabularyError` naming the first character that is not
        in the vocabulary and its position in ``text``.
        """
        if not isinstance(text, str):
            raise TaskError(f"encode needs a str, got {type(text).__name__}")
        if not text:
            return np.zeros(0, dtype=np.int64)
        codes = np.frombuffer(text.encode("utf-32-le", errors="surrogatepass"), dtype="<u4").astype(np.int64)
        where = np.searchsorted(self._sorted_codes, codes)
        where_clipped = np.minimum(where, max(self.size - 1, 0))
        found = (where < self.size) & (self._sorted_codes[where_clipped] == codes) if self.size else None
        if found is None or not found.all():
            position = 0 if found is None else int(np.argmin(found))
            raise VocabularyError(text[position], position, self.size)
        return self._order[where_clipped].astype(np.int64)

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text of indices ``ids`` (any shape; read in C order)."""
        flat = np.asarray(ids).ravel()
        if flat.size and not np.issubdtype(flat.dtype, np.integer):
            raise TaskError(f"decode needs integer indices, got {flat.dtype}")
        if flat.size and (flat.min() < 0 or flat.max() >= self.size):
            raise TaskError(f"indices must lie in 0..{self.size - 1}, got {flat.min()}..{flat.max()}")
        return "".join(self.symbols[i] for i in flat.tolist())

    def one_hot(self, ids: np.ndarray, dtype: Any = np.float64) -> np.ndarray:
        """One-hot vectors ``(..., V)`` of indices ``ids`` ``(...)``."""
        ids = np.asarray(ids)
        if ids.size and not np.issubdtype(ids.dtype, np.integer):
            raise TaskError(f"one_hot needs integer indices, got {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.size):
            raise TaskError(f"indices must lie in 0..{self.size - 1}, got {ids.min()}..{ids.max()}")
        # Scatter rather than index an identity matrix: V x V would be large for big vocabularies.
        out = np.zeros(ids.shape + (self.size,), dtype=dtype)
        np.put_along_axis(out, ids[..., None].astype(np.intp), 1, axis=-1)
        return out

    def labels(self) -> tuple[str, ...]:
        """The symbols with whitespace made visible, for axis labels."""
        return tuple(visible_symbol(s) for s in self.symbols)


def read_corpus(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file, or a :class:`TaskError` saying why it cannot be used."""
    path = Path(path)
    if not path.exists():
        raise TaskError(f"corpus file {str(path)!r} does not exist")
    if not path.is_file():
        raise TaskError(f"corpus path {str(path)!r} is not a file")
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TaskError(f"corpus file {str(path)!r} cannot be read: {error.strerror or error}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise TaskError(
            f"corpus file {str(path)!r} is not UTF-8 text (invalid byte 0x{raw[error.start]:02x} "
            f"at byte offset {error.start})"
        ) from None
    # A byte-order mark and Windows line ends are encoding artefacts, not characters of the text.
    return text.removeprefix("\ufeff").replace("\r\n", "\n")


def check_corpus_text(text: str, source: str) -> str:
    if not isinstance(text, str):
        raise TaskError(f"corpus text must be a str, got {type(text).__name__}")
    if not text:
        raise TaskError(f"{source} is empty")
    if len(text) < 2:
        raise TaskError(f"{source} has only one character; next-character prediction needs at least 2")
    if len(set(text)) < 2:
        raise TaskError(
            f"{source} uses a single distinct symbol ({text[0]!r}); a vocabulary needs at least 2 symbols"
        )
    return text


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
        given = [k for k, v in (("path", path), ("text", text), ("corpus", corpus)) if v is not None]
        if len(given) > 1:
            raise TaskError(f"give at most one of path, text and corpus, got {given}")
        if split not in CHAR_SPLITS:
            raise TaskError(f"unknown split {split!r}; choose one of {CHAR_SPLITS}")
        if isinstance(valid_fraction, bool) or not isinstance(valid_fraction, int | float):
            raise TaskError(f"valid_fraction must be a number, got {valid_fraction!r}")
        if not 0 < valid_fraction < 1:
            raise TaskError(f"valid_fraction must lie strictly between 0 and 1, got {valid_fraction}")
        if text is not None:
            source = "the given text"
            self.options = {"text": text}
        elif path is not None:
            source = f"corpus file {str(path)!r}"
            text = read_corpus(path)
            self.options = {"path": str(path)}
        else:
            corpus = DEFAULT_CORPUS if corpus is None else corpus
            source = f"shipped corpus {corpus!r}"
            text = read_corpus(corpus_path(corpus))
            self.options = {"corpus": corpus}
        full_text = check_corpus_text(text, source)
        if vocab is None:
            self.vocab = Vocabulary(full_text)
        else:
            self.vocab = vocab if isinstance(vocab, Vocabulary) else Vocabulary.from_symbols(vocab)
            self.options["vocab"] = list(self.vocab.symbols)
        if self.vocab.size < 2:
            raise TaskError(f"a vocabulary needs at least 2 symbols, got {self.vocab.size}")
        full_data = self.vocab.encode(full_text)  # (N,) int64
        if split != "all":
            cut = int(round(len(full_text) * (1 - valid_fraction)))
            window = slice(0, cut) if split == "train" else slice(cut, None)
            if len(full_text[window]) < 2:
                raise TaskError(
                    f"the {split!r} split of {source} would have {len(full_text[window])} character(s); "
                    "it needs at least 2 (use a longer text or another valid_fraction)"
                )
            full_text, full_data = full_text[window], full_data[window]
            source = f"{source} ({split} split)"
            self.options.update(split=split, valid_fraction=float(valid_fraction))
        self.split = split
        self.text = full_text
        self.data = full_data
        self.source = source
        self.options["seed"] = self.seed
        self.input_size = self.output_size = self.vocab.size
        self.input_names = self.output_names = self.vocab.labels()
        self.description = (
            f"next-character prediction on {source} ({len(self.text)} characters, {self.vocab.size} symbols)"
        )

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


def sample_text(
    model: Any,
    vocab: Vocabulary,
    prime: str,
    length: int,
    temperature: float = 1.0,
    rng: np.random.Generator | int | None = None,
    state: dict[str, np.ndarray] | None = None,
) -> str:
    """``length`` characters generated by ``model`` after ``prime`` (the prime is not included).

    The prime is run through the model in one call (from ``state``, zeros by
    default); then each character is drawn from ``softmax(logits / temperature)``
    and fed back one step at a time with the state carried (``model.predict``).
    An empty prime starts from a zero input vector. ``temperature`` must be a
    positive finite number: below 1 sharpens the distribution (towards always
    taking the most likely character), above 1 flattens it. The same ``rng``
    state gives the same text. See :func:`generate_characters` for one
    character at a time.
    """
    length = check_positive_int("length", length, minimum=0)
    characters = generate_characters(model, vocab, prime, temperature, rng, state)
    return "".join(next(characters) for _ in range(length))


def generate_characters(
    model: Any,
    vocab: Vocabulary,
    prime: str,
    temperature: float = 1.0,
    rng: np.random.Generator | int | None = None,
    state: dict[str, np.ndarray] | None = None,
) -> Iterator[str]:
    """Characters generated after ``prime``, one per ``next()``, without end.

    Arguments are checked at once (not at the first ``next()``); the model is
    only run when the next character is asked for, so a caller can show text
    as it comes and stop at any time. Same sampling as :func:`sample_text`,
    which takes the first ``length`` of these.
    """
    if isinstance(temperature, bool) or not isinstance(temperature, int | float | np.floating):
        raise TaskError(f"temperature must be a number, got {temperature!r}")
    if not math.isfinite(temperature) or temperature <= 0:
        raise TaskError(f"temperature must be a positive finite number, got {temperature!r}")
    config = model.config
    if config.loss != "softmax_ce" or config.many_to_one:
        raise TaskError("sampling text needs a character model (softmax_ce head, every step scored)")
    if config.input_size != vocab.size or config.output_size != vocab.size:
        raise TaskError(
            f"the model's input/output sizes ({config.input_size}/{config.output_size}) do not match "
            f"the vocabulary of {vocab.size} symbols"
        )
    if not isinstance(prime, str):
        raise TaskError(f"prime must be a str, got {type(prime).__name__}")
    if prime:
        inputs = vocab.one_hot(vocab.encode(prime))[:, None, :]  # (P, 1, V)
    else:
        inputs = np.zeros((1, 1, vocab.size))
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    return _characters(model, vocab, inputs, float(temperature), generator, state)


def _characters(
    model: Any,
    vocab: Vocabulary,
    inputs: np.ndarray,
    temperature: float,
    rng: np.random.Generator,
    state: dict[str, np.ndarray] | None,
) -> Iterator[str]:
    probs, state = model.predict(inputs, state)
    step = 0
    while True:
        symbol = _draw(probs[-1, 0], temperature, rng, step)
        yield vocab.symbols[symbol]
        step += 1
        probs, state = model.predict(vocab.one_hot(np.array([[symbol]])), state)


def _draw(probs: np.ndarray, temperature: float, rng: np.random.Generator, step: int) -> int:
    """One index drawn from ``probs ** (1 / temperature)``, renormalised."""
    probs = np.asarray(probs, dtype=np.float64)
    if not np.all(np.isfinite(probs)):
        raise TaskError(f"the model produced non-finite probabilities at generated step {step}")
    with np.errstate(divide="ignore"):
        log_probs = np.log(probs)
    # Shift before dividing so tiny temperatures give 0 / -inf, never inf - inf.
    scaled = (log_probs - log_probs.max()) / temperature
    weights = np.exp(scaled)
    cumulative = np.cumsum(weights)
    index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
    return min(index, probs.shape[0] - 1)


def bits_per_character(loss: float, mask: np.ndarray) -> float:
    """Mean bits per scored character of a ``softmax_ce`` ``loss`` under ``mask`` ``(T, B)``.

    ``loss`` is the engine's loss (nats, summed over steps, averaged over the batch).
    """
    return loss_per_scored_step(loss, np.asarray(mask)) / math.log(2.0)


def uniform_bits_per_character(vocabulary_size: int) -> float:
    """``log2 V``: the bits per character of a model that predicts every symbol equally."""
    return math.log2(check_positive_int("vocabulary_size", vocabulary_size))
