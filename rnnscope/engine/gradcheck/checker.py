"""``check_gradients``: compare a model's analytic gradients with central differences.

Modes (``mode=``):

``"sampled"``
    ``samples`` elements per tensor -- per *gate slice* for fused tensors, so every
    gate sub-row is judged -- chosen reproducibly from ``seed``, always including
    the element with the largest analytic gradient.
``"full"``
    every element.
``"directional"``
    ``directions`` random unit directions per tensor (per gate slice for fused
    tensors): ``u . grad`` against ``(f(x + h u) - f(x - h u)) / 2h``. Two forwards
    per direction: a fast first pass.

Step: element ``x`` is moved by ``h = step * max(1, |x|)`` (``relative_step=True``,
the default) or by ``h = step``. The divisor is the perturbation actually applied
(``fl(x + h) - fl(x - h)``), so rounding of ``x + h`` does not bias the result.

Cancellation: ``cancel()`` is polled between chunks of evaluations; when it
returns True the check stops and raises :class:`GradcheckCancelled` whose
``partial`` result holds the rows of the tensors already finished. The model's
parameters are restored bit-exactly in every case (also on errors).

The checker never prints; ``progress(done, total, parameter_name)`` counts
checked elements (or directions).
"""

from __future__ import annotations

import datetime as _dt
import time
import zlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from rnnscope.engine.gradcheck.evaluators import FunctionEvaluator, LossEvaluator, NaiveEvaluator
from rnnscope.engine.gradcheck.relerr import classify, noise_level, relative_error, tensor_floor
from rnnscope.engine.gradcheck.result import (
    STATUS_BY_CODE,
    GradcheckCancelled,
    GradcheckResult,
    GradRow,
    PrecisionError,
    Status,
    TensorCheck,
    Thresholds,
    summarise_statuses,
)
from rnnscope.engine.models.base import ModelConfig, RecurrentModel, State
from rnnscope.engine.params import GateSlice

MODES = ("sampled", "full", "directional")
ENGINES = ("auto", "fast", "naive")
Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]


