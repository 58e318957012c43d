"""``check_gradients``: compare a model's analytic gradients with central differences.

The check runs in four steps, each in its own module: the options
(:mod:`~rnnscope.engine.gradcheck.options`, with the modes), a plan per tensor
of what to perturb (:mod:`~rnnscope.engine.gradcheck.plan`), the central
differences and their verdicts (:mod:`~rnnscope.engine.gradcheck.differences`)
and the table rows (:mod:`~rnnscope.engine.gradcheck.rows`).

Cancellation: ``cancel()`` is polled between chunks of evaluations; when it
returns True the check stops and raises :class:`GradcheckCancelled` whose
``partial`` result holds the rows of the tensors already finished. The model's
parameters are restored bit-exactly in every case (also on errors).

The checker never prints; ``progress(done, total, parameter_name)`` counts
checked elements (or directions).
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from rnnscope.engine.gradcheck.differences import (
    Differences,
    Report,
    direction_differences,
    element_differences,
    judge,
)
from rnnscope.engine.gradcheck.evaluators import InPlaceEvaluator, LossEvaluator, naive_evaluator
from rnnscope.engine.gradcheck.fast import fast_evaluator
from rnnscope.engine.gradcheck.options import CheckOptions, merged_options
from rnnscope.engine.gradcheck.plan import TensorPlan, plan_tensor
from rnnscope.engine.gradcheck.result import (
    GradcheckCancelled,
    GradcheckResult,
    GradRow,
    PrecisionError,
    TensorCheck,
)
from rnnscope.engine.gradcheck.rows import build_row
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.config import ModelConfig

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]


def check_gradients(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
    *,
    options: CheckOptions | None = None,
    progress: Progress | None = None,
    cancel: Cancel | None = None,
    **settings: Any,
) -> GradcheckResult:
    """Check every parameter's gradient of ``model`` on one fixed batch.

    ``inputs`` ``(T, B, D)``, ``targets`` ``(T, B)`` or ``(T, B, O)``, ``mask``
    ``(T, B)`` and ``state`` are passed to the model's loss unchanged. How to
    check is ``options`` (a :class:`CheckOptions`), with any of its fields given
    as keywords instead or on top (``mode="full"``, ``samples=20``, ...). A float32
    model raises :class:`PrecisionError` unless ``upcast=True``, which checks a
    float64 copy instead. ``engine="naive"`` forces two ``model.loss`` calls per
    element; ``"auto"`` uses a batched evaluator when one exists for the model
    (identical central differences, see ``fast.py``). Returns a :class:`GradcheckResult`.
    """
    started = time.perf_counter()
    options = merged_options(options, settings)
    checked, was_upcast = _float64_model(model, options.upcast)
    if was_upcast:
        inputs, targets, state = _float64_batch(inputs, targets, state)
    names = options.tensor_names(checked.params)
    params = checked.params
    saved = {name: params[name].copy() for name in params}
    try:
        _, grads, _ = checked.loss_and_gradients(inputs, targets, mask, state)
        evaluator = _evaluator(checked, inputs, targets, mask, state, options.engine)
        base_loss = evaluator.base_loss()
        analytic = {name: np.asarray(grads.params[name], dtype=np.float64) for name in names}
        plans = {name: plan_tensor(name, analytic[name], params.gate_slices(name), options) for name in names}
        collected = _Collected(checked.config, options, base_loss, evaluator.name, was_upcast, started)
        counter = _Counter(sum(plan.count for plan in plans.values()), progress, cancel)
        for name in names:
            try:
                check = check_tensor(
                    name,
                    params[name],
                    analytic[name],
                    plans[name],
                    evaluator,
                    base_loss,
                    options,
                    counter.start(name),
                )
            except _Stop:
                raise GradcheckCancelled(collected.result(cancelled=True)) from None
            collected.add(check, build_row(check, params.gate_slices(name)))
            if counter.cancelled() and name != names[-1]:
                raise GradcheckCancelled(collected.result(cancelled=True))
        return collected.result(cancelled=False)
    finally:
        for name, values in saved.items():
            params[name][...] = values


def check_tensor(
    name: str,
    array: np.ndarray,
    grad: np.ndarray,
    plan: TensorPlan,
    evaluator: LossEvaluator,
    base_loss: float,
    options: CheckOptions,
    report: Report,
) -> TensorCheck:
    """The central differences of one tensor's ``plan``, judged against its gradient ``grad``."""
    differences: Differences
    if options.mode == "directional":
        differences = direction_differences(name, array, grad, plan, evaluator, base_loss, options, report)
    else:
        differences = element_differences(name, array, grad, plan, evaluator, base_loss, options, report)
    return judge(name, grad, plan, differences, base_loss, options.thresholds)


