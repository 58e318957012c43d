"""The sequence strip: input, target and the model's prediction per step, around the cursor.

One column per timestep (the current one highlighted), so the strip reads like
the time axis of the heatmaps below it. The prediction row depends on the head:
the top ``k`` symbols with probabilities (softmax), the thresholded bits
(sigmoid) or the predicted values (MSE).

``python -m rnnscope.app.panels.strip`` shows it on a made-up sequence.
"""

from __future__ import annotations

import html

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

CURRENT = "background:#ffd54f;"


class PredictionStrip(QWidget):
    """Inputs and targets of the steps around the current one, and the predictions at them.

    ``probs`` ``(T, O)``: softmax or sigmoid probabilities, or MSE predictions;
    ``symbols`` names the ``O`` outputs (vocabulary, class or bit names).
    """

    def __init__(
        self,
        inputs: list[str],
        targets: list[str],
        probs: np.ndarray | None,
        symbols: list[str] | None = None,
        k: int = 3,
        context: int = 10,
        loss: str = "softmax_ce",
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.inputs, self.targets, self.probs, self.k, self.context = inputs, targets, probs, k, context
        self.loss = loss
        width = probs.shape[1] if probs is not None else 0
        self.symbols = symbols or [str(i) for i in range(width)]
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setStyleSheet("font-family: 'DejaVu Sans Mono', monospace; font-size: 11px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 0, 2, 0)
        layout.addWidget(self.label)
        self.step = 0
        self.set_step(0)

    def top_k(self, step: int) -> list[tuple[str, float]]:
        """The ``k`` most probable outputs at ``step``: ``(symbol, probability)``, best first."""
        if self.probs is None:
            return []
        row = self.probs[step]
        order = np.argsort(-np.nan_to_num(row, nan=-np.inf))[: self.k]
        return [(self.symbols[i] if i < len(self.symbols) else str(i), float(row[i])) for i in order]

    def prediction(self, step: int) -> list[str]:
        """The prediction at ``step`` as short lines of text (one per row of the strip)."""
        if self.probs is None:
            return [""] * self.k
        row = self.probs[step]
        if self.loss == "softmax_ce":
            return [f"{s} {p:.2f}" for s, p in self.top_k(step)]
        if self.loss == "sigmoid_bce":
            bits = "".join("1" if p > 0.5 else "0" for p in row)
            doubt = float(np.max(np.minimum(row, 1 - row))) if row.size else 0.0
            return [bits, f"±{doubt:.2f}", ""]
        return [" ".join(f"{v:+.2f}" for v in row[:2]), "", ""]

    def set_step(self, step: int) -> None:
        self.step = step
        lo, hi = max(0, step - self.context), min(len(self.inputs), step + self.context + 1)
        columns = range(lo, hi)
        predictions = {t: self.prediction(t) for t in columns}
        rows = [
            ("step", [str(t) for t in columns]),
            ("input", [self.inputs[t] if t < len(self.inputs) else "" for t in columns]),
            ("target", [self.targets[t] if t < len(self.targets) else "" for t in columns]),
        ]
        names = ("predict", "", "") if self.loss != "softmax_ce" else ("top 1", "top 2", "top 3")
        for i in range(self.k):
            rows.append((names[i] if i < len(names) else "", [predictions[t][i] for t in columns]))
        body = []
        for name, cells in rows:
            tds = [f"<td style='color:#555;padding-right:6px'>{html.escape(name)}</td>"]
            for t, text in zip(columns, cells, strict=True):
                style = CURRENT if t == step else ""
                cell = html.escape(text) or "&nbsp;"
                tds.append(f"<td align='center' style='{style}padding:0 3px'>{cell}</td>")
            body.append("<tr>" + "".join(tds) + "</tr>")
        self.label.setText("<table cellspacing='0'>" + "".join(body) + "</table>")


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    app = QApplication([])
    text = "hello world, step by step"
    probs = np.random.default_rng(0).dirichlet(np.ones(5), size=len(text) - 1)
    strip = PredictionStrip(list(text[:-1]), list(text[1:]), probs, list("abcde"))
    strip.set_step(4)
    strip.show()
    app.exec()