def check_gradients(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
    *,
    mode: str = "sampled",
    samples: int = 10,
    directions: int = 3,
    seed: int = 0,
    step: float = 1e-5,
    relative_step: bool = True,
    thresholds: Thresholds | None = None,
    upcast: bool = False,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    engine: str = "auto",
    parameters: Sequence[str] | None = None,
) -> GradcheckResult:
    """Check every parameter's gradient of ``model`` on one fixed batch.

    ``inputs`` ``(T, B, D)``, ``targets`` ``(T, B)`` or ``(T, B, O)``, ``mask``
    ``(T, B)`` and ``state`` are passed to the model's loss unchanged. A float32
    model raises :class:`PrecisionError` unless ``upcast=True``, which checks a
    float64 copy instead. ``engine="naive"`` forces two ``model.loss`` calls per
    element; ``"auto"`` uses a batched evaluator when one exists for the model
    (identical central differences, see ``fast.py``). ``parameters`` restricts
    the check to some tensors. Returns a :class:`GradcheckResult`.
    """
    started = time.perf_counter()
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    if int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    if int(directions) != directions or directions < 1:
        raise ValueError(f"directions must be a positive integer, got {directions!r}")
    if not (np.isfinite(step) and step > 0):
        raise ValueError(f"step must be a positive number, got {step!r}")
    thresholds = thresholds or Thresholds()
    checked_model, was_upcast = _float64_model(model, upcast)
    if was_upcast:
        inputs = np.asarray(inputs, dtype=np.float64)
        if not np.issubdtype(np.asarray(targets).dtype, np.integer):
            targets = np.asarray(targets, dtype=np.float64)
        if state is not None:
            state = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    names = list(checked_model.params) if parameters is None else list(dict.fromkeys(parameters))
    for name in names:
        if name not in checked_model.params:
            raise ValueError(f"no parameter {name!r}; the model has {list(checked_model.params)}")

    params = checked_model.params
    saved = {name: params[name].copy() for name in params}
    try:
        _, grads, _ = checked_model.loss_and_gradients(inputs, targets, mask, state)
        evaluator = _make_evaluator(checked_model, inputs, targets, mask, state, engine)
        base_loss = evaluator.base_loss()
        plans = {
            name: _plan(name, grads.params[name], params.gate_slices(name), mode, samples, directions, seed)
            for name in names
        }
        total = sum(plan.count for plan in plans.values())
        done = 0
        tensors: dict[str, TensorCheck] = {}
        rows: list[GradRow] = []

        def partial_result() -> GradcheckResult:
            return _result(
                rows,
                tensors,
                checked_model.config,
                seed,
                mode,
                thresholds,
                step,
                relative_step,
                samples,
                directions,
                base_loss,
                started,
                evaluator,
                was_upcast,
                cancelled=True,
            )

        for name in names:
            plan = plans[name]
            grad = np.asarray(grads.params[name], dtype=np.float64)
            if progress is not None:
                progress(done, total, name)

            def report(count: int, name: str = name) -> None:
                nonlocal done
                done += count
                if progress is not None:
                    progress(done, total, name)
                if cancel is not None and cancel():
                    raise _Stop

            try:
                if mode == "directional":
                    check = _check_directions(
                        name, params[name], grad, plan, evaluator, base_loss, step, thresholds, report
                    )
                else:
                    check = _check_elements(
                        name,
                        params[name],
                        grad,
                        plan,
                        evaluator,
                        base_loss,
                        step,
                        relative_step,
                        thresholds,
                        report,
                    )
            except _Stop:
                raise GradcheckCancelled(partial_result()) from None
            tensors[name] = check
            rows.append(build_row(check, params.gate_slices(name)))
            if cancel is not None and cancel() and name != names[-1]:
                raise GradcheckCancelled(partial_result())
        return _result(
            rows,
            tensors,
            checked_model.config,
            seed,
            mode,
            thresholds,
            step,
            relative_step,
            samples,
            directions,
            base_loss,
            started,
            evaluator,
            was_upcast,
            cancelled=False,
        )
    finally:
        for name, values in saved.items():
            params[name][...] = values


