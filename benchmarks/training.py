"""Training throughput: headless against inside the app (offscreen, with live plotting), in one run.

The model is a character LSTM, H=128, B=16, T=25, on the default corpus, trained
with Adagrad and global-norm clipping. *Headless* calls ``trainer.step()`` in a
loop. *App* opens the main window offscreen, starts training from the training panel -- worker
thread, batched statistics, curves redrawn at up to 20 Hz -- and lets it run
the same number of iterations. Both are timed the same way: from the end of
the warm-up iterations to the end of the last one, measured in the thread that
runs the trainer, so the figure is what the GUI costs training. Runs alternate
(headless, app, headless, app, ...) so both see the same machine load; the
medians are compared. Text sampling is off in both.

    python benchmarks/training.py [--quick] [--json PATH] [--iterations N] [--repeats R]

The target is ``app_vs_headless_ratio >= 0.9``. Figures are noisy on a shared
machine: the script prints the load average next to them.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time

if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

from rnnscope.engine.models import build_model  # noqa: E402
from rnnscope.engine.tasks import build_task  # noqa: E402


class TimedTrainer:
    """Wraps a trainer and notes when each ``step()`` ends (in the thread that calls it)."""

    def __init__(self, trainer):
        self.trainer = trainer
        self.model = trainer.model
        self.ends: list[float] = []

    def __getattr__(self, name):
        return getattr(self.trainer, name)

    def step(self):
        stats = self.trainer.step()
        self.ends.append(time.perf_counter())
        return stats

    def chars_per_s(self, warmup: int, chars_per_iteration: int) -> float:
        ends = self.ends
        if len(ends) <= warmup:
            raise RuntimeError(f"only {len(ends)} iterations ran; need more than the {warmup} warm-up ones")
        return (len(ends) - warmup) * chars_per_iteration / (ends[-1] - ends[warmup - 1])


def make_trainer(args, task, model=None):
    if model is None:
        model = build_model(task.model_config(args.kind, args.hidden, seed=args.seed))
    from rnnscope.engine.training import Trainer, build_optimizer

    optimizer = build_optimizer("adagrad", lr=0.1)
    return Trainer(
        model, task, optimizer, batch_size=args.batch, seq_len=args.length, clip_norm=5.0, seed=args.seed
    )


def run_headless(args, task) -> float:
    trainer = TimedTrainer(make_trainer(args, task))
    for _ in range(args.warmup + args.iterations):
        trainer.step()
    return trainer.chars_per_s(args.warmup, args.batch * args.length)


def build_window():
    """The app's main window, with a throw-away settings file."""
    import tempfile

    from PyQt6.QtCore import QSettings

    from rnnscope.app.window import MainWindow

    # a throw-away settings file: the benchmark must not read or change the user's layout
    settings_dir = tempfile.mkdtemp(prefix="rnnscope-bench-")
    settings = QSettings(os.path.join(settings_dir, "settings.ini"), QSettings.Format.IniFormat)
    return MainWindow(settings=settings, trace_now=False)


