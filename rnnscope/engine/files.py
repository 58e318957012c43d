"""Reading a file a user named, safely: regular files only, never blocking on a FIFO, never unbounded.

``open("fifo")`` waits for a writer forever, ``open("/dev/zero").read()`` never
ends, and a directory or a socket gives an error that names neither. Every reader
of user files (checkpoints, traces, reports, corpora) opens through
:func:`open_regular`, which refuses anything but a regular file by name, and reads
through :func:`read_regular`, which refuses a file larger than its caller's bound
before reading it.
"""

from __future__ import annotations

import os
import stat
from typing import BinaryIO

# O_NONBLOCK makes open() of a FIFO with no writer return at once (where it exists)
_OPEN_FLAGS = (
    os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
)


class FileReadError(OSError):
    """``path`` cannot be read; ``reason`` says why (in words a user understands)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot read {self.path!r}: {reason}")


def file_kind(mode: int) -> str:
    """What a ``st_mode`` is, in words: ``"a regular file"``, ``"a directory"``, ``"a socket"``..."""
    kinds = (
        (stat.S_ISREG, "a regular file"),
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
        (stat.S_ISLNK, "a symbolic link"),
    )
    for test, name in kinds:
        if test(mode):
            return name
    return "not a regular file"


def _check_regular(path: str | os.PathLike[str], mode: int) -> None:
    if not stat.S_ISREG(mode):
        raise FileReadError(path, f"it is {file_kind(mode)}, not a regular file")


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """``path`` opened for binary reading, or :class:`FileReadError` (missing, not a regular file, no access).

    The kind is checked before opening (so a device is never opened) and again on the
    open descriptor (so a file swapped for a FIFO in between is refused too).
    """
    try:
        mode = os.stat(path).st_mode
    except OSError as error:
        raise _unreadable(path, error) from None
    _check_regular(path, mode)
    try:
        descriptor = os.open(path, _OPEN_FLAGS)
    except OSError as error:
        raise _unreadable(path, error) from None
    try:
        _check_regular(path, os.fstat(descriptor).st_mode)
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _unreadable(path: str | os.PathLike[str], error: OSError) -> FileReadError:
    if isinstance(error, FileNotFoundError):
        return FileReadError(path, "the file does not exist")
    return FileReadError(path, error.strerror or str(error))


def read_regular(path: str | os.PathLike[str], limit: int, what: str = "the file") -> bytes:
    """The whole of regular file ``path``, refused (:class:`FileReadError`) if larger than ``limit`` bytes.

    ``what`` names the file in the message (``"a report"``).
    """
    with open_regular(path) as stream:
        size = os.fstat(stream.fileno()).st_size
        if size > limit:
            raise FileReadError(path, f"{what} is {size:,} bytes; at most {limit:,} are read")
        try:
            data = stream.read(limit + 1)
        except OSError as error:
            raise FileReadError(path, error.strerror or str(error)) from None
    if len(data) > limit:  # it grew while being read
        raise FileReadError(path, f"{what} is more than {limit:,} bytes; at most {limit:,} are read")
    return data
