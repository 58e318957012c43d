"""The default layout of each model kind, designed on purpose, and where layouts are remembered.

What a first view shows (``hidden_by_default``): the gates and states that tell the
story (LSTM: input, forget and output gates, cell, hidden; GRU: reset and update gates,
candidate, hidden; RNN: hidden and pre-activation; DNC: memory, the links in write order,
usage, write weighting, each head's read weighting, the controller's hidden state and,
tabbed behind it, the addressing decomposition) and the output
probabilities; pre-activations, logits, an embedding's vectors and the DNC's intermediate
vectors are one click away in the probe browser. A stacked model shows its top layer so
(the one the read-out reads); the layers below are in the browser, a dock each when shown.
A probe nobody designed for (a new model) is shown.

Where the docks go (:func:`arrange`), in the one dock area below the sequence strip:
the model's docks on the left (one dock; two stacked; or a 2 x 2 grid for the DNC, more
tabbed behind the last) and a right column of two tab groups: output with the training
and gradient-check panels, then curves with the unit plot and the probe browser.

A layout (dock places and hidden panels) is remembered per model kind and number of
panels (settings ``layout/<kind>-<panels>/state`` and ``.../hidden``), so a DNC session
never reshapes the LSTM's layout; View > Reset layout forgets the current one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatch

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QTabBar

HIDDEN_PATTERNS = (
    "*_preact",
    "output/logits",
    "embedding/*",
    "lstm/tanh_cell",
    "lstm/candidate",
    "gru/reset_hidden",
    "*/l[0-9]*/tanh_cell",
    "*/l[0-9]*/candidate",
    "*/l[0-9]*/reset_hidden",
    "grad/*",  # the gradients per unit: in the probe browser, under "gradient flow"
)
DNC_SHOWN = (
    "controller/hidden",
    "dnc/memory",
    "dnc/link · write order",  # the link matrix with its write order drawn (the plain one in the browser)
    "dnc/usage",
    "dnc/write_weighting",
    "dnc/read_weighting",
    "dnc/read_mode_parts",  # the addressing panel, a tab behind the controller's
)
# model docks in the order they fill the left grid (the DNC's memory first); others after
LEFT_ORDER = ("· matrices", "· slots", "· per head")
LEFT_LAST = ("· vectors",)
LEFT_SHARE = 0.62  # of the window's width, for the model's docks


def hidden_by_default(probe_name: str | None, model_kind: str, below_top: bool = False) -> bool:
    """Is a panel of ``probe_name`` left out of ``model_kind``'s first view? (Curves never are.)
    ``below_top``: the probe is of a stacked model's layer below the top one."""
    if probe_name is None:
        return False
    if below_top:
        return True
    if model_kind == "dnc" and probe_name.startswith(("dnc/", "controller/")):
        return probe_name not in DNC_SHOWN
    return any(fnmatch(probe_name, pattern) for pattern in HIDDEN_PATTERNS)


def layout_key(model_kind: str, panels: int) -> str:
    """The settings group of a layout: model kind and number of panels (``lstm-14``)."""
    return f"{model_kind or 'model'}-{panels}"


def browser_part(dock_name: str) -> str:
    """The model part a dock's panels are listed under in the probe browser."""
    if dock_name == "curves":
        return "loss and gradients"
    if dock_name.endswith("· per head"):
        return "per head"
    if dock_name == "grad" or dock_name.startswith("grad ·"):
        return "gradient flow"
    if dock_name.endswith("· addressing"):
        return "addressing"
    if dock_name.startswith("dnc"):
        return "memory"
    return dock_name


def _left_rank(name: str) -> int:
    for rank, suffix in enumerate(LEFT_ORDER):
        if name.endswith(suffix):
            return rank
    return len(LEFT_ORDER) + 1 if name.endswith(LEFT_LAST) else len(LEFT_ORDER)


def _layer_rank(layer: int | None) -> int:
    """Upper layers first (the top layer's dock on top, as a stack is drawn)."""
    return -layer if layer is not None else 0


