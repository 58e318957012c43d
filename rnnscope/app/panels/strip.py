"""The sequence strip: input, target and the model's prediction per step, around the cursor.

One column per timestep (the current one highlighted), so the strip reads like
the time axis of the heatmaps below it. Columns are as wide as the widest label of
the sequence (``positive 0.97`` for sentiment, one character for text), and as many
steps are shown around the cursor as fit the width: labels never print over each
other (a label that still does not fit is elided). The prediction row depends on the head:
the top ``k`` symbols with probabilities (softmax), the thresholded bits
(sigmoid) or the predicted values (MSE).

``python -m rnnscope.app.panels.strip`` shows it on a made-up sequence.
"""

from __future__ import annotations

import numpy as np
from PyQt6.QtCore import QRectF, Qt
from PyQt6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPaintEvent, QResizeEvent
from PyQt6.QtWidgets import QWidget

CURRENT = QColor("#ffd54f")
NAME_WIDTH = 52  # pixels for the row names on the left
CELL_PADDING = 10  # pixels between the widest labels of two neighbouring columns


class PredictionStrip(QWidget):
    """Inputs and targets of the steps around the current one, and the predictions at them.

    ``probs`` ``(T, O)``: softmax or sigmoid probabilities, or MSE predictions;
    ``symbols`` names the ``O`` outputs (vocabulary, class or bit names).
    Drawn with a painter into a fixed-height widget: a step changes a few strings
    and repaints this widget only (no rich-text layout, no window re-layout).
    """

    def __init__(
        self,
        inputs: list[str],
        targets: list[str],
        probs: np.ndarray | None,
        symbols: list[str] | None = None,
        k: int = 3,
        context: int = 40,  # at most this many steps either side of the cursor
        loss: str = "softmax_ce",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.k, self.max_context, self.loss = k, context, loss
        self.context = context  # steps either side of the cursor: as many as fit the width
        self.rows: list[tuple[str, list[str]]] = []
        self.columns: list[int] = []
        font = QFont("DejaVu Sans Mono")
        font.setStyleHint(QFont.StyleHint.Monospace)
        font.setPointSize(9)
        self.setFont(font)
        self.metrics = QFontMetrics(font)
        self.line = self.metrics.height() + 1
        self.cell = 24.0  # width of one step's column, from the widest label (set_data)
        self.setFixedHeight(self.line * (3 + k) + 4)
        self.setMinimumWidth(300)
        self.step = 0
        self.set_data(inputs, targets, probs, symbols)

    def set_data(
        self,
        inputs: list[str],
        targets: list[str],
        probs: np.ndarray | None,
        symbols: list[str] | None = None,
        loss: str | None = None,
    ) -> None:
        """New labels and predictions (other weights, or another sequence) in the same widget."""
        self.inputs, self.targets, self.probs = inputs, targets, probs
        if loss is not None:
            self.loss = loss
        width = probs.shape[1] if probs is not None else 0
        self.symbols = symbols or [str(i) for i in range(width)]
        self.cell = float(self._widest_label() + CELL_PADDING)
        self._predictions: dict[int, list[str]] = {}  # step -> prediction lines, made once per data
        self._shown: dict[str, str] = {}  # text -> what fits a column (itself, all but never elided)
        self._fit_context()
        self.set_step(min(self.step, max(len(inputs) - 1, 0)))

    def _widest_label(self) -> int:
        """Pixels of the widest text a column of this sequence can hold (labels, step numbers and
        the longest prediction the head can print)."""
        width = self.metrics.horizontalAdvance
        texts = set(self.inputs) | set(self.targets) | {str(max(len(self.inputs) - 1, 0))}
        if self.loss == "softmax_ce":
            texts |= {f"{symbol} 0.00" for symbol in self.symbols}
        elif self.loss == "sigmoid_bce":
            texts |= {"0" * len(self.symbols), "±0.00"}
        else:
            texts.add("+0.00 +0.00")
        return max((width(text) for text in texts), default=0)

    def _fit_context(self) -> None:
        """As many steps either side of the cursor as whole columns fit the width."""
        columns = int(max(self.width() - NAME_WIDTH, 0) // max(self.cell, 1.0))
        self.context = max(0, min(self.max_context, (columns - 1) // 2))

    def resizeEvent(self, event: QResizeEvent | None) -> None:  # noqa: N802 - Qt override
        super().resizeEvent(event)
        context = self.context
        self._fit_context()
        if context != self.context and self.inputs:
            self.set_step(self.step)

    def top_k(self, step: int) -> list[tuple[str, float]]:
        """The ``k`` most probable outputs at ``step``: ``(symbol, probability)``, best first."""
        if self.probs is None:
            return []
        row = self.probs[step]
        order = np.argsort(-np.nan_to_num(row, nan=-np.inf))[: self.k]
        return [(self.symbols[i] if i < len(self.symbols) else str(i), float(row[i])) for i in order]

    def prediction(self, step: int) -> list[str]:
        """The prediction at ``step`` as ``k`` short lines of text (one per row of the strip)."""
        lines = [""] * self.k
        if self.probs is None:
            return lines
        row = self.probs[step]
        if self.loss == "softmax_ce":
            found = [f"{s} {p:.2f}" for s, p in self.top_k(step)]
        elif self.loss == "sigmoid_bce":
            bits = "".join("1" if p > 0.5 else "0" for p in row)
            doubt = float(np.max(np.minimum(row, 1 - row))) if row.size else 0.0
            found = [bits, f"±{doubt:.2f}"]
        else:
            found = [" ".join(f"{v:+.2f}" for v in row[:2])]
        return (found + lines)[: self.k]

    def _prediction(self, step: int) -> list[str]:
        lines = self._predictions.get(step)
        if lines is None:
            lines = self._predictions[step] = self.prediction(step)
        return lines

    def _fitting(self, text: str) -> str:
        """``text``, elided if wider than a column (columns fit every label the data can have)."""
        shown = self._shown.get(text)
        if shown is None:
            elide = Qt.TextElideMode.ElideRight
            shown = self._shown[text] = self.metrics.elidedText(text, elide, int(self.cell) - 2)
        return shown

    def set_step(self, step: int) -> None:
        self.step = step
        # the cursor in the middle, except near either end, where the columns stay filled
        count = len(self.inputs)
        shown = 2 * self.context + 1
        lo = min(max(0, step - self.context), max(0, count - shown))
        hi = min(count, lo + shown)
        self.columns = list(range(lo, hi))
        predictions = [self._prediction(t) for t in self.columns]
        names = ("top 1", "top 2", "top 3") if self.loss == "softmax_ce" else ("predict", "", "")
        self.rows = [
            ("step", [str(t) for t in self.columns]),
            ("input", [self.inputs[t] if t < len(self.inputs) else "" for t in self.columns]),
            ("target", [self.targets[t] if t < len(self.targets) else "" for t in self.columns]),
        ]
        for i in range(self.k):
            self.rows.append((names[i] if i < len(names) else "", [p[i] for p in predictions]))
        self.update()

    def text(self) -> str:
        """What the strip shows, as plain text (rows of tab-separated cells)."""
        return "\n".join("\t".join([name, *cells]) for name, cells in self.rows)

    def paintEvent(self, event: QPaintEvent | None) -> None:  # noqa: N802 - Qt override
        painter = QPainter(self)
        cell = self.cell
        if self.step in self.columns:
            x = NAME_WIDTH + self.columns.index(self.step) * cell
            painter.fillRect(QRectF(x, 0, cell, self.height()), CURRENT)
        centre = Qt.AlignmentFlag.AlignCenter
        for r, (name, cells) in enumerate(self.rows):
            y = 2 + r * self.line
            painter.setPen(QColor("#555555"))
            painter.drawText(QRectF(2, y, NAME_WIDTH - 4, self.line), Qt.AlignmentFlag.AlignLeft, name)
            painter.setPen(QColor("#000000"))
            for c, text in enumerate(cells):
                shown = self._fitting(text)
                painter.drawText(QRectF(NAME_WIDTH + c * cell, y, cell, self.line), centre, shown)
        painter.end()


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    app = QApplication([])
    text = "hello world, step by step"
    probs = np.random.default_rng(0).dirichlet(np.ones(5), size=len(text) - 1)
    strip = PredictionStrip(list(text[:-1]), list(text[1:]), probs, list("abcde"))
    strip.set_step(4)
    strip.show()
    app.exec()
