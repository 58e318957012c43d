"""``python -m rnnscope.app.screenshots [--dir DIR] [--check]``: the window of each model kind on
this screen, saved as PNG and checked for anything off the screen.

Each window is built as ``rnnscope`` builds it (:func:`rnnscope.app.main.build_window`) with
fresh settings in a temporary file (the user's are neither used nor changed), on the
screen the Qt platform reports: under Xvfb (``scripts/screens_xvfb.sh``) a real X screen
of the chosen size, offscreen one set with ``QT_QPA_PLATFORM=offscreen:configfile=...``
(the tests). The LSTM, DNC and GRU are the shipped trained models; the RNN has none, so
it is an untrained one. Writes ``DIR/<kind>-<width>x<height>.png`` (default
``docs/screenshots``) and prints what
:meth:`~rnnscope.app.window.MainWindow.placement_problems` finds, one JSON line per
kind; ``--check`` exits 1 if anything is off the screen or too small, ``--no-images``
writes nothing. Each kind's Training and Gradient check docks are brought to the front in turn
and checked not to scroll sideways; ``--tools`` also trains the LSTM a little, runs a check and
saves ``training-...png`` and ``gradcheck-...png`` with those panels in front.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict, dataclass

from PyQt6.QtWidgets import QDockWidget, QScrollArea, QWidget

if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

# the command line each screenshot is made with: the example (a checkpoint) or options, and a step
SHOTS: dict[str, tuple[str | None, list[str], int]] = {
    "lstm": ("lstm", [], 24),
    "gru": ("gru", [], 12),
    "dnc": ("dnc", [], 9),
    "rnn": (None, ["--model", "rnn", "--task", "chars", "--seed", "0"], 24),
}


def shoot(
    kind: str, directory: str | None, settings_path: str
) -> tuple[str | None, list[str], dict[str, DockFit]]:
    """Open the window of ``kind``; save it to ``directory`` (if given); what is off the screen, and
    how the training tools' panels fit their docks (:func:`tool_dock_fit`)."""
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.examples import example_path
    from rnnscope.app.main import build_parser, build_window

    app = QApplication.instance()
    if not isinstance(app, QApplication):
        raise RuntimeError("shoot() needs a QApplication")
    example, options, step = SHOTS[kind]
    argv = list(options)
    if example is not None:
        path = example_path(example)
        if path is None:
            raise FileNotFoundError(f"the shipped {kind} model is not installed (scripts/train_shipped.py)")
        argv.append(str(path))
    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    settings.clear()
    window = build_window(build_parser().parse_args(argv), settings=settings)
    window.show()
    for _ in range(5):
        app.processEvents()
    window.set_step(step)
    app.processEvents()
    problems = window.placement_problems()
    written = None if directory is None else save_screen(window, directory, kind)
    fit = tool_dock_fit(window)
    problems += [line for title, size in fit.items() if (line := size.problem(title)) is not None]
    settings.clear()  # closing saves into the temporary file, which goes
    window.close()
    window.deleteLater()
    app.processEvents()
    return written, problems, fit


