"""Trace exports: every probe to one ``.npz`` (read back without pickle), one probe to CSV.

The ``.npz`` holds one array per probe (keyed by probe name) plus ``__trace__``,
a JSON string with the trace's model kind, vocabulary and each probe's kind,
axes, gate, description and tick labels, so :func:`read_trace_npz` rebuilds the
same :class:`~rnnscope.engine.trace.Trace`. Loading uses ``allow_pickle=False``.
When the trace holds NaN / Inf, ``nonfinite`` in that JSON says where it first
appeared and the likely cause (:meth:`~rnnscope.engine.nonfinite.NonFiniteReport.to_json`;
``null`` for a finite trace).
"""

from __future__ import annotations

import csv
import io
import json
import os
from typing import Any

import numpy as np

from rnnscope.engine import limits
from rnnscope.engine.jsondata import JsonDataError, Record, loads_bounded, show
from rnnscope.engine.nonfinite import find_nonfinite
from rnnscope.engine.npz import ArrayHeader, NpzArchive, NpzError
from rnnscope.engine.trace import ProbeKind, Trace
from rnnscope.report.files import ReportError, atomic_write_bytes, atomic_write_text

_META = "__trace__"
_META_CHARACTERS = 16 * 2**20  # of the metadata JSON


def write_trace_npz(trace: Trace, path: str | os.PathLike[str]) -> None:
    """Save every probe of ``trace`` and its metadata to ``path`` atomically (``.npz``)."""
    nonfinite = find_nonfinite(trace)
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
        "nonfinite": nonfinite.to_json() if nonfinite is not None else None,
    }
    buffer = io.BytesIO()
    # keyed by probe name, so np.load(path)["lstm/forget_gate"] works in a notebook
    arrays = {p.name: np.ascontiguousarray(p.data) for p in trace}
    arrays[_META] = np.array(json.dumps(meta))
    np.savez_compressed(buffer, allow_pickle=False, **arrays)
    atomic_write_bytes(path, buffer.getvalue())


class TraceFileError(ValueError):
    """A file that :func:`read_trace_npz` cannot read; the message names the file and the problem."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"cannot read trace {path!r}: {problem}")


def read_trace_npz(path: str | os.PathLike[str]) -> Trace:
    """The trace saved by :func:`write_trace_npz` (no pickle); a :class:`TraceFileError` for anything else.

    Only a regular file is opened (a FIFO never blocks), the archive's declared sizes are
    bounded (:data:`~rnnscope.engine.limits.TRACE_FILE_BYTES`), every metadata field is
    checked by type, and every probe's header (numeric dtype, ``(T, B)`` plus one axis per
    name, one tick label per entry) before its data is read.
    """
    name = os.fspath(path)
    try:
        with NpzArchive(name, limits.TRACE_FILE_BYTES.high) as archive:
            meta = _read_meta(archive)
            probes = [_probe_record(item, index) for index, item in enumerate(_probe_list(meta))]
            headers = _probe_headers(archive, probes)
            trace = Trace(model_kind=meta.string("model_kind"), vocab=_vocab(meta))
            for probe in probes:
                data = archive.read(probe["name"], headers[probe["name"]])
                trace.add(probe.pop("name"), data, **probe)
    except NpzError as error:
        raise TraceFileError(name, error.problem) from None
    except JsonDataError as error:
        raise TraceFileError(name, f"its metadata: {error}") from None
    return trace


def _read_meta(archive: NpzArchive) -> Record:
    if _META not in archive.entries:
        raise NpzError(f"not an rnnscope trace (no {_META} entry)")
    header = archive.header(_META)
    if header.dtype.kind != "U" or header.shape != () or header.nbytes > 4 * _META_CHARACTERS:
        raise NpzError(f"the {_META} entry must be one string of metadata, got {header.dtype} {header.shape}")
    text = str(archive.read(_META, header).item())
    required, optional = ("model_kind", "vocab", "probes"), ("nonfinite",)
    return Record(loads_bounded(text, 5), _META, required=required, optional=optional)


def _probe_list(meta: Record) -> list[object]:
    probes = meta.get("probes")
    if not isinstance(probes, list) or not probes:
        raise JsonDataError(f"{meta.field('probes')} must be a non-empty list, got {show(probes)}")
    return probes


def _vocab(meta: Record) -> tuple[str, ...] | None:
    return None if meta.get("vocab") is None else tuple(meta.symbols("vocab", limits.INPUT.high))


def _probe_record(item: object, index: int) -> dict[str, Any]:
    """One probe's metadata as :meth:`Trace.add`'s arguments (``name`` among them)."""
    fields = ("name", "kind", "axes", "gate", "description", "tick_labels")
    record = Record(item, f"probes[{index}]", required=fields[:3], optional=fields[3:])
    axes = record.get("axes")
    if not isinstance(axes, list) or not all(isinstance(a, str) for a in axes) or len(axes) > 4:
        raise JsonDataError(f"probes[{index}].axes must be a list of at most 4 names, got {show(axes)}")
    return {
        "name": record.string("name"),
        "kind": ProbeKind(record.string("kind", choices=[kind.value for kind in ProbeKind])),
        "axes": tuple(axes),
        "gate": None if record.get("gate") is None else record.string("gate"),
        "description": record.string("description") if "description" in record.value else "",
        "tick_labels": _tick_labels(record, len(axes)),
    }


def _tick_labels(probe: Record, axes: int) -> dict[int, tuple[str, ...]]:
    """``{axis: labels}``: a list of strings for some of the ``axes`` axes after ``(T, B)``."""
    given = probe.get("tick_labels")
    record = Record(
        {} if given is None else given, probe.field("tick_labels"), optional=map(str, range(axes))
    )
    labels = {}
    for key, value in record.value.items():
        if not isinstance(value, list) or not all(isinstance(label, str) for label in value):
            raise JsonDataError(f"{record.field(key)} must be a list of labels, got {show(value)}")
        labels[int(key)] = tuple(value)
    return labels


def _probe_headers(archive: NpzArchive, probes: list[dict[str, Any]]) -> dict[str, ArrayHeader]:
    """Each probe's ``.npy`` header, checked against its metadata before any data is read."""
    headers: dict[str, ArrayHeader] = {}
    for probe in probes:
        name = probe["name"]
        if name == _META or name not in archive.entries or name in headers:
            raise NpzError(f"probe {name!r} has no array of its own in the archive")
        header = headers[name] = archive.header(name)
        if header.dtype.kind not in "biuf":
            raise NpzError(f"probe {name!r} holds {header.dtype} values, not numbers")
        if len(header.shape) != 2 + len(probe["axes"]):
            raise NpzError(f"probe {name!r} has shape {header.shape}, not (T, B) and axes {probe['axes']}")
        if header.shape[:2] != headers[probes[0]["name"]].shape[:2]:
            raise NpzError(f"probe {name!r} has (T, B) = {header.shape[:2]}, unlike the first probe")
        for axis, labels in probe["tick_labels"].items():
            if len(labels) != header.shape[2 + axis]:
                raise NpzError(
                    f"probe {name!r} has {len(labels)} labels for an axis of {header.shape[2 + axis]}"
                )
    return headers


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
