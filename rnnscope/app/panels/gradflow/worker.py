"""One gradient-flow computation on a thread of its own, reported by signal with its request number."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QObject, QThread, pyqtSignal


class GradFlowJob(QThread):
    """Runs ``job()`` once; emits ``done(generation, result)`` or ``failed(generation, message)``.

    ``generation`` numbers the request, so the panel can drop the answer of a stale one (the
    cursor moved on, another trace came).
    """

    done = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)

    def __init__(self, job: Callable[[], object], generation: int, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.generation = generation

    def run(self) -> None:
        try:
            result = self.job()
        except Exception as error:  # said in the panel, which keeps running
            self.failed.emit(self.generation, str(error) or type(error).__name__)
            return
        self.done.emit(self.generation, result)
