"""Corpora: where the shipped texts are, and reading a text file into a string a task can use.

:func:`read_corpus` reads any UTF-8 file (a byte-order mark and Windows line
ends are dropped); :func:`check_corpus_text` refuses a text that cannot make a
next-character task. Both raise :class:`TaskError` saying what is wrong.
"""

from __future__ import annotations

import os
from pathlib import Path

from rnnscope.engine.shipped import find_shipped_dir, shipped_dir_candidates
from rnnscope.engine.tasks.base import TaskError

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


def check_corpus_text(text: object, source: str) -> str:
    """``text`` if it can make a next-character task (a str of at least 2 distinct symbols).

    ``source`` names where it came from in the :class:`TaskError` otherwise.
    """
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
