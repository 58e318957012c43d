"""Gradient-check tables for people: Markdown (pull requests), self-contained HTML, the terminal.

All three show the columns of :mod:`rnnscope.report.columns` (HTML the same
columns as the app's table, Markdown and the terminal the compact set) with the
same texts, and colour by status: ``Status.background`` for rows and
``Status.colour`` for the status cell in HTML, ANSI colours in the terminal.
Gate sub-rows are indented under their parameter.
"""

from __future__ import annotations

import html
import json

from rnnscope.engine.gradcheck.result import GradcheckResult, GradRow
from rnnscope.engine.gradcheck.status import Status
from rnnscope.report.columns import COMPACT, SHOWN, Column


def config_summary(result: GradcheckResult) -> str:
    """The model in one line: ``"lstm D=5 H=6 O=5 loss=softmax_ce"`` (plus memory sizes for a DNC)."""
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


def mode_summary(result: GradcheckResult) -> str:
    """``"sampled (10 per tensor or gate slice)"``, ``"directional (...)"`` or ``"full"``."""
    if result.mode == "sampled":
        return f"sampled ({result.samples} per tensor or gate slice)"
    if result.mode == "directional":
        return f"directional ({result.directions} per tensor or gate slice)"
    return "full"


def counts_summary(result: GradcheckResult) -> str:
    """How many parameters got each status: ``"4 ok, 1 fail"``."""
    return ", ".join(f"{n} {Status(s).label}" for s, n in result.counts().items() if n)


def _step_summary(result: GradcheckResult) -> str:
    return f"{result.step:g}" + (" x max(1, |x|)" if result.relative_step else "")


def _thresholds_summary(result: GradcheckResult) -> str:
    t = result.thresholds
    return f"ok < {t.ok:g}, fail > {t.fail:g}, floor {t.floor:g} x the slice's max|grad|, kink {t.kink:g}"


def _step_line(result: GradcheckResult) -> str:
    return f"central differences at h, 2h and 4h, extrapolated; h = {_step_summary(result)}"


# ----------------------------------------------------------------------------- Markdown
def _markdown_cell(column: Column, row: GradRow) -> str:
    if column.key == "name":
        return f"`{row.name}`" if row.gate is None else f"&nbsp;&nbsp;`{row.name}`"
    if column.key == "status" and row.status is Status.FAIL:
        return f"**{row.status.label.upper()}**"
    return column.text(row)


def to_markdown(result: GradcheckResult) -> str:
    """A summary and one table (gate sub-rows indented), for pull requests."""
    lines = [
        f"### Gradient check: **{result.status.label.upper()}** ({counts_summary(result)})",
        "",
        f"- model: `{config_summary(result)}`; loss {result.loss:.6g}",
        f"- mode: {mode_summary(result)}; seed {result.seed}; {_step_line(result)}",
        f"- thresholds: {_thresholds_summary(result)}",
        f"- numpy {result.numpy_version}; {result.timestamp}; {result.duration_s:.2f} s ({result.engine})",
        *(f"- note: {note}" for note in result.notes),
        "",
        "| " + " | ".join(column.header for column in COMPACT) + " |",
        "|" + "|".join("---:" if column.right else "---" for column in COMPACT) + "|",
    ]
    for row in result.all_rows():
        lines.append("| " + " | ".join(_markdown_cell(column, row) for column in COMPACT) + " |")
    diagnosed = [row for row in result.all_rows() if row.diagnoses]
    if diagnosed:
        lines += ["", "**Likely causes**", ""]
        lines += [f"- `{row.name}`: {d.text}" for row in diagnosed for d in row.diagnoses]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- HTML
_CSS = """
body { font-family: system-ui, sans-serif; margin: 1.5em; color: #222; }
h1 { font-size: 1.3em; }
table { border-collapse: collapse; font-size: 0.9em; }
th, td { padding: 0.25em 0.7em; border-bottom: 1px solid #ccc; text-align: left; }
th { background: #f4f4f4; }
td.number { text-align: right; }
td.name, td.status { font-family: ui-monospace, monospace; }
tr.sub td.name { padding-left: 2em; }
tr.sub { font-size: 0.92em; }
tr.diagnosis td { padding-left: 2.5em; font-style: italic; color: #8a1c1d; border-bottom: 1px solid #ccc; }
tr.diagnosis td:before { content: "\\21B3\\00a0 "; }
ul.legend { list-style: none; padding: 0; }
ul.notes li { margin: 0.15em 0; }
ul.legend li { margin: 0.15em 0; }
.swatch { display: inline-block; min-width: 5.5em; padding: 0.1em 0.5em; margin-right: 0.5em; }
dl { display: grid; grid-template-columns: max-content auto; gap: 0.1em 1em; }
dt { font-weight: bold; }
dd { margin: 0; font-family: ui-monospace, monospace; }
"""


def _legend(result: GradcheckResult) -> str:
    t = result.thresholds
    rules = {
        Status.OK: f"relative error below {t.ok:g}",
        Status.WARN: f"relative error between {t.ok:g} and {t.fail:g}",
        Status.FAIL: f"relative error above {t.fail:g}: the backward pass is wrong here",
        Status.TOO_SMALL: f"below {t.floor:g} x its slice's largest gradient, or below the numerical "
        "allowance: too small to judge",
        Status.KINK: "one-sided differences disagree: a non-smooth point (max, sort), not judged",
    }
    return "".join(
        f'<li><span class="swatch legend-{s.value}" style="background:{s.background};'
        f'border-left:6px solid {s.colour}">{html.escape(s.label)}</span> {html.escape(rules[s])}</li>'
        for s in Status
    )


