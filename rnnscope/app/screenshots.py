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
writes nothing.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile

if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

# the command line each screenshot is made with: the example (a checkpoint) or options, and a step
SHOTS: dict[str, tuple[str | None, list[str], int]] = {
    "lstm": ("lstm", [], 24),
    "gru": ("gru", [], 12),
    "dnc": ("dnc", [], 9),
    "rnn": (None, ["--model", "rnn", "--task", "chars", "--seed", "0"], 24),
}


def shoot(kind: str, directory: str | None, settings_path: str) -> tuple[str | None, list[str]]:
    """Open the window of ``kind``; save it to ``directory`` (if given); what is off the screen."""
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
    written = None
    if directory is not None:
        screen = window.screen()
        size = screen.size() if screen is not None else window.size()
        written = os.path.join(directory, f"{kind}-{size.width()}x{size.height()}.png")
        offscreen = QApplication.platformName() == "offscreen"
        image = window.grab() if offscreen or screen is None else screen.grabWindow()
        if not image.save(written, "PNG"):
            raise OSError(f"could not write {written}")
    settings.clear()  # closing saves into the temporary file, which goes
    window.close()
    window.deleteLater()
    app.processEvents()
    return written, problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", default=os.path.join("docs", "screenshots"), help="where PNGs go")
    parser.add_argument("--check", action="store_true", help="exit 1 when anything is off the screen")
    parser.add_argument("--no-images", action="store_true", help="only check; write no PNGs")
    parser.add_argument("--kinds", default=",".join(SHOTS), help="comma-separated model kinds")
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
            written, problems = shoot(kind, directory, os.path.join(temporary, "settings.ini"))
            failed = failed or bool(problems)
            print(json.dumps({"kind": kind, "written": written, "problems": problems}), flush=True)
    return 1 if failed and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
