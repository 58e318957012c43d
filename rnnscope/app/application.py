"""Set-up shared by everything that opens rnnscope windows: the app, the panel demos, benchmarks."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from types import FrameType

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication, QWidget

from rnnscope.app import resources
from rnnscope.app.errors import ErrorReporter, install_exception_handler
from rnnscope.app.gui_gc import collect_on_gui_thread


def configure_app(app: QApplication) -> None:
    """Names (they place the user's ``QSettings``), the application icon of ``app``, and garbage
    collection on the GUI thread only (:mod:`rnnscope.app.gui_gc`)."""
    collect_on_gui_thread(app)
    app.setApplicationName("rnnscope")
    app.setOrganizationName("rnnscope")
    if resources.resources_dir() is None:  # the app runs without them, but say why it looks plain
        print(f"warning: {resources.missing_message()}", file=sys.stderr)
    app.setWindowIcon(resources.app_icon())


def report_errors(app: QApplication, log_dir: Path | None = None) -> ErrorReporter:
    """Uncaught exceptions are logged and shown in a non-modal dialog (:mod:`rnnscope.app.errors`)
    instead of pyqtgraph's print-and-carry-on, until :meth:`ErrorReporter.uninstall`. Call after
    :func:`configure_app` (the log goes to the app's cache folder, which its name places)."""
    existing = app.findChild(ErrorReporter)
    if existing is not None:
        existing.uninstall()
        existing.setParent(None)
    return install_exception_handler(app, log_dir)


INTERRUPT_POLL_MS = 200  # how soon Ctrl-C in the terminal is noticed


def close_on_interrupt(app: QApplication, window: QWidget) -> QTimer:
    """Ctrl-C (SIGINT) in the launching terminal closes ``window`` as File > Quit does: settings
    saved, workers stopped, unsaved trained weights asked about.

    Python runs signal handlers only between bytecodes, and Qt's event loop is C++: a timer
    wakes the interpreter now and then so the handler gets its turn. Returns that timer.
    """

    def interrupted(_number: int, _frame: FrameType | None) -> None:
        QTimer.singleShot(0, window.close)  # from the event loop, not from inside the handler

    signal.signal(signal.SIGINT, interrupted)
    timer = QTimer(app)
    timer.timeout.connect(lambda: None)
    timer.start(INTERRUPT_POLL_MS)
    return timer
