"""Atomic file writing for reports and exports."""

from __future__ import annotations

import os
import tempfile


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
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise ReportError(path, "it is a directory")
    if not os.path.isdir(directory):
        raise ReportError(path, f"the directory {directory!r} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    except OSError as error:
        raise ReportError(path, error.strerror or str(error)) from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); give it the mode a plain open() would
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except OSError as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        raise ReportError(path, error.strerror or str(error)) from error


def _mode_for(target: str) -> int:
    """The existing file's permissions, or ``0o666`` less the process umask for a new file."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
