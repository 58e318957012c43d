"""The window's docks: the trace's panels grouped by probe group, arranged, remembered.

Which panels a trace gets and which dock each goes to are decided from the probes'
metadata alone (kind, axes, group), so a new probe finds its panel and its dock with no
new view code. Model groups sit side by side on the left; ``output``, ``curves`` and the
unit plot are stacked on the right; panels from elsewhere (training, gradient check)
open as tabs behind the model's first dock.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
from PyQt6.QtCore import QObject, QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QDockWidget, QGridLayout, QMainWindow, QMenu, QScrollArea, QWidget

from rnnscope.app.panels.heatmap import ImagePanel, panel_values, panels_for_probe
from rnnscope.app.panels.lines import ScalarPanel, UnitPlot
from rnnscope.app.session import Session
from rnnscope.app.widgets import scrolling
from rnnscope.engine.trace import Probe, ProbeKind, Trace

PANEL_HEIGHT = 170  # minimum height of one heatmap row in a dock; docks scroll beyond
MODEL_GROUPS_LAST = ("output", "curves")  # docks on the right; model groups go on the left
SPLIT_ABOVE = 12  # a group with more probes is split into docks by axes (matrices, per head, ...)
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea

Panel = ImagePanel | ScalarPanel


def panel_order(probe: Probe) -> int:
    """Within a dock: 0..1 quantities (gates, weightings) first, then states, pre-activations last."""
    if probe.kind.bounded:
        return 0
    return 2 if "preact" in probe.name else 1


def dock_key(probe: Probe, split: bool) -> str:
    """The dock a probe's panels go to: its group, and for a group of many probes (``split``,
    the DNC's) also what the panel shows.

    Decided from the metadata alone (axes), so a new probe finds its dock with no new code.
    """
    axes = tuple(probe.axes)
    if not split or not axes:
        return probe.group
    if axes[0] == "head":
        return f"{probe.group} · per head"
    if len(axes) == 2:
        return f"{probe.group} · matrices"  # one matrix per step
    if axes == ("slot",):
        return f"{probe.group} · slots"
    return f"{probe.group} · vectors"


def layout_signature(session: Session) -> tuple[object, ...]:
    """What the panels and docks are built from: probe names, shapes, kinds, axes, groups and names
    of entries, the task's axis names and the loss. Equal signatures: same panels, other numbers."""
    task = session.task
    probes = tuple(
        (p.name, p.data.shape, p.kind, tuple(p.axes), p.group, repr(sorted(dict(p.tick_labels).items())))
        for p in session.trace
    )
    return probes, (tuple(task.output_names), tuple(task.input_names)), session.model.config.loss


def _drawn(probe: Probe) -> bool:
    """Probes with a panel of their own; inputs and targets are in the sequence strip."""
    return probe.group != "data" and probe.kind != ProbeKind.INDEX


def curves(trace: Trace) -> dict[str, np.ndarray]:
    """``{name: (T,)}`` of every one-value-per-step probe, in panel order: the curves."""
    return {p.name: p.row(0) for p in sorted(trace, key=panel_order) if _drawn(p) and p.data.ndim == 2}


def panels_by_dock(session: Session) -> dict[str, list[Panel]]:
    """New panels for every probe of ``session.trace``, by the dock they go to (``"curves"``: one
    panel of every one-value-per-step probe)."""
    trace = session.trace
    axis_names = {"output": tuple(session.task.output_names), "input": tuple(session.task.input_names)}
    # a group with many probes (the DNC's) is split into docks by what its panels show
    sizes = Counter(p.group for p in trace if _drawn(p) and p.data.ndim > 2)
    groups: dict[str, list[Panel]] = {}
    for probe in sorted(trace, key=panel_order):
        panels = panels_for_probe(probe, axis_names) if _drawn(probe) and probe.data.ndim > 2 else []
        if panels:
            groups.setdefault(dock_key(probe, sizes[probe.group] > SPLIT_ABOVE), []).extend(panels)
    series = curves(trace)
    if series:
        groups.setdefault("curves", []).append(ScalarPanel(series))
    return groups


