"""Running a ``QObject`` worker on a thread of its own, for the training and gradient-check workers.

``start_worker(worker)`` creates the thread, moves the worker, starts ``worker.run``
and quits the thread when the worker says it is done; ``stop_thread`` waits for it.
"""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import Qt, QThread, pyqtBoundSignal


class ThreadWorker(Protocol):
    """What :func:`start_worker` runs: a ``QObject`` with a ``run`` slot and a ``done`` signal."""

    @property
    def done(self) -> pyqtBoundSignal: ...

    def run(self) -> None: ...

    def moveToThread(self, thread: QThread | None) -> None: ...  # noqa: N802 - Qt API


def start_worker(worker: ThreadWorker, name: str = "worker") -> QThread:
    """Move ``worker`` to a new thread, run ``worker.run`` there, and start it.

    The worker must have a ``done`` signal, emitted last; it quits the thread.
    Create any ``waitSignal`` blockers *before* calling this. The caller keeps
    the returned thread (and the worker) referenced until the thread has
    finished; :func:`stop_thread` waits for it.
    """
    thread = QThread()
    thread.setObjectName(name)
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    # QThread.quit is thread-safe: call it from the worker's thread at once rather than queueing it
    # to the GUI thread, which may itself be blocked in thread.wait() and would then never run it
    direct = Qt.ConnectionType.DirectConnection
    worker.done.connect(thread.quit, direct)  # type: ignore[call-arg]  # PyQt6's stub lacks connect's type
    thread.start()
    return thread


def stop_thread(thread: QThread | None, timeout_ms: int = 10_000) -> bool:
    """Quit ``thread`` and wait for it (True when it has finished)."""
    if thread is None:
        return True
    thread.quit()
    return thread.wait(timeout_ms)
