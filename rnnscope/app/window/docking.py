"""The window's docks: the trace's panels grouped by probe group, shown or hidden, arranged, remembered.

Which panels a trace gets and which dock each goes to is :mod:`.slots`' part. Which
panels are shown at first and where the docks go is each model kind's designed layout
(:mod:`.layouts`); the probe browser shows and hides panels, and a dock re-flows the
panels it shows (:class:`~.flow_grid.FlowGrid`). Each kind's layout is remembered on its
own.
"""

from __future__ import annotations

from PyQt6.QtCore import QByteArray, QObject, QSettings, Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QMenu, QScrollArea, QWidget

from rnnscope.app.panels.heatmap import ImagePanel, panel_values
from rnnscope.app.panels.lines import ScalarPanel, UnitPlot
from rnnscope.app.panels.probe_browser import BrowserEntry, ProbeBrowser, head_branch
from rnnscope.app.widgets import scrolling
from rnnscope.app.window.flow_grid import FlowGrid
from rnnscope.app.window.layouts import (
    DockPlan,
    arrange,
    browser_part,
    hidden_by_default,
    hide_stale_tab_bars,
    layout_key,
)
from rnnscope.app.window.nonfinite_marks import mark_panel
from rnnscope.app.window.slots import Panel, Slot, TracePanel, TracePanelSpec, curves
from rnnscope.engine.nonfinite import NonFiniteReport
from rnnscope.engine.trace import Trace

RIGHT_GROUPS = ("output", "curves")  # docks of the right column; model groups go on the left
BOTTOM = Qt.DockWidgetArea.BottomDockWidgetArea


def _on_right(name: str) -> bool:
    return name.split(" ")[0] in RIGHT_GROUPS


