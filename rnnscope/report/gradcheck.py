"""Gradient-check reports: CSV, JSON, Markdown, self-contained HTML and a terminal table.

Every format carries the rows (one per parameter, plus one per gate slice of a
fused parameter) and the metadata: model config, seed, mode, thresholds, step,
numpy version, timestamp. ``write_report(result, path)`` picks the format from
the extension (or ``fmt=``) and writes atomically.
"""

from __future__ import annotations

import csv
import html
import io
import json
import math
import os
from typing import Any

from rnnscope.engine.gradcheck.result import GradcheckResult, GradRow, Status
from rnnscope.report.files import ReportError, atomic_write_text

FORMATS = ("csv", "json", "md", "html")
_EXTENSIONS = {
    ".csv": "csv",
    ".json": "json",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
}

CSV_COLUMNS = (
    "name",
    "parameter",
    "gate",
    "level",
    "shape",
    "checked",
    "total",
    "status",
    "rel_err_min",
    "rel_err_max",
    "rel_err_mean",
    "raw_rel_err_max",
    "analytic_min",
    "analytic_max",
    "numeric_min",
    "numeric_max",
    "worst_index",
    "worst_direction",
    "worst_analytic",
    "worst_numeric",
    *(f"n_{status.value}" for status in Status),
)


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


# ----------------------------------------------------------------------------- helpers
def _number(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:.6g}" if isinstance(value, float) else str(value)


def _short(value: float) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if value == 0:
        return "0"
    return f"{value:.2e}"


def _shape(shape: tuple[int, ...]) -> str:
    return "x".join(str(n) for n in shape) if shape else "scalar"


def _index(row: GradRow) -> str:
    if row.worst_index is not None:
        return "(" + ", ".join(str(i) for i in row.worst_index) + ")"
    if row.worst_direction is not None:
        return f"direction {row.worst_direction}"
    return ""