def shoot_tools(directory: str, settings_path: str, iterations: int = 300) -> list[str]:
    """The shipped LSTM's window with the Training panel in front after ``iterations`` iterations,
    then the Gradient check panel after a sampled check: ``DIR/training-<size>.png``,
    ``DIR/gradcheck-<size>.png`` and each panel whole at its dock's width (``...-panel-<size>.png``)."""
    from PyQt6.QtCore import QDeadlineTimer, QSettings
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.examples import example_path
    from rnnscope.app.main import build_parser, open_window
    from rnnscope.app.panels.gradcheck import GradcheckPanel
    from rnnscope.app.panels.training import TrainingPanel

    settings = QSettings(settings_path, QSettings.Format.IniFormat)
    settings.clear()
    opened = open_window(build_parser().parse_args([str(example_path("lstm"))]), settings)
    window, tools = opened.window, opened.tools
    if tools is None:
        raise RuntimeError("the window has no training tools")
    window.show()
    written = []

    def wait_until(done: Callable[[], bool]) -> None:
        deadline = QDeadlineTimer(120_000)
        while not done() and not deadline.hasExpired():
            QApplication.processEvents()

    def shoot_tool(name: str, panel: TrainingPanel | GradcheckPanel) -> None:
        bring_to_front(tool_docks(window)["Training" if name == "training" else "Gradient check"])
        written.append(save_screen(window, directory, name))
        whole = panel.grab()  # the whole panel at the dock's width, as it scrolls
        path = written[-1].replace(f"{name}-", f"{name}-panel-")
        if not whole.save(path, "PNG"):
            raise OSError(f"could not write {path}")
        written.append(path)

    training = tools.training
    training.iterations.setValue(iterations)
    training.snapshot_every.setValue(max(iterations // 4, 1))
    training.sample_every.setValue(max(iterations // 2, 1))
    training.start()
    wait_until(lambda: training.state == "stopped")
    shoot_tool("training", training)
    training.mark_saved()  # no "save the trained weights?" prompt on close
    tools.gradcheck.run_check()
    wait_until(lambda: not tools.gradcheck.running)
    shoot_tool("gradcheck", tools.gradcheck)
    settings.clear()
    window.close()
    window.deleteLater()
    QApplication.processEvents()
    return written


def save_screen(window: QWidget, directory: str, name: str) -> str:
    """The screen (the window, offscreen) as ``DIR/<name>-<width>x<height>.png``; the path."""
    from PyQt6.QtWidgets import QApplication

    screen = window.screen()
    size = screen.size() if screen is not None else window.size()
    written = os.path.join(directory, f"{name}-{size.width()}x{size.height()}.png")
    offscreen = QApplication.platformName() == "offscreen"
    image = window.grab() if offscreen or screen is None else screen.grabWindow()
    if not image.save(written, "PNG"):
        raise OSError(f"could not write {written}")
    return written


def tool_docks(window: QWidget) -> dict[str, QScrollArea]:
    """The training tools' docks (Training, Gradient check) of ``window``: their scroll areas by title."""
    return {
        dock.windowTitle(): scroll
        for dock in window.findChildren(QDockWidget)
        if dock.objectName() in ("panel:Training", "panel:Gradient check")
        and isinstance(scroll := dock.widget(), QScrollArea)
    }


def bring_to_front(widget: QWidget) -> None:
    """The tab of the dock holding ``widget`` in front, laid out."""
    from PyQt6.QtWidgets import QApplication

    dock = widget.parentWidget()
    while dock is not None and not isinstance(dock, QDockWidget):
        dock = dock.parentWidget()
    if dock is not None:
        dock.raise_()
    for _ in range(5):
        QApplication.processEvents()


@dataclass
class DockFit:
    """How a panel fits its dock: its least width, the width the dock gives it, a sideways scroll bar."""

    least: int
    room: int
    sideways: bool

    def problem(self, title: str) -> str | None:
        """What is wrong, in words (``None``: the panel fits)."""
        if self.sideways or self.least > self.room:
            return f"panel {title!r} needs {self.least} px, its dock gives {self.room}: it scrolls sideways"
        return None


def tool_dock_fit(window: QWidget) -> dict[str, DockFit]:
    """Each training-tool dock brought to the front in turn: how its panel fits, by title."""
    fit = {}
    for title, scroll in tool_docks(window).items():
        bring_to_front(scroll)
        panel, viewport, sideways = scroll.widget(), scroll.viewport(), scroll.horizontalScrollBar()
        fit[title] = DockFit(
            least=panel.minimumSizeHint().width() if panel is not None else 0,
            room=viewport.width() if viewport is not None else 0,
            sideways=sideways is not None and sideways.isVisible(),
        )
    return fit


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join("docs", "screenshots"), help="where PNGs go")
    parser.add_argument("--check", action="store_true", help="exit 1 when anything is off the screen")
    parser.add_argument("--no-images", action="store_true", help="only check; write no PNGs")
    parser.add_argument("--kinds", default=",".join(SHOTS), help="comma-separated model kinds")
    parser.add_argument(
        "--tools", action="store_true", help="also the Training and Gradient check panels in use"
    )
    args = parser.parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.application import configure_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    if isinstance(app, QApplication):
        configure_app(app)
    directory = None if args.no_images else args.dir
    if directory is not None:
        os.makedirs(directory, exist_ok=True)
    failed = False
    with tempfile.TemporaryDirectory() as temporary:
        for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
            written, problems, fit = shoot(kind, directory, os.path.join(temporary, "settings.ini"))
            failed = failed or bool(problems)
            tools = {title: asdict(size) for title, size in fit.items()}
            record = {"kind": kind, "written": written, "problems": problems, "tools": tools}
            print(json.dumps(record), flush=True)
        if args.tools and directory is not None:
            shots = shoot_tools(directory, os.path.join(temporary, "settings.ini"))
            print(json.dumps({"tools": shots}), flush=True)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
