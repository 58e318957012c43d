"""What changed between two gradient checks of the same model: the status line of a recheck.

``describe_changes(status_changes(before, after))`` gives ``"Wh: fail -> ok, Wh[forget]:
fail -> ok"``: every row (and gate sub-row) whose status differs, in table order.
"""

from __future__ import annotations

from dataclasses import dataclass

from rnnscope.engine.gradcheck import GradcheckResult, Status


@dataclass(frozen=True)
class StatusChange:
    """Row ``row`` went from ``before`` to ``after`` (``None``: the row was not in that check)."""

    row: str
    before: Status | None
    after: Status | None

    def __str__(self) -> str:
        before = self.before.value if self.before is not None else "new"
        after = self.after.value if self.after is not None else "gone"
        return f"{self.row}: {before} -> {after}"


def status_changes(before: GradcheckResult | None, after: GradcheckResult) -> list[StatusChange]:
    """Every row whose status differs between ``before`` and ``after`` (all of them without ``before``)."""
    old = {row.name: row.status for row in before.all_rows()} if before is not None else {}
    new = {row.name: row.status for row in after.all_rows()}
    changes = [
        StatusChange(name, old.get(name), status) for name, status in new.items() if old.get(name) != status
    ]
    changes += [StatusChange(name, status, None) for name, status in old.items() if name not in new]
    return changes


def describe_changes(changes: list[StatusChange], limit: int = 8) -> str:
    """One line: ``"Wh: fail -> ok, b[forget]: ok -> warn"`` (at most ``limit`` rows, then a count)."""
    if not changes:
        return "no row changed status"
    shown = ", ".join(str(change) for change in changes[:limit])
    more = len(changes) - limit
    return shown + (f" and {more} more" if more > 0 else "")
