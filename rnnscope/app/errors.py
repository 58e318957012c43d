"""Uncaught exceptions in the app: logged and shown, never a silent print, never a loop.

PyQt hands an exception that escapes a slot or a Qt override to ``sys.excepthook``;
pyqtgraph's hook prints it on stderr and carries on, so the user sees nothing while a
panel is left half-updated. :func:`install_exception_handler` replaces it for the app's
run with an :class:`ErrorReporter` that

- logs the traceback to stderr and to ``rnnscope.log`` in the app's cache folder
  (rotated: at most :data:`LOG_BYTES` x (1 + :data:`LOG_BACKUPS`) bytes on disk);
- shows it in an :class:`ErrorDialog`: not modal, one window whatever the number of
  errors (it counts them), the details selectable and copied by a button;
- is never recursive: an exception while reporting one (the dialog itself failing) is
  printed on stderr and dropped, as are exceptions beyond :data:`SHOWN_PER_MINUTE`;
- hands the exception on to a hook that was not a plain printer (pytest-qt's capture:
  a slot that raises in a test still fails it).

Exceptions of other Python threads (``threading.excepthook``) reach the same reporter,
queued to the GUI thread. The workers catch their own errors and report them through
signals; this is the net under everything else.
"""

from __future__ import annotations

import logging
import logging.handlers
import sys
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from PyQt6 import sip
from PyQt6.QtCore import QObject, QStandardPaths, Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

LOG_NAME = "rnnscope.log"
LOG_BYTES = 1_000_000  # one log file's size before it is rotated
LOG_BACKUPS = 2  # rotated files kept (rnnscope.log.1, .2)
SHOWN_PER_MINUTE = 20  # beyond this an error loop only counts (and logs) its errors
DETAILS_CHARS = 200_000  # the dialog keeps the newest details up to this length

Hook = Callable[[type[BaseException], BaseException, TracebackType | None], object]


def default_log_dir() -> Path | None:
    """The app's cache folder (``~/.cache/rnnscope/rnnscope`` on Linux), ``None`` when Qt names none."""
    location = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.CacheLocation)
    return Path(location) if location else None


def _file_logger(log_dir: Path | None) -> tuple[logging.Logger, logging.Handler | None]:
    """A logger of its own (never the root's: a host's logging set-up is left alone) writing
    to ``log_dir``/rnnscope.log, rotated; no file when the folder cannot be made."""
    logger = logging.getLogger(f"rnnscope.errors.{id(log_dir)}")
    logger.propagate = False
    logger.setLevel(logging.ERROR)
    if log_dir is None:
        return logger, None
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        handler: logging.Handler = logging.handlers.RotatingFileHandler(
            log_dir / LOG_NAME, maxBytes=LOG_BYTES, backupCount=LOG_BACKUPS, encoding="utf-8", delay=True
        )
    except OSError as error:
        print(f"warning: errors are not logged to a file ({error})", file=sys.stderr)
        return logger, None
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s"))
    logger.addHandler(handler)
    return logger, handler


def _prints_only(hook: object) -> bool:
    """Is ``hook`` Python's default or pyqtgraph's (which only prints)? Those are replaced, not called."""
    return hook is sys.__excepthook__ or getattr(hook, "__module__", "").startswith("pyqtgraph")


