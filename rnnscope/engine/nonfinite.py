"""Where a trace first went non-finite, said in words, with the likely cause when the values show it.

:func:`find_nonfinite` looks at the forward pass before the gradients (gradients run
backward in time: one NaN at step ``t`` makes every earlier step's gradient NaN, which is
not where the problem started) and returns a :class:`NonFiniteReport`: the probe, the
step, the element (batch row and one index per axis, named) and the value, plus a likely
cause decided from the trace's own values at and before that step, tried in this order:

==========================  ================================================================
cause                       evidence in the trace
==========================  ================================================================
``nonfinite_input``         ``data/input`` is non-finite at that step
``exploding_state``         a cell / hidden state (or the probe itself) grew to over
                            :data:`EXPLODED` before the step, :data:`GROWTH` times its
                            size at the first step
``exp_overflow``            a pre-softmax / pre-sigmoid quantity of that step (logits,
                            pre-activations, strengths) exceeds ``log`` of the largest
                            float: ``exp`` overflows (a saturated softmax or sigmoid)
``zero_norm_cosine``        a content weighting went non-finite while a key or a memory
                            row of that step has norm 0: the cosine divides 0 by 0
``nonfinite_parameter``     a linear quantity (pre-activation, logits, interface) went
                            non-finite from finite, moderate inputs: a weight or bias is
                            NaN / Inf
==========================  ================================================================

When none applies the report says so (``cause`` is ``None``). Plain data: the app shows
:meth:`NonFiniteReport.describe`, the trace export stores :meth:`NonFiniteReport.to_json`.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.engine.trace import NonFinite, Probe, Trace

EXPLODED = 1e8  # a state this large before the step is exploding, not merely large
GROWTH = 1e4  # ... and it must have grown this much since the first step
ZERO_NORM = 1e-12  # a key or memory row shorter than this is a zero vector to a cosine
MODERATE = 1e100  # finite values below this cannot overflow a matmul of the sizes we allow
LINEAR_SUFFIXES = ("_preact", "/logits", "/interface")


@dataclass(frozen=True)
class Cause:
    """A likely cause: a short key and a sentence with the trace's numbers."""

    key: str
    text: str


@dataclass(frozen=True)
class NonFiniteReport:
    """The first non-finite value of a trace, where it is and (``cause``) why, when known.

    ``index`` has one entry per axis of the probe (``axes``), after the batch row.
    """

    probe: str
    step: int
    batch: int
    index: tuple[int, ...]
    axes: tuple[str, ...]
    value: float
    cause: Cause | None

    def element(self) -> str:
        """``"batch 0, unit 3"``, ``"batch 1, head 0, slot 4"``."""
        named = [f"{axis} {i}" for axis, i in zip(self.axes, self.index, strict=False)]
        return ", ".join([f"batch {self.batch}", *named])

    def value_word(self) -> str:
        return value_word(self.value)

    def describe(self) -> str:
        """One line for the status bar: what, where, and the likely cause (or that none is known)."""
        where = f"{self.value_word()} first in {self.probe} at step {self.step} ({self.element()})"
        why = f"likely cause: {self.cause.text}" if self.cause else "no cause could be named from the trace"
        return f"{where}; {why}"

    def to_json(self) -> dict[str, Any]:
        """Plain JSON (the value as a word: JSON has no NaN)."""
        return {
            "probe": self.probe,
            "step": self.step,
            "batch": self.batch,
            "index": list(self.index),
            "axes": list(self.axes),
            "value": self.value_word(),
            "cause": self.cause.key if self.cause else None,
            "cause_text": self.cause.text if self.cause else None,
            "text": self.describe(),
        }


def value_word(value: float) -> str:
    """``NaN``, ``+Inf`` or ``-Inf`` (a finite value as it prints)."""
    if math.isnan(value):
        return "NaN"
    return ("+Inf" if value > 0 else "-Inf") if math.isinf(value) else f"{value:g}"


def first_nonfinite_forward(trace: Trace) -> NonFinite | None:
    """The first NaN / Inf of the forward pass (gradient probes left out), else of any probe."""
    forward = Trace({n: p for n, p in trace.probes.items() if p.group != "grad"}, trace.model_kind)
    return forward.first_nonfinite() or trace.first_nonfinite()


def find_nonfinite(trace: Trace) -> NonFiniteReport | None:
    """Where ``trace`` first holds NaN / Inf, and the likely cause; ``None`` when all is finite."""
    first = first_nonfinite_forward(trace)
    if first is None:
        return None
    probe = trace[first.probe]
    cause = likely_cause(trace, first)
    return NonFiniteReport(
        first.probe, first.step, first.batch, first.index, tuple(probe.axes), first.value, cause
    )


def likely_cause(trace: Trace, first: NonFinite) -> Cause | None:
    """The first rule of :data:`RULES` the trace's values support, else ``None``."""
    for rule in RULES:
        cause = rule(trace, first)
        if cause is not None:
            return cause
    return None


def _row(probe: Probe, first: NonFinite) -> np.ndarray:
    """``probe``'s values of the report's batch row as floats, ``(T, ...)``."""
    return np.asarray(probe.row(first.batch), dtype=float)


