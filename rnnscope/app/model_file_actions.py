"""A model of the user's own in the window: opened, watched, reloaded on save, rechecked.

*File > Open model file...*, a ``.py`` dropped on the window and ``rnnscope --model-file
path.py[:Class]`` open one (:class:`~rnnscope.engine.protocol.ModelFileSession` does the
Qt-free part: loading, reloading, what changed). The model picker lists the class by
name; every probe it declares gets panels through the probe metadata, with no view code.

While it is open, the file and the modules it imports from its folder are watched
(:mod:`.model_file_watch`); on a save the class is loaded again, the shown model is
rebuilt in it with the same weights (fresh ones, said, when the parameters changed) and
traced on the same sequence, keeping the cursor and the layout; if a gradient check was
run, it runs again, keeping the selected row, and the status line says what changed
(``buggy_lstm.py reloaded: Wh: fail -> ok, Wh[forget]: fail -> ok``). A save that
cannot be used (a syntax error, an exception in the user's code, a value of the wrong
shape) shows the message, the user's traceback trimmed to their frames, and the window
keeps the last good model.

Checkpoints of a user's model open through
:func:`~rnnscope.engine.protocol.open_model_checkpoint`: the class comes from the file
the checkpoint records, or from one the user points at when it is not there; a file that
changed since the save is warned about. Nothing is imported on a checkpoint's word alone.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from PyQt6.QtCore import QEvent, QObject, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QFileDialog, QInputDialog, QMenu, QMessageBox

from rnnscope.app.dropping import take_drop
from rnnscope.app.model_file_watch import ModelFileWatch
from rnnscope.app.panels.gradcheck import GradcheckPanel
from rnnscope.app.panels.gradcheck.table import NAME_ROLE
from rnnscope.app.session import OwnClass, SessionSpec
from rnnscope.app.widgets import status_bar
from rnnscope.app.window import MainWindow
from rnnscope.engine.checkpoint import Checkpoint, CheckpointError
from rnnscope.engine.checkpoint.model_file import ModelSource
from rnnscope.engine.gradcheck import GradcheckResult
from rnnscope.engine.models.config import CUSTOM_KIND
from rnnscope.engine.protocol import (
    ModelFileError,
    ModelFileSession,
    ProtocolError,
    UserCodeError,
    describe_changes,
    open_model_checkpoint,
    recorded_source,
    status_changes,
)

MODEL_FILTER = "Python model files (*.py);;All files (*)"
KEPT = "the last good model stays"


@dataclass
class _Reload:
    """A reload under way: what the last check said and which row was selected, to rerun and compare."""

    name: str  # the file's name, for the status line
    before: GradcheckResult | None
    row: str | None
    notes: list[str] = field(default_factory=list)
    checking: bool = False


def _pick_class(window: MainWindow, path: str, classes: tuple[str, ...]) -> str | None:
    """Ask which of ``classes`` (the models ``path`` defines) to open."""
    name, ok = QInputDialog.getItem(
        window, "Model class", f"{os.path.basename(path)} defines several models:", list(classes), 0, False
    )
    return name if ok and name else None


def _pick_source(window: MainWindow, source: ModelSource) -> str | None:
    """Ask where the file that defines the checkpoint's class is now."""
    path, _ = QFileDialog.getOpenFileName(
        window,
        f"Where is {source.class_name}? (it was in {source.path})",
        os.path.dirname(source.path) if os.path.isdir(os.path.dirname(source.path)) else "",
        MODEL_FILTER,
    )
    return f"{path}:{source.class_name}" if path else None


