"""Statuses and thresholds of the gradient check: what a relative error means.

A status is decided once per checked element (see
:mod:`rnnscope.engine.gradcheck.relerr`) and summarised per gate slice and per
parameter. Colours are decided once, here, from the status: the reports and the
app use the same ``Status.colour`` (strong, for text and legends) and
``Status.background`` (a light tint, for table rows).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any


class Status(StrEnum):
    """Verdict for one checked element, one gate slice or one parameter."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    TOO_SMALL = "too_small"
    KINK = "kink"

    @property
    def label(self) -> str:
        """Human text: ``"too small"`` rather than ``"too_small"``."""
        return self.value.replace("_", " ")

    @property
    def colour(self) -> str:
        """Strong colour (``#rrggbb``): ok green, warn amber, fail red, too small grey, kink blue."""
        return _COLOURS[self][0]

    @property
    def background(self) -> str:
        """Light tint of :attr:`colour` for table-row backgrounds."""
        return _COLOURS[self][1]

    @property
    def severity(self) -> int:
        """Order used to summarise many statuses into one: the highest wins.

        ``fail > warn > kink > ok > too small``: a row is "too small" only when
        every element in it is; a kink outranks ok so it is seen, but never hides
        a real warning or failure.
        """
        return _SEVERITY[self]

    @property
    def code(self) -> int:
        """Small integer stored in per-element status arrays (see :data:`STATUS_BY_CODE`)."""
        return _CODES[self]

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_COLOURS = {
    Status.OK: ("#2e9e44", "#d5f2dc"),
    Status.WARN: ("#e69b00", "#ffe9b8"),
    Status.FAIL: ("#d62728", "#f9d0d0"),
    Status.TOO_SMALL: ("#8c8c8c", "#e8e8e8"),
    Status.KINK: ("#1f6fc4", "#d3e4f7"),
}
_SEVERITY = {Status.TOO_SMALL: 0, Status.OK: 1, Status.KINK: 2, Status.WARN: 3, Status.FAIL: 4}
_CODES = {Status.OK: 0, Status.WARN: 1, Status.FAIL: 2, Status.TOO_SMALL: 3, Status.KINK: 4}
STATUS_BY_CODE: dict[int, Status] = {code: status for status, code in _CODES.items()}
_DESCRIPTIONS = {
    Status.OK: "relative error below the ok threshold",
    Status.WARN: "relative error between the ok and fail thresholds",
    Status.FAIL: "relative error above the fail threshold: the backward pass is wrong here",
    Status.TOO_SMALL: "both gradients below the slice's floor or the numerical allowance: too small to judge",
    Status.KINK: "one-sided differences disagree: a non-smooth point (max/sort switch), not a bug",
}


def summarise_statuses(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The status of a group: the most severe of its members (``too small`` if empty)."""
    if not statuses:
        return Status.TOO_SMALL
    return max(statuses, key=lambda status: status.severity)


@dataclass(frozen=True)
class Thresholds:
    """Limits that turn relative errors into statuses (see ``docs/gradcheck.md``).

    ``ok``: a judged relative error below this is ok. ``fail``: above this is a
    failure; in between is a warning. The judged error is the part of the
    mismatch beyond the element's numerical allowance (rounding plus truncation),
    so a correct gradient gives 0 and both thresholds can sit far below the raw
    accuracy of a central difference. ``floor``: the floor of a gate slice (or of
    a tensor without slices) is ``floor * max|gradient|`` over that slice, never
    below ``absolute``; an element below its slice's floor, or below its own
    allowance, is "too small". ``kink``: a mismatching element whose one-sided
    differences disagree by more than this (relative) and whose analytic value
    matches one side is a kink. ``noise``: the rounding of one loss evaluation,
    in units of ``eps * S`` (``eps`` of float64, ``S`` the loss scale, see
    :func:`~rnnscope.engine.gradcheck.relerr.rounding_allowance`). ``truncation``:
    the safety factor on the estimated truncation error of the extrapolated
    central difference.
    """

    ok: float = 1e-8
    fail: float = 1e-7
    floor: float = 1e-4
    absolute: float = 1e-15
    kink: float = 1e-3
    noise: float = 2.0
    truncation: float = 2.0

    def __post_init__(self) -> None:
        for name in ("ok", "fail", "floor", "absolute", "kink", "noise", "truncation"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0):
                raise ValueError(f"threshold {name} must be a finite number >= 0, got {value!r}")
        if not self.ok <= self.fail:
            raise ValueError(f"the ok threshold ({self.ok}) must not exceed the fail threshold ({self.fail})")

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Thresholds:
        """The inverse of :meth:`to_dict`; fields a report does not carry keep their defaults."""
        known = set(cls.__dataclass_fields__)
        return cls(**{k: float(v) for k, v in data.items() if k in known})