class PanelDocks(QObject):
    """Every dock of ``window``: one per panel group, the unit plot's, the probe browser's and
    panels added from elsewhere; each is listed in ``view_menu``, and the layout of each model
    kind is remembered in ``settings`` (:mod:`.layouts`).

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
        self.grids: dict[str, FlowGrid] = {}
        self.groups: dict[str, list[Slot]] = {}
        self.trace: Trace | None = None  # what unmade panels are made from
        self.hidden: set[str] = set()  # titles of the panels not shown
        self.model_kind = ""
        self.key: str | None = None  # the layout shown now (layouts.layout_key)
        self.extra_docks: list[QDockWidget] = []  # from add_panel: training, gradient check
        self.unit_plot = unit_plot
        self.unit_dock = self.dock("unit over time", unit_plot, BOTTOM)
        self.browser = ProbeBrowser()
        self.browser.visibility_changed.connect(self.set_shown)
        self.browser.defaults_requested.connect(self.show_defaults)
        self.browser_dock = self.dock("probes", self.browser, BOTTOM)
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
        """``widget`` (in a scroll area) docked under ``title``: a tab of the right column's upper
        group, behind the output, so curves and heatmaps stay in view together."""
        dock = self.dock(title, scrolling(widget), area)
        self.extra_docks.append(dock)
        output = self.group_docks.get("output")
        if output is not None and self._saved_state() is None:  # a remembered layout, restored after, wins
            self.window.tabifyDockWidget(output, dock)
            output.raise_()
            self._tidy_tab_bars()
        return dock

    # ------------------------------------------------------------------ layouts per model kind
    def _saved_state(self) -> QByteArray | None:
        state = self.settings.value(f"layout/{self.key}/state") if self.key else None
        return state if isinstance(state, QByteArray) else None

    def save_layout(self) -> None:
        """Remember the dock places and hidden panels of the layout shown now (its kind's)."""
        if self.key is None:
            return
        self.settings.setValue(f"layout/{self.key}/state", self.window.saveState())
        self.settings.setValue(f"layout/{self.key}/hidden", sorted(self.hidden) or "")

    def restore_layout(self) -> None:
        """Put every dock where this model kind's layout remembers it (again, once late panels are
        docked); nothing remembered: the designed layout stays."""
        state = self._saved_state()
        if state is not None:
            self.window.restoreState(state)
            self._hide_empty_docks()
            self._tidy_tab_bars()

    def reset_layout(self) -> None:
        """View > Reset layout: forget this kind's layout; the designed one, default panels shown."""
        if self.key is not None:
            self.settings.remove(f"layout/{self.key}")
        self.hidden = self._default_hidden()
        self._refill_all()
        self.arrange()

    def show_defaults(self) -> None:
        """The panels this model kind shows at first (the docks stay where they are)."""
        self.hidden = self._default_hidden()
        self._refill_all()

    def _default_hidden(self) -> set[str]:
        slots = self.slots()
        top = max((s.layer for s in slots if s.layer is not None), default=None)
        return {
            s.title
            for s in slots
            if hidden_by_default(s.probe_name, self.model_kind, s.layer is not None and s.layer != top)
        }

    def _remembered_hidden(self) -> set[str]:
        value = self.settings.value(f"layout/{self.key}/hidden")
        if value is None:
            return self._default_hidden()
        titles = [value] if isinstance(value, str) else list(value)
        return {str(t) for t in titles if t}

    def arrange(self) -> None:
        """Every dock where this kind's designed layout puts it (:func:`.layouts.arrange`)."""
        model = [
            (name, dock, self._shows_any(name))
            for name, dock in self.group_docks.items()
            if not _on_right(name)
        ]
        right = {name: dock for name, dock in self.group_docks.items() if _on_right(name)}
        top = [d for d in [right.get("output"), *self.extra_docks] if d is not None]
        bottom = [d for d in [right.get("curves"), self.unit_dock, self.browser_dock] if d is not None]
        layers = {
            name: slots[0].layer
            for name, slots in self.groups.items()
            if slots and slots[0].layer is not None
        }
        arrange(self.window, DockPlan(model, top, bottom, layers))
        self._hide_empty_docks()
        self._tidy_tab_bars()

    def _tidy_tab_bars(self) -> None:
        """Hide the tab bars Qt leaves behind when docks are re-grouped, now and once the layout has
        been applied (in the event loop)."""
        hide_stale_tab_bars(self.window)
        QTimer.singleShot(0, lambda: hide_stale_tab_bars(self.window))

    # ------------------------------------------------------------------ panels
    def show_groups(self, groups: dict[str, list[Slot]], trace: Trace, model_kind: str = "") -> None:
        """Replace every panel by those of ``groups`` (dock name -> slots) for ``trace``; docks of
        names that stay are reused, the others removed; the layout is ``model_kind``'s (remembered,
        or designed). Only the panels shown are made now."""
        self.save_layout()  # the layout being left, under its own kind
        for panel in self.panels:
            panel.deleteLater()
        self.groups = groups
        self.trace = trace
        self.step = _within(self.step, trace.steps)  # the new panels are made at a step they have
        self.model_kind = model_kind
        self.key = layout_key(model_kind, len(self.slots()))
        self._drop_docks_except(set(groups))
        for name in groups:
            grid = self.grids[name] = FlowGrid(min_height=0 if name == "curves" else 150)
            if name in self.group_docks:
                previous = self.group_docks[name].widget()
                self.group_docks[name].setWidget(scrolling(grid))
                if previous is not None:  # a dock does not delete the widget it held
                    previous.deleteLater()
                continue
            dock = self.dock(name, scrolling(grid), BOTTOM)
            dock.setObjectName(f"group:{name}")
            dock.visibilityChanged.connect(lambda shown, n=name: self._catch_up(n) if shown else None)
            self.group_docks[name] = dock
        self.hidden = self._remembered_hidden()
        self._refill_all()
        self.arrange()
        self.restore_layout()

    # ------------------------------------------------------------------ made when needed
    def slots(self) -> list[Slot]:
        """Every panel's slot, dock by dock."""
        return [slot for slots in self.groups.values() for slot in slots]

    @property
    def panels(self) -> list[Panel]:
        """The panels made so far (every shown one; hidden ones once they were needed)."""
        return [slot.panel for slot in self.slots() if slot.panel is not None]

    def every_panel(self) -> list[Panel]:
        """Every panel, each made now if it was not yet."""
        return [self._made(slot) for slot in self.slots()]

    def _made(self, slot: Slot) -> Panel:
        if slot.panel is None:
            if self.trace is None:
                raise RuntimeError("no trace to make panels from")
            if slot.spec is None:
                slot.panel = ScalarPanel(curves(self.trace))
            elif isinstance(slot.spec, TracePanelSpec):
                slot.panel = slot.spec.make(self.trace)
            else:
                slot.panel = slot.spec.make(self.trace[slot.spec.probe_name])
            slot.panel.hovered.connect(self.hovered)
            if isinstance(slot.panel, ImagePanel):
                slot.panel.unit_clicked.connect(self.show_unit)
            slot.panel.set_step(self.step)
        return slot.panel

    def set_shown(self, changes: dict[str, bool]) -> None:
        """Show (True) or hide (False) the panels titled in ``changes``; their docks re-flow."""
        touched = set()
        for title, shown in changes.items():
            (self.hidden.discard if shown else self.hidden.add)(title)
            touched |= {name for name, slots in self.groups.items() if any(s.title == title for s in slots)}
        for name in touched:
            self._refill(name)
        self._hide_empty_docks(show=touched)

    def _shows_any(self, name: str) -> bool:
        return any(s.title not in self.hidden for s in self.groups.get(name, []))

    def _refill(self, name: str) -> None:
        shown = [self._made(s) for s in self.groups[name] if s.title not in self.hidden]
        self.grids[name].set_panels(shown)
        self._catch_up(name)

    def _refill_all(self) -> None:
        for name in self.groups:
            self._refill(name)
        self._hide_empty_docks(show=set(self.groups))
        self.browser.set_entries(self._entries())

    def _hide_empty_docks(self, show: set[str] | None = None) -> None:
        """A dock with no panel shown is hidden; one in ``show`` that has some comes back."""
        for name, dock in self.group_docks.items():
            if not self._shows_any(name):
                dock.hide()
            elif show is not None and name in show and dock.isHidden():
                dock.show()

    def _drop_docks_except(self, names: set[str]) -> None:
        for name in [n for n in self.group_docks if n not in names]:
            dock = self.group_docks.pop(name)
            self.grids.pop(name, None)
            self.view_menu.removeAction(dock.toggleViewAction())
            self.window.removeDockWidget(dock)
            dock.setObjectName("")  # until deleted, restoreState must not find it in place of its successor
            dock.deleteLater()

    def show_values(self, trace: Trace) -> None:
        """The numbers of ``trace`` in the same panels (its probes have the names, shapes and kinds
        the panels were built for); panels not made yet will be made from it."""
        self.trace = trace
        self.step = _within(self.step, trace.steps)
        series = curves(trace)
        for panel in self.panels:
            if isinstance(panel, ScalarPanel):
                panel.set_series(series)
            elif isinstance(panel, TracePanel):
                panel.set_trace(trace)
            else:
                panel.set_values(panel_values(panel, trace[panel.probe_name]))

    def set_step(self, step: int) -> None:
        """Every panel in view and the unit plot at ``step``; the others when they come into view
        (a hidden dock or panel costs nothing per step: with the DNC that is most of them)."""
        self.step = step
        for slot in self.slots():
            if slot.panel is not None and slot.panel.isVisible():
                slot.panel.set_step(step)
        self.unit_plot.set_step(step)

    def _catch_up(self, name: str) -> None:
        """The panels of dock ``name``, come into view, at the shared cursor."""
        for slot in self.groups.get(name, []):
            panel = slot.panel
            if panel is not None and panel.isVisible() and panel.step != self.step:
                panel.set_step(self.step)

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
        try:
            over_time = panel.cell_over_time(row, col)
        except IndexError:  # the new trace has fewer units (a smaller H, N or W): that unit is gone
            self._clear_unit()
            return
        self.shown_unit = (title, row, col)
        self.unit_plot.show_unit(panel.cell_name(row, col), over_time)
        self.unit_plot.set_step(self.step)

    def _clear_unit(self) -> None:
        self.shown_unit = None
        self.unit_plot.clear_unit(self.steps)

    def panel(self, title: str) -> Panel:
        """The panel titled ``title`` (a probe name, ``name [head h]``, or ``curves``), made if needed."""
        for slot in self.slots():
            if slot.title == title:
                return self._made(slot)
        raise KeyError(f"no panel {title!r}")

    def reveal(self, probe_name: str, report: NonFiniteReport | None = None) -> None:
        """Show the panel(s) of ``probe_name`` (the curves, for a one-value-per-step probe), bring their
        dock to the front and mark them in red; with ``report``, a mark on its step and element."""
        titles = [slot.title for slot in self.slots() if slot.probe_name == probe_name]
        if not titles and probe_name in curves(self.trace or Trace()):
            titles = ["curves"]
        if any(title in self.hidden for title in titles):
            self.set_shown(dict.fromkeys(titles, True))
            self.browser.set_entries(self._entries())
        for title in titles:
            panel = self.panel(title)
            mark_panel(panel, probe_name, report)
            for dock in self._docks_of(panel):
                dock.show()
                dock.raise_()
                scroll = dock.widget()
                if isinstance(scroll, QScrollArea):
                    scroll.ensureWidgetVisible(panel)
                    if isinstance(panel, ScalarPanel) and probe_name in panel.plots and scroll.widget():
                        # the curve itself, not only the top of the panel of every curve
                        point = panel.mapTo(scroll.widget(), panel.plot_centre(probe_name))
                        scroll.ensureVisible(point.x(), point.y(), 50, 60)

    def _docks_of(self, panel: QWidget) -> list[QDockWidget]:
        return [
            dock
            for dock in self.group_docks.values()
            if isinstance(scroll := dock.widget(), QScrollArea) and scroll.isAncestorOf(panel)
        ]

    def _entries(self) -> list[BrowserEntry]:
        return [
            BrowserEntry(browser_part(name), head_branch(s.title), s.title, s.title not in self.hidden)
            for name, slots in self.groups.items()
            for s in slots
        ]


def _within(step: int, steps: int) -> int:
    """``step`` moved into ``0..steps - 1`` (the cursor of a longer trace, before the new one's is set)."""
    return min(max(step, 0), max(steps - 1, 0))
