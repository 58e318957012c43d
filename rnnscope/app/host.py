"""What panels and actions may use of the window that shows a model (a small Protocol, so they
never import the window and never probe it with ``getattr``)."""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import Qt, pyqtBoundSignal
from PyQt6.QtWidgets import QDockWidget, QMenu, QWidget

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks.base import Batch, Task


class ModelHost(Protocol):
    """The window showing one model on one task's sequence.

    ``model_changed`` is emitted with the new model whenever the shown model or
    sequence changes (a new trace, a loaded checkpoint, paused training weights).
    """

    @property
    def model_changed(self) -> pyqtBoundSignal: ...

    def current_model(self) -> RecurrentModel | None:
        """The model shown now (``None`` before the first trace)."""
        ...

    def current_task(self) -> Task | None:
        """The task whose sequence is shown."""
        ...

    def current_batch(self) -> Batch | None:
        """The batch being shown: ``inputs`` ``(T, B, D)``, ``targets``, ``mask`` ``(T, B)``."""
        ...

    def show_model(self, model: RecurrentModel, task: Task | None = None, background: bool = True) -> None:
        """Trace and show ``model`` (on ``task``, or the current one)."""
        ...


class DockingHost(ModelHost, Protocol):
    """A :class:`ModelHost` that is the app's main window: it docks panels and has a File menu
    (what :func:`rnnscope.app.checkpoint_actions.install_training_tools` adds to)."""

    @property
    def file_menu(self) -> QMenu: ...

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea = ...) -> QDockWidget:
        """Dock ``widget`` under ``title`` in ``area``."""
        ...
