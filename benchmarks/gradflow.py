"""Time the gradient-flow views at the app's default sizes (Jacobian norms per cursor step, the saliency map).

python benchmarks/gradflow.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from functools import partial

import numpy as np

from rnnscope.engine.gradflow import input_saliency, jacobian_norms, trace_with_gradient_flow
from rnnscope.engine.models import ModelConfig, build_model


def best_of(repeats: int, run: Callable[[], object]) -> float:
    """The fastest of ``repeats`` runs, in milliseconds."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return 1000 * min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="short sequences, one repeat")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args()
    steps, repeats = (30, 1) if args.quick else (200, 3)
    rng = np.random.default_rng(0)
    figures: dict[str, float] = {}
    for kind in ("lstm", "gru", "dnc"):
        model = build_model(ModelConfig(kind, 67, 64, 67))
        inputs = np.eye(67)[rng.integers(0, 67, (steps, 1))]
        targets = rng.integers(0, 67, (steps, 1))
        figures[f"{kind}_trace_with_gradient_flow_ms"] = best_of(
            repeats, partial(trace_with_gradient_flow, model, inputs, targets)
        )
        figures[f"{kind}_jacobian_norms_last_step_ms"] = best_of(
            repeats, partial(jacobian_norms, model, inputs, steps - 1)
        )
        figures[f"{kind}_input_saliency_ms"] = best_of(
            repeats, partial(input_saliency, model, inputs, targets)
        )
    for name, value in figures.items():
        print(f"{name:40s} {value:9.1f}  (T = {steps}, H = 64)")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump({"steps": steps, "hidden": 64, **figures}, handle, indent=1)


if __name__ == "__main__":
    main()
