"""A grid of panels that picks its number of columns from the room it is given."""

from __future__ import annotations

import math
from collections.abc import Sequence

from PyQt6.QtGui import QResizeEvent
from PyQt6.QtWidgets import QGridLayout, QWidget

MIN_PANEL_HEIGHT = 150  # a heatmap shorter than this has no room for its axes; the dock scrolls instead
MIN_PANEL_WIDTH = 180  # nor one narrower than this (the panels' own minimum width)
ASPECT = 1.6  # width / height at which a units x time heatmap reads best


def best_columns(count: int, width: int, height: int, min_height: int = MIN_PANEL_HEIGHT) -> int:
    """Columns for ``count`` panels in ``width`` x ``height`` pixels: the choice giving each panel the
    largest readable size (its height, or its width / ``ASPECT`` when that is smaller); a choice
    whose rows would be lower than ``min_height`` or columns narrower than ``MIN_PANEL_WIDTH`` (the
    grid would scroll) only when every choice does. Fewer columns win ties."""
    if count <= 1 or width <= 0:
        return 1
    best, best_score = 1, -1.0
    for columns in range(1, count + 1):
        rows = math.ceil(count / columns)
        cell_height = height / rows
        fits = cell_height >= min_height and width / columns >= MIN_PANEL_WIDTH
        score = min(width / columns / ASPECT, max(cell_height, min_height)) + (1e6 if fits else 0.0)
        if score > best_score + 1e-9:
            best, best_score = columns, score
    return best


class FlowGrid(QWidget):
    """Holds ``panels`` in a grid re-flowed on resize (two wide panels side by side, four in a square);
    its minimum height keeps every row at least ``MIN_PANEL_HEIGHT`` high, so a scroll area around
    it scrolls rather than squeezing the heatmaps."""

    def __init__(self, panels: Sequence[QWidget] = (), min_height: int = MIN_PANEL_HEIGHT) -> None:
        super().__init__()
        self.grid = QGridLayout(self)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(2)
        self.min_height = min_height
        self.panels: list[QWidget] = []
        self.columns = 0
        self.set_panels(panels)

    def set_panels(self, panels: Sequence[QWidget]) -> None:
        """Show ``panels`` (in this order); others this grid held are taken out, not deleted."""
        for panel in self.panels:
            if panel not in panels:
                self.grid.removeWidget(panel)
                panel.hide()
        self.panels = list(panels)
        self.columns = 0
        self._flow()

    def _room(self) -> tuple[int, int]:
        """The size to fill: the scroll area's viewport if this grid is in one, else its own."""
        parent = self.parentWidget()
        size = parent.size() if parent is not None else self.size()
        return size.width(), size.height()

    def _flow(self) -> None:
        width, height = self._room()
        columns = best_columns(len(self.panels), width, height, self.min_height)
        if columns == self.columns:
            return
        self.columns = columns
        for panel in self.panels:
            self.grid.removeWidget(panel)
        for index, panel in enumerate(self.panels):
            self.grid.addWidget(panel, index // columns, index % columns)
            panel.show()
        rows = math.ceil(len(self.panels) / columns) if self.panels else 0
        self.setMinimumHeight(self.min_height * rows)

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        self._flow()
