"""Trace exports: every probe to one ``.npz`` (read back without pickle), one probe to CSV.

The ``.npz`` holds one array per probe (keyed by probe name) plus ``__trace__``,
a JSON string with the trace's model kind, vocabulary and each probe's kind,
axes, gate, description and tick labels, so :func:`read_trace_npz` rebuilds the
same :class:`~rnnscope.engine.trace.Trace`. Loading uses ``allow_pickle=False``.
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import numpy as np

from rnnscope.engine.trace import ProbeKind, Trace
from rnnscope.report.files import ReportError, atomic_write_bytes, atomic_write_text

_META = "__trace__"


def write_trace_npz(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Save every probe of ``trace`` and its metadata to ``path`` atomically (``.npz``)."""
    meta: dict[str, Any] = {
        "model_kind": trace.model_kind,
        "vocab": list(trace.vocab) if trace.vocab is not None else None,
        "probes": [
            {
                "name": p.name,
                "kind": p.kind.value,
                "axes": list(p.axes),
                "gate": p.gate,
                "description": p.description,
                "tick_labels": {str(axis): list(labels) for axis, labels in p.tick_labels.items()},
            }
            for p in trace
        ],
    }
    buffer = io.BytesIO()
    # keyed by probe name, so np.load(path)["lstm/forget_gate"] works in a notebook
    arrays = {p.name: np.ascontiguousarray(p.data) for p in trace}
    arrays[_META] = np.array(json.dumps(meta))
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


def read_trace_npz(path: str | os.PathLike[str]) -> Trace:
    """The trace saved by :func:`write_trace_npz` (no pickle); a clear error for anything else."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            if _META not in archive.files:
                raise ValueError(f"{os.fspath(path)!r} is not an rnnscope trace (no {_META} entry)")
            meta = json.loads(str(archive[_META]))
            trace = Trace(
                model_kind=meta.get("model_kind", ""),
                vocab=tuple(meta["vocab"]) if meta.get("vocab") is not None else None,
            )
            for info in meta["probes"]:
                trace.add(
                    info["name"],
                    archive[info["name"]],
                    ProbeKind(info["kind"]),
                    tuple(info["axes"]),
                    gate=info.get("gate"),
                    description=info.get("description", ""),
                    tick_labels={int(a): tuple(v) for a, v in info.get("tick_labels", {}).items()},
                )
    except (OSError, KeyError, json.JSONDecodeError) as error:
        raise ValueError(f"cannot read trace {os.fspath(path)!r}: {error}") from error
    return trace


def probe_to_csv(trace: Trace, name: str, batch_row: int = 0) -> str:
    """One probe of one batch row in long form: ``step, <axis>..., value`` per element."""
    probe = trace[name]
    if not 0 <= batch_row < probe.batch:
        raise ValueError(f"batch row {batch_row} is outside 0..{probe.batch - 1}")
    data = probe.row(batch_row)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["step", *probe.axes, "value"])
    for index in np.ndindex(*data.shape):
        value = data[index]
        writer.writerow(
            [*index, repr(float(value)) if np.issubdtype(data.dtype, np.floating) else int(value)]
        )
    return out.getvalue()


def write_probe_csv(trace: Trace, name: str, path: str | os.PathLike[str], batch_row: int = 0) -> None:
    """:func:`probe_to_csv` written atomically to ``path`` (:class:`ReportError` if it cannot be)."""
    try:
        text = probe_to_csv(trace, name, batch_row)
    except KeyError as error:
        raise ReportError(path, str(error)) from error
    atomic_write_text(path, text)
