"""The trace export says where a trace first went non-finite and why, in its JSON metadata."""

import json

import numpy as np

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.report import read_trace_npz, write_trace_npz


def _meta(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(str(archive["__trace__"]))


def test_the_first_nonfinite_value_and_its_cause_are_in_the_metadata(tmp_path):
    model = build_model(ModelConfig("lstm", 3, 4, 3, seed=1))
    model.params["Wx"][1, 2] = np.inf  # the input gate's unit 2 reads it from step 0 on
    x = np.random.default_rng(0).standard_normal((5, 1, 3))
    trace = model.forward(x, np.zeros((5, 1), dtype=int)).trace
    path = tmp_path / "bad.npz"
    write_trace_npz(trace, path)
    meta = _meta(path)["nonfinite"]
    assert (meta["probe"], meta["step"], meta["batch"], meta["index"]) == ("lstm/input_preact", 0, 0, [2])
    assert meta["axes"] == ["unit"] and meta["value"] in ("NaN", "+Inf", "-Inf")
    assert meta["cause"] == "nonfinite_parameter" and "weight or bias" in meta["text"]
    assert read_trace_npz(path).names() == trace.names()  # the field reads back


def test_a_finite_trace_says_null(tmp_path):
    model = build_model(ModelConfig("rnn", 3, 4, 3))
    trace = model.forward(np.ones((4, 1, 3)), np.zeros((4, 1), dtype=int)).trace
    write_trace_npz(trace, tmp_path / "ok.npz")
    assert _meta(tmp_path / "ok.npz")["nonfinite"] is None
