"""Validation of the gradient checker: planted 1e-6 errors are failed, correct models never warn.

    python benchmarks/gradcheck_validation.py [--quick] [--json PATH] [--seeds N]

Three tables (``docs/gradcheck.md`` quotes them):

1. **Planted errors.** For every model kind the command offers (RNN, LSTM, GRU in both
   conventions, DNC), on three tasks (one per loss head), the analytic gradient of one
   tensor -- every parameter, the inputs, every entry of a carried state -- or of one gate
   slice is scaled by ``1 + 1e-6`` (the model's ``backward`` wrapped), and that tensor is
   checked in full and in directional mode. Caught: its row (or sub-row) fails.
2. **False alarms.** Correct models over seeds x every model x every mode x every task the
   command offers: rows that warn or fail (both must be 0), kinks, "too small" rows, and
   the largest ``|analytic - numeric| / allowance`` over every judged element -- how much of
   its error bar the worst element used.
3. **The README's DNC example** (copy, N=6, W=4, R=2, H=8 and 16) over seeds: parameter
   slices left "too small" (must be 0), the worst slice's resolution, and a planted bug in the
   write strength's ``oneplus'`` failing its own rows in every mode.

Sizes: ``H = 8`` (the DNC's memory N=6, W=4, R=2), batch 2, each task's default length.
``--quick`` runs 2 seeds (20 by default; ``--seeds`` sets it). ``--json`` writes every
record (one per check).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import numpy as np

from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.dnc import access, interface
from rnnscope.engine.dnc.addressing import sigmoid
from rnnscope.engine.gradcheck import GradcheckResult, Status, check_gradients
from rnnscope.engine.models import build_model
from rnnscope.engine.models.base import Gradients, RecurrentModel
from rnnscope.engine.params import split_name
from rnnscope.engine.tasks import TASK_NAMES, Batch, build_task

PLANTED = 1e-6
HIDDEN = 8
MODELS: dict[str, tuple[str, dict[str, Any]]] = {
    "rnn": ("rnn", {}),
    "lstm": ("lstm", {}),
    "gru": ("gru", {"reset_after": False}),
    "gru (pytorch)": ("gru", {"reset_after": True}),
    "dnc": ("dnc", {"memory_slots": 6, "memory_width": 4, "read_heads": 2}),
}
PLANTED_TASKS = ("chars", "copy", "sine")  # softmax_ce, sigmoid_bce, mse
MODES = ("sampled", "full", "directional")


def problem(model_key: str, task_name: str, seed: int, hidden: int = HIDDEN) -> tuple[RecurrentModel, Batch]:
    """A fresh model of ``model_key`` for the task, and one batch of 2 at the task's default length."""
    kind, extra = MODELS[model_key]
    task = build_task(task_name, seed=seed)
    model = build_model(task.model_config(kind, hidden, seed=seed, **extra))
    return model, task.sample(2, np.random.default_rng(seed))


def carried_state(model: RecurrentModel, task_name: str, seed: int) -> dict[str, np.ndarray]:
    """The state the model carries out of another batch of the task: a realistic initial state."""
    earlier = build_task(task_name, seed=seed + 1000).sample(2, np.random.default_rng(seed + 1000))
    return model.forward(earlier.inputs, earlier.targets, earlier.mask, record=False).final_state


def planted(model: RecurrentModel, row: str, factor: float) -> RecurrentModel:
    """A copy of ``model`` whose backward scales the gradient of ``row`` (a tensor, ``inputs``,
    ``state.<key>``, or one gate slice ``Wx[forget]``) by ``factor``, element-wise."""
    name, gate = split_name(row)
    cls = type(model)

    def backward(self: RecurrentModel, result: Any, input_gradient: bool = True) -> Gradients:
        grads = cls.backward(self, result, input_gradient)
        if name == "inputs":
            assert grads.inputs is not None
            grads.inputs = grads.inputs * factor
        elif name.startswith("state."):
            key = name.removeprefix("state.")
            grads.initial_state = {**grads.initial_state, key: grads.initial_state[key] * factor}
        else:
            gradient = np.array(grads.params[name], copy=True)
            piece = self.params.gate_slices(name).get(gate) if gate else None
            index = piece.index(gradient.ndim) if piece is not None else ...
            gradient[index] *= factor
            grads.params[name] = gradient
        return grads

    wrong = type(cls.__name__, (cls,), {"backward": backward})
    copy: RecurrentModel = wrong(model.config, model.params.copy())
    return copy


def rows_of(model: RecurrentModel, state: dict[str, np.ndarray]) -> list[str]:
    """Every row a check of ``model`` has: parameters and their gate slices, inputs, state entries."""
    names: list[str] = []
    for name in model.params:
        names.append(name)
        names.extend(model.params.slice_names(name))
    return [*names, "inputs", *(f"state.{key}" for key in state)]