def check_function(
    f: Callable[[], float],
    array: np.ndarray,
    analytic: np.ndarray,
    *,
    name: str = "x",
    options: CheckOptions | None = None,
    **settings: Any,
) -> tuple[GradRow, TensorCheck]:
    """Check ``analytic`` (same shape as ``array``) against central differences of ``f()``.

    ``f`` reads ``array``, which is perturbed in place and restored bit-exactly.
    The same relative error, statuses and kink detection as :func:`check_gradients`,
    for any scalar function (a custom loss, a layer under development). The mode
    defaults to ``"full"``; ``upcast``, ``engine`` and ``parameters`` do not apply.
    """
    options = merged_options(options or CheckOptions(mode="full"), settings)
    if array.dtype != np.float64:
        raise PrecisionError(f"{name} is {array.dtype}; finite differences need float64")
    grad = np.asarray(analytic, dtype=np.float64)
    if grad.shape != array.shape:
        raise ValueError(f"analytic gradient has shape {grad.shape}, expected {array.shape}")
    evaluator = InPlaceEvaluator(f, {name: array})
    saved = array.copy()
    try:
        base = evaluator.base_loss()
        plan = plan_tensor(name, grad, {}, options)
        check = check_tensor(name, array, grad, plan, evaluator, base, options, _ignore)
    finally:
        array[...] = saved
    return build_row(check, {}), check


def unstarted_result(config: ModelConfig, options: CheckOptions) -> GradcheckResult:
    """The partial result of a check cancelled before it began: no rows, no loss."""
    empty = _Collected(config, options, float("nan"), "none", False, time.perf_counter())
    return dataclasses.replace(empty.result(cancelled=True), timestamp="", duration_s=0.0)


def _ignore(count: int) -> None:
    pass


class _Stop(Exception):
    """Raised inside a tensor's evaluations when ``cancel()`` returned True."""


class _Counter:
    """Counts finished evaluations for ``progress`` and polls ``cancel`` after each chunk."""

    def __init__(self, total: int, progress: Progress | None, cancel: Cancel | None) -> None:
        self.total = total
        self.done = 0
        self._progress = progress
        self._cancel = cancel

    def start(self, name: str) -> Report:
        """The report function for tensor ``name`` (announces it to ``progress`` first)."""
        if self._progress is not None:
            self._progress(self.done, self.total, name)

        def report(count: int) -> None:
            self.done += count
            if self._progress is not None:
                self._progress(self.done, self.total, name)
            if self.cancelled():
                raise _Stop

        return report

    def cancelled(self) -> bool:
        return self._cancel is not None and self._cancel()


class _Collected:
    """The rows and per-element checks gathered so far, and how they were made."""

    def __init__(
        self,
        config: ModelConfig,
        options: CheckOptions,
        base_loss: float,
        engine: str,
        upcast: bool,
        started: float,
    ) -> None:
        self.config = config
        self.options = options
        self.base_loss = base_loss
        self.engine = engine
        self.upcast = upcast
        self.started = started
        self.rows: list[GradRow] = []
        self.tensors: dict[str, TensorCheck] = {}

    def add(self, check: TensorCheck, row: GradRow) -> None:
        self.tensors[check.name] = check
        self.rows.append(row)

    def result(self, cancelled: bool) -> GradcheckResult:
        options = self.options
        return GradcheckResult(
            rows=list(self.rows),
            tensors=dict(self.tensors),
            model_config=self.config.to_dict(),
            seed=int(options.seed),
            mode=options.mode,
            thresholds=options.thresholds,
            step=float(options.step),
            relative_step=bool(options.relative_step),
            samples=int(options.samples),
            directions=int(options.directions),
            loss=float(self.base_loss),
            numpy_version=np.__version__,
            timestamp=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            duration_s=time.perf_counter() - self.started,
            evaluations=2 * sum(len(check.gates) for check in self.tensors.values()),
            engine=self.engine,
            upcast=self.upcast,
            cancelled=cancelled,
        )


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
    return type(model)(config, model.params.astype("float64")), True


def _float64_batch(
    inputs: np.ndarray, targets: np.ndarray, state: State | None
) -> tuple[np.ndarray, np.ndarray, State | None]:
    """The batch for a float64 copy of a model: integer targets (class indices) stay integers."""
    if not np.issubdtype(np.asarray(targets).dtype, np.integer):
        targets = np.asarray(targets, dtype=np.float64)
    if state is not None:
        state = {k: np.asarray(v, dtype=np.float64) for k, v in state.items()}
    return np.asarray(inputs, dtype=np.float64), targets, state


def _evaluator(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
    engine: str,
) -> LossEvaluator:
    if engine != "naive":
        fast = fast_evaluator(model, inputs, targets, mask, state)
        if fast is not None:
            return fast
        if engine == "fast":
            raise ValueError(f"no fast evaluator for {type(model).__name__}; use engine='auto' or 'naive'")
    return naive_evaluator(model, inputs, targets, mask, state)
