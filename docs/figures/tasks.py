"""Draw ``docs/figures/tasks.png``: one row of every synthetic task and of sentiment, as grids.

    QT_QPA_PLATFORM=offscreen python docs/figures/tasks.py

Columns are timesteps. For each task: the input channels (blue), the target channels
(orange) and the mask (grey, scored steps dark), with the step labels of
``task.step_labels`` under the grid. Qt draws it offscreen; no window opens.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import numpy as np

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PyQt6.QtCore import QRectF, Qt  # noqa: E402
from PyQt6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter  # noqa: E402

from rnnscope.engine.tasks import build_task  # noqa: E402

CELL = 16
LEFT = 130
OUTPUT = Path(__file__).resolve().with_suffix(".png")
EXAMPLES = [
    ("copy", {"bits": 4, "min_length": 4, "max_length": 4}, 3, None),
    (
        "repeat_copy",
        {"bits": 4, "min_length": 3, "max_length": 3, "min_repeats": 2, "max_repeats": 2},
        0,
        None,
    ),
    ("recall", {"bits": 4, "item_length": 2, "min_items": 3, "max_items": 3}, 2, None),
    ("sine", {"length": 24, "noise": 0.1}, 0, None),
    ("sentiment", {}, 0, "a warm and lovely film."),
]


def shade(value: float, low: QColor, high: QColor) -> QColor:
    v = float(np.clip(value, 0.0, 1.0))
    return QColor(
        round(low.red() + v * (high.red() - low.red())),
        round(low.green() + v * (high.green() - low.green())),
        round(low.blue() + v * (high.blue() - low.blue())),
    )


def draw_grid(painter: QPainter, top: int, names: tuple[str, ...], values: np.ndarray, high: QColor) -> int:
    """Rows of cells for ``values`` ``(T, C)``; returns the y below them."""
    white = QColor("white")
    for channel, name in enumerate(names):
        y = top + channel * CELL
        painter.setPen(QColor("#333333"))
        painter.drawText(
            QRectF(0, y, LEFT - 6, CELL), Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, name
        )
        for t in range(values.shape[0]):
            painter.fillRect(
                QRectF(LEFT + t * CELL, y, CELL - 1, CELL - 1), shade(values[t, channel], white, high)
            )
    return top + len(names) * CELL


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv)
    panels = []
    for name, options, seed, text in EXAMPLES:
        task = build_task(name, **options)
        batch = task.encode_text(text) if text else task.sample(1, seed)
        panels.append((task, batch))
    steps = max(batch.steps for _, batch in panels)
    width = max(LEFT + steps * CELL + 20, 640)
    # Drawn on a tall canvas, then cropped to what was used.
    image = QImage(width, 2000, QImage.Format.Format_RGB32)
    image.fill(QColor("white"))
    painter = QPainter(image)
    font = QFont("DejaVu Sans", 8)
    painter.setFont(font)
    y = 8
    for task, batch in panels:
        painter.setFont(QFont("DejaVu Sans", 9, QFont.Weight.Bold))
        painter.setPen(QColor("black"))
        painter.drawText(
            QRectF(4, y, width - 8, 18),
            Qt.AlignmentFlag.AlignLeft,
            f"{task.name}: {task.description}",
        )
        painter.setFont(font)
        y += 20
        inputs = batch.inputs[:, 0]
        if task.name == "sine":
            inputs = (inputs + 1.5) / 3.0  # show -1.5..1.5 on the 0..1 shade
        y = draw_grid(
            painter,
            y,
            task.input_names if task.name != "sentiment" else ("one-hot input",),
            inputs if task.name != "sentiment" else inputs.max(-1, keepdims=True),
            QColor("#1f4e9c"),
        )
        if task.loss == "softmax_ce":
            targets = batch.targets[:, 0:1].astype(float) * batch.mask[-1:, 0:1]
            target_names = ("class (1 = positive)",)
        else:
            targets = batch.targets[:, 0]
            if task.name == "sine":
                targets = (targets + 1.5) / 3.0
            target_names = tuple(f"target {n}" for n in task.output_names)
        y = draw_grid(painter, y + 2, target_names, targets, QColor("#d9730d"))
        scored = batch.mask[:, 0:1].copy()
        if task.many_to_one:
            scored[:-1] = 0.0
        y = draw_grid(painter, y + 2, ("scored (mask)",), scored, QColor("#555555"))
        inputs_labels, _ = task.step_labels(batch)
        painter.setPen(QColor("#333333"))
        for t, label in enumerate(inputs_labels):
            painter.save()
            painter.translate(LEFT + t * CELL + CELL - 3, y + 4)
            painter.rotate(90)
            painter.drawText(QRectF(0, 0, 40, CELL), Qt.AlignmentFlag.AlignLeft, label)
            painter.restore()
        y += 48
    painter.end()
    image.copy(0, 0, width, y).save(str(OUTPUT))
    print(f"wrote {OUTPUT}")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
