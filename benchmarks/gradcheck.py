"""Benchmark of the gradient checker: full check, fast path against the naive loop.

The model is a character LSTM with H=64, vocabulary 65, B=4, T=25 (37.5k
parameters); ``--quick`` uses H=16, T=10. The batch is text from the default
corpus, with symbols beyond the 65th folded onto the first 65 so the
vocabulary is exactly 65. The check covers the parameters and, unless
``--no-inputs``, the inputs and the initial state. The naive loop is one
``model.loss`` call per perturbation, six per element (``+-h``, ``+-2h``, ``+-4h``,
more where the step is refined; ``engine="naive"``); the fast path is
``engine="auto"``. Both give the same central differences; the script counts
status differences and reports the largest numeric difference in units of the
rounding allowance, and the losses computed (``evaluations``).

    python benchmarks/gradcheck.py [--quick] [--json PATH] [--model lstm|rnn|gru|dnc] [--no-inputs]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable

import numpy as np

from rnnscope.engine.gradcheck import GradcheckResult, check_gradients
from rnnscope.engine.models import ModelConfig, build_model

VOCAB = 65


def char_batch(batch: int, length: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One-hot inputs ``(T, B, 65)`` and next-character targets ``(T, B)`` from the default corpus."""
    from rnnscope.engine.tasks import build_task

    task = build_task("chars", seed=seed)
    sample = task.sample(batch, np.random.default_rng(seed), length=length)
    ids = np.argmax(sample.inputs, axis=-1) % VOCAB
    targets = np.asarray(sample.targets) % VOCAB
    return np.eye(VOCAB)[ids], targets


def timed(fn: Callable[[], GradcheckResult], repeats: int) -> tuple[float, float, GradcheckResult]:
    """Median wall-clock and CPU seconds of ``repeats`` calls, and the last result.

    CPU time (one BLAS thread) is the steadier figure on a shared machine."""
    wall, cpu = [], []
    out = None
    for _ in range(repeats):
        start, start_cpu = time.perf_counter(), time.process_time()
        out = fn()
        wall.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    assert out is not None
    return statistics.median(wall), statistics.median(cpu), out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller model (H=16, T=10)")
    parser.add_argument("--json", metavar="PATH", help="write the records as a JSON list")
    parser.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru", "dnc"))
    parser.add_argument("--no-inputs", action="store_true", help="check the parameters only")
    parser.add_argument("--hidden", type=int, help="hidden size (default 64, or 16 with --quick)")
    parser.add_argument("--length", type=int, help="steps T (default 25, or 10 with --quick)")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--skip-naive", action="store_true", help="time only the fast path")
    args = parser.parse_args(argv)
    hidden = args.hidden or (16 if args.quick else 64)
    length = args.length or (10 if args.quick else 25)
    model = build_model(ModelConfig(args.model, VOCAB, hidden, VOCAB, seed=0))
    x, y = char_batch(args.batch, length, seed=0)
    size = model.params.size
    conditions = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }
    shape = f"{args.model} H={hidden} vocab={VOCAB} B={args.batch} T={length} ({size} parameters)"
    print(f"gradcheck benchmark: {shape}")
    print(f"machine: {conditions}")
    records = []

    inputs = not args.no_inputs
    fast_s, fast_cpu_s, fast = timed(
        lambda: check_gradients(model, x, y, mode="full", engine="auto", with_inputs=inputs), 1
    )
    record: dict[str, object] = {
        "name": "gradcheck_full",
        "model": shape,
        "parameters": size,
        "fast_engine": fast.engine,
        "with_inputs": inputs,
        "checks": int(sum(r.checked for r in fast.rows)),
        "evaluations": fast.evaluations,
        "fast_s": fast_s,
        "fast_cpu_s": fast_cpu_s,
        "conditions": conditions,
    }
    if not args.skip_naive:
        naive_s, naive_cpu_s, naive = timed(
            lambda: check_gradients(model, x, y, mode="full", engine="naive", with_inputs=inputs), 1
        )
        mismatches = 0
        worst = 0.0
        for name, check in naive.tensors.items():
            other = fast.tensors[name]
            mismatches += int((check.status_codes != other.status_codes).sum())
            allowance = check.noise + other.noise
            worst = max(worst, float((np.abs(check.numeric - other.numeric) / allowance).max()))
        record.update(
            naive_s=naive_s,
            naive_cpu_s=naive_cpu_s,
            speedup_vs_naive=naive_s / fast_s,
            status_mismatches=mismatches,
            max_numeric_diff_over_allowance=worst,
            rows_equal=[r.status for r in naive.all_rows()] == [r.status for r in fast.all_rows()],
        )
        print(
            f"full check: naive {naive_s:.2f} s, fast {fast_s:.2f} s ({fast.engine}), "
            f"speed-up {naive_s / fast_s:.1f}x (CPU: naive {naive_cpu_s:.2f} s, fast {fast_cpu_s:.2f} s); "
            f"element statuses differing: {mismatches}; "
            f"largest numeric difference = {worst:.2f} x the rounding allowance"
        )
    else:
        print(f"full check: fast {fast_s:.2f} s, CPU {fast_cpu_s:.2f} s ({fast.engine})")
    records.append(record)

    for mode in ("sampled", "directional"):
        check = functools.partial(check_gradients, model, x, y, mode=mode, with_inputs=inputs)
        seconds, cpu_seconds, result = timed(check, 5)
        records.append(
            {
                "name": f"gradcheck_{mode}",
                "model": shape,
                "seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "checks": int(sum(r.checked for r in result.rows)),
                "engine": result.engine,
                "conditions": conditions,
            }
        )
        print(
            f"{mode} check: {seconds * 1e3:.0f} ms, CPU {cpu_seconds * 1e3:.0f} ms "
            f"(median of 5, {records[-1]['checks']} checks)"
        )

    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(records, stream, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
