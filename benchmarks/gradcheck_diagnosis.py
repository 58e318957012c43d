"""Benchmark of the gradient check's diagnoses: what naming the cause of failing rows costs.

Each case is a character model (vocabulary 65, B=4, T=25, H=64; ``--quick``: T=10, H=16)
with a planted bug in a copy of its backward, checked in sampled mode with and without
the diagnoses (``diagnose=False``): a swap of two LSTM gates (found by probes), unrelated
noise on every gradient of a GRU (naive core loop: the worst case, every row fails and no
cause is found) and of an LSTM, and an RNN whose backward drops the BPTT carry (the
shorter-sequence re-checks). Records CPU and wall seconds both ways, the losses computed
and what was diagnosed.

    python benchmarks/gradcheck_diagnosis.py [--quick] [--json PATH]
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from benchmarks.gradcheck import VOCAB, char_batch
from rnnscope.engine.gradcheck import GradcheckResult, check_gradients
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.models.base import RecurrentModel

Change = Callable[[dict[str, np.ndarray], np.ndarray, dict[str, np.ndarray], RecurrentModel], tuple[Any, ...]]


def _swap(grads, dinputs, dstate, model):
    h = model.config.hidden_size
    grad = grads["Wx"].copy()
    grad[:, :h], grad[:, h : 2 * h] = grads["Wx"][:, h : 2 * h], grads["Wx"][:, :h]
    return {**grads, "Wx": grad}, dinputs, dstate


def _noise(grads, dinputs, dstate, model):
    rng = np.random.default_rng(0)
    return {k: v * (1 + 1e-3 * rng.standard_normal(v.shape)) for k, v in grads.items()}, dinputs, dstate


def _carry(grads, dinputs, dstate, model):
    return grads, dinputs, dstate  # the RNN case replaces the whole backward (below)


CASES: dict[str, tuple[str, Change]] = {
    "lstm swapped gates": ("lstm", _swap),
    "gru noise": ("gru", _noise),
    "lstm noise": ("lstm", _noise),
    "rnn dropped carry": ("rnn", _carry),
}


def planted(kind: str, change: Change, hidden: int) -> RecurrentModel:
    model = build_model(ModelConfig(kind, VOCAB, hidden, VOCAB, seed=0))
    base = type(model)
    if kind == "rnn":
        return _carryless(base)(model.config, model.params.copy())

    def backward_core(self, *args, **kwargs):
        grads, dinputs, dstate, dhidden = base.backward_core(self, *args, **kwargs)
        grads, dinputs, dstate = change(dict(grads), dinputs, dict(dstate), self)
        return grads, dinputs, dstate, dhidden

    broken: type[RecurrentModel] = type(base.__name__, (base,), {"backward_core": backward_core})
    return broken(model.config, model.params.copy())


def _carryless(base: type) -> type:
    def backward_core(self, dfeatures, core, inputs, dfinal_state=None, *, need_inputs=True):
        steps, batch, width = inputs.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        hs = core.cache["hs"]
        dpreact = 1.0 - hs[1:] * hs[1:]
        dhidden = np.empty_like(hs[1:])
        dh_next = np.zeros((batch, Wh.shape[0]))
        for t in range(steps - 1, -1, -1):
            dhidden[t] = dfeatures[t] + (dh_next if t == 0 else 0.0)
            dpreact[t] *= dhidden[t]
            dh_next = dpreact[t] @ Wh.T
        flat = dpreact.reshape(steps * batch, -1)
        grads = {
            "Wx": inputs.reshape(-1, width).T @ flat,
            "Wh": hs[:-1].reshape(steps * batch, -1).T @ flat,
            "b": flat.sum(axis=0),
        }
        return grads, (flat @ Wx.T).reshape(steps, batch, width), {"h": dh_next}, dhidden

    return type(base.__name__, (base,), {"backward_core": backward_core})


def timed(fn: Callable[[], GradcheckResult]) -> tuple[float, float, GradcheckResult]:
    start, start_cpu = time.perf_counter(), time.process_time()
    out = fn()
    return time.perf_counter() - start, time.process_time() - start_cpu, out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="a smaller model (H=16, T=10)")
    parser.add_argument("--json", metavar="PATH", help="write the records as a JSON list")
    args = parser.parse_args(argv)
    hidden, length = (16, 10) if args.quick else (64, 25)
    x, y = char_batch(4, length, seed=0)
    conditions = {
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "blas_threads": os.environ.get("OPENBLAS_NUM_THREADS", "unset"),
    }
    print(f"diagnosis benchmark: H={hidden} vocab={VOCAB} B=4 T={length}, sampled mode")
    print(f"machine: {conditions}")
    records = []
    for name, (kind, change) in CASES.items():
        model = planted(kind, change, hidden)
        plain_s, plain_cpu_s, plain = timed(functools.partial(check_gradients, model, x, y, diagnose=False))
        wall_s, cpu_s, result = timed(functools.partial(check_gradients, model, x, y))
        found = sorted({d.kind for row in result.all_rows() for d in row.diagnoses})
        records.append(
            {
                "name": name,
                "hidden": hidden,
                "length": length,
                "without_s": plain_s,
                "without_cpu_s": plain_cpu_s,
                "with_s": wall_s,
                "with_cpu_s": cpu_s,
                "evaluations_without": plain.evaluations,
                "evaluations_with": result.evaluations,
                "failing_rows": sum(row.failed for row in result.all_rows()),
                "diagnosed": found,
                "conditions": conditions,
            }
        )
        print(
            f"{name}: CPU {plain_cpu_s:.2f} s without the diagnoses, {cpu_s:.2f} s with "
            f"({result.evaluations - plain.evaluations} more losses counted); diagnosed {found or 'nothing'}"
        )
    if args.json:
        with open(args.json, "w", encoding="utf-8") as stream:
            json.dump(records, stream, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
