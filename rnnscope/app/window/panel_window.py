"""The probe panels and exports of the main window, reached through its rooms.

:class:`PanelWindow` is the ``QMainWindow`` that :class:`~.main_window.MainWindow` is: what
it says about its panels (made, docked, laid out), their place on the screen and the
exports, each handed to the room that does it (:class:`~.docking.PanelDocks`,
:class:`~.exports.Exporter`, :func:`~.screen.placement_problems`).
"""

from __future__ import annotations

from PyQt6.QtCore import QSize, Qt
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

from rnnscope.app.panels.probe_browser import ProbeBrowser
from rnnscope.app.panels.strip import PredictionStrip
from rnnscope.app.session import Session
from rnnscope.app.window.controls import ModelControls
from rnnscope.app.window.docking import PanelDocks
from rnnscope.app.window.exports import Exporter
from rnnscope.app.window.header import Header
from rnnscope.app.window.screen import key_controls, placement_problems
from rnnscope.app.window.slots import Panel
from rnnscope.app.window.stepper import Stepper

MIN_PANEL_ON_SCREEN = QSize(170, 120)  # a shown heatmap smaller than this is not readable


class PanelWindow(QMainWindow):
    """A main window of docked probe panels (its rooms are made by the subclass)."""

    docks: PanelDocks
    header: Header
    exporter: Exporter
    controls: ModelControls
    stepper: Stepper
    session: Session | None

    # ------------------------------------------------------------------ docks
    @property
    def panels(self) -> list[Panel]:
        """Every probe panel, dock by dock (asking makes the ones not shown yet: the window itself
        only makes what is shown)."""
        return self.docks.every_panel()

    @property
    def group_docks(self) -> dict[str, QDockWidget]:
        """The docks of the panels, by group (``lstm``, ``dnc · matrices``, ``output``, ``curves``)."""
        return self.docks.group_docks

    @property
    def strip(self) -> PredictionStrip | None:
        return self.header.strip

    def panel(self, title: str) -> Panel:
        """The probe panel titled ``title`` (a probe name, or ``name [head h]``)."""
        return self.docks.panel(title)

    def add_panel(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """Dock ``widget`` under ``title`` (listed in the View menu; its layout is remembered).

        Panels from elsewhere (training, gradient check) open as tabs behind the model's
        first dock, which stays in front: beside it they would squeeze every heatmap.
        ``dock.widget()`` is a scroll area holding ``widget``.
        """
        return self.docks.add_panel(title, widget, area)

    def restore_layout(self) -> None:
        """Put every dock where the settings remember it for the shown model kind (again, once late
        panels are docked)."""
        self.docks.restore_layout()

    def reset_layout(self) -> None:
        """View > Reset layout: the shown model kind's designed layout and default panels."""
        self.docks.reset_layout()

    @property
    def probe_browser(self) -> ProbeBrowser:
        return self.docks.browser

    # ------------------------------------------------------------------ on the screen
    def placement_problems(self, min_panel: QSize = MIN_PANEL_ON_SCREEN) -> list[str]:
        """What is off the screen, hidden or too small to read (:func:`.screen.placement_problems`)."""
        return placement_problems(
            self, key_controls(self.controls, self.stepper, self.strip), self.docks.panels, min_panel
        )

    # ------------------------------------------------------------------ export
    def export_view_png(self, path: str, scale: float = 1.0) -> str | None:
        """The window rendered at ``scale`` x its size, to a PNG (``.png`` added if missing), written
        atomically; the path written, or None after a message. One panel: ``exporter.widget_png``,
        SVG: ``exporter.widget_svg``."""
        return self.exporter.widget_png(self, path, scale)

    def export_trace_npz(self, path: str) -> str | None:
        """Every probe keyed by its name, plus its metadata (``np.load(path)`` reads the arrays, no pickles;
        :func:`rnnscope.report.trace_export.read_trace_npz` the whole trace)."""
        if self.session is None:
            return None
        return self.exporter.trace_npz(self.session.trace, path)
