"""The tests behind each diagnosis, on plain arrays of compared values.

Every test looks only at *significant* comparisons -- a numerical value at
least :data:`SIGNIFICANT` times its own allowance, so it is known to a tenth of
itself or better -- and needs at least :data:`MIN_EVIDENCE` of them: a pattern
seen in one or two numbers is not evidence (zero asks instead that every failing
comparison be one, however few they are). Each returns a
:class:`~rnnscope.engine.gradcheck.diagnosis.Diagnosis` with its numbers, or
``None`` when the values do not support it. The tolerances are set so that a
correct gradient (whose mismatches are within the allowance) and unrelated
noise (a different error at every element) give no diagnosis:

* **scaled**: every ratio ``analytic / numeric`` within ``SCALE_SPREAD`` of
  ``|c - 1|`` (plus each ratio's own uncertainty, ``4 allowance / |numeric|``) of
  the least-squares ``c``, and ``c`` farther from 1 than ten times the typical
  uncertainty;
* **matches** (a swapped gate, a transpose): ``|analytic_A - numeric_B|`` within
  four allowances plus ``MATCH_RELATIVE`` of the value at every significant
  element;
* **steps**: the shortest judged sequence (or, for the inputs, the last step)
  is right, and a longer one is wrong.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.gradcheck.diagnosis import Diagnosis, factor_names, scaled_text

SIGNIFICANT = 10.0  # a numerical value this many allowances from 0 is known to a tenth or better
MIN_EVIDENCE = 3  # significant comparisons a diagnosis needs
SCALE_SPREAD = 1e-3  # how far the ratios may scatter, as a fraction of |c - 1|
MATCH_RELATIVE = 1e-6  # how closely a swapped or transposed value must match, beyond the allowance


@dataclass(frozen=True)
class Values:
    """``K`` comparisons of one row: ``analytic``, ``numeric``, ``allowance`` ``(K,)`` and
    ``failing`` ``(K,)`` (the comparisons whose status is fail)."""

    analytic: np.ndarray
    numeric: np.ndarray
    allowance: np.ndarray
    failing: np.ndarray

    def significant(self) -> np.ndarray:
        """``(K,)``: numerical values known to a tenth of themselves or better."""
        with np.errstate(invalid="ignore"):
            known: np.ndarray = np.isfinite(self.numeric) & (
                np.abs(self.numeric) > SIGNIFICANT * self.allowance
            )
        return known


def zero_fit(values: Values, whole: bool, size: int, where: str = "") -> Diagnosis | None:
    """Analytic exactly 0 at every failing comparison where the numerical value is clearly not.

    ``whole``: the analytic gradient is 0 over the whole row (all ``size`` elements);
    ``where`` says where the failing elements are (``" (all at step 5, the last)"``).
    """
    failing = values.failing
    if not failing.any() or np.any(values.analytic[failing] != 0):
        return None
    evidence = failing & values.significant()
    if evidence.sum() < min(MIN_EVIDENCE, int(failing.sum())) or not evidence.any():
        return None
    peak = float(np.max(np.abs(values.numeric[evidence])))
    count = int(evidence.sum())
    if whole:
        text = (
            f"analytic is 0 over all {size} elements where numeric reaches {peak:.2e} "
            f"({count} checked): a term never accumulated?"
        )
    else:
        text = (
            f"analytic is 0 at the {_elements(int(failing.sum()))}{where} where numeric reaches "
            f"{peak:.2e}: a term never accumulated there?"
        )
    return Diagnosis("zero", text, count)


def _elements(count: int) -> str:
    return "failing element" if count == 1 else f"{count} failing elements"


def scale_fit(values: Values, sizes: dict[str, int]) -> Diagnosis | None:
    """Analytic = c x numeric with one constant ``c`` (not 1) at every significant comparison."""
    usable = values.significant() & np.isfinite(values.analytic)
    count = int(usable.sum())
    if count < MIN_EVIDENCE:
        return None
    a, n, allowance = values.analytic[usable], values.numeric[usable], values.allowance[usable]
    c = float(np.dot(a, n) / np.dot(n, n))
    if c == 0:
        return None
    uncertainty = 4.0 * allowance / np.abs(n) * max(1.0, abs(c))
    ratios = a / n
    if np.any(np.abs(ratios - c) > SCALE_SPREAD * abs(c - 1.0) + uncertainty):
        return None
    if abs(c - 1.0) <= 10.0 * float(np.median(uncertainty)):
        return None
    spread = float(np.max(np.abs(ratios - c)) / abs(c))
    names = factor_names(c, sizes, min(1e-3, max(1e-6, 4.0 * spread)))
    return Diagnosis("scaled", scaled_text(c, names, count, spread), count, factor=c)


def match_count(analytic: np.ndarray, numeric: np.ndarray, allowance: np.ndarray, usable: np.ndarray) -> int:
    """How many significant comparisons of ``analytic`` with another place's ``numeric`` (its
    ``allowance``) match, among ``usable``; 0 unless every one of them does and there are enough."""
    values = Values(analytic, numeric, allowance, np.zeros(analytic.shape, dtype=bool))
    evidence = usable & values.significant()
    count = int(evidence.sum())
    if count < MIN_EVIDENCE:
        return 0
    a, n, e = analytic[evidence], numeric[evidence], allowance[evidence]
    matched = np.abs(a - n) <= 4.0 * e + MATCH_RELATIVE * np.abs(n)
    return count if bool(matched.all()) else 0


def mismatched(analytic: np.ndarray, numeric: np.ndarray, allowance: np.ndarray, usable: np.ndarray) -> bool:
    """True when a significant comparison among ``usable`` clearly does not match (see ``match_count``)."""
    values = Values(analytic, numeric, allowance, np.zeros(analytic.shape, dtype=bool))
    evidence = usable & values.significant()
    a, n, e = analytic[evidence], numeric[evidence], allowance[evidence]
    return bool(np.any(np.abs(a - n) > 4.0 * e + MATCH_RELATIVE * np.abs(n)))


def swapped_diagnosis(row: str, other: str, count: int, both: bool) -> Diagnosis:
    """``row`` holds the gradient of ``other`` (``both``: and ``other`` holds ``row``'s)."""
    text = f"{row} holds the gradient of {other} ({count} elements match)"
    if both:
        text += f", and {other} holds {row}'s: the two gates are swapped"
    return Diagnosis("swapped", text, count, other=other)


def transposed_diagnosis(row: str, count: int) -> Diagnosis:
    text = f"analytic {row} is the numerical gradient transposed ({count} off-diagonal elements match)"
    return Diagnosis("transposed", text, count)


@dataclass(frozen=True)
class Stage:
    """A row's verdict at one sequence length (or one distance from the last step): ``judged``
    comparisons (not too small, not kinks), whether any ``failed``, and their median relative error."""

    length: int
    judged: int
    failed: bool
    median: float


def steps_fit(stages: list[Stage], inputs: bool = False) -> Diagnosis | None:
    """Right at the shortest judged length (the last step, for the ``inputs``), wrong at a longer one.

    ``stages`` in increasing length (distance from the last step for the inputs);
    the stages with nothing judged are left out.
    """
    judged = [stage for stage in stages if stage.judged]
    if len(judged) < 2 or judged[0].failed or not any(stage.failed for stage in judged):
        return None
    first_wrong = next(stage for stage in judged if stage.failed)
    right = [stage for stage in judged if stage.length < first_wrong.length]
    errors = ", ".join(f"{_short(stage.median)} {_at(stage.length, inputs)}" for stage in judged)
    if inputs:
        text = (
            f"right at the last step, wrong from {first_wrong.length} step(s) before it "
            f"(median rel. err {errors}): a gradient carried back between steps (BPTT) dropped or wrong?"
        )
    else:
        text = (
            f"right for sequences of up to {right[-1].length} step(s), wrong from {first_wrong.length} "
            f"(median rel. err {errors}): a gradient carried between steps (BPTT) dropped or wrong?"
        )
    return Diagnosis(
        "steps",
        text,
        len(judged),
        lengths=tuple(stage.length for stage in judged),
        errors=tuple(stage.median for stage in judged),
    )


def _short(value: float) -> str:
    return "0" if value == 0 else f"{value:.1e}"


def _at(length: int, inputs: bool) -> str:
    if not inputs:
        return f"at T={length}"
    return "at the last step" if length == 0 else f"{length} before"
