"""``rnnscope.check`` and ``rnnscope.show``: a live model from a notebook or a script, checked or looked at.

    import rnnscope
    result = rnnscope.check(model, inputs, targets)     # inputs (T, B, D), targets (T, B) or (T, B, O)
    print(result)                                       # the table `rnnscope gradcheck` prints
    result.save("report.html")                          # or .csv, .json, .md
    rnnscope.show(model, inputs, targets)               # the window on this model; returns when closed

``model`` is any rnnscope model: a built-in one, or a model of the user's own
(:mod:`rnnscope.engine.protocol`). An exception in the user's model code is raised as
a :class:`~rnnscope.engine.protocol.UserCodeError` whose message is the user's own
traceback; a value returned with the wrong shape or dtype is a
:class:`~rnnscope.engine.protocol.ProtocolError` naming it. The window is imported only
when :func:`show` is called, so checking needs no display and no Qt.
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields
from typing import TYPE_CHECKING, Any

import numpy as np

from rnnscope.engine.gradcheck import GradcheckResult, check_gradients
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.protocol import ArrayTask, check_model, user_code
from rnnscope.engine.tasks import Batch, Task
from rnnscope.report import render, to_text, write_report

if TYPE_CHECKING:  # Qt is imported by show() only
    from PyQt6.QtCore import QSettings

    from rnnscope.app.window import MainWindow

SHOW_SETTINGS = ("rnnscope", "rnnscope-show")  # show()'s own settings: a live model is not the app's session
_APPLICATION: list[Any] = []  # the QApplication show() made, kept alive between calls


class CheckResult(GradcheckResult):
    """A :class:`~rnnscope.engine.gradcheck.GradcheckResult` that prints as the command line's table
    (``print(result)``) and saves as any report format (:meth:`save`)."""

    def __str__(self) -> str:
        return to_text(self, colour=False)

    def __repr__(self) -> str:
        failing = [row.name for row in self.all_rows() if row.failed]
        verdict = f"fail in {', '.join(failing)}" if failing else self.status.value
        return f"<CheckResult {self.mode}: {len(self.rows)} tensors, {verdict}; print() it for the table>"

    def render(self, format: str) -> str:
        """The report as text: ``"csv"``, ``"json"``, ``"md"`` or ``"html"``."""
        return render(self, format)

    def save(self, path: str | os.PathLike[str], format: str | None = None) -> str:
        """Write the report to ``path`` atomically, its format from ``format`` or the extension."""
        write_report(self, os.fspath(path), format)
        return os.path.abspath(path)


def check(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
    **settings: Any,
) -> CheckResult:
    """Check every gradient of ``model`` on ``inputs`` ``(T, B, D)`` and ``targets`` numerically.

    ``settings`` are :class:`~rnnscope.engine.gradcheck.CheckOptions` fields (``mode="full"``,
    ``samples=20``, ``parameters=["Wh"]``, ...). The model is first run once against the
    protocol, so a wrong shape is named before the check starts.
    """
    model = _model(model)
    with user_code():
        check_model(model, inputs, targets, mask, state)
        result = check_gradients(model, inputs, targets, mask, state, **settings)
    return CheckResult(**{field.name: getattr(result, field.name) for field in fields(result)})


def show(
    model: RecurrentModel,
    inputs: np.ndarray | None = None,
    targets: np.ndarray | None = None,
    mask: np.ndarray | None = None,
    *,
    task: Task | None = None,
    row: int = 0,
    settings: QSettings | None = None,
) -> None:
    """Open the window on ``model`` and return when it is closed.

    The window traces row ``row`` of ``inputs`` ``(T, B, D)`` / ``targets`` (or, with only a
    ``task``, a sequence of that task) and shows every probe the model records, with the
    training and gradient-check panels. ``settings`` (a ``QSettings``) default to
    show()'s own, apart from the app's remembered session.
    """
    model = _model(model)
    batch, task = _sequence(model, inputs, targets, mask, task, row)
    if batch is not None:
        with user_code():  # a broken model is reported here, before a window opens
            check_model(model, batch.inputs, batch.targets, batch.mask)
    from PyQt6.QtCore import QEventLoop, Qt
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.gui_gc import GuiThreadCollector

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1] or ["rnnscope"])
    _APPLICATION[:] = [app]  # one application for the process: the next show() reuses it
    collector = app.findChild(GuiThreadCollector)
    try:
        window = _window(app, settings)
        if batch is not None:
            from rnnscope.app.session import spec_for_model, trace_session

            with user_code():
                session = trace_session(model, task, batch)
            # the controls follow the model shown (its sizes, the task), as for a checkpoint's model
            session.spec = spec_for_model(window.spec, model.config, task)
            window.set_session(session)
        else:
            window.show_model(model, task, background=False)
        window.restore_layout()
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        loop = QEventLoop()
        window.destroyed.connect(loop.quit)
        window.show()
        from rnnscope.app.application import report_errors

        reporter = report_errors(app)  # the window's uncaught exceptions are shown while it is up
        try:
            loop.exec()
        finally:
            reporter.uninstall()
    finally:
        if collector is None:  # the window's collector runs with its event loop: hand gc back after it
            _stop_collector(app.findChild(GuiThreadCollector))


def _stop_collector(collector: Any) -> None:
    """Give cyclic garbage collection back to the interpreter (a notebook goes on without Qt's loop)."""
    if collector is not None:
        collector.stop()
        collector.setParent(None)
        collector.deleteLater()


def _model(model: object) -> RecurrentModel:
    if isinstance(model, type):
        raise TypeError(
            f"pass a model, not the class {model.__name__}: e.g. "
            f"{model.__name__}.build(input_size=D, hidden_size=H, output_size=O)"
        )
    if not isinstance(model, RecurrentModel):
        raise TypeError(f"expected an rnnscope model (a RecurrentModel), got {type(model).__name__}")
    return model


def _sequence(
    model: RecurrentModel,
    inputs: np.ndarray | None,
    targets: np.ndarray | None,
    mask: np.ndarray | None,
    task: Task | None,
    row: int,
) -> tuple[Batch | None, Task]:
    """The batch of one sequence to trace (``None``: the task draws one) and the task it belongs to."""
    if inputs is None or targets is None:
        if task is None:
            raise TypeError("show() needs the sequences (inputs and targets) or a task")
        return None, task
    inputs = np.asarray(inputs)
    if inputs.ndim != 3:
        raise ValueError(f"inputs must be time-major (T, B, D), got shape {inputs.shape}")
    weights = np.ones(inputs.shape[:2]) if mask is None else np.asarray(mask, dtype=np.float64)
    batch = Batch(inputs, np.asarray(targets), weights)
    config = model.config
    task = task or ArrayTask(batch, config.output_size, config.loss, config.many_to_one)
    return batch.row(row), task


def _window(app: Any, settings: QSettings | None) -> MainWindow:
    """A main window with the training tools, that traces nothing of its own at start."""
    from PyQt6.QtCore import QSettings

    from rnnscope.app.application import configure_app
    from rnnscope.app.checkpoint_actions import install_training_tools
    from rnnscope.app.window import MainWindow

    configure_app(app)
    settings = settings if settings is not None else QSettings(*SHOW_SETTINGS)
    window = MainWindow(settings=settings, trace_now=False)
    install_training_tools(window, settings=settings)
    return window
