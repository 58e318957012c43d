"""Slices whose gradient is negligible for the loss: what to say about them and what to try.

A gate slice (or tensor) is negligible when every checked element of it is "too
small": below its own numerical allowance, the error bar of a central
difference of this loss. Per-slice floors (see
:mod:`~rnnscope.engine.gradcheck.judge`) mean that this never happens because of
a larger sibling: it says that, on this batch, the slice barely moves the loss.
The note names the number; a larger step shrinks the rounding part of the
allowance (it falls as ``1 / h``), so :func:`suggested_step` proposes one when
that would be enough. Other remedies -- longer sequences, another batch -- need
the task, so the command line looks for them
(:mod:`rnnscope.commands.gradcheck_suggest`).
"""

from __future__ import annotations

import math

from rnnscope.engine.gradcheck.result import GradRow
from rnnscope.engine.gradcheck.status import Status

# a slice can be judged when its largest gradient is this many times its allowance (it then sees
# relative errors of 10 % and more: enough for a wrong derivative, not for a slip)
COMFORT = 10.0
LARGEST_STEP = 0.1


def negligible_rows(rows: list[GradRow]) -> list[GradRow]:
    """The rows (or, under a judged row, the gate sub-rows) every checked element of which is too small."""
    out: list[GradRow] = []
    for row in rows:
        if row.status is Status.TOO_SMALL and row.checked:
            out.append(row)
        else:
            out.extend(sub for sub in row.sub_rows if sub.status is Status.TOO_SMALL and sub.checked)
    return out


def negligible_note(row: GradRow) -> str:
    """One sentence with the numbers: why ``row`` could not be judged."""
    if not row.largest > 0:
        return f"{row.name}: its gradient is exactly 0 on this batch (it does not reach the loss here)"
    return (
        f"{row.name}: negligible for this loss: its largest |gradient| {row.largest:.2e} is below the "
        f"numerical allowance {row.allowance_min:.2e} of this check"
    )


def suggested_step(rows: list[GradRow], step: float) -> float | None:
    """A step (at most 0.1) with which every one of ``rows`` that has a non-zero gradient would have
    it ``COMFORT`` times above its allowance, or None when no step up to 0.1 would do."""
    needed = [
        step * COMFORT * row.allowance_min / row.largest
        for row in rows
        if row.largest > 0 and math.isfinite(row.allowance_min)
    ]
    if not needed or max(needed) > LARGEST_STEP:
        return None
    # a round number: 1, 2 or 5 times a power of ten
    target = max(max(needed), step)
    power = 10.0 ** math.floor(math.log10(target))
    return next(power * k for k in (1, 2, 5, 10) if power * k >= target)


def notes_for(rows: list[GradRow], step: float) -> list[str]:
    """The notes a result carries about its negligible slices (empty when there are none)."""
    quiet = negligible_rows(rows)
    notes = [negligible_note(row) for row in quiet]
    better = suggested_step(quiet, step)
    if better is not None and better > step:
        notes.append(
            f"with step {better:g} instead of {step:g} the rounding part of the allowance would be "
            f"{step / better:g} times as large and those gradients would be judged"
        )
    return notes
