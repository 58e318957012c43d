"""Corpora: where the shipped texts are, and reading a text file into indices a task can use.

:func:`corpus_pieces` decodes any UTF-8 file a piece at a time (a byte-order mark and
Windows line ends are dropped), :func:`read_corpus` joins the pieces into one string,
and :func:`encode_corpus` turns a text into its vocabulary and compact indices in two
passes over its pieces, never holding the whole text as a string (a 200 MB corpus
takes about 200 MB). Every problem is a :class:`TaskError` saying what is wrong.
"""

from __future__ import annotations

import codecs
import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.files import FileReadError, open_regular
from rnnscope.engine.shipped import find_shipped_dir, shipped_dir_candidates
from rnnscope.engine.tasks.base import TaskError
from rnnscope.engine.tasks.vocabulary import Vocabulary, VocabularyError

PIECE_BYTES = 1 << 22  # bytes of a file (or characters of a string) handled at a time

#: Corpora shipped in ``data/`` (the project wrote or generated them), by name.
CORPORA: dict[str, str] = {
    "lighthouse": "lighthouse.txt",
    "arithmetic": "arithmetic.txt",
    "toycode": "toycode.txt",
}
DEFAULT_CORPUS = "lighthouse"


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


def corpus_pieces(path: str | os.PathLike[str]) -> Iterator[str]:
    """The text of a UTF-8 file, decoded a piece (about :data:`PIECE_BYTES`) at a time.

    A byte-order mark and Windows line ends (even one split between two pieces) are
    dropped as :func:`read_corpus` drops them. Raises :class:`TaskError` for a missing
    file, anything but a regular file (a FIFO is refused at once), a file larger than
    :data:`~rnnscope.engine.limits.CORPUS` or invalid UTF-8 (naming the byte and its offset).
    """
    try:
        stream = open_regular(path)
    except FileReadError as error:
        raise TaskError(_unreadable(path, error)) from None
    with stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limits.CORPUS.high:
            raise TaskError(
                f"corpus file {str(path)!r} is {size:,} bytes; at most {limits.CORPUS.high:,} are read"
            )
        yield from _decoded(path, stream)


def _unreadable(path: str | os.PathLike[str], error: FileReadError) -> str:
    if error.reason == "the file does not exist":
        return f"corpus file {str(path)!r} does not exist"
    if "not a regular file" in error.reason:
        return f"corpus path {str(path)!r} is not a file ({error.reason.split(',')[0]})"
    return f"corpus file {str(path)!r} cannot be read: {error.reason}"


def _decoded(path: str | os.PathLike[str], stream: BinaryIO) -> Iterator[str]:
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset, carried, first = 0, "", True
    while True:
        raw = stream.read(PIECE_BYTES)
        try:
            text = decoder.decode(raw, final=not raw)
        except UnicodeDecodeError as error:
            pending = len(decoder.getstate()[0])  # bytes of a character begun in the previous piece
            at = offset - pending + error.start
            byte = error.object[error.start]
            raise TaskError(
                f"corpus file {str(path)!r} is not UTF-8 text (invalid byte 0x{byte:02x} at byte offset {at})"
            ) from None
        offset += len(raw)
        if first:
            text, first = text.removeprefix("\ufeff"), False
        text = carried + text
        # a "\r" at the end may be the first half of a "\r\n" split between two pieces
        carried = "\r" if raw and text.endswith("\r") else ""
        text = text[: len(text) - len(carried)].replace("\r\n", "\n")
        if text:
            yield text
        if not raw:
            return


def read_corpus(path: str | os.PathLike[str]) -> str:
    """The text of a UTF-8 file (see :func:`corpus_pieces`), or a :class:`TaskError` saying why not."""
    return "".join(corpus_pieces(path))


def text_pieces(text: str) -> Iterator[str]:
    """``text`` in pieces of the size :func:`corpus_pieces` yields (for :func:`encode_corpus`)."""
    for start in range(0, len(text), PIECE_BYTES):
        yield text[start : start + PIECE_BYTES]


def encode_corpus(
    pieces: Callable[[], Iterable[str]], source: str, vocab: Vocabulary | None = None
) -> tuple[Vocabulary, np.ndarray]:
    """A text's vocabulary (the given one, or its sorted characters) and its indices ``(N,)``.

    ``pieces()`` yields the text a piece at a time and is called twice: once to count the
    characters (and collect the symbols), once to encode them into one array of the
    vocabulary's :attr:`~Vocabulary.index_dtype` -- so a 200 MB text needs about 200 MB,
    not the ten copies a whole-string decode and an int64 encoding would take. ``source``
    names the text in a :class:`TaskError` (empty, one character, one symbol) or a
    :class:`VocabularyError` (a character outside a given vocabulary, at its position).
    """
    symbols: set[str] = set()
    count = 0
    for piece in pieces():
        symbols.update(piece)
        count += len(piece)
    _check_counts(source, count, symbols)
    if vocab is None:
        vocab = Vocabulary.from_symbols(sorted(symbols))
    data = np.empty(count, dtype=vocab.index_dtype)
    start = 0
    for piece in pieces():
        if start + len(piece) > count:
            break
        try:
            data[start : start + len(piece)] = vocab.encode(piece, dtype=vocab.index_dtype)
        except VocabularyError as error:
            raise VocabularyError(error.character, start + error.position, vocab.size) from None
        start += len(piece)
    if start != count:
        raise TaskError(f"{source} changed while it was being read; try again")
    return vocab, data


def _check_counts(source: str, count: int, symbols: set[str]) -> None:
    if not count:
        raise TaskError(f"{source} is empty")
    if count < 2:
        raise TaskError(f"{source} has only one character; next-character prediction needs at least 2")
    if len(symbols) < 2:
        symbol = next(iter(symbols))
        raise TaskError(
            f"{source} uses a single distinct symbol ({symbol!r}); a vocabulary needs at least 2 symbols"
        )
