"""The gradient-flow panel (:mod:`.panel`) and how it joins the main window (:func:`install_gradient_flow`).

Its engine is :mod:`rnnscope.engine.gradflow`; the per-unit gradients ``grad/hidden`` and
``grad/cell`` are probes of every trace and have heatmap panels of their own (the probe
browser's "gradient flow" part).
"""

from __future__ import annotations

from typing import Protocol

from PyQt6.QtCore import QEvent, QObject, Qt, pyqtBoundSignal
from PyQt6.QtWidgets import QDockWidget, QWidget

from rnnscope.app.panels.gradflow.panel import GradFlowPanel, GradFlowSource
from rnnscope.app.session import Session


class GradFlowHost(Protocol):
    """What the panel needs of the main window: its session's model, batch and trace, its cursor."""

    @property
    def session_changed(self) -> pyqtBoundSignal: ...

    @property
    def step_changed(self) -> pyqtBoundSignal: ...

    @property
    def step(self) -> int: ...

    @property
    def session(self) -> Session | None: ...

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea = ...) -> QDockWidget: ...

    def installEventFilter(self, watcher: QObject | None) -> None: ...  # noqa: N802 - Qt API


class _Follower(QObject):
    """Hands the window's session and cursor to the panel; waits for its workers on close."""

    def __init__(self, window: GradFlowHost, panel: GradFlowPanel) -> None:
        super().__init__(panel)
        self.window, self.panel = window, panel
        window.session_changed.connect(self.session_changed)
        window.step_changed.connect(panel.set_step)
        window.installEventFilter(self)

    def session_changed(self) -> None:
        session = self.window.session
        if session is None:
            self.panel.set_source(None)
            return
        batch = session.batch
        self.panel.set_source(
            GradFlowSource(session.model, batch.inputs, batch.targets, batch.mask, session.trace)
        )
        self.panel.set_step(self.window.step)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        if event is not None and event.type() == QEvent.Type.Close:
            self.panel.shutdown()
        return False


def install_gradient_flow(window: GradFlowHost) -> tuple[GradFlowPanel, QDockWidget]:
    """Dock the gradient-flow panel in ``window`` ("Gradient flow", a tab of the right column, listed
    in the View menu) and have it follow the window's session and cursor."""
    panel = GradFlowPanel()
    dock = window.add_panel("Gradient flow", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    _Follower(window, panel).session_changed()
    return panel, dock


__all__ = ["GradFlowHost", "GradFlowPanel", "GradFlowSource", "install_gradient_flow"]
