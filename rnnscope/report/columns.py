"""The gradient table's columns, defined once for every place that shows a gradient check.

Each :class:`Column` says how to read one field of a
:class:`~rnnscope.engine.gradcheck.GradRow`: its ``key`` (the CSV field), its
``header`` and ``tooltip`` (tables), its raw ``value`` (sorting), its display
``text`` and its ``csv`` cell. The CSV report writes :data:`COLUMNS` under their
keys; the HTML report and the app's Qt table show the :data:`SHOWN` columns
under their headers; the Markdown report and the terminal table show the
:data:`COMPACT` ones. Colours are the row's status colours
(``Status.colour`` for the status cell, ``Status.background`` for the row).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from rnnscope.engine.gradcheck.diagnosis import diagnosis_line
from rnnscope.engine.gradcheck.result import GradRow
from rnnscope.engine.gradcheck.status import Status

# what a column's value may be: text, a count, a number, a status or a shape / index
CellValue = str | int | float | Status | tuple[int, ...] | None


@dataclass(frozen=True)
class Column:
    """One column of the gradient table."""

    key: str  # CSV field name
    header: str  # table header
    tooltip: str  # what the column means (header tooltip)
    value: Callable[[GradRow], CellValue]  # the raw value (sorting)
    text: Callable[[GradRow], str]  # what a table shows
    csv: Callable[[GradRow], str]  # what the CSV report writes
    shown: bool = True  # False: a CSV field that tables leave out
    right: bool = False  # right-aligned in tables (numbers)


def sci(value: float | None) -> str:
    """A number in tables: ``1.234e-05``, ``0``, or ``-`` when there is none (nan)."""
    if value is None or math.isnan(value):
        return "-"
    return "0" if value == 0 else f"{value:.3e}"


def plain_number(value: float | None) -> str:
    """A number in the CSV report: six significant digits, empty when there is none (nan)."""
    if value is None or math.isnan(value):
        return ""
    return f"{value:.6g}"


def shape_text(shape: tuple[int, ...]) -> str:
    """``"3 x 8"`` (``"scalar"`` for a 0-d tensor)."""
    return " x ".join(str(n) for n in shape) if shape else "scalar"


def worst_text(row: GradRow) -> str:
    """Where the worst element is: ``"(0, 2)"``, ``"direction 1"``, or ``"-"``."""
    if row.worst_index is not None:
        return str(tuple(row.worst_index))
    if row.worst_direction is not None:
        return f"direction {row.worst_direction}"
    return "-"


def level(row: GradRow) -> str:
    """``"parameter"`` for a whole tensor's row, ``"gate"`` for a gate sub-row."""
    return "parameter" if row.gate is None else "gate"


def resolution_text(row: GradRow) -> str:
    """The row's resolution in tables: ``1.2e-09``, or ``-`` when nothing was judged."""
    value = row.resolution
    return "-" if math.isnan(value) else f"{value:.1e}"


def _text(key: str, header: str, tooltip: str, get: Callable[[GradRow], str], shown: bool = True) -> Column:
    return Column(key, header, tooltip, get, get, get, shown=shown)


def _count(key: str, header: str, tooltip: str, get: Callable[[GradRow], int]) -> Column:
    return Column(key, header, tooltip, get, lambda r: str(get(r)), lambda r: str(get(r)))


def _number(key: str, header: str, tooltip: str, get: Callable[[GradRow], float]) -> Column:
    return Column(
        key, header, tooltip, get, lambda r: sci(get(r)), lambda r: plain_number(get(r)), right=True
    )


def _status_count(status: Status) -> Column:
    return _count(
        f"n_{status.value}",
        f"# {status.label}",
        f"elements with status '{status.label}'",
        lambda r: int(r.counts.get(status.value, 0)),
    )


