"""Writing a file atomically: readers see the old file or the whole new one, never half of it.

Shared by checkpoints (:mod:`rnnscope.engine.checkpoint`) and reports and exports
(:mod:`rnnscope.report.files`), which wrap :class:`AtomicWriteError` in their own error type.
"""

from __future__ import annotations

import os
import tempfile


class AtomicWriteError(OSError):
    """``path`` could not be written; ``reason`` says why (the old file, if any, is untouched)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path!r}: {reason}")


def write_atomically(path: str | os.PathLike[str], data: bytes) -> str:
    """``data`` to ``path`` via a temporary file in the same directory, fsync and ``os.replace``.

    Whatever goes wrong -- an ``OSError``, or Ctrl-C in the middle -- the temporary
    file is removed and ``path`` keeps its old contents. The new file gets the
    replaced file's permissions, or those a plain ``open()`` would give.
    Returns the absolute path written; raises :class:`AtomicWriteError`.
    """
    target = os.path.abspath(os.fspath(path))
    directory = os.path.dirname(target)
    if os.path.isdir(target):
        raise AtomicWriteError(target, "the path is a directory")
    if not os.path.isdir(directory):
        raise AtomicWriteError(target, f"the directory {directory!r} does not exist")
    try:
        handle, temporary = tempfile.mkstemp(prefix=".tmp-", suffix=".part", dir=directory)
    except OSError as error:
        raise AtomicWriteError(target, error.strerror or str(error)) from None
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        # mkstemp makes the file private (0600); give it the mode the file would otherwise have
        os.chmod(temporary, _mode_for(target))
        os.replace(temporary, target)
    except BaseException as error:
        try:
            os.unlink(temporary)
        except OSError:
            pass
        if isinstance(error, OSError):
            raise AtomicWriteError(target, error.strerror or str(error)) from None
        raise
    try:  # make the rename itself durable
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
    except OSError:
        pass
    return target


def _mode_for(target: str) -> int:
    """The existing file's permissions, or ``0o666`` less the process umask for a new file."""
    try:
        return os.stat(target).st_mode & 0o7777
    except OSError:
        umask = os.umask(0o022)
        os.umask(umask)
        return 0o666 & ~umask