def run_app(args, task, app) -> tuple[float, int]:
    """chars/s inside the app and how many times the curves were redrawn."""
    from PyQt6.QtCore import Qt, QTimer

    from rnnscope.app.panels.training import TrainingPanel

    timed: list[TimedTrainer] = []

    def factory(model, task_, settings):
        trainer = TimedTrainer(make_trainer(args, task_, model))
        timed.append(trainer)
        return trainer

    window = build_window()
    panel = TrainingPanel(trainer_factory=factory)
    window.add_panel("Training", panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    model = build_model(task.model_config(args.kind, args.hidden, seed=args.seed))
    window.show_model(model, task)
    panel.set_source(model, task)
    window.resize(1400, 900)
    window.show()
    panel.iterations.setValue(args.warmup + args.iterations)
    panel.sample_every.setValue(0)
    panel.snapshot_every.setValue(0)
    panel.batch_size.setValue(args.batch)
    panel.length.setValue(args.length)
    panel.state_changed.connect(lambda state: state == "stopped" and QTimer.singleShot(0, app.quit))
    # the first paint of a new window is start-up cost, not a cost of training with live plots
    for _ in range(5):
        app.processEvents()
    if panel.start() is None:
        raise RuntimeError(f"the training panel did not start: {panel.status.text()}")
    gui_cpu = time.thread_time()
    gui_wall = time.perf_counter()
    app.exec()
    gui_cpu = time.thread_time() - gui_cpu
    gui_wall = time.perf_counter() - gui_wall
    if os.environ.get("RNNSCOPE_BENCH_VERBOSE"):
        print(f"  GUI thread: {gui_cpu:.2f} s CPU in {gui_wall:.2f} s", file=sys.stderr)
    redraws = panel.plots.redraws
    panel.shutdown()
    window.close()
    return timed[0].chars_per_s(args.warmup, args.batch * args.length), redraws


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="fewer iterations and one repeat")
    parser.add_argument("--json", metavar="PATH", help="write the records as a JSON list")
    parser.add_argument(
        "--iterations", type=int, help="timed iterations per run (default 600, or 60 with --quick)"
    )
    parser.add_argument("--repeats", type=int, help="runs of each kind (default 5, or 1 with --quick)")
    parser.add_argument("--warmup", type=int, default=5, help="untimed iterations at the start of each run")
    parser.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru"))
    parser.add_argument("--hidden", type=int, default=128)
    parser.add_argument("--batch", type=int, default=16)
    parser.add_argument("--length", type=int, default=25)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.iterations = args.iterations or (60 if args.quick else 600)
    args.repeats = args.repeats or (1 if args.quick else 5)
    args.kind = args.model
    args.trainer = "engine Trainer (adagrad, clip 5)"

    from PyQt6.QtWidgets import QApplication

    from rnnscope.app.application import configure_app

    app = QApplication.instance() or QApplication(sys.argv[:1])
    configure_app(app)  # as the app runs: garbage collected on the GUI thread
    task = build_task("chars", seed=args.seed)
    headless, inside, redraws = [], [], []
    # one untimed run first: the first iterations of a process are slower (caches, allocator)
    run_headless(argparse.Namespace(**{**vars(args), "iterations": 20}), task)
    for repeat in range(args.repeats):
        headless.append(run_headless(args, task))
        speed, count = run_app(args, task, app)
        inside.append(speed)
        redraws.append(count)
        print(
            f"run {repeat + 1}/{args.repeats}: headless {headless[-1]:,.0f} chars/s, "
            f"app {inside[-1]:,.0f} chars/s ({count} redraws)",
            flush=True,
        )
    headless_speed = statistics.median(headless)
    app_speed = statistics.median(inside)
    ratio = app_speed / headless_speed
    load = os.getloadavg()
    print(
        f"{args.kind.upper()} H={args.hidden} B={args.batch} T={args.length}, "
        f"{args.iterations} iterations x {args.repeats}: headless {headless_speed:,.0f} chars/s, "
        f"in the app (main window, offscreen, live plots) {app_speed:,.0f} chars/s -> "
        f"ratio {ratio:.3f} (target >= 0.9); load average {load[0]:.2f}, "
        f"{os.cpu_count()} CPUs"
    )
    if args.json:
        record = {
            "benchmark": "training_throughput",
            "model": args.kind,
            "trainer": args.trainer,
            "hidden_size": args.hidden,
            "batch_size": args.batch,
            "length": args.length,
            "iterations": args.iterations,
            "repeats": args.repeats,
            "headless_chars_per_s": headless_speed,
            "app_chars_per_s": app_speed,
            "app_vs_headless_ratio": ratio,
            "headless_runs": headless,
            "app_runs": inside,
            "redraws": redraws,
            "quick": args.quick,
            "load_average": load[0],
            "cpu_count": os.cpu_count(),
            "numpy": np.__version__,
            "python": platform.python_version(),
        }
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump([record], stream, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