def _html_cell(column: Column, row: GradRow) -> str:
    text = html.escape(column.text(row))
    if column.key == "status":
        return f'<td class="status" style="border-left:6px solid {row.status.colour}">{text}</td>'
    if column.key == "name":
        return f'<td class="name">{text}</td>'
    return f'<td class="number">{text}</td>' if column.right else f"<td>{text}</td>"


def _html_row(row: GradRow) -> str:
    kind = "param" if row.gate is None else "sub"
    status = row.status
    cells = "".join(_html_cell(c, row) for c in SHOWN)
    lines = "".join(
        f'\n<tr class="diagnosis" data-row="{html.escape(row.name)}" data-kind="{d.kind}">'
        f'<td colspan="{len(SHOWN)}">likely cause: {html.escape(d.text)}</td></tr>'
        for d in row.diagnoses
    )
    return (
        f'<tr class="{kind} status-{status.value}" data-status="{status.value}" '
        f'style="background:{status.background}">{cells}</tr>{lines}'
    )


def to_html(result: GradcheckResult) -> str:
    """One self-contained HTML page: metadata, a legend, the app's table with rows coloured by status."""
    esc = html.escape
    meta = {
        "status": result.status.label,
        "model": config_summary(result),
        "loss": f"{result.loss:.6g}",
        "mode": mode_summary(result),
        "seed": str(result.seed),
        "step": _step_line(result),
        "thresholds": _thresholds_summary(result),
        "numpy": result.numpy_version,
        "timestamp": result.timestamp,
        "duration": f"{result.duration_s:.2f} s ({result.engine})",
        "model config": json.dumps(result.model_config, sort_keys=True),
    }
    header = "".join(f'<th title="{esc(c.tooltip)}">{esc(c.header)}</th>' for c in SHOWN)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>rnnscope gradient check: {esc(result.status.label)}</title>"
        f"<style>{_CSS}</style></head><body>\n"
        f"<h1>Gradient check: {esc(result.status.label)} ({esc(counts_summary(result))})</h1>\n"
        "<dl>"
        + "".join(f"<dt>{esc(k)}</dt><dd>{esc(v)}</dd>" for k, v in meta.items())
        + "</dl>\n"
        + _notes_html(result)
        + f'<ul class="legend">{_legend(result)}</ul>\n'
        f"<table><thead><tr>{header}</tr></thead>\n"
        "<tbody>\n" + "\n".join(_html_row(row) for row in result.all_rows()) + "\n</tbody></table>\n"
        "<p>relative error = max(|a - n| - allowance, 0) / max(|a|, |n|, floor), the allowance being "
        "the numerical error bar (rounding + truncation) of n; see docs/gradcheck.md.</p>\n"
        "</body></html>\n"
    )


def _notes_html(result: GradcheckResult) -> str:
    if not result.notes:
        return ""
    items = "".join(f"<li>{html.escape(note)}</li>" for note in result.notes)
    return f'<ul class="notes">{items}</ul>\n'


# ----------------------------------------------------------------------------- terminal
_ANSI = {
    Status.OK: "\033[32m",
    Status.WARN: "\033[33m",
    Status.FAIL: "\033[1;31m",
    Status.TOO_SMALL: "\033[90m",
    Status.KINK: "\033[34m",
}


def _text_cell(column: Column, row: GradRow) -> str:
    if column.key == "name" and row.gate is not None:
        return "  " + row.name
    return column.text(row)


def _text_lines(first: str, row: GradRow) -> list[str]:
    """A row's line, then one line per diagnosis under it."""
    indent = "    " if row.gate is None else "      "
    return [first, *(f"{indent}-> likely cause: {d.text}" for d in row.diagnoses)]


def to_text(result: GradcheckResult, colour: bool = False) -> str:
    """A fixed-width table for the terminal; ANSI colours on the status column if ``colour``."""
    header = tuple(column.header for column in COMPACT)
    rows = result.all_rows()
    cells = [tuple(_text_cell(column, row) for column in COMPACT) for row in rows]
    widths = [max(len(header[i]), *(len(line[i]) for line in cells)) for i in range(len(COMPACT))]

    def line(texts: tuple[str, ...], status: Status | None = None) -> str:
        parts = [
            text.rjust(width) if column.right else text.ljust(width)
            for column, text, width in zip(COMPACT, texts, widths, strict=True)
        ]
        if colour and status is not None:
            parts[0] = f"{_ANSI[status]}{parts[0]}\033[0m"
        return "  ".join(parts).rstrip()

    t = result.thresholds
    lines = [
        f"gradient check of {config_summary(result)}: {mode_summary(result)}, seed {result.seed}, "
        f"loss {result.loss:.6g}",
        line(header),
        line(tuple("-" * width for width in widths)),
        *(
            text
            for texts, row in zip(cells, rows, strict=True)
            for text in _text_lines(line(texts, row.status), row)
        ),
        "",
        f"result: {result.status.label.upper()} ({counts_summary(result)}); thresholds ok < {t.ok:g}, "
        f"fail > {t.fail:g}; {result.duration_s:.2f} s",
        *(f"note: {note}" for note in result.notes),
    ]
    return "\n".join(lines) + "\n"