def _on_right(name: str) -> bool:
    return name.split(" ")[0] in MODEL_GROUPS_LAST


class PanelDocks(QObject):
    """Every dock of ``window``: one per panel group, the unit plot's, and panels added from
    elsewhere; each is listed in ``view_menu`` and its place remembered in ``settings``.

    Passes on what the panels report: ``hovered(text)``; a clicked cell's unit (or matrix
    entry) goes to ``unit_plot``, and stays there for other weights on the same sequence.
    """

    hovered = pyqtSignal(str)

    def __init__(
        self, window: QMainWindow, view_menu: QMenu, settings: QSettings, unit_plot: UnitPlot
    ) -> None:
        super().__init__(window)
        self.window = window
        self.view_menu = view_menu
        self.settings = settings
        self.group_docks: dict[str, QDockWidget] = {}
        self.panels: list[Panel] = []
        self.unit_plot = unit_plot
        self.unit_dock = self.dock("unit over time", unit_plot, BOTTOM)
        self.shown_unit: tuple[str, int, int] | None = None  # (panel title, row, column) in the unit plot
        self.step = 0  # the shared cursor, as last set
        self.steps = 0  # of the trace the panels show

    def dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """``widget`` in a new dock ``title`` in ``area`` (listed in the View menu)."""
        dock = QDockWidget(title, self.window)
        dock.setObjectName(f"panel:{title}")
        dock.setWidget(widget)
        self.window.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    def add_panel(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        """``widget`` (in a scroll area) docked under ``title``, as a tab behind the model's first
        dock, which stays in front: beside it, it would squeeze every heatmap."""
        dock = self.dock(title, scrolling(widget), area)
        model_docks = [d for name, d in self.group_docks.items() if not _on_right(name)]
        if model_docks:  # a remembered layout, restored after, still wins
            front = model_docks[0]
            self.window.tabifyDockWidget(front, dock)
            QTimer.singleShot(0, front.raise_)
        return dock

    def restore_layout(self) -> None:
        """Put every dock where the settings remember it (again, once late panels are docked)."""
        state = self.settings.value("window/state")
        if state is not None:
            self.window.restoreState(state)

    def show_groups(self, groups: dict[str, list[Panel]]) -> None:
        """Replace every panel by ``groups`` (dock name -> panels); docks of names that stay are
        reused, the others removed, and the whole arranged."""
        first = not self.group_docks
        for panel in self.panels:
            panel.deleteLater()
        self.panels = [panel for panels in groups.values() for panel in panels]
        for panel in self.panels:
            panel.hovered.connect(self.hovered)
            if isinstance(panel, ImagePanel):
                panel.unit_clicked.connect(self.show_unit)
        self._drop_docks_except(set(groups))
        left: list[QDockWidget] = []
        right: list[QDockWidget] = []
        narrow = sum(not _on_right(name) for name in groups) > 2
        for name, panels in groups.items():
            scroll = scrolling(self._grid(name, panels, narrow or _on_right(name)))
            if name in self.group_docks:
                self.group_docks[name].setWidget(scroll)
                continue
            dock = self.dock(name, scroll, BOTTOM)
            dock.setObjectName(f"group:{name}")
            self.group_docks[name] = dock
            (right if _on_right(name) else left).append(dock)
        self._arrange(left, right)
        if first:
            self.restore_layout()  # the remembered layout names these docks; they exist only now

    def _drop_docks_except(self, names: set[str]) -> None:
        for name in [n for n in self.group_docks if n not in names]:
            dock = self.group_docks.pop(name)
            self.view_menu.removeAction(dock.toggleViewAction())
            self.window.removeDockWidget(dock)
            dock.deleteLater()

    @staticmethod
    def _grid(name: str, panels: list[Panel], narrow: bool) -> QWidget:
        """``panels`` in a grid: two columns of three or more panels, unless the dock is narrow."""
        host = QWidget()
        grid = QGridLayout(host)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setSpacing(2)
        columns = 1 if len(panels) < 3 or narrow else 2
        for i, panel in enumerate(panels):
            grid.addWidget(panel, i // columns, i % columns)
        rows = (len(panels) + columns - 1) // columns
        host.setMinimumHeight(PANEL_HEIGHT * rows if name != "curves" else 0)
        return host

    def _arrange(self, left: list[QDockWidget], right: list[QDockWidget]) -> None:
        """Model docks side by side on the left (more than three, the DNC's: two rows, so each keeps
        room for its colour bars); output, curves and the unit plot stacked on the right."""
        horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
        top_row = left[: (len(left) + 1) // 2] if len(left) > 3 else left
        row = top_row + right[:1]
        for before, after in zip(row, row[1:], strict=False):
            self.window.splitDockWidget(before, after, horizontal)
        for above, below in zip(top_row, left[len(top_row) :], strict=False):
            self.window.splitDockWidget(above, below, vertical)
        column = right + [self.unit_dock]
        for before, after in zip(column, column[1:], strict=False):
            self.window.splitDockWidget(before, after, vertical)
        if left and right and self.settings.value("window/state") is None:
            # a first layout: the model's panels get most of the width
            width = max(self.window.width(), 800)
            share = [int(0.62 * width / len(top_row))] * len(top_row) + [int(0.38 * width)]
            self.window.resizeDocks(top_row + [right[0]], share, horizontal)
            self.window.resizeDocks(column, [300] * len(right) + [200], vertical)

    def show_values(self, trace: Trace) -> None:
        """The numbers of ``trace`` in the same panels (its probes have the names, shapes and kinds
        the panels were built for)."""
        series = curves(trace)
        for panel in self.panels:
            if isinstance(panel, ScalarPanel):
                panel.set_series(series)
            else:
                panel.set_values(panel_values(panel, trace[panel.probe_name]))

    def set_step(self, step: int) -> None:
        """Every panel and the unit plot at ``step``."""
        self.step = step
        for panel in self.panels:
            panel.set_step(step)
        self.unit_plot.set_step(step)

    def show_unit(self, title: str, row: int, col: int) -> None:
        """The unit of the cell ``(row, col)`` of panel ``title`` over time, its dock in front."""
        self._plot_unit(title, row, col)
        self.unit_dock.show()
        self.unit_dock.raise_()

    def follow_unit(self, same_sequence: bool, steps: int) -> None:
        """After new panels or values for ``steps`` steps: the shown unit with the new values, or
        none (another sequence: the unit belonged to the previous trace)."""
        self.steps = steps
        if not same_sequence:
            self._clear_unit()
        elif self.shown_unit is not None:
            self._plot_unit(*self.shown_unit)

    def _plot_unit(self, title: str, row: int, col: int) -> None:
        try:
            panel = self.panel(title)
        except KeyError:  # the new trace has no such panel
            panel = None
        if not isinstance(panel, ImagePanel):
            self._clear_unit()
            return
        self.shown_unit = (title, row, col)
        self.unit_plot.show_unit(panel.cell_name(row, col), panel.cell_over_time(row, col))
        self.unit_plot.set_step(self.step)

    def _clear_unit(self) -> None:
        self.shown_unit = None
        self.unit_plot.clear_unit(self.steps)

    def panel(self, title: str) -> Panel:
        """The panel titled ``title`` (a probe name, ``name [head h]``, or ``curves``)."""
        for panel in self.panels:
            if panel.title == title:
                return panel
        raise KeyError(f"no panel {title!r}")

    def reveal(self, probe_name: str) -> None:
        """Bring the dock holding ``probe_name`` to the front and frame its panel(s) in red."""
        for panel in self.panels:
            if isinstance(panel, ImagePanel) and panel.probe_name == probe_name:
                panel.mark_problem()
                for dock in self.group_docks.values():
                    scroll = dock.widget()
                    if isinstance(scroll, QScrollArea) and scroll.isAncestorOf(panel):
                        dock.show()
                        dock.raise_()
                        scroll.ensureWidgetVisible(panel)
