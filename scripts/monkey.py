"""Random use of the app for a long while: uncaught exceptions, close time and peak memory.

    python scripts/monkey.py --actions 5000 --seeds 0 1 2 [--json monkey.json]

Each seed opens a fresh main window (its settings in a temporary folder) with the
training tools, does ``--actions`` random user actions (:mod:`rnnscope.app.monkey`),
then closes the window whatever runs at that moment and times the close. Uncaught
exceptions are counted by the app's own handler (:mod:`rnnscope.app.errors`), which
logs their tracebacks to the run's folder. Runs offscreen unless ``QT_QPA_PLATFORM``
says otherwise. Exit status 1 when any seed had an uncaught exception or a close
that took a second or more. ``tests/app/test_monkey.py`` is the short version run
by the suite.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

CLOSE_LIMIT_S = 1.0


@dataclass
class SeedRun:
    seed: int
    actions: int
    seconds: float
    uncaught: list[str] = field(default_factory=list)
    close_seconds: float = 0.0
    peak_rss_mb: float = 0.0
    threads_left: int = 0  # Python threads still running right after the close (cancelled traces)
    running_at_close: list[str] = field(default_factory=list)  # what was running when the window closed


def run_seed(seed: int, actions: int, folder: Path, max_hidden: int) -> SeedRun:
    from PyQt6.QtCore import QSettings
    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.application import configure_app
    from rnnscope.app.errors import install_exception_handler
    from rnnscope.app.main import open_window, parse_args
    from rnnscope.app.monkey import Monkey, rss_bytes, wait_ms
    from rnnscope.app.unsaved_weights import DISCARD

    app = QApplication.instance() or QApplication(["rnnscope-monkey"])
    assert isinstance(app, QApplication)
    configure_app(app)
    reporter = install_exception_handler(app, folder / "logs", dialogs=False)
    settings = QSettings(str(folder / "rnnscope.ini"), QSettings.Format.IniFormat)
    started = time.perf_counter()
    try:
        opened = open_window(parse_args(["--hidden", "16"]), settings)
        opened.window.show()
        monkey = Monkey(opened, folder, seed, max_hidden=max_hidden)
        log = monkey.run(actions)
        if os.environ.get("MONKEY_TIMES"):
            print(sorted(((round(v, 1), k) for k, v in log.seconds.items()), reverse=True), log.actions)
        took = time.perf_counter() - started
        busy = make_busy(opened)
        if opened.tools is not None:  # trained weights are not kept: the quit question is answered
            opened.tools.unsaved.ask = lambda _what: DISCARD
        closing = time.perf_counter()
        opened.window.close()
        close_seconds = time.perf_counter() - closing
        threads_left = threading.active_count() - 1
        wait_ms(50)
        opened.window.deleteLater()
        wait_ms(50)
    finally:
        reporter.uninstall()
        reporter.setParent(None)
    peak = max(log.peak_rss, rss_bytes())
    return SeedRun(
        seed,
        actions,
        round(took, 1),
        list(reporter.errors),
        round(close_seconds, 3),
        round(peak / 2**20),
        threads_left,
        busy,
    )


def make_busy(opened: Any) -> list[str]:
    """Start training, a gradient check and a long DNC trace (as the user would, by their buttons and
    the model bar), so the close that follows has all three to stop; returns what is running."""
    from rnnscope.app.monkey import wait_ms

    window, tools = opened.window, opened.tools
    if tools is not None:
        if tools.training.state in ("idle", "stopped"):
            tools.training.start_button.click()
        if tools.gradcheck.run_button.isEnabled():
            tools.gradcheck.run_button.click()
    controls = window.controls
    for box, value in ((controls.hidden_box, 64), (controls.slots_box, 128), (controls.width_box, 32)):
        box.setValue(value)
    controls.heads_box.setValue(4)
    controls.task_box.setCurrentText("copy")  # a re-trace: each newer one cancels the one before
    controls.length_box.setValue(1500)
    index = controls.model_box.findData("dnc")
    if controls.model_box.currentIndex() == index:
        controls.trace_button.click()
    else:
        controls.model_box.setCurrentIndex(index)
    wait_ms(300)
    running = []
    if tools is not None and tools.training.thread_ is not None and tools.training.thread_.isRunning():
        running.append("training")
    if tools is not None and tools.gradcheck.running:
        running.append("gradient check")
    if window.retracer.running:
        running.append(f"{window.retracer.running} trace(s)")
    return running


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--actions", type=int, default=5000, help="random actions per seed (default 5000)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds (default 0 1 2)")
    parser.add_argument("--max-hidden", type=int, default=64, help="largest H the monkey types (default 64)")
    parser.add_argument("--json", help="write the figures to this file as JSON")
    args = parser.parse_args(argv)
    runs = []
    with tempfile.TemporaryDirectory(prefix="rnnscope-monkey-") as temporary:
        for seed in args.seeds:
            folder = Path(temporary) / f"seed-{seed}"
            folder.mkdir()
            run = run_seed(seed, args.actions, folder, args.max_hidden)
            runs.append(run)
            kinds = Counter(error.split(":")[0] for error in run.uncaught)
            print(
                f"seed {seed}: {run.actions} actions in {run.seconds:.0f} s, "
                f"{len(run.uncaught)} uncaught exceptions {dict(kinds) or ''}, "
                f"close {run.close_seconds * 1000:.0f} ms (while {', '.join(run.running_at_close) or '-'}), "
                f"peak RSS {run.peak_rss_mb:.0f} MB",
                flush=True,
            )
            for error in dict.fromkeys(run.uncaught):
                print(f"    {error}")
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(run) for run in runs], indent=2) + "\n")
    bad = any(run.uncaught or run.close_seconds >= CLOSE_LIMIT_S for run in runs)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
