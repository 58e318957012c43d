"""Checkpoints in the app: File > Open checkpoint / Save checkpoint / Open Recent, and drag and drop.

:class:`CheckpointActions` adds the actions to the main window's File menu,
accepts ``.npz`` files dropped anywhere on the window and keeps a recent-files
list in ``QSettings`` (key ``checkpoints/recent``). It is the one way the app
opens a checkpoint (the command line's ``rnnscope PATH`` too). Loading goes through
:func:`rnnscope.engine.checkpoint.load_checkpoint`; a bad file (not a
checkpoint, truncated, tampered, unreadable) gives a clear message naming the
file and the problem, and the app keeps running with what it showed before.

Saving takes the training panel's trainer when it is paused or stopped (weights,
optimiser state, iteration and RNG: training can resume exactly), otherwise the
model the window shows. Writes are atomic (the engine writes a temporary file
and renames it), so a failed save never destroys an earlier checkpoint.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtCore import QEvent, QObject, QSettings, Qt, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QDockWidget, QFileDialog, QMainWindow, QMenu, QMessageBox, QWidget

from rnnscope.app.dropping import take_drop
from rnnscope.app.examples import EXAMPLES, example_path
from rnnscope.app.host import DockingHost, ModelHost
from rnnscope.app.panels.gradcheck import GradcheckPanel
from rnnscope.app.panels.training import TrainingPanel
from rnnscope.app.unsaved_weights import UnsavedWeightsGuard
from rnnscope.app.widgets import status_bar
from rnnscope.engine.checkpoint import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from rnnscope.engine.protocol import UserCodeError

RECENT_KEY = "checkpoints/recent"
MAX_RECENT = 8
CHECKPOINT_FILTER = "rnnscope checkpoints (*.npz);;All files (*)"


class CheckpointActions(QObject):
    """File-menu actions, drag and drop and recent files for checkpoints of ``window``.

    ``window`` is a ``QMainWindow`` that is a :class:`~rnnscope.app.host.ModelHost`
    (it shows the models); ``menu`` (its File menu) gets the actions. ``training``
    is the :class:`~rnnscope.app.panels.training.TrainingPanel`, if any.
    ``settings`` defaults to the application's ``QSettings`` (tests pass a
    temporary one).

    Signals: ``loaded(str, object)`` (path, Checkpoint), ``saved(str)``,
    ``message(str)`` (also errors, which are shown in a non-blocking dialog
    unless ``dialogs`` is False).
    """

    loaded = pyqtSignal(str, object)
    saved = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(
        self,
        window: ModelHost,
        training: TrainingPanel | None = None,
        settings: QSettings | None = None,
        dialogs: bool = True,
        menu: QMenu | None = None,
    ) -> None:
        if not isinstance(window, QMainWindow):
            raise TypeError("checkpoint actions belong to a main window (a QMainWindow showing the models)")
        super().__init__(window)
        self.host: ModelHost = window  # what is shown
        self.window: QMainWindow = window  # dialogs, drops and the status bar
        self.training = training
        self.settings = settings if settings is not None else QSettings()
        self.dialogs = dialogs
        self.last_error: str | None = None
        self._error_box: QMessageBox | None = None
        # asked before a checkpoint replaces the model (the unsaved-weights prompt, when installed)
        self.confirm_discard: Callable[[str], bool] = lambda _what: True
        # reads a checkpoint and says what to warn about; a user's model needs its class from a file
        # (rnnscope.app.model_file_actions installs that), never from the checkpoint
        self.read_checkpoint: Callable[[str], tuple[Checkpoint, list[str]]] = lambda p: (
            load_checkpoint(p),
            [],
        )
        self.last_warning: str | None = None

        self.open_action = QAction("&Open checkpoint...", self)
        self.open_action.setShortcut(QKeySequence.StandardKey.Open)
        self.open_action.setStatusTip("Load a model (and its training state) from a .npz checkpoint")
        self.open_action.triggered.connect(self.open_dialog)
        self.save_action = QAction("&Save checkpoint...", self)
        self.save_action.setShortcut(QKeySequence.StandardKey.Save)
        self.save_action.setStatusTip(
            "Save the model (and the training state, when paused) to a .npz checkpoint"
        )
        self.save_action.triggered.connect(self.save_dialog)
        self.recent_menu = QMenu("Open &Recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        self._fill_recent_menu()
        self.example_menu = QMenu("Open &example")
        for item in EXAMPLES:
            action = self.example_menu.addAction(item.title)
            if action is not None:
                action.setEnabled(example_path(item.key) is not None)
                action.triggered.connect(lambda _checked=False, key=item.key: self.open_example(key))

        if menu is not None:
            self.install(menu)
        window.setAcceptDrops(True)
        window.installEventFilter(self)

    def install(self, menu: QMenu) -> None:
        """Put the actions at the top of ``menu``."""
        first = menu.actions()[0] if menu.actions() else None
        menu.insertAction(first, self.open_action)
        menu.insertMenu(first, self.recent_menu)
        menu.insertMenu(first, self.example_menu)
        menu.insertAction(first, self.save_action)
        if first is not None:
            menu.insertSeparator(first)

    # ------------------------------------------------------------------ recent files
    def recent_files(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):  # QSettings returns a lone string for a one-item list
            value = [value]
        return [str(path) for path in (value or []) if path]

    def _remember(self, path: str) -> None:
        path = os.path.abspath(path)
        recent = [p for p in self.recent_files() if p != path]
        self.settings.setValue(RECENT_KEY, [path, *recent][:MAX_RECENT])
        self.settings.sync()

    def _forget(self, path: str) -> None:
        path = os.path.abspath(path)
        self.settings.setValue(RECENT_KEY, [p for p in self.recent_files() if p != path])
        self.settings.sync()

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = self.recent_files()
        for number, path in enumerate(recent, start=1):
            action = QAction(f"&{number} {os.path.basename(path)}", self.recent_menu)
            action.setToolTip(path)
            action.setStatusTip(path)
            action.triggered.connect(lambda _checked=False, p=path: self.open_path(p))
            self.recent_menu.addAction(action)
        if recent:
            self.recent_menu.addSeparator()
            self.recent_menu.addAction("Clear list", self.clear_recent)
        else:
            empty = QAction("(no recent checkpoints)", self.recent_menu)
            empty.setEnabled(False)
            self.recent_menu.addAction(empty)

    def clear_recent(self) -> None:
        self.settings.setValue(RECENT_KEY, [])
        self.settings.sync()

    # ------------------------------------------------------------------ open
    def open_dialog(self) -> None:
        start = os.path.dirname(self.recent_files()[0]) if self.recent_files() else ""
        path, _ = QFileDialog.getOpenFileName(self.window, "Open checkpoint", start, CHECKPOINT_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | os.PathLike[str], background: bool = True, remember: bool = True) -> bool:
        """Load the checkpoint at ``path`` and show its model (traced on a worker thread, or now:
        ``background=False``). False (with a message) on a bad file, or when the user chose to keep
        unsaved trained weights (:attr:`confirm_discard`)."""
        path = os.fspath(path)
        if not self.confirm_discard("open another model"):
            return False
        try:
            checkpoint, warnings = self.read_checkpoint(path)
        except (CheckpointError, OSError, ValueError, KeyError, UserCodeError) as error:
            if not os.path.exists(path):
                self._forget(path)
            self._error(f"Cannot open checkpoint {path}:\n{_reason(error)}")
            return False
        task = checkpoint.task
        if task is None:
            task = self.host.current_task()
        try:
            self.host.show_model(checkpoint.model, task, background=background)
        except Exception as error:  # e.g. the task's sizes do not fit the model
            self._error(f"Loaded {path}, but cannot show its model: {_reason(error)}")
            return False
        if self.training is not None:
            self.training.adopt_checkpoint(checkpoint, task)
        if remember:
            self._remember(path)
        kind, iteration = checkpoint.config.kind, checkpoint.iteration
        self._say(f"Opened {os.path.basename(path)} ({kind}, iteration {iteration})")
        if warnings:
            self._warn(f"Opened {path}, but:\n" + "\n".join(warnings))
        self.loaded.emit(path, checkpoint)
        return True

    def open_example(self, key: str, background: bool = True) -> bool:
        """Open the shipped trained model ``key`` (``lstm``, ``dnc``, ``gru``; File > Open example)."""
        path = example_path(key)
        if path is None:
            self._error(f"The example {key!r} is not installed (data/models: run scripts/train_shipped.py)")
            return False
        return self.open_path(path, background=background, remember=False)  # not a user's file

    # ------------------------------------------------------------------ save
    def save_dialog(self) -> None:
        path = self.ask_save_path()
        if path:
            self.save_to(path)

    def ask_save_path(self) -> str | None:
        """A path from the save dialog (``.npz`` added when it has no extension), or None."""
        start = self.recent_files()[0] if self.recent_files() else "checkpoint.npz"
        path, _ = QFileDialog.getSaveFileName(self.window, "Save checkpoint", start, CHECKPOINT_FILTER)
        if not path:
            return None
        return path if os.path.splitext(path)[1] else path + ".npz"

    def save_to(self, path: str | os.PathLike[str]) -> bool:
        """Save a checkpoint to ``path`` (atomically). False (with a message) on failure."""
        path = os.fspath(path)
        note = ""
        training = self.training
        trainer = training.trainer if training is not None else None
        try:
            if training is not None and trainer is not None and training.state in ("paused", "stopped"):
                # the worker is waiting or gone: the trainer can be read safely
                iteration = trainer.iteration
                save_checkpoint(
                    path,
                    trainer.model,
                    optimizer=trainer.optimizer,
                    trainer=trainer,
                    task=training.task,
                    iteration=iteration,
                )
                note = f" with its training state at iteration {iteration}"
                training.mark_saved()
            else:
                model = self.host.current_model()
                if model is None:
                    raise ValueError("there is no model to save")
                save_checkpoint(path, model, task=self.host.current_task())
                if trainer is not None:
                    note = " (the shown model only: pause training to save its optimiser state too)"
        except (CheckpointError, OSError, ValueError) as error:
            self._error(f"Cannot save checkpoint {path}:\n{_reason(error)}")
            return False
        self._remember(path)
        self._say(f"Saved {os.path.basename(path)}{note}")
        self.saved.emit(path)
        return True

    # ------------------------------------------------------------------ drag and drop
    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        taken = take_drop(event, ".npz", self.open_path)
        return super().eventFilter(watched, event) if taken is None else taken

    # ------------------------------------------------------------------ messages
    def _error(self, text: str) -> None:
        self.last_error = text
        self.message.emit(text)
        status_bar(self.window).showMessage(text.replace("\n", " "), 10_000)
        if self.dialogs:
            # non-blocking: the app keeps running (and tests never hang on a modal box)
            self._error_box = QMessageBox(QMessageBox.Icon.Warning, "rnnscope", text, parent=self.window)
            self._error_box.open()

    def _warn(self, text: str) -> None:
        self.last_warning = text
        self.message.emit(text)
        status_bar(self.window).showMessage(text.replace("\n", " "), 10_000)
        if self.dialogs:
            self._error_box = QMessageBox(QMessageBox.Icon.Information, "rnnscope", text, parent=self.window)
            self._error_box.open()

    def _say(self, text: str) -> None:
        self.message.emit(text)
        status_bar(self.window).showMessage(text, 5_000)


def _read_checkpoint(path: str) -> tuple[Checkpoint, list[str]]:
    """A checkpoint of a built-in model (one of a user's model is refused, saying how to open it)."""
    return load_checkpoint(path), []


def _reason(error: BaseException) -> str:
    text = str(error)
    return text if text else type(error).__name__


@dataclass
class TrainingTools:
    """What :func:`install_training_tools` added to the main window."""

    training: TrainingPanel
    gradcheck: GradcheckPanel
    checkpoints: CheckpointActions
    docks: list[QDockWidget]
    unsaved: UnsavedWeightsGuard


class _ShutdownOnClose(QObject):
    """Stops the panels' worker threads when the window closes (a running QThread must not be destroyed)."""

    def __init__(self, window: QWidget, panels: list[TrainingPanel | GradcheckPanel]) -> None:
        super().__init__(window)
        self.panels = panels
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        if event is not None and event.type() == QEvent.Type.Close:
            for panel in self.panels:
                panel.shutdown()
        return False


def install_training_tools(
    window: DockingHost, settings: QSettings | None = None, dialogs: bool = True
) -> TrainingTools:
    """Add the training and gradient-check panels and the checkpoint actions to the main window.

    ``window`` is the app's ``MainWindow`` (or another ``QMainWindow`` that is a
    :class:`~rnnscope.app.host.DockingHost`). Both panels are tabs of the window's right column,
    behind the output, so the heatmaps stay in view beside them.
    """
    if not isinstance(window, QMainWindow):
        raise TypeError("the training tools dock into a main window (a QMainWindow)")
    training = TrainingPanel()
    training.attach(window)
    gradcheck = GradcheckPanel()
    gradcheck.attach(window)
    area = Qt.DockWidgetArea.BottomDockWidgetArea
    docks = [
        window.add_panel("Training", training, area),
        window.add_panel("Gradient check", gradcheck, area),
    ]
    if not window.tabifiedDockWidgets(docks[0]):  # no output dock to tab them behind (yet)
        window.tabifyDockWidget(docks[0], docks[1])
    checkpoints = CheckpointActions(
        window, training=training, settings=settings, dialogs=dialogs, menu=window.file_menu
    )
    _ShutdownOnClose(window, [training, gradcheck])
    # after the shutdown filter: a close the user cancels at the prompt never reaches it
    guard = UnsavedWeightsGuard(window, training, checkpoints.ask_save_path, checkpoints.save_to, dialogs)
    training.confirm_discard = checkpoints.confirm_discard = guard.confirm
    return TrainingTools(
        training=training, gradcheck=gradcheck, checkpoints=checkpoints, docks=docks, unsaved=guard
    )
