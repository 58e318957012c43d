"""How fast the tasks make batches (so data generation never dominates a training step), and what a
large training corpus costs.

    python benchmarks/tasks.py [--quick] [--json PATH] [--corpus-mb 200]

For every task, the time to make one batch at a few batch sizes; ``--json`` writes one
record per cell: ``task``, ``B``, ``T`` (steps of the batch), ``ms_per_batch``,
``batches_per_s`` and ``steps_per_s`` (sequence steps generated per second, ``T * B`` per batch).

``--corpus-mb MB`` instead generates a text of ``MB`` megabytes in a temporary folder (words of
the shipped corpus in a seeded random order) and, in a fresh process, builds the chars task on it
and trains a character LSTM for a few iterations as ``rnnscope train`` does (with a checkpoint);
the record has ``corpus_mb``, ``characters``, ``build_s`` and ``peak_rss_mb`` (the child's
``ru_maxrss``). ``--quick`` makes it 20 MB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.tasks import TASK_NAMES, Task, build_task, data_dir

# run in a fresh process, so its peak memory is the corpus run's alone
_CORPUS_RUN = """
import json, resource, sys, time
from rnnscope.engine.checkpoint import save_checkpoint
from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import Trainer, build_optimizer, evaluate
started = time.perf_counter()
task = build_task("chars", path=sys.argv[1])
built = time.perf_counter() - started
trainer = Trainer(build_model(task.model_config("lstm", 64)), task, build_optimizer("adagrad"))
trainer.train(20)
evaluate(trainer.model, task)
save_checkpoint(sys.argv[2], trainer.model, trainer=trainer)
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"characters": task.length, "build_s": built, "peak_rss_mb": peak}))
"""


def time_batches(task: Task, batch_size: int, seconds: float) -> tuple[float, int]:
    """Mean seconds per batch over at least ``seconds`` of work, and the batch's steps."""
    stream = task.stream(batch_size, None, np.random.default_rng(0))
    batch = next(stream)  # warm-up
    count, start = 0, time.perf_counter()
    while True:
        batch = next(stream)
        count += 1
        elapsed = time.perf_counter() - start
        if elapsed >= seconds and count >= 3:
            return elapsed / count, batch.steps


def write_corpus(path: Path, megabytes: float) -> None:
    """``megabytes`` MB of the shipped corpus's words in a seeded random order, in lines of 100 kB."""
    words = np.array((data_dir() / "lighthouse.txt").read_text(encoding="utf-8").split())
    rng = np.random.default_rng(0)
    target, written = int(megabytes * 1e6), 0
    with path.open("w", encoding="utf-8") as stream:
        while written < target:
            line = " ".join(rng.choice(words, 16_000)) + "\n"
            stream.write(line)
            written += len(line.encode("utf-8"))


def corpus_record(megabytes: float) -> dict[str, float]:
    with tempfile.TemporaryDirectory(prefix="rnnscope-corpus-") as folder:
        path = Path(folder) / "corpus.txt"
        write_corpus(path, megabytes)
        child = subprocess.run(
            [sys.executable, "-c", _CORPUS_RUN, str(path), str(Path(folder) / "run.npz")],
            check=True,
            capture_output=True,
            text=True,
        )
        return {"corpus_mb": path.stat().st_size / 1e6, **json.loads(child.stdout)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (fewer cells, less time per cell)")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument("--corpus-mb", type=float, help="measure a training corpus of this many MB instead")
    args = parser.parse_args(argv)
    if args.corpus_mb is not None:
        record = corpus_record(20.0 if args.quick else args.corpus_mb)
        print(
            f"corpus {record['corpus_mb']:.0f} MB ({record['characters']:,} characters): built in "
            f"{record['build_s']:.1f} s, peak RSS {record['peak_rss_mb']:,.0f} MB"
        )
        if args.json:
            write_atomically(args.json, json.dumps([record], indent=1).encode("utf-8"))
        return 0
    sizes = (1, 64) if args.quick else (1, 16, 64, 256)
    seconds = 0.05 if args.quick else 0.5
    records = []
    print(f"{'task':<12} {'B':>4} {'T':>4} {'ms/batch':>10} {'batches/s':>10} {'steps/s':>12}")
    for name in TASK_NAMES:
        task = build_task(name)
        for batch_size in sizes:
            per_batch, steps = time_batches(task, batch_size, seconds)
            record = {
                "task": name,
                "B": batch_size,
                "T": steps,
                "ms_per_batch": per_batch * 1e3,
                "batches_per_s": 1.0 / per_batch,
                "steps_per_s": steps * batch_size / per_batch,
            }
            records.append(record)
            print(
                f"{name:<12} {batch_size:>4} {steps:>4} {record['ms_per_batch']:>10.3f} "
                f"{record['batches_per_s']:>10.0f} {record['steps_per_s']:>12.0f}"
            )
    if args.json:
        write_atomically(args.json, json.dumps(records, indent=1).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
