"""``check_gradients``: compare a model's analytic gradients with central differences.

The check runs in steps, each in its own module: the options
(:mod:`~rnnscope.engine.gradcheck.options`, with the modes), what can be
perturbed -- parameters, inputs, initial state -- and their gradients
(:mod:`~rnnscope.engine.gradcheck.tensors`), a plan per tensor of what to perturb
(:mod:`~rnnscope.engine.gradcheck.plan`), the central differences with their
error bars (:mod:`~rnnscope.engine.gradcheck.differences`), a probe of whether
the loss is differentiable there (:mod:`~rnnscope.engine.gradcheck.linearity`),
the verdicts (:mod:`~rnnscope.engine.gradcheck.judge`) and the table rows
(:mod:`~rnnscope.engine.gradcheck.rows`).

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

from rnnscope.engine.gradcheck.diagnosis_context import DiagnosisContext
from rnnscope.engine.gradcheck.diagnosis_run import diagnose
from rnnscope.engine.gradcheck.differences import (
    Differences,
    Losses,
    Report,
    direction_differences,
    element_differences,
)
from rnnscope.engine.gradcheck.evaluators import (
    CountingEvaluator,
    InPlaceEvaluator,
    LossEvaluator,
    naive_evaluator,
)
from rnnscope.engine.gradcheck.fast import fast_evaluator
from rnnscope.engine.gradcheck.judge import judge
from rnnscope.engine.gradcheck.linearity import differentiable
from rnnscope.engine.gradcheck.negligible import notes_for
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
from rnnscope.engine.gradcheck.scale import loss_scale
from rnnscope.engine.gradcheck.tensors import CheckBatch, check_batch, checked_tensors
from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.config import ModelConfig

Progress = Callable[[int, int, str], None]
Cancel = Callable[[], bool]
# the name progress is given while the likely causes of failing rows are looked for
DIAGNOSING = "the likely causes of the failing rows"
UPCAST_NOTE = "the model is float32: a float64 copy of it was checked (finite differences need float64)"


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
    """Check the gradient of every parameter of ``model`` -- and of the inputs and the initial
    state -- on one fixed batch.

    ``inputs`` ``(T, B, D)``, ``targets`` ``(T, B)`` or ``(T, B, O)``, ``mask``
    ``(T, B)`` and ``state`` (``None``: the zero state) are what the model's loss
    reads; the check works on its own copies of them. How to check is ``options``
    (a :class:`CheckOptions`), with any of its fields given as keywords instead or
    on top (``mode="full"``, ``samples=20``, ``with_inputs=False``, ...). A float32
    model is checked as a float64 copy (with a note), or refused with
    :class:`PrecisionError` when ``upcast=False``. ``engine="naive"`` forces one
    ``model.loss`` call per perturbation; ``"auto"`` uses a batched evaluator
    when one exists for the model (the same central differences, see ``fast.py``).
    Returns a :class:`GradcheckResult`.
    """
    started = time.perf_counter()
    options = merged_options(options, settings)
    checked, was_upcast = _float64_model(model, options.upcast)
    batch = check_batch(checked, inputs, targets, mask, state)
    params = checked.params
    saved = {name: params[name].copy() for name in params}
    try:
        _, grads, forward = checked.loss_and_gradients(batch.inputs, batch.targets, batch.mask, batch.state)
        tensors = checked_tensors(checked, batch, grads, options.with_inputs)
        names = options.tensor_names(tensors)
        evaluator = CountingEvaluator(_evaluator(checked, batch, options.engine))
        losses = Losses(evaluator.base_loss(), loss_scale(checked, forward))
        plans = {
            name: plan_tensor(name, tensors[name].analytic, tensors[name].slices, options) for name in names
        }
        collected = _Collected(checked.config, options, losses, evaluator, was_upcast, started)
        counter = _Counter(sum(plan.count for plan in plans.values()), progress, cancel)
        for name in names:
            tensor = tensors[name]
            try:
                check = check_tensor(
                    name,
                    tensor.array,
                    tensor.analytic,
                    plans[name],
                    evaluator,
                    losses,
                    options,
                    counter.start(name),
                )
            except _Stop:
                raise GradcheckCancelled(collected.result(cancelled=True)) from None
            collected.add(check, build_row(check, tensor.slices))
            if counter.cancelled() and name != names[-1]:
                raise GradcheckCancelled(collected.result(cancelled=True))
        if options.diagnose and any(row.failed for row in collected.rows):
            counter.start(DIAGNOSING)  # what the time after the last element is spent on
            context = DiagnosisContext(
                checked,
                batch,
                {name: tensors[name] for name in names},
                evaluator,
                losses,
                options,
                counter.poll,
                lambda model, short: _evaluator(model, short, options.engine),
            )
            _diagnose(collected, context)
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
    losses: Losses,
    options: CheckOptions,
    report: Report,
) -> TensorCheck:
    """The central differences of one tensor's ``plan``, judged against its gradient ``grad``.

    ``losses`` holds the unperturbed loss and the loss scale the rounding is measured against.
    """
    differences: Differences
    if options.mode == "directional":
        differences = direction_differences(name, array, grad, plan, evaluator, losses, options, report)
    else:
        differences = element_differences(name, array, grad, plan, evaluator, losses, options, report)
    smooth = differentiable(name, array, evaluator, losses, options, report)
    return judge(name, grad, plan, differences, options.thresholds, smooth)


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
    The same numerical derivative, relative error, statuses and kink detection as
    :func:`check_gradients`, for any scalar function (a custom loss, a layer under
    development); the loss scale is ``|f|``. The mode defaults to ``"full"``;
    ``upcast``, ``engine``, ``with_inputs`` and ``parameters`` do not apply.
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
        check = check_tensor(name, array, grad, plan, evaluator, Losses(base, abs(base)), options, _ignore)
    finally:
        array[...] = saved
    return build_row(check, {}), check


def unstarted_result(config: ModelConfig, options: CheckOptions) -> GradcheckResult:
    """The partial result of a check cancelled before it began: no rows, no loss."""
    nothing = Losses(float("nan"), float("nan"))
    empty = _Collected(config, options, nothing, None, False, time.perf_counter())
    return dataclasses.replace(empty.result(cancelled=True), timestamp="", duration_s=0.0)


def _diagnose(collected: _Collected, context: DiagnosisContext) -> None:
    """The likely causes of the failing rows, into the rows; a cancel raises GradcheckCancelled."""
    try:
        collected.notes.extend(diagnose(collected.rows, collected.tensors, context))
    except _Stop:
        raise GradcheckCancelled(collected.result(cancelled=True)) from None


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

    def poll(self, count: int) -> None:
        """The report function of the diagnoses: they poll ``cancel`` but are not counted in ``progress``."""
        if self.cancelled():
            raise _Stop


class _Collected:
    """The rows and per-element checks gathered so far, and how they were made."""

    def __init__(
        self,
        config: ModelConfig,
        options: CheckOptions,
        losses: Losses,
        evaluator: CountingEvaluator | None,
        upcast: bool,
        started: float,
    ) -> None:
        self.config = config
        self.options = options
        self.losses = losses
        self.evaluator = evaluator
        self.upcast = upcast
        self.started = started
        self.rows: list[GradRow] = []
        self.tensors: dict[str, TensorCheck] = {}
        self.notes: list[str] = []  # what the diagnoses add

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
            loss=float(self.losses.base),
            numpy_version=np.__version__,
            timestamp=_dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            duration_s=time.perf_counter() - self.started,
            evaluations=0 if self.evaluator is None else self.evaluator.count,
            engine="none" if self.evaluator is None else self.evaluator.name,
            upcast=self.upcast,
            cancelled=cancelled,
            loss_scale=float(self.losses.scale),
            notes=[
                *([UPCAST_NOTE] if self.upcast else []),
                *(
                    _not_differentiable_note(name)
                    for name, check in self.tensors.items()
                    if not check.differentiable
                ),
                *notes_for(self.rows, options.step),
                *self.notes,
            ],
        )


def _not_differentiable_note(name: str) -> str:
    return (
        f"{name}: not differentiable at this point (derivatives along different directions do not "
        "add up: a tie in a sort or max); its mismatches are kinks, not failures"
    )


def _float64_model(model: RecurrentModel, upcast: bool) -> tuple[RecurrentModel, bool]:
    if model.dtype == np.float64:
        return model, False
    if not upcast:
        raise PrecisionError(
            f"the model is {model.dtype}: central differences in {model.dtype} are dominated by rounding "
            "and give false alarms. Check a float64 model, or pass upcast=True to check a float64 copy "
            "of this one."
        )
    config = ModelConfig.from_dict({**model.config.to_dict(), "dtype": "float64"})
    return type(model)(config, model.params.astype("float64")), True


def _evaluator(model: RecurrentModel, batch: CheckBatch, engine: str) -> LossEvaluator:
    if engine != "naive":
        fast = fast_evaluator(model, batch)
        if fast is not None:
            return fast
        if engine == "fast":
            raise ValueError(f"no fast evaluator for {type(model).__name__}; use engine='auto' or 'naive'")
    return naive_evaluator(model, batch)
