"""Atomic file writing for reports and exports: :func:`rnnscope.engine.atomic.write_atomically`'s rules
(regular files only, a symbolic link's target replaced, no stale temporary files), as :class:`ReportError`."""

from __future__ import annotations

import os

from rnnscope.engine.atomic import AtomicWriteError, write_atomically


class ReportError(OSError):
    """A report could not be written (or its format is unknown); names the path."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot write report {self.path!r}: {reason}")


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` via a temporary file in the same directory and ``os.replace``.

    Readers never see a half-written file; on failure the old file (if any) is
    untouched and the temporary file is removed. Raises :class:`ReportError`.
    """
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Like :func:`atomic_write_text` for bytes."""
    try:
        write_atomically(path, data)
    except AtomicWriteError as error:
        raise ReportError(path, error.reason) from None
