"""The main window: controls, a shared step cursor and dockable panels derived from the trace's probes.

It composes rooms with one job each: :class:`ModelControls` (what to trace),
:class:`Stepper` (the step cursor and playback), :class:`PanelDocks` (the panels and
their docks), :class:`Header` (message line and sequence strip), :class:`HelpMenu`,
:class:`Exporter` and :class:`Retracer` (tracing on worker threads, stale answers
dropped). Its base :class:`~.stepping.SteppingWindow` moves every panel with the step
cursor. The window itself shows one :class:`Session` at a time and remembers what
was picked.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from functools import partial
from typing import Any

from PyQt6.QtCore import QSettings, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QCloseEvent, QResizeEvent, QShowEvent
from PyQt6.QtWidgets import QApplication

from rnnscope.app import resources
from rnnscope.app.panels.lines import UnitPlot
from rnnscope.app.session import (
    TEXT_TASKS,
    OwnClass,
    Session,
    SessionSpec,
    build_session,
    build_task_for,
    model_file_of,
    options_problem,
    own_class_of,
    same_batch,
    session_of_model,
    spec_for_model,
    with_overrides,
)
from rnnscope.app.widgets import status_bar
from rnnscope.app.window.controls import ModelControls
from rnnscope.app.window.docking import PanelDocks
from rnnscope.app.window.header import Header
from rnnscope.app.window.menus import build_menus
from rnnscope.app.window.remembered import load_spec, save_spec
from rnnscope.app.window.retracer import Retracer
from rnnscope.app.window.screen import fit_to_screen, shrink_to_screen
from rnnscope.app.window.slots import layout_signature, panels_by_dock
from rnnscope.app.window.stepper import DEFAULT_SPEED, Stepper
from rnnscope.app.window.stepping import SteppingWindow
from rnnscope.app.window.trace_size import ask_heavy_trace, trace_refusal
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.nonfinite import NonFiniteReport, find_nonfinite
from rnnscope.engine.tasks import Batch, Task
from rnnscope.engine.trace import Trace

FIRST_TRACE_IN_BACKGROUND = 1_000_000  # steps x hidden units above which even the first trace is threaded
DEFAULT_SIZE = QSize(1600, 1000)  # fitted to the screen's available area
TRACING = "tracing…"


class MainWindow(SteppingWindow):
    """Shows one :class:`Session`; every step moves one cursor shared by all panels.

    Stable API for the training tools (the :class:`~rnnscope.app.host.ModelHost`
    Protocol and more): :meth:`add_panel`, :attr:`file_menu`, :meth:`show_model`,
    :meth:`current_model`, :meth:`current_task`, :meth:`current_batch` and the
    :attr:`model_changed` signal.
    """

    model_changed = pyqtSignal(object)
    session_changed = pyqtSignal()
    session_failed = pyqtSignal(str)
    trace_done = pyqtSignal()  # after every re-trace that was not superseded, shown or failed

    def __init__(
        self,
        settings: QSettings | None = None,
        overrides: Mapping[str, Any] | None = None,
        trace_now: bool = True,
    ) -> None:
        super().__init__()
        self.setWindowTitle("rnnscope")
        # the application's icon when it has one (configure_app): drawing it from the SVG again costs
        # more than a tenth of the first paint's budget
        shared = QApplication.windowIcon()
        self.setWindowIcon(shared if not shared.isNull() else resources.app_icon())
        # the style sheet is the window's (docks, dialogs and labels inherit it), so every window
        # looks the same whether it came from ``main`` or elsewhere (tests, screenshots)
        self.style_sheet = resources.load_style()
        self.setStyleSheet(self.style_sheet)
        self.setDockNestingEnabled(True)
        self.settings = settings if settings is not None else QSettings("rnnscope", "rnnscope")
        self.spec = with_overrides(load_spec(self.settings), overrides or {})
        self.session: Session | None = None
        self.own_class: OwnClass | None = None  # builds the models of kind "custom" (the user's class)
        self._signature: tuple[object, ...] | None = None  # layout_signature the panels were built for
        self.panels_rebuilt = False  # did the last session rebuild the panels (or update them in place)
        self.last_nonfinite: NonFiniteReport | None = None
        self.message = ""
        self._falling_back = False
        self._fitted = False
        # asked before anything that throws away what cannot be rebuilt (trained weights)
        self.discard_guards: list[Callable[[str], bool]] = []
        self.retracer = Retracer(self._traced, self._trace_failed, self)
        self._build_rooms()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        size = self.settings.value("window/size")
        fit_to_screen(self, size if isinstance(size, QSize) else DEFAULT_SIZE)
        if trace_now:
            # the first trace runs here, so the window opens with something on screen; a long
            # remembered sequence is traced on the worker instead, so the window still opens at once
            heavy = self.spec.length * self.spec.hidden > FIRST_TRACE_IN_BACKGROUND
            self.retrace(background=heavy)
        self.restore_layout()

    def _build_rooms(self) -> None:
        menus = build_menus(self, self.show_message, self.export_trace_npz, self.reset_layout)
        self.file_menu, self.view_menu, self.exporter, self.help = (
            menus.file,
            menus.view,
            menus.exporter,
            menus.help,
        )
        self.close_action, self.quit_action, self.reset_layout_action = menus.close, menus.quit, menus.reset
        self.controls = ModelControls(self.spec, self)
        self.controls.retrace_requested.connect(self._retrace_asked)
        self.controls.numbers_edited.connect(self._retrace_if_changed)
        self.controls.text_file_picked.connect(self.use_text_file)
        self.controls.check_options = self._options_problem
        self.addToolBar(self.controls)
        self.addToolBarBreak()
        speed = self.settings.value("ui/speed")
        self.stepper = Stepper(self, int(speed) if speed is not None else DEFAULT_SPEED)
        self.stepper.step_changed.connect(self._move_cursor)
        self.stepper.addSeparator()
        for widget in self.controls.sequence_widgets():
            self.stepper.addWidget(widget)
        self.addToolBar(self.stepper)
        # the sequence strip is the central widget, as tall as its rows; every panel is a dock below it
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.header = Header(styled=bool(self.style_sheet))
        self.setCentralWidget(self.header)
        self.unit_plot = UnitPlot()
        self.docks = PanelDocks(self, self.view_menu, self.settings, self.unit_plot)
        self.docks.hovered.connect(status_bar(self).showMessage)

    # ------------------------------------------------------------------ settings
    def save_settings(self) -> None:
        save_spec(self.settings, self.spec)
        self.settings.setValue("ui/speed", self.stepper.speed_box.value())
        self.settings.setValue("window/geometry", self.saveGeometry())
        # restoreGeometry clamps to the screen it finds; the size is kept on its own as well
        self.settings.setValue("window/size", self.size())
        self.docks.save_layout()  # the dock layout of the shown model kind
        self.settings.sync()

    def may_discard(self, what: str) -> bool:
        """May the window ``what`` (``show another model``)? Every guard in :attr:`discard_guards`
        is asked (the unsaved-weights prompt: Save / Discard / Cancel). A close is guarded by the
        prompt's own event filter (:mod:`rnnscope.app.unsaved_weights`)."""
        return all(guard(what) for guard in self.discard_guards)

    def showEvent(self, event: QShowEvent | None) -> None:  # noqa: N802 - Qt override
        super().showEvent(event)
        if not self._fitted:  # the frame's size is known once shown: fit the frame, not only the inside
            self._fitted = True
            fit_to_screen(self, self.size())

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        if self._fitted:  # a new layout's panels asked for a few more pixels than the screen has
            QTimer.singleShot(0, lambda: shrink_to_screen(self))

    def closeEvent(self, event: QCloseEvent | None) -> None:  # noqa: N802 - Qt override
        self.stepper.stop_playing()
        self.save_settings()
        self.retracer.cancel_all()  # a trace under way is stopped, not waited for: closing is quick
        super().closeEvent(event)

    def wait_for_workers(self) -> None:
        """Block until every re-trace thread has ended (on close, and in tests)."""
        self.retracer.wait()

    # ------------------------------------------------------------------ what is shown
    def current_model(self) -> RecurrentModel | None:
        return self.session.model if self.session else None

    def current_task(self) -> Task | None:
        return self.session.task if self.session else None

    def current_batch(self) -> Batch | None:
        return self.session.batch if self.session else None

    def show_message(self, text: str) -> None:
        """A message over the panels and in the status bar (errors, notes, NaN reports)."""
        self.message = text
        self.header.show_message(text)
        if text:
            status_bar(self).showMessage(text, 10_000)

    # ------------------------------------------------------------------ tracing
    def retrace(self, background: bool = True) -> None:
        """Rebuild model, task and sequence from the controls and trace them (on a worker thread)."""
        self.controls.enable(self.spec.text_file)
        spec = self.controls.spec_from(self.spec)
        if spec.text and spec.task not in TEXT_TASKS:
            spec.text = None  # the field is disabled for these tasks; its text waits for a text task
        refused = trace_refusal(spec, self.current_task(), self.own_class, partial(ask_heavy_trace, self))
        if refused is not None:  # too long a text, too big a trace: said, and the shown model stays
            self._trace_failed(refused)
            return
        self._trace(partial(build_session, spec, self.own_class), background)

    def show_model(self, model: RecurrentModel, task: Task | None = None, background: bool = True) -> None:
        """Display ``model`` (e.g. a copy of training weights) on the current sequence: a re-trace.

        With another ``task`` (a checkpoint's), a sequence of that task is drawn and the
        controls follow the model (its layers, embedding and every option) and the task. A
        model of the user's own class lists that class in the model picker.
        """
        batch: Batch | None = None
        own = own_class_of(model)
        if own is not None:
            self.use_own_class(own)
        shown, model_file = self.current_task(), model_file_of(model)
        if task is None or task is shown:
            spec = spec_for_model(self.spec, model.config, None, shown, model_file)
            task, batch = shown, self.current_batch()
        else:
            spec = spec_for_model(self.spec, model.config, task, model_file=model_file)
        self._trace(partial(session_of_model, model, task, batch, spec, own), background)

    def use_own_class(self, own: OwnClass | None) -> None:
        """Build the models of kind ``custom`` with ``own``'s class (``None``: none), listed by name in
        the model picker."""
        self.own_class = own
        self.controls.show_own_class(own.name if own is not None else None)

    def _options_problem(self, spec: SessionSpec) -> str | None:
        """The commands' error for ``spec``'s model options on its task (``None``: they fit)."""
        task = self.current_task()
        try:
            if task is None or self.spec.task != spec.task:
                task = build_task_for(spec)
        except (OSError, ValueError) as error:
            return f"the task cannot be made: {error}"
        return options_problem(spec, task, self.own_class)

    def use_text_file(self, path: str | None, background: bool = True) -> None:
        """Trace a sample of the UTF-8 file ``path`` (chars task); ``None`` goes back to the corpus."""
        self.spec = replace(self.spec, text_file=path)
        self.controls.show_text_file(path)
        self.retrace(background=background)

    def _retrace_if_changed(self) -> None:
        if self.controls.numbers_differ(self.spec):
            self._retrace_asked()

    def _retrace_asked(self) -> None:
        """A pick in the controls: a new model, unless that would throw away what the user keeps."""
        if self.may_discard("show another model"):
            self.retrace()
        else:
            self.controls.show_spec(self.spec)  # the pick is undone: the shown model stays

    def _trace(self, job: Callable[[], Session], background: bool) -> None:
        if background:
            status_bar(self).showMessage(TRACING)
        self.retracer.run(job, background)

    def _traced(self, session: Session) -> None:
        bar = status_bar(self)
        if bar.currentMessage() == TRACING:
            bar.clearMessage()
        self.set_session(session)

    def _trace_failed(self, message: str) -> None:
        self.show_message(f"Could not trace: {message}")
        if self.session is None and not self._falling_back:
            self._fall_back()
        self.session_failed.emit(message)
        self.trace_done.emit()

    def _fall_back(self) -> None:
        """Nothing shown yet and the picked model cannot be traced (a remembered file has gone,
        settings from an older version): show the default model, and say why."""
        problem = self.message
        self._falling_back = True
        try:
            self.spec = SessionSpec()
            self.controls.text_edit.setText("")
            self.controls.show_spec(self.spec)
            self.retrace(background=False)
        finally:
            self._falling_back = False
        self.show_message(f"{problem} (showing the default model instead)")

    # ------------------------------------------------------------------ showing a session
    def set_session(self, session: Session) -> None:
        """Show ``session``: its trace's probes get the panels their metadata call for.

        When only the numbers changed (other weights on the same task, probes of the same names
        and shapes: the training panel's paused weights, another seed) every panel keeps its
        place and gets the new data; otherwise panels and docks are rebuilt.
        """
        # the same sequence shown with other weights (training, checkpoints) keeps its step
        same_sequence = self.session is not None and same_batch(session.batch, self.session.batch)
        previous_step = self.step
        if not same_sequence:
            self.stepper.stop_playing()
        signature = layout_signature(session)
        in_place = bool(self.docks.groups) and self.strip is not None and signature == self._signature
        self._signature = signature
        self.session = session
        self.stepper.reset(session.trace.steps)
        own = own_class_of(session.model)
        if own is not None and (self.own_class is None or self.own_class.model_class is not own.model_class):
            self.use_own_class(own)  # a user's model shown from a script (rnnscope.show): its class is listed
        if session.spec is not None:
            self.spec = session.spec
            self.controls.show_spec(session.spec)
        self._show_panels(session, in_place)
        self.header.show_sequence(session, in_place)
        self.docks.follow_unit(same_sequence, session.trace.steps)
        self.show_message("; ".join(session.notes))
        self._go_to(session.trace, previous_step if same_sequence else 0)
        steps = session.trace.steps
        model = session.trace.model_kind or "model"
        self.setWindowTitle(f"rnnscope — {model} on {session.task.name}, {steps} steps")
        self.session_changed.emit()
        self.model_changed.emit(session.model)
        self.trace_done.emit()

    def _show_panels(self, session: Session, in_place: bool) -> None:
        """New numbers in the same panels (``in_place``), or new panels and docks."""
        self.panels_rebuilt = not in_place
        if in_place:
            self.docks.show_values(session.trace)
            return
        self.docks.show_groups(panels_by_dock(session), session.trace, session.trace.model_kind or "")
        self.exporter.list_panels(
            [(slot.title, partial(self.docks.panel, slot.title)) for slot in self.docks.slots()]
        )

    def _go_to(self, trace: Trace, step: int) -> None:
        """``step``, unless ``trace`` holds NaN / Inf: then where it first appeared, with a message."""
        bad = self.last_nonfinite = find_nonfinite(trace)
        if bad is None:
            self.set_step(step)
            return
        self.stepper.stop_playing()
        self.show_message(f"Non-finite value: {bad.describe()} (jumped there)")
        self.set_step(bad.step)
        self.docks.reveal(bad.probe, bad)
