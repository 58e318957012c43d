"""The input / target / top-k prediction strip: the steps around the cursor, aligned with the timeline."""

from __future__ import annotations

import html

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget


class PredictionStrip(QWidget):
    """Inputs and targets of the steps around the current one, and the top ``k`` predictions at it.

    ``probs`` ``(T, O)``; ``symbols`` names the outputs (vocabulary, or output indices).
    """

    def __init__(
        self,
        inputs: list[str],
        targets: list[str],
        probs: np.ndarray | None,
        symbols: list[str] | None = None,
        k: int = 3,
        context: int = 12,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self.inputs, self.targets, self.probs, self.k, self.context = inputs, targets, probs, k, context
        width = probs.shape[1] if probs is not None else 0
        self.symbols = symbols or [str(i) for i in range(width)]
        self.label = QLabel()
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setStyleSheet("font-family: monospace; font-size: 12px;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.addWidget(self.label)
        self.step = 0
        self.set_step(0)

    def top_k(self, step: int) -> list[tuple[str, float]]:
        if self.probs is None:
            return []
        row = self.probs[step]
        order = np.argsort(-np.nan_to_num(row, nan=-np.inf))[: self.k]
        return [(self.symbols[i] if i < len(self.symbols) else str(i), float(row[i])) for i in order]

    def set_step(self, step: int) -> None:
        self.step = step
        lo, hi = max(0, step - self.context), min(len(self.inputs), step + self.context + 1)

        def cells(labels: list[str]) -> str:
            out = []
            for t in range(lo, hi):
                text = html.escape(labels[t] if t < len(labels) else "") or "&nbsp;"
                out.append(f"<b style='background:#ffd54f'>{text}</b>" if t == step else text)
            return " ".join(out)

        predictions = "  ".join(f"{html.escape(s)} {p:.2f}" for s, p in self.top_k(step))
        self.label.setText(
            f"step {step}<br>input&nbsp;&nbsp;: {cells(self.inputs)}<br>"
            f"target&nbsp;: {cells(self.targets)}<br>predict: {predictions}"
        )


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    app = QApplication([])
    text = "hello world, step by step"
    probs = np.random.default_rng(0).dirichlet(np.ones(5), size=len(text) - 1)
    strip = PredictionStrip(list(text[:-1]), list(text[1:]), probs, list("abcde"))
    strip.set_step(4)
    strip.show()
    app.exec()
