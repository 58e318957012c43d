"""What a failing gradient row says about its bug: the diagnoses and how their numbers are named.

A :class:`Diagnosis` is one likely cause of a failing row (a tensor or a gate
slice), found from the analytic and numerical values the check compared and,
where those are not enough, from a few more numerical derivatives
(:mod:`~rnnscope.engine.gradcheck.diagnosis_run`); the tests on the values are
in :mod:`~rnnscope.engine.gradcheck.diagnosis_fits`. The kinds:

``"zero"``
    the analytic gradient is exactly 0 where the numerical one is not: a term
    never accumulated.
``"scaled"``
    analytic = c x numeric with one constant c over every checked element
    (``factor``): a missing or extra factor, a flipped sign.
``"swapped"``
    the analytic slice of one gate holds the numerical gradient of another
    (``other``, the row it holds).
``"transposed"``
    the analytic gradient of a square matrix (or gate slice) is the numerical
    one transposed.
``"steps"``
    right for short sequences, wrong for longer ones (``lengths`` and the median
    relative error at each, ``errors``), or for the inputs right at the last
    step and wrong before it: a gradient carried between steps (BPTT) dropped or
    wrong.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

KINDS = ("zero", "scaled", "swapped", "transposed", "steps")


@dataclass(frozen=True)
class Diagnosis:
    """One likely cause of a failing row, with its numbers.

    ``kind`` is one of :data:`KINDS`; ``text`` the sentence shown under the row
    (with the numbers); ``evidence`` how many checked elements (or directions,
    or sequence lengths) support it. ``factor`` is c for ``"scaled"`` (``nan``
    otherwise); ``other`` the row whose gradient a ``"swapped"`` slice holds;
    ``lengths`` and ``errors`` the sequence lengths (or, for the inputs, the
    distances from the last step) and the median relative error at each, for
    ``"steps"``.
    """

    kind: str
    text: str
    evidence: int
    factor: float = float("nan")
    other: str | None = None
    lengths: tuple[int, ...] = ()
    errors: tuple[float, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown diagnosis kind {self.kind!r}; choose one of {KINDS}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "text": self.text,
            "evidence": self.evidence,
            "factor": None if math.isnan(self.factor) else self.factor,
            "other": self.other,
            "lengths": list(self.lengths),
            "errors": [None if math.isnan(e) else e for e in self.errors],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Diagnosis:
        factor = data.get("factor")
        return cls(
            kind=str(data["kind"]),
            text=str(data["text"]),
            evidence=int(data.get("evidence", 0)),
            factor=float("nan") if factor is None else float(factor),
            other=None if data.get("other") is None else str(data["other"]),
            lengths=tuple(int(n) for n in data.get("lengths", [])),
            errors=tuple(float("nan") if e is None else float(e) for e in data.get("errors", [])),
        )


def diagnosis_line(diagnoses: list[Diagnosis]) -> str:
    """The diagnoses of one row as one line of text (``""`` when there is none)."""
    return "; ".join(d.text for d in diagnoses)


# -------------------------------------------------------------------------- naming a factor
# the simple fractions a factor is named as: p/q with p up to SIMPLE and q up to DENOMINATOR
SIMPLE = 8
DENOMINATOR = 64


def factor_names(factor: float, sizes: dict[str, int], tolerance: float) -> list[str]:
    """What ``factor`` equals within ``tolerance`` (relative): ``["1/25", "1/T"]``, ``["2"]``.

    ``sizes`` are the check's sizes by letter (``{"T": 25, "B": 4, "H": 64}``);
    their products of two and the inverses are tried as well. The exact
    fraction comes first (``p/q`` with ``p`` up to 8, ``q`` up to 64), then the sizes it matches.
    """
    if not math.isfinite(factor) or factor == 0:
        return []
    sign = "-" if factor < 0 else ""
    size = abs(factor)
    names: list[str] = []
    fraction = Fraction(size).limit_denominator(DENOMINATOR)
    if fraction != 1 and fraction.numerator <= SIMPLE and _close(size, float(fraction), tolerance):
        names.append(sign + str(fraction))
    for label, value in _size_candidates(sizes):
        if _close(size, value, tolerance) and value != 1:
            names.append(sign + label)
    return names


def _close(value: float, target: float, tolerance: float) -> bool:
    return abs(value - target) <= tolerance * abs(target)


def _size_candidates(sizes: dict[str, int]) -> list[tuple[str, float]]:
    out: list[tuple[str, float]] = []
    letters = [(label, n) for label, n in sizes.items() if n > 1]
    products = [(f"{a}*{b}", m * n) for i, (a, m) in enumerate(letters) for b, n in letters[i + 1 :]]
    for label, n in [*letters, *products]:
        out.append((label, float(n)))
        out.append((f"1/{label}" if len(label) == 1 else f"1/({label})", 1.0 / n))
    return out


def _digits(factor: float, spread: float) -> str:
    """``factor`` with the digits that tell it from 1 (``1.001``, ``1.0000002``), no more than
    its ``spread`` (relative) supports, and four where it does not differ from 1 (``-1``)."""
    off = abs(abs(factor) - 1.0)
    if off <= 3.0 * spread:
        return f"{factor:.4g}"
    digits = max(4, int(math.ceil(-math.log10(off))) + 1)
    supported = int(math.ceil(-math.log10(max(spread, 1e-15))))
    return f"{factor:.{max(4, min(digits, supported, 16))}g}"


def _inverses(sizes: list[str]) -> list[str]:
    """``["1/T", "H"]`` -> ``["1/T", "1/H"]``: the factor each size name is the inverse of."""
    out = []
    for name in sizes:
        inverse = name[2:].strip("()") if name.startswith("1/") else name
        out.append(f"1/{inverse}" if len(inverse) == 1 else f"1/({inverse})")
    return list(dict.fromkeys(out))


def scaled_text(factor: float, names: list[str], evidence: int, spread: float) -> str:
    """The sentence of a ``"scaled"`` diagnosis: the factor, what it equals and the likely slip."""
    shown = _digits(factor, spread)
    equal = "".join(f" = {name}" for name in names if name != shown)
    size = abs(factor)
    sizes = [name.lstrip("-") for name in names if any(c.isalpha() for c in name)]
    if factor < 0 and _close(size, 1.0, 1e-6):
        cause = "a flipped sign"
    elif _close(size, 2.0, 1e-6) or _close(size, 0.5, 1e-6):
        cause = "a missing or extra factor 2 (the 1/2 of a square?)"
        if sizes:
            cause = f"a missing or extra factor 2 (the 1/2 of a square, or {' or '.join(_inverses(sizes))}?)"
    elif sizes:
        cause = f"a missing or extra {' or '.join(_inverses(sizes))}?"
    elif names:
        cause = "a constant factor"
    else:
        cause = f"a constant factor ({100 * (size - 1):+.3g} %)" if 0.5 < size < 2 else "a constant factor"
    if factor < 0 and not _close(size, 1.0, 1e-6):
        cause += ", and the sign flipped"
    return f"analytic is {shown}{equal} x numeric (constant to {spread:.0e} over {evidence} values): {cause}"