def _json_safe(value: Any) -> Any:
    """NaN and infinities become ``None`` so the JSON is strict."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def _config_summary(result: GradcheckResult) -> str:
    cfg = result.model_config
    parts = [
        f"{cfg.get('kind', '?')}",
        f"D={cfg.get('input_size')}",
        f"H={cfg.get('hidden_size')}",
        f"O={cfg.get('output_size')}",
        f"loss={cfg.get('loss')}",
    ]
    if cfg.get("kind") == "dnc":
        parts += [
            f"N={cfg.get('memory_slots')}",
            f"W={cfg.get('memory_width')}",
            f"R={cfg.get('read_heads')}",
        ]
    return " ".join(parts)


def _mode_summary(result: GradcheckResult) -> str:
    if result.mode == "sampled":
        return f"sampled ({result.samples} per tensor or gate slice)"
    if result.mode == "directional":
        return f"directional ({result.directions} per tensor or gate slice)"
    return "full"


def _counts_summary(result: GradcheckResult) -> str:
    counts = result.counts()
    return ", ".join(f"{n} {Status(s).label}" for s, n in counts.items() if n)


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
    for row in result.rows:
        for item, level in [(row, "parameter"), *((sub, "gate") for sub in row.sub_rows)]:
            writer.writerow(
                {
                    "name": item.name,
                    "parameter": item.parameter,
                    "gate": item.gate or "",
                    "level": level,
                    "shape": _shape(item.shape),
                    "checked": item.checked,
                    "total": item.total,
                    "status": item.status.value,
                    "rel_err_min": _number(item.rel_err_min),
                    "rel_err_max": _number(item.rel_err_max),
                    "rel_err_mean": _number(item.rel_err_mean),
                    "raw_rel_err_max": _number(item.raw_rel_err_max),
                    "analytic_min": _number(item.analytic_min),
                    "analytic_max": _number(item.analytic_max),
                    "numeric_min": _number(item.numeric_min),
                    "numeric_max": _number(item.numeric_max),
                    "worst_index": "" if item.worst_index is None else " ".join(map(str, item.worst_index)),
                    "worst_direction": "" if item.worst_direction is None else item.worst_direction,
                    "worst_analytic": _number(item.worst_analytic),
                    "worst_numeric": _number(item.worst_numeric),
                    **{f"n_{s.value}": item.counts.get(s.value, 0) for s in Status},
                }
            )
    return out.getvalue()


def read_csv(text: str) -> tuple[dict[str, Any], list[dict[str, str]]]:
    """``(metadata, rows)`` from the text written by :func:`to_csv`."""
    metadata: dict[str, Any] = {}
    lines = text.splitlines()
    body_start = 0
    for body_start, line in enumerate(lines):  # noqa: B007 - the index is used after the loop
        if not line.startswith("# "):
            break
        key, _, value = line[2:].partition(": ")
        metadata[key] = json.loads(value)
    rows = list(csv.DictReader(lines[body_start:]))
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
    """Read a JSON report back (a clear ``ValueError`` naming the file if it is not one)."""
    try:
        with open(path, encoding="utf-8") as stream:
            return read_json(stream.read())
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"cannot read gradcheck report {os.fspath(path)!r}: {error}") from error


# ----------------------------------------------------------------------------- Markdown
def to_markdown(result: GradcheckResult) -> str:
    """A summary and one table (gate sub-rows indented), for pull requests."""
    t = result.thresholds
    lines = [
        f"### Gradient check: **{result.status.label.upper()}** ({_counts_summary(result)})",
        "",
        f"- model: `{_config_summary(result)}`; loss {result.loss:.6g}",
        f"- mode: {_mode_summary(result)}; seed {result.seed}; step {result.step:g}"
        + (" x max(1, |x|)" if result.relative_step else ""),
        f"- thresholds: ok < {t.ok:g}, fail > {t.fail:g}, floor {t.floor:g} x max|grad|, kink {t.kink:g}",
        f"- numpy {result.numpy_version}; {result.timestamp}; {result.duration_s:.2f} s ({result.engine})",
        "",
        "| status | parameter | shape | checked | rel err max | rel err mean | worst index "
        "| analytic | numeric |",
        "|---|---|---|---:|---:|---:|---|---:|---:|",
    ]
    for row in result.rows:
        for item in (row, *row.sub_rows):
            name = f"`{item.name}`" if item.gate is None else f"&nbsp;&nbsp;`{item.name}`"
            status = item.status.label
            if item.status is Status.FAIL:
                status = f"**{status.upper()}**"
            lines.append(
                f"| {status} | {name} | {_shape(item.shape)} | {item.checked}/{item.total} | "
                f"{_short(item.rel_err_max)} | {_short(item.rel_err_mean)} | {_index(item)} | "
                f"{item.worst_analytic:.4g} | {item.worst_numeric:.4g} |"
            )
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- HTML
_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ccc; text-align: right; }
th { background: #f4f4f4; }
td.name, th.name, td.status { text-align: left; font-family: ui-monospace, monospace; }
tr.sub td.name { padding-left: 2em; }
tr.sub { font-size: 0.92em; }
ul.legend { list-style: none; padding: 0; }
ul.legend li { margin: 0.15em 0; }
.swatch { display: inline-block; min-width: 5.5em; padding: 0.1em 0.5em; margin-right: 0.5em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
dt { font-weight: bold; }
dd { margin: 0; font-family: ui-monospace, monospace; }
"""