# ----------------------------------------------------------------------------- table 1
def planted_records(
    seeds: range,
    models: tuple[str, ...] = tuple(MODELS),
    tasks: tuple[str, ...] = PLANTED_TASKS,
    slices: bool = True,
) -> Iterator[dict[str, Any]]:
    """One record per planted error: model, task, seed, mode, row, caught, the row's resolution
    (every tensor of each problem, and each gate slice with ``slices``)."""
    for seed in seeds:
        for key in models:
            for task_name in tasks:
                model, batch = problem(key, task_name, seed)
                state = carried_state(model, task_name, seed)
                for row in rows_of(model, state):
                    if "[" in row and not slices:
                        continue
                    tensor = split_name(row)[0]
                    broken = planted(model, row, 1 + PLANTED)
                    for mode in ("full", "directional"):
                        result = check_gradients(
                            broken,
                            batch.inputs,
                            batch.targets,
                            batch.mask,
                            state,
                            mode=mode,
                            seed=seed,
                            parameters=[tensor],
                        )
                        checked = result.row(row)
                        yield {
                            "table": "planted",
                            "model": key,
                            "task": task_name,
                            "seed": seed,
                            "mode": mode,
                            "row": row,
                            "group": checked.group,
                            "slice": "[" in row,
                            "caught": checked.status is Status.FAIL,
                            "status": checked.status.value,
                            "resolution": checked.resolution,
                            "differentiable": result.tensors[tensor].differentiable,
                        }


# ----------------------------------------------------------------------------- table 2
def false_alarm_records(
    seeds: range, models: tuple[str, ...] = tuple(MODELS), tasks: tuple[str, ...] = TASK_NAMES
) -> Iterator[dict[str, Any]]:
    """One record per check of a correct model: its statuses and how much allowance it used."""
    for seed in seeds:
        for key in models:
            for task_name in tasks:
                model, batch = problem(key, task_name, seed)
                for mode in MODES:
                    result = check_gradients(
                        model, batch.inputs, batch.targets, batch.mask, mode=mode, seed=seed
                    )
                    yield {
                        "table": "false alarms",
                        "model": key,
                        "task": task_name,
                        "seed": seed,
                        "mode": mode,
                        **summary(result),
                    }


def summary(result: GradcheckResult) -> dict[str, Any]:
    """Counts of row statuses, judged elements, and the largest share of its allowance one used."""
    rows = result.all_rows()
    counts = {status.value: sum(row.status is status for row in rows) for status in Status}
    ratio, judged = 0.0, 0
    for check in result.tensors.values():
        plain = (check.status_codes != Status.TOO_SMALL.code) & (check.status_codes != Status.KINK.code)
        if plain.any():
            used = np.abs(check.analytic_values - check.numeric)[plain] / check.allowance()[plain]
            ratio = max(ratio, float(used.max()))
        judged += int(plain.sum())
    problems = [f"{row.name} {row.status.value}" for row in rows if row.status in (Status.WARN, Status.FAIL)]
    return {
        "rows": len(rows),
        **counts,
        "judged": judged,
        "allowance_used": ratio,
        "problems": problems,
        "seconds": result.duration_s,
    }


# ----------------------------------------------------------------------------- table 3
@contextmanager
def write_strength_bug() -> Iterator[None]:
    """The DNC's write strength with ``oneplus'`` taken at the strength instead of the raw value."""
    original = access.interface_backward

    def wrong(grads: dict[str, np.ndarray], iface: Any, width: int, heads: int) -> np.ndarray:
        draw = original(grads, iface, width, heads)
        start, stop = interface.interface_layout(width, heads)["write_strength"]
        raw = iface.raw[:, start:stop]
        draw[:, start:stop] = grads["write_strength"][:, None] * sigmoid(1.0 + np.logaddexp(0.0, raw))
        return draw

    with mock.patch.object(access, "interface_backward", wrong):
        yield


def readme_dnc_records(seeds: range) -> Iterator[dict[str, Any]]:
    """Per seed and H: parameter slices left too small, the worst resolution, the bug caught."""
    for seed in seeds:
        for hidden in (8, 16):
            task = build_task("copy", seed=seed)
            config = task.model_config("dnc", hidden, seed=seed, memory_slots=6, memory_width=4, read_heads=2)
            model = build_model(config)
            batch = task.sample(2, np.random.default_rng(seed))
            result = check_gradients(model, batch.inputs, batch.targets, batch.mask, mode="full")
            parameters = [row for row in result.all_rows() if row.group == "parameter"]
            caught = {}
            with write_strength_bug():
                for mode in MODES:
                    bugged = check_gradients(
                        model, batch.inputs, batch.targets, batch.mask, mode=mode, seed=seed
                    )
                    caught[mode] = all(
                        bugged.row(name).status is Status.FAIL
                        for name in ("Wi[write_strength]", "bi[write_strength]")
                    )
            yield {
                "table": "readme dnc",
                "seed": seed,
                "hidden": hidden,
                "too_small": [row.name for row in parameters if row.status is Status.TOO_SMALL],
                "worst_resolution": max(row.resolution for row in parameters),
                "failed": result.failed,
                "state": {row.name: row.status.value for row in result.rows if row.group == "state"},
                "bug_caught": caught,
            }


