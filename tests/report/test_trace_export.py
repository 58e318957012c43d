"""Trace exports: npz round trip without pickle, one probe as CSV."""

import csv
import io
import json
import os

import numpy as np
import pytest

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.trace import ProbeKind
from rnnscope.report import (
    ReportError,
    TraceFileError,
    probe_to_csv,
    read_trace_npz,
    write_probe_csv,
    write_trace_npz,
)


def _trace():
    rng = np.random.default_rng(0)
    model = build_model(ModelConfig("rnn", 3, 4, 3))
    result = model.forward(rng.standard_normal((5, 2, 3)), rng.integers(0, 3, (5, 2)))
    trace = result.trace
    trace.vocab = ("a", "b", "c")
    trace.add(
        "extra/labels",
        np.zeros((5, 2, 3)),
        ProbeKind.GATE,
        ("symbol",),
        gate="forget",
        tick_labels={0: ("a", "b", "c")},
    )
    return trace


def test_npz_round_trip_keeps_every_probe_and_its_description(tmp_path):
    trace = _trace()
    path = tmp_path / "trace.npz"
    write_trace_npz(trace, path)
    back = read_trace_npz(path)
    assert back.names() == trace.names()
    assert back.model_kind == "rnn" and back.vocab == ("a", "b", "c")
    for probe in trace:
        other = back[probe.name]
        assert np.array_equal(other.data, probe.data)
        assert (other.kind, other.axes, other.gate, other.description, other.tick_labels) == (
            probe.kind,
            probe.axes,
            probe.gate,
            probe.description,
            probe.tick_labels,
        )


def test_npz_arrays_are_keyed_by_probe_name_for_plain_numpy(tmp_path):
    trace = _trace()
    path = tmp_path / "trace.npz"
    write_trace_npz(trace, path)
    with np.load(path, allow_pickle=False) as archive:
        assert np.array_equal(archive["rnn/hidden"], trace["rnn/hidden"].data)
        assert set(trace.names()) <= set(archive.files)


def test_reading_something_else_is_a_clear_error(tmp_path):
    path = tmp_path / "other.npz"
    np.savez(path, a=np.zeros(3))
    with pytest.raises(ValueError, match="not an rnnscope trace"):
        read_trace_npz(path)
    with pytest.raises(ValueError, match="cannot read trace"):
        read_trace_npz(tmp_path / "missing.npz")


def test_probe_csv_has_one_line_per_element(tmp_path):
    trace = _trace()
    rows = list(csv.reader(io.StringIO(probe_to_csv(trace, "rnn/hidden", batch_row=1))))
    assert rows[0] == ["step", "unit", "value"]
    assert len(rows) == 1 + 5 * 4
    assert float(rows[1 + 2 * 4 + 3][2]) == trace["rnn/hidden"].data[2, 1, 3]
    write_probe_csv(trace, "loss/step", tmp_path / "loss.csv")
    assert (tmp_path / "loss.csv").read_text().startswith("step,value")
    with pytest.raises(ReportError, match="no probe"):
        write_probe_csv(trace, "nope/x", tmp_path / "x.csv")
    with pytest.raises(ValueError, match="batch row"):
        probe_to_csv(trace, "rnn/hidden", batch_row=5)


def _saved(tmp_path):
    path = tmp_path / "trace.npz"
    write_trace_npz(_trace(), path)
    with np.load(path, allow_pickle=False) as archive:
        arrays = {name: archive[name] for name in archive.files}
    return path, arrays, json.loads(str(arrays["__trace__"]))


def _with(path, arrays, meta=None, **changes):
    arrays = {**arrays, **changes}
    if meta is not None:
        arrays["__trace__"] = np.array(json.dumps(meta) if not isinstance(meta, str) else meta)
    np.savez(path, **arrays)
    return path


def _problem(path):
    with pytest.raises(TraceFileError) as caught:
        read_trace_npz(path)
    assert str(path) in str(caught.value)
    return caught.value.problem


def test_special_and_broken_files_are_named_and_never_block(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    assert "FIFO" in _problem(fifo)
    assert "directory" in _problem(tmp_path)
    path, _, _ = _saved(tmp_path)
    data = path.read_bytes()
    for cut in (0, 10, len(data) // 2, len(data) - 1):
        path.write_bytes(data[:cut])
        assert _problem(path)
    path.write_bytes(b"not a trace at all")
    assert "not a NumPy .npz archive" in _problem(path)


def test_every_metadata_field_is_checked(tmp_path):
    path, arrays, meta = _saved(tmp_path)
    probe = dict(meta["probes"][0])
    cases = [
        ({**meta, "probes": 5}, "probes must be a non-empty list, got 5"),
        ({**meta, "model_kind": 7}, "__trace__.model_kind must be a string"),
        ({**meta, "vocab": ["ab"]}, "vocab must hold single characters"),
        ({**meta, "surprise": 1}, "unknown entries"),
        ({**meta, "probes": [{**probe, "kind": "rainbow"}]}, "probes[0].kind must be one of"),
        ({**meta, "probes": [{**probe, "axes": "unit"}]}, "probes[0].axes must be a list"),
        (
            {**meta, "probes": [{**probe, "tick_labels": {"0": [1, 2]}}]},
            "tick_labels.0 must be a list of labels",
        ),
        ({**meta, "probes": [{**probe, "tick_labels": {"5": ["a"]}}]}, "unknown entries"),
        ({**meta, "probes": [{**probe, "name": "nope/x"}]}, "'nope/x' has no array of its own"),
        ({**meta, "probes": [probe, probe]}, "has no array of its own"),
        ("[" * 10_000 + "]" * 10_000, "nested too deeply"),
        ('{"model_kind": NaN}', "not valid JSON (NaN is not a number)"),
    ]
    for bad, words in cases:
        assert words in _problem(_with(path, arrays, bad)), words


def test_probe_arrays_are_checked_before_they_are_read(tmp_path):
    path, arrays, meta = _saved(tmp_path)
    hidden = arrays["rnn/hidden"]
    assert "holds <U1 values, not numbers" in _problem(
        _with(path, arrays, **{"rnn/hidden": np.full((5, 2, 4), "x")})
    )
    assert "not (T, B) and axes" in _problem(_with(path, arrays, **{"rnn/hidden": hidden[..., 0]}))
    assert "unlike the first probe" in _problem(_with(path, arrays, **{"rnn/hidden": hidden[:3]}))
    assert "3 labels for an axis of 4" in _problem(
        _with(path, arrays, **{"extra/labels": np.zeros((5, 2, 4))})
    )
    pickled = tmp_path / "pickled.npz"
    np.savez(pickled, allow_pickle=True, **{**arrays, "rnn/hidden": np.array([{"x": 1}], dtype=object)})
    assert "would need pickle" in _problem(pickled)
    assert "__trace__ entry must be one string" in _problem(_with(path, arrays, __trace__=np.zeros(3)))


def test_a_seeded_storm_of_damaged_trace_files_gives_only_trace_file_errors(tmp_path):
    path, _, _ = _saved(tmp_path)
    good = path.read_bytes()
    rng = np.random.default_rng(3)
    for _ in range(100):
        damaged = bytearray(good)
        for _ in range(int(rng.integers(1, 6))):
            damaged[int(rng.integers(len(good)))] ^= int(rng.integers(1, 256))
        path.write_bytes(bytes(damaged))
        try:
            read_trace_npz(path)  # a flip in the zip's own bookkeeping may leave the trace intact
        except TraceFileError:
            pass
