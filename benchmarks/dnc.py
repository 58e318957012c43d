"""DNC forward + backward throughput, float64.

    python benchmarks/dnc.py [--quick] [--json PATH]

Grid: memory ``(N, W, R)`` in ``(16, 16, 4)`` (the reference defaults), ``(64, 32, 4)``,
``(128, 64, 4)`` x batch ``B`` in ``{1, 16}`` x controller ``H`` in ``{64, 256}``, ``T = 50``,
inputs and outputs of width 8 (a copy-task shape), MSE head, no trace recorded.
One timed call is ``model.loss_and_gradients`` on a ``(T, B, 8)`` batch.

``steps_per_s`` counts sequence steps of every batch row (``T * B`` per call);
``calls_per_s`` is whole forward + backward calls. ``--json`` writes one record per
cell with ``N``, ``W``, ``R``, ``H``, ``B``, ``T``, ``steps_per_s``, ``calls_per_s``,
``ms_per_call``. ``--quick`` runs the smallest memory only, briefly.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.models import ModelConfig, build_model

MEMORIES = ((16, 16, 4), (64, 32, 4), (128, 64, 4))
BATCHES = (1, 16)
HIDDEN = (64, 256)
WIDTH = 8


def time_cell(N: int, W: int, R: int, H: int, B: int, T: int, seconds: float) -> float:
    """Median seconds of one forward + backward over at least ``seconds`` of work."""
    config = ModelConfig("dnc", WIDTH, H, WIDTH, loss="mse", memory_slots=N, memory_width=W, read_heads=R)
    model = build_model(config)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((T, B, WIDTH))
    y = rng.standard_normal((T, B, WIDTH))
    model.loss_and_gradients(x, y)  # warm-up
    times: list[float] = []
    total = time.perf_counter()
    while True:
        start = time.perf_counter()
        model.loss_and_gradients(x, y)
        times.append(time.perf_counter() - start)
        if time.perf_counter() - total >= seconds and len(times) >= 3:
            return float(np.median(times))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smallest memory only, short timings")
    parser.add_argument("--json", type=Path, help="write the records to this file")
    parser.add_argument("--steps", type=int, default=50, help="sequence length T (default 50)")
    args = parser.parse_args(argv)
    memories = MEMORIES[:1] if args.quick else MEMORIES
    seconds = 0.2 if args.quick else 2.0
    T = args.steps
    records = []
    print(f"{'N':>4} {'W':>3} {'R':>2} {'H':>4} {'B':>3} {'T':>3} {'ms/call':>9} {'steps/s':>9}")
    for N, W, R in memories:
        for H in HIDDEN:
            for B in BATCHES:
                per_call = time_cell(N, W, R, H, B, T, seconds)
                record = {
                    "N": N,
                    "W": W,
                    "R": R,
                    "H": H,
                    "B": B,
                    "T": T,
                    "steps_per_s": T * B / per_call,
                    "calls_per_s": 1.0 / per_call,
                    "ms_per_call": per_call * 1e3,
                }
                records.append(record)
                print(
                    f"{N:>4} {W:>3} {R:>2} {H:>4} {B:>3} {T:>3} {record['ms_per_call']:>9.1f} "
                    f"{record['steps_per_s']:>9.0f}",
                    flush=True,
                )
    if args.json:
        write_atomically(args.json, json.dumps(records, indent=1).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
