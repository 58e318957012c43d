"""The vocabulary of an imported text model: a sidecar file, symbols given inline, or a corpus's.

A sidecar is JSON -- a list of symbols in index order, a ``{symbol: index}`` map (``stoi``)
or an ``{index: symbol}`` map (``itos``) -- or a ``.txt`` file whose characters, in order,
are the symbols (no trailing newline unless ``"\\n"`` is one). Without one, ``--text``
gives the corpus's sorted characters (``sorted(set(text))``, what char-rnn scripts use). A
sidecar beside the source, ``<name>.vocab.json`` or ``<name>.vocab.txt``, is found on its own.
"""

from __future__ import annotations

import json
import os

from rnnscope.engine.imports.layout import WeightImportError

SOURCE_SUFFIXES = (".weights.h5", ".safetensors", ".npz", ".onnx", ".h5")


def sidecar_for(source: str) -> str | None:
    """``<name>.vocab.json`` or ``<name>.vocab.txt`` beside ``source``, if there is one."""
    stem = source
    for suffix in SOURCE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    for candidate in (stem + ".vocab.json", stem + ".vocab.txt"):
        if os.path.isfile(candidate):
            return candidate
    return None


def read_vocab_file(path: str) -> tuple[str, ...]:
    """The symbols of a vocabulary file, in index order (see the module docstring for the formats)."""
    try:
        with open(path, encoding="utf-8", newline="") as handle:
            text = handle.read()
    except (OSError, UnicodeDecodeError) as error:
        raise WeightImportError(f"cannot read the vocabulary {path}: {error}") from None
    if not path.lower().endswith(".json"):
        return tuple(text)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as error:
        raise WeightImportError(f"the vocabulary {path} is not valid JSON: {error}") from None
    return _symbols(path, data)


def _symbols(path: str, data: object) -> tuple[str, ...]:
    if isinstance(data, list) and all(isinstance(s, str) for s in data):
        return tuple(data)
    if isinstance(data, dict) and data:
        if all(isinstance(v, int) for v in data.values()):  # stoi: symbol -> index
            pairs = sorted((index, symbol) for symbol, index in data.items())
        elif all(isinstance(v, str) and str(k).isdigit() for k, v in data.items()):  # itos
            pairs = sorted((int(index), symbol) for index, symbol in data.items())
        else:
            pairs = []
        if pairs and [index for index, _ in pairs] == list(range(len(pairs))):
            return tuple(symbol for _, symbol in pairs)
    raise WeightImportError(
        f"the vocabulary {path} must be a JSON list of symbols, a {{symbol: index}} or an "
        "{index: symbol} map with indices 0..V-1"
    )


def corpus_symbols(path: str) -> tuple[str, ...]:
    """The sorted distinct characters of the text file at ``path``."""
    try:
        with open(path, encoding="utf-8") as handle:
            return tuple(sorted(set(handle.read())))
    except (OSError, UnicodeDecodeError) as error:
        raise WeightImportError(f"cannot read the text {path}: {error}") from None


def vocabulary_for(
    source: str, vocab: str | None = None, symbols: str | None = None, text: str | None = None
) -> tuple[str, ...] | None:
    """The vocabulary of an import, as ``rnnscope import`` finds it: ``symbols`` given inline, the
    file ``vocab``, a sidecar beside ``source``, or the sorted characters of the corpus ``text``;
    ``None`` when there is none of these."""
    if vocab is not None and symbols is not None:
        raise WeightImportError("give a vocabulary file or its symbols, not both")
    if symbols is not None:
        return tuple(symbols)
    path = vocab or sidecar_for(source)
    if path is not None:
        return read_vocab_file(path)
    if text is not None:
        return corpus_symbols(text)
    return None