COLUMNS: tuple[Column, ...] = (
    _text("name", "Parameter", "parameter, or one gate slice of a fused parameter", lambda r: r.name),
    _text("parameter", "Tensor", "the parameter tensor", lambda r: r.parameter, shown=False),
    _text("gate", "Gate", "the gate slice (empty for a whole tensor)", lambda r: r.gate or "", shown=False),
    _text("level", "Level", "'parameter' or 'gate' (a sub-row)", level, shown=False),
    _text(
        "group",
        "Kind",
        "what the tensor is: a parameter, the inputs, or an entry of the initial state",
        lambda r: r.group,
        shown=False,
    ),
    Column(
        "status",
        "Status",
        "the most severe status of the checked elements",
        lambda r: r.status,
        lambda r: r.status.label,
        lambda r: r.status.value,
    ),
    Column(
        "shape",
        "Shape",
        "shape of the tensor or of the gate slice",
        lambda r: r.shape,
        lambda r: shape_text(r.shape),
        lambda r: "x".join(str(n) for n in r.shape) if r.shape else "scalar",
    ),
    _count("checked", "Checked", "elements (or directions) checked", lambda r: r.checked),
    _count("total", "Total", "elements in the tensor or slice", lambda r: r.total),
    _number("rel_err_max", "Max rel. err", "largest judged relative error", lambda r: r.rel_err_max),
    _number("rel_err_mean", "Mean rel. err", "mean judged relative error", lambda r: r.rel_err_mean),
    _number(
        "rel_err_median",
        "Median rel. err",
        "median judged relative error: the typical element's (a bug's own slice has the largest)",
        lambda r: r.rel_err_median,
    ),
    _number("rel_err_min", "Min rel. err", "smallest judged relative error", lambda r: r.rel_err_min),
    Column(
        "resolution",
        "Resolution",
        "smallest relative error this row could show: its best judged element's numerical allowance "
        "(rounding + truncation) over its |gradient|",
        lambda r: r.resolution,
        resolution_text,
        lambda r: plain_number(r.resolution),
        right=True,
    ),
    _number(
        "raw_rel_err_max",
        "Raw max rel. err",
        "largest relative error without the numerical allowance",
        lambda r: r.raw_rel_err_max,
    ),
    Column(
        "allowance_min",
        "Allowance",
        "the least numerical allowance of the row's checks: what a gradient must exceed to be judged",
        lambda r: r.allowance_min,
        lambda r: sci(r.allowance_min),
        lambda r: plain_number(r.allowance_min),
        shown=False,
        right=True,
    ),
    _number("analytic_min", "Analytic min", "smallest analytic value checked", lambda r: r.analytic_min),
    _number("analytic_max", "Analytic max", "largest analytic value checked", lambda r: r.analytic_max),
    _number("numeric_min", "Numeric min", "smallest numerical value", lambda r: r.numeric_min),
    _number("numeric_max", "Numeric max", "largest numerical value", lambda r: r.numeric_max),
    Column(
        "worst_index",
        "Worst at",
        "index (in the whole tensor) of the worst element",
        worst_text,
        worst_text,
        lambda r: "" if r.worst_index is None else " ".join(map(str, r.worst_index)),
    ),
    Column(
        "worst_direction",
        "Worst direction",
        "number of the worst direction (directional mode)",
        lambda r: r.worst_direction,
        lambda r: "" if r.worst_direction is None else str(r.worst_direction),
        lambda r: "" if r.worst_direction is None else str(r.worst_direction),
        shown=False,
    ),
    _number(
        "worst_analytic", "Worst analytic", "analytic value at the worst element", lambda r: r.worst_analytic
    ),
    _number(
        "worst_numeric", "Worst numeric", "numerical value at the worst element", lambda r: r.worst_numeric
    ),
    *(_status_count(status) for status in Status),
    # tables show a row's diagnoses as lines under it, not as a column
    _text(
        "diagnosis",
        "Diagnosis",
        "the likely cause of a failing row, with its numbers (empty when the evidence supports none)",
        lambda r: diagnosis_line(r.diagnoses),
        shown=False,
    ),
    _text(
        "diagnosis_kind",
        "Diagnosis kind",
        "zero, scaled, swapped, transposed or steps (several separated by spaces)",
        lambda r: " ".join(d.kind for d in r.diagnoses),
        shown=False,
    ),
)
SHOWN: tuple[Column, ...] = tuple(column for column in COLUMNS if column.shown)
COMPACT: tuple[Column, ...] = tuple(
    column
    for key in (
        "status",
        "name",
        "shape",
        "checked",
        "total",
        "rel_err_max",
        "rel_err_median",
        "resolution",
        "worst_index",
        "worst_analytic",
        "worst_numeric",
    )
    for column in COLUMNS
    if column.key == key
)
CSV_COLUMNS: tuple[str, ...] = tuple(column.key for column in COLUMNS)


def sort_value(column: Column, row: GradRow) -> int | float | str:
    """What a table sorts ``row`` by in ``column``: severity for a status, the number for
    numbers (nan first), the shown text otherwise."""
    value = column.value(row)
    if isinstance(value, Status):
        return value.severity
    if isinstance(value, bool) or not isinstance(value, int | float):
        return column.text(row)
    return -math.inf if math.isnan(value) else value