def check_function(
    f: Callable[[], float],
    array: np.ndarray,
    analytic: np.ndarray,
    *,
    name: str = "x",
    mode: str = "full",
    samples: int = 10,
    directions: int = 3,
    seed: int = 0,
    step: float = 1e-5,
    relative_step: bool = True,
    thresholds: Thresholds | None = None,
) -> tuple[GradRow, TensorCheck]:
    """Check ``analytic`` (same shape as ``array``) against central differences of ``f()``.

    ``f`` reads ``array``, which is perturbed in place and restored bit-exactly.
    The same relative error, statuses and kink detection as :func:`check_gradients`,
    for any scalar function (a custom loss, a layer under development).
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; choose one of {MODES}")
    if array.dtype != np.float64:
        raise PrecisionError(f"{name} is {array.dtype}; finite differences need float64")
    analytic = np.asarray(analytic, dtype=np.float64)
    if analytic.shape != array.shape:
        raise ValueError(f"analytic gradient has shape {analytic.shape}, expected {array.shape}")
    thresholds = thresholds or Thresholds()
    evaluator = FunctionEvaluator(f, name, array)
    saved = array.copy()
    try:
        base = evaluator.base_loss()
        plan = _plan(name, analytic, {}, mode, samples, directions, seed)
        if mode == "directional":
            check = _check_directions(name, array, analytic, plan, evaluator, base, step, thresholds, _ignore)
        else:
            check = _check_elements(
                name, array, analytic, plan, evaluator, base, step, relative_step, thresholds, _ignore
            )
    finally:
        array[...] = saved
    return build_row(check, {}), check


def _ignore(count: int) -> None:
    pass


class _Stop(Exception):
    pass


def _float64_model(model: RecurrentModel, upcast: bool) -> tuple[RecurrentModel, bool]:
    if model.dtype == np.float64:
        return model, False
    if not upcast:
        raise PrecisionError(
            f"the model is {model.dtype}: central differences in {model.dtype} are dominated by rounding "
            "and give false alarms. Check a float64 model, or pass upcast=True (--upcast) to check a "
            "float64 copy of this one."
        )
    config = ModelConfig.from_dict({**model.config.to_dict(), "dtype": "float64"})
    return type(model)(config, model.params.astype(np.float64)), True


def _make_evaluator(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
    engine: str,
) -> LossEvaluator:
    if engine != "naive":
        from rnnscope.engine.gradcheck.fast import fast_evaluator

        fast = fast_evaluator(model, inputs, targets, mask, state)
        if fast is not None:
            return fast
        if engine == "fast":
            raise ValueError(f"no fast evaluator for {type(model).__name__}; use engine='auto' or 'naive'")
    return NaiveEvaluator(model, inputs, targets, mask, state)


class _Plan:
    """What to check in one tensor: flat element indices or directions, with their gate."""

    def __init__(self, indices: np.ndarray, gates: list[str | None], directions: np.ndarray | None) -> None:
        self.indices = indices
        self.gates = tuple(gates)
        self.directions = directions

    @property
    def count(self) -> int:
        return len(self.gates)


def _gate_of_indices(shape: tuple[int, ...], slices: dict[str, GateSlice]) -> list[str | None]:
    size = int(np.prod(shape, dtype=np.int64))
    if not slices:
        return [None] * size
    labels = np.empty(shape, dtype=object)
    for gate, piece in slices.items():
        labels[piece.index(len(shape))] = gate
    return list(labels.reshape(-1))


def _rng(seed: int, name: str) -> np.random.Generator:
    # a stream per tensor, so checking a subset of tensors picks the same elements
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])


def _plan(
    name: str,
    grad: np.ndarray,
    slices: dict[str, GateSlice],
    mode: str,
    samples: int,
    directions: int,
    seed: int,
) -> _Plan:
    shape = grad.shape
    size = grad.size
    if mode == "full":
        return _Plan(np.arange(size, dtype=np.int64), _gate_of_indices(shape, slices), None)
    rng = _rng(seed, name)
    flat_ids = np.arange(size, dtype=np.int64).reshape(shape)
    groups: list[tuple[str | None, np.ndarray]] = []
    covered = np.zeros(shape, dtype=bool)
    for gate, piece in slices.items():
        where = piece.index(len(shape))
        groups.append((gate, flat_ids[where].reshape(-1)))
        covered[where] = True
    if not covered.all():
        # elements in no gate slice (or an unfused tensor) form one more group
        groups.append((None, flat_ids[~covered]))
    gates: list[str | None] = []
    if mode == "directional":
        dirs = []
        for gate, members in groups:
            for _ in range(directions):
                u = np.zeros(size)
                v = rng.standard_normal(len(members))
                u[members] = v / np.linalg.norm(v)
                dirs.append(u.reshape(shape))
                gates.append(gate)
        return _Plan(np.full(len(dirs), -1, dtype=np.int64), gates, np.stack(dirs))
    magnitude = np.abs(np.asarray(grad, dtype=np.float64).reshape(-1))
    indices: list[np.ndarray] = []
    for gate, members in groups:
        if len(members) <= samples:
            chosen = members
        else:
            largest = members[int(np.argmax(magnitude[members]))]
            rest = members[members != largest]
            chosen = np.concatenate([[largest], rng.choice(rest, size=samples - 1, replace=False)])
        indices.append(np.asarray(chosen, dtype=np.int64))
        gates.extend([gate] * len(chosen))
    return _Plan(np.concatenate(indices), gates, None)


def _run_chunked(
    evaluate: Callable[[np.ndarray], np.ndarray],
    count: int,
    chunk: int,
    report: Callable[[int], None],
) -> tuple[np.ndarray, np.ndarray]:
    """Losses ``(plus (K,), minus (K,))``; ``evaluate(check_ids)`` returns plus then minus losses."""
    plus = np.empty(count)
    minus = np.empty(count)
    for start in range(0, count, chunk):
        ids = np.arange(start, min(start + chunk, count))
        losses = evaluate(ids)
        plus[ids] = losses[: len(ids)]
        minus[ids] = losses[len(ids) :]
        report(len(ids))
    return plus, minus


def _check_elements(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: _Plan,
    evaluator: LossEvaluator,
    base_loss: float,
    step: float,
    relative_step: bool,
    thresholds: Thresholds,
    report: Callable[[int], None],
) -> TensorCheck:
    flat = array.reshape(-1)
    x = flat[plan.indices].astype(np.float64)
    h = step * np.maximum(1.0, np.abs(x)) if relative_step else np.full_like(x, step)
    up = x + h
    down = x - h
    # the perturbations actually applied after rounding x +- h
    h_up = up - x
    h_down = x - down

    def evaluate(ids: np.ndarray) -> np.ndarray:
        idx = plan.indices[ids]
        return evaluator.element_losses(
            name, np.concatenate([idx, idx]), np.concatenate([up[ids], down[ids]])
        )

    plus, minus = _run_chunked(evaluate, plan.count, evaluator.chunk, report)
    numeric = (plus - minus) / (h_up + h_down)
    forward = (plus - base_loss) / h_up
    backward = (base_loss - minus) / h_down
    analytic_values = grad.reshape(-1)[plan.indices]
    noise = noise_level(base_loss, 0.5 * (h_up + h_down), thresholds)
    # the tensor's scale comes from the analytic gradient unless a numeric value exceeds it
    # by more than rounding (e.g. a backward pass that returns zeros)
    beyond_noise = np.abs(numeric) - noise
    scale = max(float(np.abs(grad).max(initial=0.0)), float(beyond_noise.max(initial=0.0)))
    floor = tensor_floor(scale, thresholds)
    rel, codes = classify(
        analytic_values, numeric, forward, backward, np.maximum(floor, noise), thresholds, noise
    )
    return TensorCheck(
        name=name,
        shape=tuple(array.shape),
        analytic=grad.copy(),
        indices=plan.indices.copy(),
        gates=plan.gates,
        analytic_values=analytic_values,
        numeric=numeric,
        forward=forward,
        backward=backward,
        rel_err=rel,
        status_codes=codes,
        floor=floor,
        noise=np.broadcast_to(noise, rel.shape).copy(),
        raw_rel_err=relative_error(analytic_values, numeric, np.maximum(floor, noise)),
    )


def _check_directions(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: _Plan,
    evaluator: LossEvaluator,
    base_loss: float,
    step: float,
    thresholds: Thresholds,
    report: Callable[[int], None],
) -> TensorCheck:
    assert plan.directions is not None
    x = array.astype(np.float64)
    up = x[None] + step * plan.directions
    down = x[None] - step * plan.directions
    # derivative along the perturbations actually applied, so rounding of x + h u cancels
    applied = (up - x[None]) + (x[None] - down)
    axes = tuple(range(1, applied.ndim))
    analytic_values = (applied * grad[None]).sum(axis=axes) / (2 * step)

    def evaluate(ids: np.ndarray) -> np.ndarray:
        return evaluator.dense_losses(name, np.concatenate([up[ids], down[ids]]))

    plus, minus = _run_chunked(evaluate, plan.count, max(1, evaluator.chunk // 8), report)
    numeric = (plus - minus) / (2 * step)
    forward = (plus - base_loss) / step
    backward = (base_loss - minus) / step
    # the largest directional derivative possible is |grad| (per slice); tie the floor to it
    norms = [float(np.linalg.norm(grad[d != 0])) for d in plan.directions]
    noise = noise_level(base_loss, step, thresholds)
    scale = max(norms + [float((np.abs(numeric) - noise).max(initial=0.0))])
    floor = tensor_floor(scale, thresholds)
    rel, codes = classify(
        analytic_values, numeric, forward, backward, max(floor, float(noise)), thresholds, noise
    )
    return TensorCheck(
        name=name,
        shape=tuple(array.shape),
        analytic=grad.copy(),
        indices=plan.indices.copy(),
        gates=plan.gates,
        analytic_values=analytic_values,
        numeric=numeric,
        forward=forward,
        backward=backward,
        rel_err=rel,
        status_codes=codes,
        floor=floor,
        noise=np.broadcast_to(noise, rel.shape).copy(),
        raw_rel_err=relative_error(analytic_values, numeric, max(floor, float(noise))),
        directions=plan.directions.copy(),
    )


def _row(
    check: TensorCheck, members: np.ndarray, name: str, gate: str | None, shape: tuple[int, ...]
) -> GradRow:
    codes = check.status_codes[members]
    rel = check.rel_err[members]
    analytic = check.analytic_values[members]
    numeric = check.numeric[members]
    positions = np.flatnonzero(members)
    statuses = [STATUS_BY_CODE[int(c)] for c in codes]
    judged = codes != Status.TOO_SMALL.code
    plain = judged & (codes != Status.KINK.code)
    pool = plain if plain.any() else judged if judged.any() else np.ones_like(judged)
    local = int(np.flatnonzero(pool)[np.argmax(np.where(np.isfinite(rel[pool]), rel[pool], np.inf))])
    worst = int(positions[local])
    flat_index = int(check.indices[worst])
    worst_index = None if flat_index < 0 else tuple(int(i) for i in np.unravel_index(flat_index, check.shape))

    def stat(fn: Callable[[np.ndarray], Any], values: np.ndarray) -> float:
        return float(fn(values)) if values.size else float("nan")

    judged_rel = rel[judged]
    return GradRow(
        name=name,
        parameter=check.name,
        gate=gate,
        shape=shape,
        checked=int(members.sum()),
        total=int(np.prod(shape, dtype=np.int64)),
        analytic_min=stat(np.min, analytic),
        analytic_max=stat(np.max, analytic),
        numeric_min=stat(np.min, numeric),
        numeric_max=stat(np.max, numeric),
        rel_err_min=stat(np.min, judged_rel),
        rel_err_max=stat(np.max, judged_rel),
        rel_err_mean=stat(np.mean, judged_rel),
        raw_rel_err_max=stat(np.max, check.raw_rel_err[members][judged]),
        worst_index=worst_index,
        worst_direction=local if flat_index < 0 else None,
        worst_analytic=float(check.analytic_values[worst]),
        worst_numeric=float(check.numeric[worst]),
        status=summarise_statuses(statuses),
        counts={status.value: int(sum(s is status for s in statuses)) for status in Status},
    )


def build_row(check: TensorCheck, slices: dict[str, GateSlice]) -> GradRow:
    """The table row of one tensor, with a sub-row per gate slice when it is fused."""
    everything = np.ones(len(check.gates), dtype=bool)
    row = _row(check, everything, check.name, None, check.shape)
    gates = np.array(check.gates, dtype=object)
    for gate, piece in slices.items():
        members = gates == gate
        if not members.any():
            continue
        shape = list(check.shape)
        shape[piece.axis] = piece.stop - piece.start
        row.sub_rows.append(_row(check, members, f"{check.name}[{gate}]", gate, tuple(shape)))
    return row


def _result(
    rows: list[GradRow],
    tensors: dict[str, TensorCheck],
    config: ModelConfig,
    seed: int,
    mode: str,
    thresholds: Thresholds,
    step: float,
    relative_step: bool,
    samples: int,
    directions: int,
    base_loss: float,
    started: float,
    evaluator: LossEvaluator,
    upcast: bool,
    cancelled: bool,
) -> GradcheckResult:
    evaluations = 2 * sum(len(check.gates) for check in tensors.values())
    return GradcheckResult(
        rows=list(rows),
        tensors=dict(tensors),
        model_config=config.to_dict(),
        seed=int(seed),
        mode=mode,
        thresholds=thresholds,
        step=float(step),
        relative_step=bool(relative_step),
        samples=int(samples),
        directions=int(directions),
        loss=float(base_loss),
        numpy_version=np.__version__,
        timestamp=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
        duration_s=time.perf_counter() - started,
        evaluations=evaluations,
        engine=evaluator.name,
        upcast=upcast,
        cancelled=cancelled,
    )
