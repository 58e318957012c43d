"""Gradient-check reports: CSV, JSON, Markdown, self-contained HTML and a terminal table.

Every format carries the rows (one per parameter, plus one per gate slice of a
fused parameter) and the metadata: model config, seed, mode, thresholds, step,
numpy version, timestamp. ``write_report(result, path)`` picks the format from
the extension (or ``fmt=``) and writes atomically. The columns are those of
:mod:`rnnscope.report.columns`; the human-readable tables (Markdown, HTML,
terminal) are in :mod:`rnnscope.report.gradcheck_tables`.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
from typing import Any

from rnnscope.engine import limits
from rnnscope.engine.files import read_regular
from rnnscope.engine.gradcheck.result import GradcheckResult
from rnnscope.report.columns import COLUMNS, CSV_COLUMNS
from rnnscope.report.files import ReportError, atomic_write_text
from rnnscope.report.gradcheck_tables import to_html, to_markdown, to_text

FORMATS = ("csv", "json", "md", "html")
_EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}


def format_for(path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """The report format for ``path``: ``fmt`` if given, else from the file extension."""
    if fmt is not None:
        if fmt not in FORMATS:
            raise ReportError(path, f"unknown report format {fmt!r}; choose one of {FORMATS}")
        return fmt
    extension = os.path.splitext(os.fspath(path))[1].lower()
    if extension not in _EXTENSIONS:
        raise ReportError(
            path, f"cannot tell the format from the extension {extension!r}; use one of {sorted(_EXTENSIONS)}"
        )
    return _EXTENSIONS[extension]


def render(result: GradcheckResult, fmt: str) -> str:
    """The report text of ``result`` in ``fmt`` (one of :data:`FORMATS`)."""
    if fmt == "csv":
        return to_csv(result)
    if fmt == "json":
        return to_json(result)
    if fmt == "md":
        return to_markdown(result)
    if fmt == "html":
        return to_html(result)
    raise ValueError(f"unknown report format {fmt!r}; choose one of {FORMATS}")


def write_report(result: GradcheckResult, path: str | os.PathLike[str], fmt: str | None = None) -> str:
    """Write ``result`` to ``path`` atomically; returns the format used.

    Raises :class:`ReportError` (naming the path) when it cannot be written.
    """
    chosen = format_for(path, fmt)
    atomic_write_text(path, render(result, chosen))
    return chosen


def _json_safe(value: Any) -> Any:
    """NaN and infinities become ``None`` so the JSON is strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


# ----------------------------------------------------------------------------- CSV
def to_csv(result: GradcheckResult) -> str:
    """Comment lines ``# key: value`` with the metadata, then one CSV line per row and sub-row.

    :func:`read_csv` reads both back.
    """
    out = io.StringIO()
    for key, value in result.metadata().items():
        out.write(f"# {key}: {json.dumps(_json_safe(value), sort_keys=True)}\n")
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in result.all_rows():
        writer.writerow({column.key: column.csv(row) for column in COLUMNS})
    return out.getvalue()


def read_csv(text: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``(metadata, rows)`` from the text written by :func:`to_csv`."""
    metadata: dict[str, Any] = {}
    lines = text.splitlines()
    comments = 0
    while comments < len(lines) and lines[comments].startswith("# "):
        key, _, value = lines[comments][2:].partition(": ")
        metadata[key] = json.loads(value)
        comments += 1
    rows = list(csv.DictReader(lines[comments:]))
    return metadata, rows


# ----------------------------------------------------------------------------- JSON
def to_json(result: GradcheckResult, include_elements: bool = True) -> str:
    """Strict JSON (NaN written as ``null``): metadata, rows with sub-rows, per-element arrays."""
    data = {"report": "rnnscope gradcheck", **result.to_dict(include_elements=include_elements)}
    return json.dumps(_json_safe(data), indent=1, allow_nan=False) + "\n"


def read_json(text: str) -> GradcheckResult:
    """The :class:`GradcheckResult` in a JSON report written by :func:`to_json`."""
    data = json.loads(text)
    if not isinstance(data, dict) or data.get("report") != "rnnscope gradcheck":
        raise ValueError("not an rnnscope gradcheck JSON report")
    return GradcheckResult.from_dict(data)


def load_report(path: str | os.PathLike[str]) -> GradcheckResult:
    """Read a JSON report back (a clear ``ValueError`` naming the file if it is not one).

    Only a regular file within :data:`~rnnscope.engine.limits.REPORT_BYTES` is read (a FIFO
    is refused at once); a field of the wrong type or size anywhere is that error too.
    """
    try:
        text = read_regular(path, limits.REPORT_BYTES.high, "the report").decode("utf-8")
        return read_json(text)
    except (OSError, ValueError, KeyError, TypeError, AttributeError, OverflowError, RecursionError) as error:
        raise ValueError(f"cannot read gradcheck report {os.fspath(path)!r}: {error}") from error


__all__ = [
    "CSV_COLUMNS",
    "FORMATS",
    "ReportError",
    "format_for",
    "load_report",
    "read_csv",
    "read_json",
    "render",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "to_text",
    "write_report",
]
