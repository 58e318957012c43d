"""``python -m rnnscope.app.screenshots [DIR]``: the main window of each model, rendered to PNG.

Runs headless (offscreen) with a temporary settings file, so the user's layout is
neither used nor changed. Writes ``DIR/<model>.png`` (default ``docs/screenshots``)
for every model kind the engine has.
"""

from __future__ import annotations

import os
import sys
import tempfile

if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

# what each screenshot shows: a model on a task it is meant for, at a step where things happen
SHOTS: dict[str, dict[str, str | int]] = {
    "rnn": {"task": "chars", "hidden": 32, "length": 40, "step": 12},
    "lstm": {"task": "chars", "hidden": 32, "length": 40, "step": 12},
    "gru": {"task": "chars", "hidden": 32, "length": 40, "step": 12},
    "dnc": {"task": "copy", "hidden": 32, "slots": 12, "width": 8, "read_heads": 2, "length": 6, "step": 9},
}
SIZE = (1600, 1000)


def render(kind: str, path: str, settings_path: str) -> str:
    """Render the main window showing model ``kind`` to ``path`` (PNG); returns ``path``."""
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.panels.heatmap import HeatmapPanel
    from rnnscope.app.window import MainWindow

    app = QApplication.instance() or QApplication([])
    options = dict(SHOTS[kind])
    step = int(options.pop("step"))
    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    settings.clear()
    window = MainWindow(settings=settings, overrides={"model": kind, "seed": 0, **options})
    window.resize(*SIZE)
    window.show()
    app.processEvents()
    window.set_step(step)
    heatmaps = [p for p in window.panels if isinstance(p, HeatmapPanel)]
    own = [p for p in heatmaps if not p.probe_name.startswith(("output/", "dnc/"))]
    heatmap = (own or heatmaps)[0]  # a unit of the model itself, e.g. a gate
    heatmap.unit_clicked.emit(heatmap.title, 3, step)  # so the unit plot is not empty
    app.processEvents()
    window.export_view_png(path)
    window.close()
    window.deleteLater()
    app.processEvents()
    return path


def main(argv: list[str] | None = None) -> int:
    from rnnscope.engine.models.config import MODEL_KINDS

    args = list(sys.argv[1:] if argv is None else argv)
    directory = args[0] if args else os.path.join("docs", "screenshots")
    os.makedirs(directory, exist_ok=True)
    with tempfile.TemporaryDirectory() as temporary:
        for kind in MODEL_KINDS:
            path = render(kind, os.path.join(directory, f"{kind}.png"), os.path.join(temporary, "s.ini"))
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
