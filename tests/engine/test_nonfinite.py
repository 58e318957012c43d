"""Non-finite values named in words: where first, and the likely cause from the trace's own values."""

import json

import numpy as np

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.nonfinite import find_nonfinite
from rnnscope.engine.trace import ProbeKind, Trace
from tests.engine.test_dnc import _problem


def _lstm():
    model = build_model(ModelConfig("lstm", 4, 6, 3, loss="mse", seed=0))
    x = np.random.default_rng(0).standard_normal((8, 2, 4))
    return model, x, np.zeros((8, 2, 3))


def test_a_finite_trace_has_no_report():
    model, x, y = _lstm()
    assert find_nonfinite(model.forward(x, y).trace) is None


def test_a_nan_weight_is_named_as_a_parameter_at_the_first_preactivation():
    model, x, y = _lstm()
    model.params["Wx"][2, 3] = np.nan  # read by every step: the first is step 0, row 0
    report = find_nonfinite(model.forward(x, y).trace)
    assert report.probe == "lstm/input_preact" and report.step == 0 and report.index == (3,)
    assert report.cause.key == "nonfinite_parameter"
    assert report.describe().startswith("NaN first in lstm/input_preact at step 0 (batch 0, unit 3); likely")
    assert "non-finite weight or bias" in report.describe()


def test_a_nan_input_is_named_as_the_input():
    model, x, y = _lstm()
    x[5, 1, 0] = np.inf
    report = find_nonfinite(model.forward(x, y).trace)
    assert (report.probe, report.step, report.batch) == ("data/input", 5, 1)
    assert report.value_word() == "+Inf" and report.cause.key == "nonfinite_input"


def _hand_trace(dtype=np.float64):
    trace = Trace(model_kind="custom")
    trace.add("data/input", np.zeros((6, 1, 2), dtype), ProbeKind.SIGNED, ("input",))
    return trace


def test_an_exploding_state_is_named_with_its_growth():
    trace = _hand_trace()
    hidden = np.ones((6, 1, 3)) * (1e5 ** np.arange(6))[:, None, None]  # 1, 1e5, ..., 1e25
    hidden[5, 0, 1] = np.inf
    trace.add("mine/hidden", hidden, ProbeKind.SIGNED, ("unit",))
    report = find_nonfinite(trace)
    assert (report.probe, report.step, report.index) == ("mine/hidden", 5, (1,))
    assert report.cause.key == "exploding_state"
    assert "grew from 1 at step 0 to 1e+20 at step 4" in report.cause.text


def test_an_exp_overflow_is_named_from_the_logits_of_the_step():
    for dtype, logit in ((np.float64, 800.0), (np.float32, 100.0)):
        trace = _hand_trace(dtype)
        logits = np.zeros((6, 1, 3), dtype)
        logits[3, 0, 2] = logit
        probs = np.full((6, 1, 3), 1 / 3, dtype)
        probs[3, 0] = np.nan
        trace.add("output/logits", logits, ProbeKind.SIGNED, ("output",))
        trace.add("output/probs", probs, ProbeKind.PROBABILITY, ("output",))
        report = find_nonfinite(trace)
        assert report.probe == "output/probs" and report.cause.key == "exp_overflow", dtype
        assert f"output/logits reaches {logit:.3g} at step 3" in report.cause.text


def test_a_zero_key_in_a_content_weighting_is_named():
    model, x, y, state = _problem(1, T=4, B=2)
    trace = model.forward(x, y, state=state).trace
    weighting = trace["dnc/read_content_weighting"].data
    keys = trace["dnc/read_keys"].data
    weighting[2, 1, 1, :] = np.nan  # as a cosine without the epsilon would give
    keys[2, 1, 1, :] = 0.0
    report = find_nonfinite(trace)
    assert report.probe == "dnc/read_content_weighting" and report.step == 2
    assert report.element() == "batch 1, head 1, slot 0"
    assert report.cause.key == "zero_norm_cosine"
    assert "zero-norm key in a cosine: dnc/read_keys (head 1)" in report.cause.text


def test_a_curve_nan_with_nothing_to_blame_says_so():
    model, x, y = _lstm()
    trace = model.forward(x, y).trace
    trace["loss/step"].data[4, 0] = np.nan
    report = find_nonfinite(trace)
    assert (report.probe, report.step, report.index, report.element()) == ("loss/step", 4, (), "batch 0")
    assert report.cause is None and "no cause could be named" in report.describe()
    meta = json.loads(json.dumps(report.to_json()))  # plain JSON: the value as a word
    assert meta["value"] == "NaN" and meta["cause"] is None and meta["step"] == 4


def test_gradients_do_not_hide_where_the_forward_went_wrong():
    model, x, y = _lstm()
    trace = model.forward(x, y).trace
    grad = np.ones((8, 2))
    grad[:6] = np.nan  # backward in time: every step before the forward's NaN
    trace.add("grad/hidden_norm", grad, ProbeKind.SCALAR)
    trace["lstm/hidden"].data[5, 0, 2] = np.nan
    report = find_nonfinite(trace)
    assert (report.probe, report.step) == ("lstm/hidden", 5)
