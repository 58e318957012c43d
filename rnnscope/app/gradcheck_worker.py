"""The gradient check off the GUI thread: a ``QObject`` worker run with :func:`start_worker`.

The checker perturbs parameters in place, so the worker checks its *own copy* of
the model: the stepping view can keep reading the displayed model meanwhile.
Progress is throttled (``progress`` at most every ``emit_interval`` seconds, plus
the final count); ``cancel()`` is polled by the checker between chunks of
evaluations, and a cancelled check ends with ``cancelled(partial_result)``.
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PyQt6.QtCore import QObject, pyqtSignal, pyqtSlot

from rnnscope.engine.gradcheck import CheckOptions, GradcheckCancelled, check_gradients, unstarted_result
from rnnscope.engine.models.base import RecurrentModel, State


@dataclass
class GradcheckRequest:
    """One gradient check: the batch ``inputs`` ``(T, B, D)``, ``targets`` ``(T, B)`` or
    ``(T, B, O)``, ``mask`` ``(T, B)``, the carried ``state``, and how to check.

    A float32 model is checked as a float64 copy (the engine's default, with a note).
    """

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray | None = None
    state: State | None = None
    options: CheckOptions = field(default_factory=CheckOptions)


def private_copy(model: RecurrentModel) -> RecurrentModel:
    """A model of the same class and config with copied weights: the class shown is the class checked
    (every model is constructed from ``(config, params)``)."""
    return type(model)(model.config, model.params.copy())


class GradcheckWorker(QObject):
    """Runs ``check_gradients`` on a copy of ``model`` once.

    Signals: ``progress(done, total, parameter)``; then exactly one of
    ``finished(GradcheckResult)``, ``cancelled(GradcheckResult)`` (partial, rows of
    the finished tensors only) or ``failed(str)``. ``done()`` follows any of them.
    """

    progress = pyqtSignal(int, int, str)
    done = pyqtSignal()
    finished = pyqtSignal(object)
    cancelled = pyqtSignal(object)
    failed = pyqtSignal(str)

    def __init__(self, model: RecurrentModel, request: GradcheckRequest, emit_interval: float = 0.05) -> None:
        super().__init__()
        self.model = private_copy(model)
        self.request = request
        self.emit_interval = float(emit_interval)
        self._cancel = threading.Event()
        self._last_progress = 0.0

    def cancel(self) -> None:
        """Ask the check to stop at the next chunk (any thread)."""
        self._cancel.set()

    @property
    def cancel_requested(self) -> bool:
        return self._cancel.is_set()

    def _report(self, done: int, total: int, name: str) -> None:
        now = time.perf_counter()
        if done >= total or now - self._last_progress >= self.emit_interval:
            self._last_progress = now
            self.progress.emit(int(done), int(total), name)

    @pyqtSlot()
    def run(self) -> None:
        request = self.request
        try:
            if self._cancel.is_set():
                raise GradcheckCancelled(unstarted_result(self.model.config, request.options))
            result = check_gradients(
                self.model,
                request.inputs,
                request.targets,
                request.mask,
                request.state,
                options=request.options,
                progress=self._report,
                cancel=self._cancel.is_set,
            )
        except GradcheckCancelled as stop:
            self.cancelled.emit(stop.partial)
        except Exception as error:  # reported, never raised into Qt
            detail = traceback.format_exc(limit=6)
            self.failed.emit(f"gradient check failed: {error}\n\n{detail}")
        else:
            self.finished.emit(result)
        finally:
            self.done.emit()