def to_html(result: GradcheckResult) -> str:
    """One self-contained HTML page: metadata, a legend, rows coloured by status."""
    esc = html.escape
    t = result.thresholds
    rules = {
        Status.OK: f"relative error below {t.ok:g}",
        Status.WARN: f"relative error between {t.ok:g} and {t.fail:g}",
        Status.FAIL: f"relative error above {t.fail:g}: the backward pass is wrong here",
        Status.TOO_SMALL: f"both gradients below {t.floor:g} x the tensor's largest: too small to judge",
        Status.KINK: "one-sided differences disagree: a non-smooth point (max, sort), not a bug",
    }
    legend = "".join(
        f'<li><span class="swatch legend-{s.value}" style="background:{s.background};'
        f'border-left:6px solid {s.colour}">{esc(s.label)}</span> {esc(rules[s])}</li>'
        for s in Status
    )
    meta = {
        "status": result.status.label,
        "model": _config_summary(result),
        "loss": f"{result.loss:.6g}",
        "mode": _mode_summary(result),
        "seed": str(result.seed),
        "step": f"{result.step:g}" + (" x max(1, |x|)" if result.relative_step else ""),
        "thresholds": f"ok < {t.ok:g}, fail > {t.fail:g}, floor {t.floor:g} x max|grad|, kink {t.kink:g}",
        "numpy": result.numpy_version,
        "timestamp": result.timestamp,
        "duration": f"{result.duration_s:.2f} s ({result.engine})",
        "model config": json.dumps(result.model_config, sort_keys=True),
    }
    body_rows = []
    for row in result.rows:
        for item in (row, *row.sub_rows):
            kind = "param" if item.gate is None else "sub"
            status = item.status
            body_rows.append(
                f'<tr class="{kind} status-{status.value}" data-status="{status.value}" '
                f'style="background:{status.background}">'
                f'<td class="status" style="border-left:6px solid {status.colour}">{esc(status.label)}</td>'
                f'<td class="name">{esc(item.name)}</td>'
                f"<td>{_shape(item.shape)}</td><td>{item.checked}/{item.total}</td>"
                f"<td>{_short(item.rel_err_min)}</td><td>{_short(item.rel_err_max)}</td>"
                f"<td>{_short(item.rel_err_mean)}</td>"
                f"<td>{_short(item.analytic_min)} .. {_short(item.analytic_max)}</td>"
                f"<td>{_short(item.numeric_min)} .. {_short(item.numeric_max)}</td>"
                f"<td>{esc(_index(item))}</td><td>{item.worst_analytic:.6g}</td>"
                f"<td>{item.worst_numeric:.6g}</td></tr>"
            )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>rnnscope gradient check: {esc(result.status.label)}</title>"
        f"<style>{_CSS}</style></head><body>\n"
        f"<h1>Gradient check: {esc(result.status.label)} ({esc(_counts_summary(result))})</h1>\n"
        "<dl>" + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta.items()) + "</dl>\n"
        f'<ul class="legend">{legend}</ul>\n'
        '<table><thead><tr><th>status</th><th class="name">parameter</th><th>shape</th><th>checked</th>'
        "<th>rel err min</th><th>rel err max</th><th>rel err mean</th><th>analytic range</th>"
        "<th>numeric range</th><th>worst index</th><th>worst analytic</th><th>worst numeric</th>"
        "</tr></thead>\n"
        "<tbody>\n" + "\n".join(body_rows) + "\n</tbody></table>\n"
        "<p>relative error = max(|a - n| - noise, 0) / max(|a|, |n|, floor); see docs/gradcheck.md.</p>\n"
        "</body></html>\n"
    )


# ----------------------------------------------------------------------------- terminal
_ANSI = {
    Status.OK: "\033[32m",
    Status.WARN: "\033[33m",
    Status.FAIL: "\033[1;31m",
    Status.TOO_SMALL: "\033[90m",
    Status.KINK: "\033[34m",
}


def to_text(result: GradcheckResult, colour: bool = False) -> str:
    """A fixed-width table for the terminal; ANSI colours on the status column if ``colour``."""
    header = (
        "status",
        "parameter",
        "shape",
        "checked",
        "rel err max",
        "rel err mean",
        "worst index",
        "analytic",
        "numeric",
    )
    table = []
    for row in result.rows:
        for item in (row, *row.sub_rows):
            table.append(
                (
                    item.status,
                    (
                        item.status.label,
                        item.name if item.gate is None else "  " + item.name,
                        _shape(item.shape),
                        f"{item.checked}/{item.total}",
                        _short(item.rel_err_max),
                        _short(item.rel_err_mean),
                        _index(item),
                        f"{item.worst_analytic:.4g}",
                        f"{item.worst_numeric:.4g}",
                    ),
                )
            )
    widths = [max(len(header[i]), *(len(cells[i]) for _, cells in table)) for i in range(len(header))]
    left = {0, 1, 6}

    def line(cells: tuple[str, ...], status: Status | None = None) -> str:
        parts = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ]
        if colour and status is not None:
            parts[0] = f"{_ANSI[status]}{parts[0]}\033[0m"
        return "  ".join(parts).rstrip()

    t = result.thresholds
    lines = [
        f"gradient check of {_config_summary(result)}: {_mode_summary(result)}, seed {result.seed}, "
        f"loss {result.loss:.6g}",
        line(header),
        line(tuple("-" * w for w in widths)),
        *(line(cells, status) for status, cells in table),
        "",
        f"result: {result.status.label.upper()} ({_counts_summary(result)}); thresholds ok < {t.ok:g}, "
        f"fail > {t.fail:g}; {result.duration_s:.2f} s",
    ]
    return "\n".join(lines) + "\n"


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
