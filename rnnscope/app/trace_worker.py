"""Re-tracing off the GUI thread: a job that builds a :class:`Session` on a thread of its own,
reported by signal, and cancelled (not awaited) when it is no longer wanted.

A trace is plain NumPy work that knows nothing of the app (the engine never imports Qt
and takes no cancel flag). A stale trace is stopped from outside:
:meth:`TraceWorker.cancel` raises :class:`TraceCancelled` in the worker's thread
(``PyThreadState_SetAsyncExc``), which the interpreter delivers between two bytecodes
of the trace -- within a step of any model, at the latest when the NumPy call under way
returns. The thread is a daemon: a trace that is still in a long NumPy call when the
app exits never holds the exit up, and since it is a plain Python thread (no
``QThread``) nothing is destroyed under it. Its outcome is dropped once it has been
cancelled.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable

from PyQt6.QtCore import QObject, pyqtSignal

from rnnscope.app.session import Session


class TraceCancelled(BaseException):
    """Raised inside a cancelled trace's thread. A ``BaseException``, so that the ``except
    Exception`` of the code it interrupts lets it through."""


def _set_async_exception(thread_id: int, exception: type[BaseException] | None) -> None:
    """Raise ``exception`` in the thread ``thread_id`` at its next bytecode (``None``: take back
    one not yet raised)."""
    target = ctypes.py_object(exception) if exception is not None else ctypes.c_void_p(None)
    ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(thread_id), target)


class TraceWorker(QObject):
    """Runs ``job()`` once on a daemon thread; emits ``traced(generation, session)`` or
    ``failed(generation, message)`` unless cancelled (:meth:`is_alive` says when it has ended).

    ``generation`` numbers the request, so whoever started it can tell a stale answer
    from the newest one. The object lives on the thread that made it (the GUI thread),
    so its signals reach the GUI queued.
    """

    traced = pyqtSignal(int, object)
    failed = pyqtSignal(int, str)

    def __init__(self, job: Callable[[], Session], generation: int) -> None:
        super().__init__()
        self.job = job
        self.generation = generation
        self.cancelled = False
        self.emitted = False  # its outcome was sent (the receiver sets ``received`` when it has it)
        self.received = False
        # held by whoever may raise in the thread; the thread takes it for good when its job is
        # over, after which nothing is raised in it (a reentrant lock: the thread may retry)
        self._raise_lock = threading.RLock()
        self._armed = False  # the thread is inside its job: a cancel is raised there
        self._thread = threading.Thread(target=self._run, name=f"trace {generation}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def is_alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def over(self) -> bool:
        """Its thread has ended and its outcome, if it sent one, was received (or is dropped)."""
        return not self._thread.is_alive() and (self.received or self.cancelled or not self.emitted)

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread (``timeout`` seconds at most); True when it has ended."""
        if self._thread.ident is not None:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def cancel(self) -> None:
        """Stop the job as soon as it runs Python again and drop its outcome (any thread)."""
        self.cancelled = True
        ident = self._thread.ident
        # not yet inside the job (it will see ``cancelled``), or its job is over: nothing to raise
        if ident is None or not self._armed or not self._raise_lock.acquire(blocking=False):
            return
        try:
            _set_async_exception(ident, TraceCancelled)
        finally:
            self._raise_lock.release()

    def _run(self) -> None:
        outcome: list[Session | str] = []
        try:
            self._armed = True  # before looking at ``cancelled``: cancel() sees one or the other
            if not self.cancelled:
                outcome.append(self._outcome())
        except TraceCancelled:
            pass
        while True:  # the door: after it nothing is raised in this thread any more
            try:
                self._raise_lock.acquire()  # for good (``cancel`` only tries it)
                _set_async_exception(threading.get_ident(), None)  # one raised but not yet delivered
                break
            except TraceCancelled:  # delivered just now, before it could be taken back: again
                continue
        # a cancelled worker touches nothing of Qt any more: the app (and at exit, every Qt object)
        # may be going away under it
        if outcome and not self.cancelled:
            self.emitted = True
            if isinstance(outcome[0], Session):
                self.traced.emit(self.generation, outcome[0])
            else:
                self.failed.emit(self.generation, outcome[0])

    def _outcome(self) -> Session | str:
        """The job's session, or the message of its error."""
        try:
            return self.job()
        except Exception as error:  # reported to the window, which keeps running
            return describe(error)


def describe(error: BaseException) -> str:
    """``"TypeName: message"``, as the window shows a failed trace."""
    return f"{type(error).__name__}: {error}"
