"""Trace exports: npz round trip without pickle, one probe as CSV."""

import csv
import io

import numpy as np
import pytest

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.trace import ProbeKind
from rnnscope.report import ReportError, probe_to_csv, read_trace_npz, write_probe_csv, write_trace_npz


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