class ErrorDialog(QDialog):
    """The errors so far: a summary line, the tracebacks (newest last) and *Copy details*.

    Not modal: the window behind it keeps working; closing it only hides it.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("rnnscope: unexpected error")
        self.setModal(False)
        self.setAttribute(Qt.WidgetAttribute.WA_ShowWithoutActivating)
        self.setAttribute(Qt.WidgetAttribute.WA_QuitOnClose, False)  # an open one never keeps the app up
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.details = QPlainTextEdit()
        self.details.setReadOnly(True)
        self.details.setMinimumSize(520, 220)
        self.copy_button = QPushButton("Copy details")
        self.copy_button.clicked.connect(self.copy_details)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.copy_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.hide)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.details)
        layout.addWidget(buttons)

    def add(self, headline: str, details: str, count: int, log_path: Path | None) -> None:
        """Show one more error (``count`` so far): its headline and its traceback."""
        where = f" The details are logged in {log_path}." if log_path is not None else ""
        more = f" ({count} errors so far)" if count > 1 else ""
        self.summary.setText(
            f"<b>{headline}</b><br>rnnscope keeps running, but what was being done may be "
            f"incomplete{more}.{where}"
        )
        text = (self.details.toPlainText() + "\n" if self.details.toPlainText() else "") + details
        self.details.setPlainText(text[-DETAILS_CHARS:])
        scroll = self.details.verticalScrollBar()
        if scroll is not None:
            scroll.setValue(scroll.maximum())
        self.show()

    def copy_details(self) -> None:
        clipboard = QApplication.clipboard()
        if clipboard is not None:
            clipboard.setText(self.details.toPlainText())


class ErrorReporter(QObject):
    """The app's ``sys.excepthook`` (see the module's docstring); :attr:`errors` lists the
    ``"Type: message"`` of every exception it received."""

    # another thread's exception, queued to the GUI thread: (headline, details)
    _from_thread = pyqtSignal(str, str)

    def __init__(self, log_dir: Path | None, parent: QObject | None = None, dialogs: bool = True) -> None:
        super().__init__(parent)
        self.errors: list[str] = []
        self.dialogs = dialogs
        self.dialog: ErrorDialog | None = None
        self.log_path = log_dir / LOG_NAME if log_dir is not None else None
        self._logger, self._handler = _file_logger(log_dir)
        if self._handler is None:
            self.log_path = None
        self._busy = False  # reporting an error now: another one is printed, not reported
        self._shown_times: list[float] = []
        self._previous_hook: Hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        self._from_thread.connect(self._report)

    # ------------------------------------------------------------------ installing
    def install(self) -> None:
        self._previous_hook = sys.excepthook
        self._previous_thread_hook = threading.excepthook
        sys.excepthook = self.handle
        threading.excepthook = self.handle_thread

    def uninstall(self) -> None:
        """Put back the hooks found at :meth:`install`; close the log file."""
        if sys.excepthook == self.handle:
            sys.excepthook = self._previous_hook
        if threading.excepthook == self.handle_thread:
            threading.excepthook = self._previous_thread_hook
        if self._handler is not None:
            self._logger.removeHandler(self._handler)
            self._handler.close()
            self._handler = None

    # ------------------------------------------------------------------ hooks
    def handle(self, kind: type[BaseException], error: BaseException, trace: TracebackType | None) -> None:
        """``sys.excepthook``: report ``error`` (GUI thread), then hand it to a capturing hook."""
        details = "".join(traceback.format_exception(kind, error, trace))
        if issubclass(kind, KeyboardInterrupt):  # Ctrl-C closes the window (application.py): no error
            print(details, file=sys.stderr, end="")
        else:
            self._report(f"{kind.__name__}: {error}", details)
        if not _prints_only(self._previous_hook):
            self._previous_hook(kind, error, trace)

    def handle_thread(self, args: threading.ExceptHookArgs) -> None:
        """``threading.excepthook``: the report is queued to the GUI thread."""
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        details = "".join(traceback.format_exception(args.exc_type, args.exc_value, args.exc_traceback))
        name = args.thread.name if args.thread is not None else "a thread"
        self._from_thread.emit(f"{args.exc_type.__name__} in {name}: {args.exc_value}", details)

    # ------------------------------------------------------------------ reporting
    def _report(self, headline: str, details: str) -> None:
        if self._busy:  # an error while reporting one: said plainly, never reported again
            print(f"error while reporting an error:\n{details}", file=sys.stderr, end="")
            return
        self._busy = True
        try:
            self.errors.append(headline)
            print(f"rnnscope: unexpected error\n{details}", file=sys.stderr, end="")
            self._logger.error("%s", details.rstrip())
            if self.dialogs and self._may_show():
                self._show(headline, details)
        except Exception:  # the report itself failed (no display, a broken log file): stderr only
            print(f"error while reporting an error:\n{traceback.format_exc()}", file=sys.stderr, end="")
        finally:
            self._busy = False

    def _may_show(self) -> bool:
        """Fewer than :data:`SHOWN_PER_MINUTE` errors were shown in the last minute."""
        now = time.monotonic()
        self._shown_times = [t for t in self._shown_times if now - t < 60.0]
        if len(self._shown_times) >= SHOWN_PER_MINUTE:
            return False
        self._shown_times.append(now)
        return True

    def _show(self, headline: str, details: str) -> None:
        if self.dialog is None or sip.isdeleted(self.dialog):  # its window may have been closed since
            self.dialog = ErrorDialog(QApplication.activeWindow())
        self.dialog.add(headline, details, len(self.errors), self.log_path)


def install_exception_handler(
    app: QObject, log_dir: Path | None = None, dialogs: bool = True
) -> ErrorReporter:
    """Make an :class:`ErrorReporter` (a child of ``app``) the process's exception hook; logs go to
    ``log_dir`` (default: :func:`default_log_dir`). Undo with :meth:`ErrorReporter.uninstall`."""
    reporter = ErrorReporter(log_dir if log_dir is not None else default_log_dir(), app, dialogs)
    reporter.install()
    return reporter
