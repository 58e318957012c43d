"""Tracing for the window: now on the GUI thread, or on a worker thread with stale answers dropped."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QObject

from rnnscope.app.session import Session
from rnnscope.app.trace_worker import TraceWorker, describe


class Retracer(QObject):
    """Runs trace jobs (each returns a :class:`Session`) and hands the outcome of the newest one to
    ``shown(session)`` or ``failed(message)``.

    Starting a job makes every earlier one stale: a stale worker is cancelled (stopped at its
    next step, :mod:`rnnscope.app.trace_worker`) and its session or error dropped, never
    shown; nobody waits for it. :meth:`cancel_all` does the same on close. Callbacks run on
    the GUI thread (the workers' signals are queued to this object, which lives there).
    """

    def __init__(
        self,
        shown: Callable[[Session], None],
        failed: Callable[[str], None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._shown = shown
        self._failed = failed
        self._generation = 0  # the newest request; only its outcome is reported
        self._workers: list[TraceWorker] = []

    @property
    def busy(self) -> bool:
        """Some worker has not ended yet, or its outcome has not arrived (a stale one included)."""
        self._forget_ended()
        return bool(self._workers)

    def run(self, job: Callable[[], Session], background: bool) -> None:
        """Run ``job`` now (``background=False``: its outcome is handled before this returns) or on
        a new worker thread."""
        self._generation += 1
        self.cancel_all(newer=False)
        if not background:
            try:
                session = job()
            except Exception as error:  # a bad file, a character outside the vocabulary: a message
                self._failed(describe(error))
                return
            self._shown(session)  # an error in showing it reaches the caller
            return
        worker = TraceWorker(job, self._generation)
        worker.traced.connect(self._worker_traced)
        worker.failed.connect(self._worker_failed)
        self._forget_ended()
        self._workers.append(worker)
        worker.start()

    def cancel_all(self, newer: bool = True) -> None:
        """Cancel every running job without waiting for it (on close); ``newer``: no outcome of a
        job started so far is reported any more."""
        if newer:
            self._generation += 1
        for worker in self._workers:
            worker.cancel()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until every worker thread has ended (``timeout`` seconds at most, for each; in tests
        and scripts: closing cancels instead); True when they all have."""
        return all(worker.join(timeout) for worker in list(self._workers))

    def _worker_traced(self, generation: int, session: Session) -> None:
        self._received()
        if generation == self._generation:
            self._shown(session)

    def _worker_failed(self, generation: int, message: str) -> None:
        self._received()
        if generation == self._generation:
            self._failed(message)

    def _received(self) -> None:
        worker = self.sender()
        if isinstance(worker, TraceWorker):
            worker.received = True

    def _forget_ended(self) -> None:
        """Drop the workers that are over (here, on the GUI thread, where they live)."""
        self._workers = [worker for worker in self._workers if not worker.over]

    @property
    def running(self) -> int:
        """How many worker threads are still running (stale or cancelled ones included)."""
        return sum(worker.is_alive() for worker in self._workers)
