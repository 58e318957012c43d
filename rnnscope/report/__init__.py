"""Exports of gradient-check results and traces (CSV, JSON, Markdown, HTML). No Qt."""

from rnnscope.report.files import ReportError, atomic_write_bytes, atomic_write_text
from rnnscope.report.gradcheck import (
    FORMATS,
    format_for,
    load_report,
    read_csv,
    read_json,
    render,
    to_csv,
    to_html,
    to_json,
    to_markdown,
    to_text,
    write_report,
)
from rnnscope.report.trace_export import (
    TraceFileError,
    probe_to_csv,
    read_trace_npz,
    write_probe_csv,
    write_trace_npz,
)

__all__ = [
    "FORMATS",
    "ReportError",
    "TraceFileError",
    "atomic_write_bytes",
    "atomic_write_text",
    "format_for",
    "load_report",
    "probe_to_csv",
    "read_csv",
    "read_json",
    "read_trace_npz",
    "render",
    "to_csv",
    "to_html",
    "to_json",
    "to_markdown",
    "to_text",
    "write_probe_csv",
    "write_report",
    "write_trace_npz",
]
