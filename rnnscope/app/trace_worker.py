"""Re-tracing off the GUI thread: a QThread that builds a :class:`Session` and reports it by signal."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QThread, pyqtSignal


class TraceWorker(QThread):
    """Runs ``job()`` (returning a Session) once; emits ``finished_session`` or ``failed`` with a message."""

    finished_session = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, job: Callable[[], object], parent=None):
        super().__init__(parent)
        self.job = job

    def run(self) -> None:
        try:
            session = self.job()
        except Exception as error:  # reported to the window, which keeps running
            self.failed.emit(f"{type(error).__name__}: {error}")
            return
        self.finished_session.emit(session)