@dataclass
class DockPlan:
    """What :func:`arrange` places: model docks (name, dock, has a panel shown) and the right column."""

    model: list[tuple[str, QDockWidget, bool]]
    right_top: list[QDockWidget] = field(default_factory=list)
    right_bottom: list[QDockWidget] = field(default_factory=list)
    layers: dict[str, int] = field(default_factory=dict)  # the layer of each dock of a stacked model

    def left(self) -> list[QDockWidget]:
        """Model docks with something shown first, then by :data:`LEFT_ORDER`, upper layers first."""

        def rank(i: int) -> tuple[bool, int, int, int]:
            name, _, shown = self.model[i]
            return not shown, _left_rank(name), _layer_rank(self.layers.get(name)), i

        order = sorted(range(len(self.model)), key=rank)
        return [self.model[i][1] for i in order]

    def shown(self) -> int:
        """How many model docks have a panel shown."""
        return sum(1 for _, _, shown in self.model if shown)


def arrange(window: QMainWindow, plan: DockPlan) -> None:
    """Place every dock of ``plan`` afresh (a first layout, or View > Reset layout)."""
    area = Qt.DockWidgetArea.BottomDockWidgetArea
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    left = plan.left()
    columns = [docks for docks in (plan.right_top, plan.right_bottom) if docks]
    every = left + [dock for docks in columns for dock in docks]
    if not every:
        return
    for dock in every:  # out of any tab group or split, and floating ones docked again
        window.removeDockWidget(dock)
        window.addDockWidget(area, dock)
        dock.setFloating(False)
        dock.show()
    anchor = left[0] if left else columns[0][0]
    if left and columns:
        window.splitDockWidget(anchor, columns[0][0], horizontal)
    for above, below in zip(columns, columns[1:], strict=False):
        window.splitDockWidget(above[0], below[0], vertical)
    # the grid is of the docks with something shown; the others (hidden: a stack's lower layers)
    # wait below the last one, where showing a panel of theirs brings them
    visible = left[: plan.shown()] or left
    _grid(window, visible)
    for dock in left[len(visible) :]:
        window.splitDockWidget(visible[-1], dock, vertical)
    left = visible
    for docks in columns:
        for dock in docks[1:]:
            window.tabifyDockWidget(docks[0], dock)
        docks[0].raise_()
    width = max(window.width(), 800)
    if left and columns:
        shown = left[:2] if len(left) >= 3 else left[:1]
        share = [int(LEFT_SHARE * width / len(shown))] * len(shown) + [int((1 - LEFT_SHARE) * width)]
        window.resizeDocks(shown + [columns[0][0]], share, horizontal)
    if len(columns) == 2:
        window.resizeDocks([columns[0][0], columns[1][0]], [1, 1], vertical)


def _grid(window: QMainWindow, left: Sequence[QDockWidget]) -> None:
    """One model dock; two stacked; three or more in a 2 x 2 grid, the rest tabbed behind the last."""
    horizontal, vertical = Qt.Orientation.Horizontal, Qt.Orientation.Vertical
    if len(left) == 2:
        window.splitDockWidget(left[0], left[1], vertical)
    elif len(left) >= 3:
        window.splitDockWidget(left[0], left[1], horizontal)
        window.splitDockWidget(left[0], left[2], vertical)
        if len(left) >= 4:
            window.splitDockWidget(left[1], left[3], vertical)
        for dock in left[4:]:
            window.tabifyDockWidget(left[3], dock)
        if len(left) >= 4:
            left[3].raise_()


def stale_tab_bars(window: QMainWindow) -> list[QTabBar]:
    """Tab bars of ``window`` shown but belonging to no tab group of now.

    Qt (6.11) leaves the tab bar of a group visible when its docks are re-grouped (removed,
    re-added and tabbed anew, as :func:`arrange` and ``restoreState`` do): it stays where the
    group was, drawn over whatever dock is there now. A bar is in use when its tabs are
    exactly the titles of one group of tabbed docks.
    """
    docks = {dock.windowTitle(): dock for dock in window.findChildren(QDockWidget)}
    stale = []
    for bar in window.findChildren(QTabBar):
        if bar.parent() is not window or bar.isHidden() or not window.rect().intersects(bar.geometry()):
            continue  # (Qt parks the bars it keeps for later outside the window)
        titles = [bar.tabText(i) for i in range(bar.count())]
        first = docks.get(titles[0]) if titles else None
        group = (
            {first.windowTitle(), *(d.windowTitle() for d in window.tabifiedDockWidgets(first))}
            if first
            else set()
        )
        if len(titles) < 2 or set(titles) != group or len(titles) != len(group):
            stale.append(bar)
    return stale


def hide_stale_tab_bars(window: QMainWindow) -> None:
    """Hide what :func:`stale_tab_bars` finds (Qt shows a bar again when it reuses it)."""
    for bar in stale_tab_bars(window):
        bar.hide()