def _peak(values: np.ndarray) -> float:
    """Largest finite magnitude of ``values`` (0 for none)."""
    finite = np.abs(values[np.isfinite(values)])
    return float(finite.max()) if finite.size else 0.0


def _input_rule(trace: Trace, first: NonFinite) -> Cause | None:
    if "data/input" not in trace:
        return None
    row = _row(trace["data/input"], first)[: first.step + 1]
    if np.isfinite(row).all():
        return None
    step = int(np.argwhere(~np.isfinite(row))[0][0])
    return Cause("nonfinite_input", f"the input itself is non-finite at step {step}")


def _state_probes(trace: Trace, first: NonFinite) -> list[Probe]:
    """The recurrent states that can explode: cells and hidden states, and the probe itself."""
    names = [p.name for p in trace if p.name.endswith(("/cell", "/hidden")) and p.group != "grad"]
    return [trace[name] for name in dict.fromkeys([*names, first.probe])]


def _exploding_rule(trace: Trace, first: NonFinite) -> Cause | None:
    if first.step == 0:
        return None
    for probe in _state_probes(trace, first):
        if probe.data.ndim < 3 or not np.issubdtype(probe.data.dtype, np.floating):
            continue
        row = _row(probe, first)
        before = row[first.step - 1]
        peak, start = _peak(before), _peak(row[0])
        if peak > EXPLODED and peak > GROWTH * max(start, 1e-300):
            return Cause(
                "exploding_state",
                f"exploding state: max |{probe.name}| grew from {start:.3g} at step 0 "
                f"to {peak:.3g} at step {first.step - 1}",
            )
    return None


def _exp_limit(dtype: np.dtype[Any]) -> float:
    return float(np.log(np.finfo(dtype).max)) if np.issubdtype(dtype, np.floating) else math.inf


def _overflow_candidates(trace: Trace, first: NonFinite) -> list[Probe]:
    """What an exponential of the step reads: logits, pre-activations, strengths and interfaces."""
    return [
        p
        for p in trace
        if p.group != "grad"
        and (p.name.endswith(LINEAR_SUFFIXES) or "strength" in p.name)
        and np.issubdtype(p.data.dtype, np.floating)
    ]


def _overflow_rule(trace: Trace, first: NonFinite) -> Cause | None:
    for probe in _overflow_candidates(trace, first):
        limit = _exp_limit(probe.data.dtype)
        value = _peak(_row(probe, first)[first.step])
        if value > limit:
            return Cause(
                "exp_overflow",
                f"exp overflow: {probe.name} reaches {value:.3g} at step {first.step}, and exp of more "
                f"than {limit:.0f} overflows {probe.data.dtype} (a saturated softmax or sigmoid)",
            )
    return None


def _zero_row(probe: Probe, first: NonFinite) -> tuple[int, tuple[int, ...], float] | None:
    """A vector of ``probe`` (last axis) with norm below :data:`ZERO_NORM` at the step (or the one
    before, the memory a write's content weighting reads): ``(step, index, norm)``."""
    row = _row(probe, first)
    for step in sorted({max(first.step - 1, 0), first.step}, reverse=True):
        norms = np.linalg.norm(row[step], axis=-1)
        zero = np.argwhere(norms < ZERO_NORM)
        if zero.size:
            index = tuple(int(i) for i in zero[0])
            return step, index, float(norms[index])
    return None


def _zero_norm_rule(trace: Trace, first: NonFinite) -> Cause | None:
    if "content" not in first.probe and "cos" not in first.probe:
        return None
    vectors = [p for p in trace if ("key" in p.name or p.name.endswith("/memory")) and p.data.ndim >= 3]
    for probe in vectors:
        found = _zero_row(probe, first)
        if found is None:
            continue
        step, index, norm = found
        what = "memory row" if probe.name.endswith("/memory") else "key"
        where = ", ".join(f"{axis} {i}" for axis, i in zip(probe.axes, index, strict=False))
        return Cause(
            "zero_norm_cosine",
            f"a zero-norm {what} in a cosine: {probe.name} ({where}) has norm {norm:.3g} at step {step}, "
            "so k.m / (|k| |m|) is 0 / 0",
        )
    return None


def _parameter_rule(trace: Trace, first: NonFinite) -> Cause | None:
    if not first.probe.endswith(LINEAR_SUFFIXES):
        return None
    largest = max(
        (_peak(_row(p, first)[: first.step + 1]) for p in trace if np.issubdtype(p.data.dtype, np.floating)),
        default=0.0,
    )
    if largest >= MODERATE:
        return None
    return Cause(
        "nonfinite_parameter",
        f"a non-finite weight or bias ({first.probe} is linear in values all finite and below "
        f"{largest:.3g} up to step {first.step})",
    )


RULES: tuple[Callable[[Trace, NonFinite], Cause | None], ...] = (
    _input_rule,
    _exploding_rule,
    _overflow_rule,
    _zero_norm_rule,
    _parameter_rule,
)