# ----------------------------------------------------------------------------- printing
def print_planted(records: list[dict[str, Any]]) -> None:
    print("\n1. planted element-wise relative errors of 1e-6: caught (failed) / planted, full | directional")
    print("| model | parameters | gate slices | inputs | carried state | missed though resolvable |")
    print("|---|---:|---:|---:|---:|---:|")
    for key in MODELS:
        mine = [r for r in records if r["model"] == key]
        cells = [
            _both(r for r in mine if r["group"] == "parameter" and not r["slice"]),
            _both(r for r in mine if r["slice"]),
            _both(r for r in mine if r["group"] == "input"),
            _both(r for r in mine if r["group"] == "state"),
            str(sum(not r["caught"] and r["resolution"] < 5e-7 for r in mine)),
        ]
        print(f"| {key} | " + " | ".join(cells) + " |")
    for r in [r for r in records if not r["caught"]][:30]:
        print(
            f"  missed: {r['model']} {r['task']} seed {r['seed']} {r['mode']} {r['row']}: {r['status']}, "
            f"resolution {r['resolution']:.1e}, differentiable {r['differentiable']}"
        )


def _both(records: Any) -> str:
    chosen = list(records)
    return " \\| ".join(_rate(r for r in chosen if r["mode"] == mode) for mode in ("full", "directional"))


def _rate(records: Any) -> str:
    chosen = list(records)
    return f"{sum(r['caught'] for r in chosen)}/{len(chosen)}"


def print_false_alarms(records: list[dict[str, Any]]) -> None:
    print("\n2. correct models: rows that warn / fail, kinks, too small; largest share of the allowance used")
    print(
        "| model | mode | checks | rows | warn | fail | kink | too small | judged elements | allowance used |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for key in MODELS:
        for mode in MODES:
            mine = [r for r in records if r["model"] == key and r["mode"] == mode]
            total = {
                s: sum(r[s] for r in mine) for s in ("rows", "warn", "fail", "kink", "too_small", "judged")
            }
            used = max(r["allowance_used"] for r in mine)
            print(
                f"| {key} | {mode} | {len(mine)} | {total['rows']} | {total['warn']} | {total['fail']} | "
                f"{total['kink']} | {total['too_small']} | {total['judged']} | {used:.2f} |"
            )
    for r in records:
        if r["problems"]:
            print(f"  {r['model']} {r['task']} seed {r['seed']} {r['mode']}: {', '.join(r['problems'])}")


def print_readme_dnc(records: list[dict[str, Any]]) -> None:
    print("\n3. the README's DNC example (copy, N=6, W=4, R=2)")
    print(
        "| H | seeds | slices too small | worst resolution | failed | bug caught (sampled/full/directional) |"
    )
    print("|---:|---:|---:|---:|---:|---|")
    for hidden in (8, 16):
        mine = [r for r in records if r["hidden"] == hidden]
        caught = " / ".join(f"{sum(r['bug_caught'][m] for r in mine)}" for m in MODES)
        print(
            f"| {hidden} | {len(mine)} | {sum(len(r['too_small']) for r in mine)} | "
            f"{max(r['worst_resolution'] for r in mine):.1e} | {sum(r['failed'] for r in mine)} | {caught} |"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds instead of 20")
    parser.add_argument("--seeds", type=int, help="seeds per cell (default 20, or 2 with --quick)")
    parser.add_argument("--json", type=Path, help="write every record to this file")
    args = parser.parse_args(argv)
    count = args.seeds or (2 if args.quick else 20)
    started = time.perf_counter()
    records: list[dict[str, Any]] = []
    planted_seeds = range(min(count, 3))  # every tensor and slice of 5 models x 3 tasks per seed
    tables = (
        (planted_records(planted_seeds), print_planted),
        (false_alarm_records(range(count)), print_false_alarms),
        (readme_dnc_records(range(count)), print_readme_dnc),
    )
    for source, show in tables:
        chosen = list(source)
        records.extend(chosen)
        show(chosen)
    print(f"\n{len(records)} records in {time.perf_counter() - started:.0f} s")
    if args.json:
        write_atomically(args.json, json.dumps(records, indent=1, default=float).encode("utf-8"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
