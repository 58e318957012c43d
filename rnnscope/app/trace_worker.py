"""Re-tracing off the GUI thread: a QThread that builds a :class:`Session` and reports it by signal."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QObject, QThread, pyqtSignal

from rnnscope.app.session import Session


class TraceWorker(QThread):
    """Runs ``job()`` once; emits ``traced(generation, session)`` or ``failed(generation, message)``.

    ``generation`` numbers the request, so whoever started it can tell a stale answer
    from the newest one.
    """

    traced = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)

    def __init__(self, job: Callable[[], Session], generation: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.generation = generation

    def run(self) -> None:
        try:
            session = self.job()
        except Exception as error:  # reported to the window, which keeps running
            self.failed.emit(self.generation, describe(error))
            return
        self.traced.emit(self.generation, session)


def describe(error: BaseException) -> str:
    """``"TypeName: message"``, as the window shows a failed trace."""
    return f"{type(error).__name__}: {error}"
