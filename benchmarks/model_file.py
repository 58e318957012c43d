"""From saving a model file to its new trace and gradient check on screen, in the window.

    python benchmarks/model_file.py [--quick] [--json PATH]

The window opens ``examples/buggy_lstm.py`` (a copy in a temporary folder) as ``rnnscope
--model-file`` does, with the training and gradient-check panels, on the offscreen
platform, and runs the check once. Then the file is saved again and again, alternately with
the bug fixed and back, each time as an editor that writes in place would; a save's time
runs until the window has reloaded the class, traced the same sequence and rerun the check
(the ``reloaded`` signal). For each hidden size: the median and the largest time over the
saves (``--quick``: H=12, 3 saves; else H=12 and 64, 10 saves each), the check's own time,
and the 1-minute load average (the machine is shared). Target (issue 12): within a second.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
if not os.environ.get("QT_QPA_PLATFORM"):
    os.environ["QT_QPA_PLATFORM"] = "offscreen"

BUG, FIX = "c_prev.T @ da_f", "h_prev.T @ da_f"


def measure(hidden: int, saves: int, folder: Path) -> dict[str, object]:
    """Open the example at ``hidden`` units, check it, then time ``saves`` saves."""
    from PyQt6.QtCore import QEventLoop, QSettings, QTimer

    from rnnscope.app.main import open_window, parse_args

    path = folder / f"buggy_{hidden}.py"
    shutil.copy(ROOT / "examples" / "buggy_lstm.py", path)
    settings = QSettings(str(folder / f"settings_{hidden}.ini"), QSettings.Format.IniFormat)
    argv = ["--model-file", str(path), "--hidden", str(hidden), "--task", "chars"]
    opened = open_window(parse_args(argv), settings=settings)
    assert opened.tools is not None
    opened.model_files.dialogs = False
    panel = opened.tools.gradcheck
    loop = QEventLoop()
    panel.check_finished.connect(lambda _result: loop.quit())
    panel.run_check()
    loop.exec()
    check_s = panel.result.duration_s if panel.result is not None else float("nan")
    times: list[float] = []
    statuses: list[str] = []

    def reloaded(text: str) -> None:
        statuses.append(text)
        loop.quit()

    opened.model_files.reloaded.connect(reloaded)
    text = path.read_text(encoding="utf-8")
    for save in range(saves):
        started = time.perf_counter()
        path.write_text(text.replace(BUG, FIX) if save % 2 == 0 else text, encoding="utf-8")
        QTimer.singleShot(20_000, loop.quit)  # a reload that never comes must not hang the benchmark
        loop.exec()
        times.append(time.perf_counter() - started)
    opened.window.wait_for_workers()
    panel.shutdown()
    opened.tools.training.shutdown()
    opened.window.close()
    return {
        "hidden": hidden,
        "saves": saves,
        "reload_median_s": round(statistics.median(times), 3),
        "reload_max_s": round(max(times), 3),
        "check_s": round(check_s, 3),
        "last_status": statuses[-1] if statuses else "",
        "load": round(os.getloadavg()[0], 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="H=12 only, 3 saves")
    parser.add_argument("--json", metavar="PATH", help="write the records as JSON")
    args = parser.parse_args(argv)
    from PyQt6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    sizes, saves = ((12,), 3) if args.quick else ((12, 64), 10)
    with tempfile.TemporaryDirectory() as folder:
        records = [measure(hidden, saves, Path(folder)) for hidden in sizes]
    for record in records:
        median, largest = record["reload_median_s"], record["reload_max_s"]
        print(
            f"H={record['hidden']:<3} save -> trace and check on screen: median {median:.3f} s, "
            f"max {largest:.3f} s over {record['saves']} saves "
            f"(the check alone {record['check_s']:.3f} s; load {record['load']})"
        )
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2) + "\n", encoding="utf-8")
    del app
    return 0


if __name__ == "__main__":
    sys.exit(main())