class ModelFileActions(QObject):
    """*Open model file...* in ``menu``, ``.py`` drops on ``window``, the watch and the recheck.

    ``gradcheck`` is the gradient-check panel whose last check is rerun on a reload (None: no
    recheck). ``choose_class(path, classes)`` and ``locate_source(source)`` ask the user (tests
    answer for them). Signals: ``reloaded(str)`` (the status line after a reload, and its
    recheck), ``message(str)``; with ``dialogs`` False nothing pops up (:attr:`last_error`).
    """

    reloaded = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(
        self,
        window: MainWindow,
        gradcheck: GradcheckPanel | None = None,
        dialogs: bool = True,
        menu: QMenu | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.gradcheck = gradcheck
        self.dialogs = dialogs
        self.session: ModelFileSession | None = None
        self.last_error: str | None = None
        self.last_status = ""
        self._box: QMessageBox | None = None
        self._reload: _Reload | None = None
        self._opening: SessionSpec | None = None  # the spec shown before a model file was opened
        self.given_source: str | None = None  # --model-file with a checkpoint: the class of its file
        self.choose_class: Callable[[str, tuple[str, ...]], str | None] = lambda p, c: _pick_class(
            window, p, c
        )
        self.locate_source: Callable[[ModelSource], str | None] = lambda s: _pick_source(window, s)
        self.watch = ModelFileWatch(self)
        self.watch.changed.connect(self.reload_if_changed)
        self.action = QAction("Open &model file...", self)
        self.action.setShortcut(QKeySequence("Ctrl+Shift+O"))
        self.action.setStatusTip(
            "Open a model of your own: a .py file with a StepModel or SequenceModel class"
        )
        self.action.triggered.connect(self.open_dialog)
        if menu is not None:
            menu.addAction(self.action)
        window.session_changed.connect(self._traced)
        window.session_failed.connect(self._trace_failed)
        if gradcheck is not None:
            gradcheck.check_finished.connect(self._checked)
            gradcheck.check_failed.connect(self._check_failed)
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def install(self, menu: QMenu, before: QAction | None) -> None:
        """Put the action in ``menu`` before ``before`` (the end with None)."""
        menu.insertAction(before, self.action)

    # ------------------------------------------------------------------ opening
    def open_dialog(self) -> None:
        folder = os.path.dirname(self.session.path) if self.session is not None else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open model file", folder, MODEL_FILTER)
        if path:
            self.open_model_file(path)

    def open_model_file(self, spec: str, background: bool = True) -> bool:
        """Open ``path.py[:Class]``, show a fresh model of it (the bar's sizes and options) and watch
        it; False after a message when it cannot be used (the window keeps what it showed)."""
        if not self.window.may_discard("open another model"):
            return False
        session = self.load(spec)
        if session is None:
            return False
        model_file = session.model_file
        assert model_file is not None
        window = self.window
        self._opening = window.spec
        spec_now = replace(
            window.controls.spec_from(window.spec), model=CUSTOM_KIND, model_file=model_file.spec
        )
        window.spec = spec_now
        window.controls.show_spec(spec_now)
        window.retrace(background=background)
        watched = len(session.watched_files) - 1
        also = f" and {watched} module(s) it imports" if watched else ""
        self._status(
            f"Opened {model_file.class_name} from {os.path.basename(model_file.path)}; watching it{also}"
        )
        return True

    def load(self, spec: str) -> ModelFileSession | None:
        """Load ``spec`` (asking for the class when the file defines several), make it the open model
        file and the window's own class; None after a message."""
        session = ModelFileSession(spec)
        try:
            session.open()
        except ModelFileError as error:
            chosen = self.choose_class(session.path, error.classes) if error.classes else None
            if chosen is not None:
                return self.load(f"{session.path}:{chosen}")
            self._error(f"Cannot open the model file:\n{error}")
            return None
        self.adopt(session)
        return session

    def adopt(self, session: ModelFileSession) -> None:
        """``session`` is the open model file: watched, its class the one the window builds with."""
        self.session = session
        self.watch.watch(session)
        self.window.use_own_class(OwnClass(session.model_class, os.path.dirname(session.path)))

    # ------------------------------------------------------------------ reloading
    def reload_if_changed(self) -> bool:
        """Load the file again when it (or a neighbour) changed: the shown model is rebuilt, retraced
        and rechecked. True when a reload was tried."""
        session = self.session
        if session is None or not session.reload_if_changed():
            return False
        self.watch.rearm()  # the neighbours may be others now
        name = os.path.basename(session.path)
        if session.error is not None:
            self._done(f"{name} was saved, but cannot be used ({KEPT}):\n{session.error}", error=True)
            return True
        self.window.use_own_class(OwnClass(session.model_class, os.path.dirname(session.path)))
        shown = self.window.current_model()
        if shown is None or self.window.spec.model != CUSTOM_KIND:
            self._done(f"{name} reloaded (shown when its model is picked)")
            return True
        try:
            model, notes = session.model_like(shown)
        except (UserCodeError, ProtocolError, ValueError) as error:
            self._done(f"{name} was saved, but its model cannot be made ({KEPT}):\n{error}", error=True)
            return True
        self._reload = _Reload(name, self._last_result(), self._selected_row(), notes)
        self.window.show_model(model)  # the same sequence: the cursor and the layout stay
        return True

    def _last_result(self) -> GradcheckResult | None:
        return self.gradcheck.result if self.gradcheck is not None else None

    def _selected_row(self) -> str | None:
        if self.gradcheck is None:
            return None
        name = self.gradcheck.table.currentIndex().data(NAME_ROLE)
        return str(name) if name is not None else None

    def _traced(self) -> None:
        """The reloaded model is shown: rerun the last check, or say it is done."""
        self._opening = None
        reload = self._reload
        if reload is None:
            return
        notes = "; ".join(reload.notes)
        panel = self.gradcheck
        if reload.before is None or panel is None:
            self._reload = None
            self._done(f"{reload.name} reloaded" + (f" ({notes})" if notes else ""))
            return
        if panel.running:
            panel.cancel()  # a check of the old model: its end starts the new one (_checked)
            return
        self._recheck(reload, panel)

    def _recheck(self, reload: _Reload, panel: GradcheckPanel) -> None:
        reload.checking = True
        self._status(f"{reload.name} reloaded: checking again…")
        if panel.run_check() is None:  # bad settings: the panel says why
            self._reload = None
            self._done(
                f"{reload.name} reloaded; the check could not start: {panel.summary.text()}", error=True
            )

    def _trace_failed(self, problem: str) -> None:
        opening, self._opening = self._opening, None
        users = self.window.spec.model == CUSTOM_KIND and self.session is not None
        if opening is not None and self.window.session is not None:  # the shown model stays, and its picks
            self.window.spec = self.window.session.spec or opening
            self.window.controls.show_spec(self.window.spec)
        if self._reload is not None:
            name, self._reload = self._reload.name, None
            self._done(f"{name} was saved, but tracing its model failed ({KEPT}):\n{problem}", error=True)
        elif users:
            self._error(f"Your model cannot be traced:\n{problem}")

    def _checked(self, result: GradcheckResult) -> None:
        reload = self._reload
        if reload is None or self.gradcheck is None:
            return
        if not reload.checking:  # the cancelled check of the old model has ended
            self._recheck(reload, self.gradcheck)
            return
        self._reload = None
        changes = describe_changes(status_changes(reload.before, result))
        if reload.row is not None:
            try:
                self.gradcheck.select_row(reload.row)
            except KeyError:  # the row is gone (a parameter renamed)
                pass
        notes = f" ({'; '.join(reload.notes)})" if reload.notes else ""
        self._done(f"{reload.name} reloaded: {changes}{notes}")

    def _check_failed(self, problem: str) -> None:
        if self._reload is not None and self._reload.checking:
            name, self._reload = self._reload.name, None
            self._done(f"{name} reloaded, but the gradient check failed in your code:\n{problem}", error=True)

    # ------------------------------------------------------------------ checkpoints
    def open_checkpoint(self, path: str) -> tuple[Checkpoint, list[str]]:
        """The checkpoint at ``path``; a user's model with the class of the file it records (or of the
        one the user points at, :attr:`locate_source`), that file then open and watched."""
        source = recorded_source(path)
        model_file = self.given_source
        if model_file is None and source is not None and not os.path.isfile(source.path):
            model_file = self.locate_source(source)
            if model_file is None:
                raise CheckpointError(
                    path,
                    f"its model class {source.class_name} was defined in {source.path}, which is not there",
                )
        opened = open_model_checkpoint(path, model_file)
        if opened.model_file is not None:
            session = self.load(opened.model_file.spec)
            if session is None:
                raise CheckpointError(path, self.last_error or "its model file cannot be opened")
        return opened.checkpoint, opened.warnings

    # ------------------------------------------------------------------ drag and drop
    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        taken = take_drop(event, ".py", self.open_model_file)
        return super().eventFilter(watched, event) if taken is None else taken

    # ------------------------------------------------------------------ messages
    def _done(self, text: str, error: bool = False) -> None:
        """A reload has ended: say how (``reloaded`` carries the same text)."""
        if error:
            self._error(text)
        else:
            self.window.show_message("")  # a problem of an earlier save is over
            self._status(text)
        self.reloaded.emit(text)

    def _status(self, text: str) -> None:
        """What happened, in the status bar until the next message."""
        self.last_status = text
        status_bar(self.window).showMessage(text)
        self.message.emit(text)

    def _error(self, text: str) -> None:
        """A problem: its first lines over the panels and in the status bar, all of it in a box."""
        self.last_error = self.last_status = text
        self.window.show_message(headline(text))
        status_bar(self.window).showMessage(text.splitlines()[0] if text else text)
        self.message.emit(text)
        if self.dialogs:  # non-blocking: the window keeps running
            self._box = QMessageBox(
                QMessageBox.Icon.Warning, "rnnscope — your model", text, parent=self.window
            )
            self._box.open()


def headline(text: str) -> str:
    """The first two lines of a problem, and the exception it ended in when that is further down
    (``SyntaxError: '(' was never closed`` under a syntax error's code lines)."""
    lines = text.splitlines()
    shown = " ".join(lines[:2])
    raised = [line for line in lines[2:] if re.match(r"[A-Za-z_][\w.]*: ", line)]
    if raised and raised[-1] not in shown:
        shown += f" … {raised[-1]}"
    return shown
