"""How fast the tasks make batches (so data generation never dominates a training step).

    python benchmarks/tasks.py [--quick] [--json PATH]

For every task, the time to make one batch at a few batch sizes; ``--json`` writes one
record per cell: ``task``, ``B``, ``T`` (steps of the batch), ``ms_per_batch``,
``batches_per_s`` and ``steps_per_s`` (sequence steps generated per second, ``T * B`` per batch).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.tasks import TASK_NAMES, Task, build_task


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a short run (fewer cells, less time per cell)")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    args = parser.parse_args(argv)
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
