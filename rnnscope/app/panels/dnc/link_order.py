"""The temporal link matrix at the cursor, read in write order.

``L[i, j]`` is how much slot ``i`` was written right after slot ``j``. The matrix is drawn
(rows ``i``, columns ``j``) with the chain of slots the links spell out
(:func:`rnnscope.engine.dnc.decomposition.link_path`) numbered on the entries that make
it — ``1`` on ``L[s1, s0]``, ``2`` on ``L[s2, s1]`` ... — and arrows between them, and the
title says the chain in words, ``write order 3 → 0 → 5``: the order a forward read
follows, backward reads the reverse.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import QPointF, pyqtSignal
from PyQt6.QtWidgets import QVBoxLayout, QWidget

from rnnscope.app.panels.axes import free_title_width
from rnnscope.app.panels.marks import MARK_COLOUR
from rnnscope.engine.dnc.decomposition import describe_path, link_path
from rnnscope.engine.trace import Trace

TITLE = "dnc/link · write order"
PATH_COLOUR = "#e65100"


class LinkOrderPanel(QWidget):
    """``L_t`` of batch row 0 at the cursor with its write-order chain numbered and drawn as arrows."""

    hovered = pyqtSignal(str)
    unit_clicked = pyqtSignal(str, int, int)  # never emitted

    def __init__(self, trace: Trace, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = TITLE
        self.setObjectName(TITLE)
        self.probe_name = TITLE  # (a view of dnc/link; the plain matrix panel is that probe's)
        self.head: int | None = None
        self.step = 0
        self.path: list[int] = []
        self.problem: str | None = None
        self.view = pg.GraphicsLayoutWidget()
        self.view.setBackground("w")
        self.view.ci.setContentsMargins(2, 2, 2, 2)
        self.plot = self.view.addPlot(enableMenu=False)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.invertY(True)
        self.plot.setLabel("bottom", "slot j (written before)")
        self.plot.setLabel("left", "slot i (written after)")
        free_title_width(self.plot)
        self.image = pg.ImageItem()
        self.image.setLookupTable(pg.colormap.get("viridis").getLookupTable(nPts=256))
        self.plot.addItem(self.image)
        self.arrows = pg.PlotDataItem(pen=pg.mkPen(PATH_COLOUR, width=2))
        self.plot.addItem(self.arrows)
        self.labels: list[pg.TextItem] = []
        self.heads: list[pg.ArrowItem] = []
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.view.scene().sigMouseMoved.connect(self._on_move)
        self.setMinimumSize(200, 170)
        self.set_trace(trace)

    def set_trace(self, trace: Trace) -> None:
        self.links = np.asarray(trace["dnc/link"].row(0), dtype=float)  # (T, N, N)
        self._paths: dict[int, list[int]] = {}
        slots = self.links.shape[1]
        self.plot.setRange(xRange=(0, slots), yRange=(0, slots), padding=0)
        self.plot.disableAutoRange()
        self.problem = None
        self.set_step(min(self.step, len(self.links) - 1))

    def set_step(self, step: int) -> None:
        """``L`` of ``step``, its chain numbered and drawn."""
        self.step = step
        matrix = self.links[step]
        self.image.setImage(np.nan_to_num(matrix, nan=0.0), autoLevels=False, levels=(0.0, 1.0))
        if step not in self._paths:  # the links of a step never change: its chain is read once
            self._paths[step] = link_path(matrix)
        self.path = self._paths[step]
        self._draw_path()
        words = describe_path(self.path)
        title = f"write order {words}" if self.path else f"step {step}: {words}"
        if self.problem:
            title = f"⚠ {self.problem} · {title}"
        self.plot.setTitle(title, size="9pt", **({"color": MARK_COLOUR} if self.problem else {}))

    def path_cells(self) -> list[tuple[int, int]]:
        """``(i, j)`` of the entries the chain uses, in order: ``L[s1, s0]``, ``L[s2, s1]`` ..."""
        return [(after, before) for before, after in zip(self.path, self.path[1:], strict=False)]

    def _draw_path(self) -> None:
        """Number and arrow the chain's entries; the items are kept and reused (a step moves them)."""
        cells = self.path_cells()
        centres = [(j + 0.5, i + 0.5) for i, j in cells]
        self.arrows.setData([x for x, _ in centres], [y for _, y in centres])
        while len(self.labels) < len(centres):
            label = pg.TextItem("", color="w", anchor=(0.5, 0.5), fill=pg.mkBrush(PATH_COLOUR))
            self.plot.addItem(label)
            self.labels.append(label)
        while len(self.heads) < max(len(centres) - 1, 0):
            head = pg.ArrowItem(headLen=10, brush=PATH_COLOUR, pen=None)
            self.plot.addItem(head)
            self.heads.append(head)
        for number, label in enumerate(self.labels, start=1):
            label.setVisible(number <= len(centres))
            if number <= len(centres):
                label.setText(str(number))
                label.setPos(*centres[number - 1])
        for k, head in enumerate(self.heads):
            head.setVisible(k + 1 < len(centres))
            if k + 1 < len(centres):
                (x0, y0), (x1, y1) = centres[k], centres[k + 1]
                angle = float(np.degrees(np.arctan2(-(y1 - y0), x1 - x0)))  # y is inverted on screen
                head.setStyle(angle=180 - angle)
                head.setPos((x0 + x1) / 2, (y0 + y1) / 2)

    def shown_labels(self) -> list[str]:
        """The numbers on the chain's entries, as drawn now."""
        return [label.toPlainText() for label in self.labels if label.isVisible()]

    def mark_problem(
        self, column: int | None = None, row: int | None = None, note: str = "non-finite"
    ) -> None:
        self.problem = note
        self.set_step(self.step)

    def _on_move(self, pos: QPointF) -> None:
        if not self.plot.vb.sceneBoundingRect().contains(pos):
            return
        point = self.plot.vb.mapSceneToView(pos)
        i, j = int(np.floor(point.y())), int(np.floor(point.x()))
        slots = self.links.shape[1]
        if 0 <= i < slots and 0 <= j < slots:
            value = self.links[self.step, i, j]
            text = (
                f"{TITLE}  step {self.step}  L[{i}, {j}] = {value:.3g}: slot {i} written right after slot {j}"
            )
            self.setToolTip(text)
            self.hovered.emit(text)
