"""The errors a model of the user's own can cause, each saying what is wrong in the user's terms.

* :class:`ModelFileError`: the model file cannot be used (missing, a syntax error, no
  such class, not a model, an error while importing it);
* :class:`ProtocolError`: the model breaks the protocol (a value returned with the
  wrong shape or dtype, a probe that does not match its declared axes, a declaration
  that cannot work);
* :class:`UserCodeError`: the user's own code raised; its message is the user's
  traceback, trimmed to the user's frames (rnnscope's and NumPy's are left out).
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Iterable

import numpy as np

# rnnscope/ (this file is rnnscope/engine/protocol/errors.py)
_RNNSCOPE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))) + os.sep
_NUMPY_DIR = os.path.dirname(os.path.abspath(np.__file__)) + os.sep


class ModelFileError(ValueError):
    """A model file cannot be loaded; the message names the file and the problem.

    ``classes``: the model classes the file defines, when the problem is which one to take (no
    class named and several defined, or a name that is not one of them): a picker offers them.
    """

    def __init__(self, message: str, classes: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.classes = classes


class ProtocolError(ValueError):
    """A model of the user's own broke the protocol; the message names the value and what was expected."""


class UserCodeError(RuntimeError):
    """An exception raised inside the user's model code.

    ``user_traceback`` holds the user's frames only, then the exception itself;
    ``original`` is the exception raised.
    """

    def __init__(self, summary: str, user_traceback: str, original: BaseException) -> None:
        self.summary = summary
        self.user_traceback = user_traceback
        self.original = original
        super().__init__(f"{summary}\n{user_traceback}".rstrip())


def is_library_file(filename: str) -> bool:
    """True for frames of rnnscope, NumPy, the standard library and installed packages."""
    path = os.path.abspath(filename)
    if path.startswith((_RNNSCOPE_DIR, _NUMPY_DIR)) or filename.startswith("<frozen "):
        return True
    parts = path.split(os.sep)
    if "site-packages" in parts or "dist-packages" in parts:
        return True
    prefixes = {os.path.abspath(p) + os.sep for p in (sys.prefix, sys.base_prefix, sys.exec_prefix)}
    return path.startswith(tuple(prefixes))


def user_frames(error: BaseException, folders: Iterable[str] = ()) -> list[traceback.FrameSummary]:
    """The user's frames of ``error``'s traceback: those rnnscope called last, in the user's files.

    The frames after rnnscope's innermost one (the code rnnscope called) that are not
    NumPy's, the standard library's or an installed package's; with ``folders``, only
    frames of files inside them. Empty when the error was raised by rnnscope itself
    (its innermost frame of a file of either kind is rnnscope's).
    """
    frames = traceback.extract_tb(error.__traceback__)
    called = [
        index
        for index, frame in enumerate(frames)
        if os.path.abspath(frame.filename).startswith(_RNNSCOPE_DIR)
    ]
    after = frames[called[-1] + 1 :] if called else frames
    mine = [frame for frame in after if not is_library_file(frame.filename)]
    roots = tuple(os.path.abspath(folder) + os.sep for folder in folders)
    if roots:
        mine = [frame for frame in mine if os.path.abspath(frame.filename).startswith(roots)]
    return mine


def user_code_error(error: BaseException, folders: Iterable[str] = ()) -> UserCodeError | None:
    """``error`` as a :class:`UserCodeError` when it was raised in the user's code, else ``None``.

    ``None`` also for rnnscope's own exception types (a :class:`ProtocolError`, a training
    or checkpoint error), which already say what is wrong whoever raised them.
    """
    if isinstance(error, UserCodeError):
        return error
    if type(error).__module__.split(".", 1)[0] == "rnnscope":
        return None
    frames = user_frames(error, folders)
    if not frames:
        return None
    where = frames[-1]
    place = f"{_short(where.filename)}, line {where.lineno}"
    summary = f"your model raised {type(error).__name__} in {where.name} ({place})"
    text = "Traceback (your code only):\n" + "".join(traceback.format_list(frames))
    text += "".join(traceback.format_exception_only(type(error), error))
    return UserCodeError(summary, text, error)


def _short(filename: str) -> str:
    """``filename`` relative to the working folder when it is inside it."""
    try:
        relative = os.path.relpath(filename)
    except ValueError:  # another drive
        return filename
    return filename if relative.startswith("..") else relative
