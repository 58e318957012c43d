"""Characters <-> indices: the vocabulary of a character task, and whitespace made visible.

:class:`Vocabulary` encodes text to indices ``(T,)``, decodes them back and
makes one-hot vectors ``(..., V)``; :class:`VocabularyError` names the first
character that is not in it. :func:`visible_symbol` gives whitespace a
printable stand-in for labels (``" "`` -> ``"␣"``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import DTypeLike

from rnnscope.engine.tasks.base import TaskError

_ENCODE_PIECE = 1 << 22  # characters encoded at a time

#: Characters that would be invisible or break a one-line label, shown as these instead.
_VISIBLE = {" ": "␣", "\n": "↵", "\t": "⇥", "\r": "␍"}


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


def _check_indices(ids: np.ndarray, size: int, what: str) -> None:
    """Refuse non-integer indices and indices outside ``0..size - 1`` (``what`` names the caller)."""
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise TaskError(f"{what} needs integer indices, got {ids.dtype}")
    if ids.size and (ids.min() < 0 or ids.max() >= size):
        raise TaskError(f"indices must lie in 0..{size - 1}, got {ids.min()}..{ids.max()}")


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
            duplicated = sorted(s for s, n in Counter(symbols).items() if n > 1)
            raise TaskError(f"vocabulary symbols repeat: {duplicated}")
        vocab = cls.__new__(cls)
        vocab._set_symbols(symbols)
        return vocab

    def _set_symbols(self, symbols: tuple[str, ...]) -> None:
        self.symbols: tuple[str, ...] = symbols
        codes = np.array([ord(s) for s in symbols], dtype=np.int64)
        # encode() looks every code point up in a table (-1: not a symbol); its last entry stands
        # for every code point above the largest symbol's
        self._table = np.full(int(codes.max(initial=-1)) + 2, -1, dtype=np.int32)
        self._table[codes] = np.arange(len(symbols), dtype=np.int32)
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

    @property
    def index_dtype(self) -> np.dtype:
        """The smallest integer dtype that holds every index: ``uint8`` up to 256 symbols, then
        ``uint16``, then ``int32`` (a long text's indices take 1 byte a character, not 8)."""
        if self.size <= 1 << 8:
            return np.dtype(np.uint8)
        return np.dtype(np.uint16 if self.size <= 1 << 16 else np.int32)

    def encode(self, text: str, dtype: DTypeLike = np.int64) -> np.ndarray:
        """Indices ``(T,)`` (int64 unless ``dtype`` says otherwise) of the characters of ``text``.

        Long texts are encoded a piece at a time, so the temporary arrays stay small.
        Raises :class:`VocabularyError` naming the first character that is not in the
        vocabulary and its position in ``text``.
        """
        if not isinstance(text, str):
            raise TaskError(f"encode needs a str, got {type(text).__name__}")
        out = np.empty(len(text), dtype=dtype)
        for start in range(0, len(text), _ENCODE_PIECE):
            piece = text[start : start + _ENCODE_PIECE]
            codes = np.frombuffer(piece.encode("utf-32-le", errors="surrogatepass"), dtype="<u4")
            ids = self._table.take(np.minimum(codes, len(self._table) - 1))
            if ids.size and ids.min() < 0:
                position = start + int(np.argmax(ids < 0))
                raise VocabularyError(text[position], position, self.size)
            out[start : start + len(piece)] = ids
        return out

    def decode(self, ids: Sequence[int] | np.ndarray) -> str:
        """The text of indices ``ids`` (any shape; read in C order)."""
        flat = np.asarray(ids).ravel()
        _check_indices(flat, self.size, "decode")
        return "".join(self.symbols[i] for i in flat.tolist())

    def one_hot(self, ids: np.ndarray, dtype: DTypeLike = np.float64) -> np.ndarray:
        """One-hot vectors ``(..., V)`` of indices ``ids`` ``(...)``."""
        ids = np.asarray(ids)
        _check_indices(ids, self.size, "one_hot")
        # Scatter rather than index an identity matrix: V x V would be large for big vocabularies.
        out = np.zeros(ids.shape + (self.size,), dtype=dtype)
        np.put_along_axis(out, ids[..., None].astype(np.intp), 1, axis=-1)
        return out

    def labels(self) -> tuple[str, ...]:
        """The symbols with whitespace made visible, for axis labels."""
        return tuple(visible_symbol(s) for s in self.symbols)
