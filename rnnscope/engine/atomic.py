"""Writing a file atomically: readers see the old file or the whole new one, never half of it.

Shared by checkpoints (:mod:`rnnscope.engine.checkpoint`), reports and exports
(:mod:`rnnscope.report.files`, the app's PNG export) and the benchmarks' JSON, which
wrap :class:`AtomicWriteError` in their own error type. :func:`write_atomically`:

- **writes only regular files.** A target that exists and is a directory, a FIFO, a
  device or a socket is refused by name (``-o /dev/null`` as root no longer replaces
  ``/dev/null``).
- **follows a symbolic link deliberately.** The file the link points to is replaced
  (atomically, in that file's directory) and the link stays a link, as ``open(path,
  "w")`` would write through it. A link to something that is not a regular file is
  refused like that thing; a dangling link gets its target created.
- **sets permissions without the umask.** The new file has the replaced file's mode;
  a new one what ``open()`` would give (``0o666`` less the umask, applied by the
  kernel when the temporary file is created; the process umask is never read or set,
  so threads writing at the same time cannot race on it).
- **cleans up after itself.** The temporary file is ``.tmp-<pid>@<host>-<random>.part``
  next to the target, removed on any failure, Ctrl-C included. One left by a writer
  killed outright (SIGKILL, a power cut) is removed by the next write into that
  directory once its process no longer runs on this host (or, from another host,
  after a day); so are ``.tmp-XXXXXXXX.part`` files of earlier versions after an hour.
"""

from __future__ import annotations

import os
import re
import secrets
import socket
import stat
import time

from rnnscope.engine.files import file_kind

_PREFIX, _SUFFIX = ".tmp-", ".part"
_OURS = re.compile(r"^\.tmp-(?P<pid>\d+)@(?P<host>[A-Za-z0-9.-]{0,32})-[0-9a-f]{12}\.part$")
_EARLIER = re.compile(r"^\.tmp-[a-z0-9_]{8}\.part$")  # tempfile.mkstemp names, before the pid was in them
_FOREIGN_AGE = 86400.0  # seconds before another host's (or an unknown) temporary file counts as stale
_EARLIER_AGE = 3600.0


class AtomicWriteError(OSError):
    """``path`` could not be written; ``reason`` says why (the old file, if any, is untouched)."""

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"cannot write {path!r}: {reason}")


def write_atomically(path: str | os.PathLike[str], data: bytes) -> str:
    """``data`` to ``path`` via a temporary file in the same directory, fsync and ``os.replace``.

    Whatever goes wrong -- an ``OSError``, or Ctrl-C in the middle -- the temporary
    file is removed and the target keeps its old contents. Returns the absolute path of
    the file written (a symbolic link's target); raises :class:`AtomicWriteError`.
    """
    target = _resolve(os.path.abspath(os.fspath(path)))
    directory = os.path.dirname(target)
    mode = _existing_mode(target)
    if not os.path.isdir(directory):
        raise AtomicWriteError(target, f"the directory {directory!r} does not exist")
    remove_stale_temporaries(directory)
    temporary, handle = _create_temporary(target, directory)
    try:
        with os.fdopen(handle, "wb") as stream:
            if mode is not None:
                os.fchmod(stream.fileno(), mode)
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(temporary, target)
    except BaseException as error:
        _remove_quietly(temporary)
        if isinstance(error, OSError):
            raise AtomicWriteError(target, error.strerror or str(error)) from None
        raise
    _sync_directory(directory)
    return target


def _resolve(target: str) -> str:
    """``target``, or the file a symbolic link there points to (followed to the end)."""
    if os.path.islink(target):
        return os.path.realpath(target)
    return target


def _existing_mode(target: str) -> int | None:
    """The permissions of the regular file at ``target``, ``None`` when there is none; refuses the rest."""
    try:
        info = os.stat(target)
    except FileNotFoundError:
        return None
    except OSError as error:
        raise AtomicWriteError(target, error.strerror or str(error)) from None
    if stat.S_ISDIR(info.st_mode):
        raise AtomicWriteError(target, "the path is a directory")
    if not stat.S_ISREG(info.st_mode):
        raise AtomicWriteError(target, f"the path is {file_kind(info.st_mode)}, not a regular file")
    return stat.S_IMODE(info.st_mode)


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "", socket.gethostname())[:32]


def _create_temporary(target: str, directory: str) -> tuple[str, int]:
    """A new, empty temporary file beside ``target``: its path and an open descriptor."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        name = f"{_PREFIX}{os.getpid()}@{_host()}-{secrets.token_hex(6)}{_SUFFIX}"
        temporary = os.path.join(directory, name)
        try:
            # 0o666: the kernel applies the umask, as for any new file
            return temporary, os.open(temporary, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise AtomicWriteError(target, error.strerror or str(error)) from None
    raise AtomicWriteError(target, f"no free temporary file name in {directory!r}")


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def _sync_directory(directory: str) -> None:
    """Make the rename itself durable (where directories can be opened)."""
    try:
        descriptor = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# ---------------------------------------------------------------------- stale temporary files
def remove_stale_temporaries(directory: str, now: float | None = None) -> list[str]:
    """Remove this writer's temporary files in ``directory`` that no running write owns; their names.

    Best effort: a file that cannot be examined or removed is left alone.
    """
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(directory))
    except OSError:
        return removed
    for entry in entries:
        if not entry.name.startswith(_PREFIX) or not entry.name.endswith(_SUFFIX):
            continue
        try:
            info = entry.stat(follow_symlinks=False)
            if stat.S_ISREG(info.st_mode) and _is_stale(entry.name, now - info.st_mtime):
                os.unlink(entry.path)
                removed.append(entry.name)
        except OSError:
            continue
    return removed


def _is_stale(name: str, age: float) -> bool:
    ours = _OURS.match(name)
    if ours is None:
        return _EARLIER.match(name) is not None and age > _EARLIER_AGE
    if ours.group("host") != _host():
        return age > _FOREIGN_AGE
    return not _running(int(ours.group("pid")))


def _running(pid: int) -> bool:
    """Whether process ``pid`` exists on this host (our own process always does)."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # it exists, but belongs to someone else
        return True
    return True
