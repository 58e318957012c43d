"""The training panel on its own: ``python -m rnnscope.app.panels.training`` trains a char model.

``--screenshot PATH --iterations N`` trains N iterations, saves the panel as a PNG and exits.
"""

from __future__ import annotations

import argparse
import sys

from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from rnnscope.app.application import configure_app
from rnnscope.app.panels.training.panel import TrainingPanel
from rnnscope.engine.models.config import MODEL_KINDS
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import build_task


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m rnnscope.app.panels.training",
        description="The training panel on its own (a char model on a shipped corpus).",
    )
    parser.add_argument("--model", default="lstm", choices=MODEL_KINDS)
    parser.add_argument("--task", default="chars")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument(
        "--iterations", type=int, default=0, help="stop after N iterations (0: until stopped)"
    )
    parser.add_argument("--snapshot-every", type=int, default=0)
    parser.add_argument(
        "--screenshot", metavar="PNG", help="train --iterations, save the panel as PNG and exit"
    )
    return parser.parse_args(argv)


def _save_when_stopped(panel: TrainingPanel, app: QApplication, path: str) -> None:
    """Once training stops, save the panel to ``path`` and quit."""

    def save_and_quit() -> None:
        panel.grab().save(path)
        panel.shutdown()
        app.quit()

    def state_changed(state: str) -> None:
        if state == "stopped":
            QTimer.singleShot(200, save_and_quit)

    panel.state_changed.connect(state_changed)


def main(argv: list[str] | None = None) -> int:
    args = _arguments(argv)
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    configure_app(app)
    task = build_task(args.task)
    model = build_model(task.model_config(args.model, args.hidden))
    panel = TrainingPanel()
    panel.setWindowTitle("rnnscope - training")
    panel.resize(1200, 860)
    panel.set_source(model, task)
    panel.iterations.setValue(args.iterations)
    panel.snapshot_every.setValue(args.snapshot_every)
    if args.screenshot:
        panel.sample_every.setValue(max(1, args.iterations // 3))
    panel.show()
    if args.screenshot:
        _save_when_stopped(panel, app, args.screenshot)
    if panel.start() is None and args.screenshot:
        print(panel.status.text(), file=sys.stderr)
        panel.grab().save(args.screenshot)
        return 1
    code = app.exec()
    panel.shutdown()
    return code
