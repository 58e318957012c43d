"""GRU in both conventions: gradients, equations behind the probes, params and slices."""

import numpy as np
import pytest

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.models.gru import GATES, probe_names
from rnnscope.engine.trace import ProbeKind
from tests.engine.gradutil import assert_float32_matches_float64, numerical_gradient, relative_error


def _model(reset_after, loss="softmax_ce", seed=5, **extra):
    model = build_model(ModelConfig("gru", 3, 4, 3, loss=loss, seed=seed, reset_after=reset_after, **extra))
    rng = np.random.default_rng(seed)
    for name in model.params:  # non-zero biases so that their gradients mean something
        if name.startswith("b"):
            model.params[name][...] = 0.3 * rng.standard_normal(model.params[name].shape)
    return model


def _sigmoid(a):
    return 1.0 / (1.0 + np.exp(-a))


@pytest.mark.parametrize("reset_after", [False, True])
@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_gru_gradients_match_central_differences(reset_after, loss):
    rng = np.random.default_rng(2)
    model = _model(reset_after, loss)
    T, B = 5, 2
    x = rng.standard_normal((T, B, 3))
    y = rng.integers(0, 3, (T, B)) if loss == "softmax_ce" else (rng.random((T, B, 3)) > 0.5) * 1.0
    state = {"h": 0.5 * rng.standard_normal((B, 4))}
    _, grads, _ = model.loss_and_gradients(x, y, state=state)

    def f():
        return model.loss(x, y, state=state)

    for name in model.params:
        numeric = numerical_gradient(f, model.params[name])
        assert relative_error(grads.params[name], numeric, 1e-3) < 1e-6, name
    assert relative_error(grads.inputs, numerical_gradient(f, x), 1e-3) < 1e-6
    assert relative_error(grads.initial_state["h"], numerical_gradient(f, state["h"]), 1e-3) < 1e-6


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_probes_follow_the_documented_equations(reset_after):
    rng = np.random.default_rng(3)
    model = _model(reset_after)
    x = rng.standard_normal((6, 2, 3))
    y = rng.integers(0, 3, (6, 2))
    trace = model.forward(x, y).trace
    assert [n for n in trace.probes if n.startswith("gru/")] == list(probe_names(reset_after))
    for name in probe_names(reset_after):
        assert trace[name].data.shape == (6, 2, 4) and trace[name].axes == ("unit",)
        assert trace[name].group == "gru"
    assert trace["gru/reset_gate"].kind is ProbeKind.GATE and trace["gru/reset_gate"].gate == "reset"
    assert trace["gru/update_gate"].kind is ProbeKind.GATE and trace["gru/update_gate"].gate == "update"
    assert trace["gru/candidate"].kind is ProbeKind.SIGNED

    p = model.params
    H = 4
    h = np.concatenate([np.zeros((1, 2, H)), trace["gru/hidden"].data])
    for t in range(6):
        xw = x[t] @ p["Wx"] + p["b"]
        if reset_after:
            hw = h[t] @ p["Wh"] + p["bh"]
            r = _sigmoid(xw[:, :H] + hw[:, :H])
            z = _sigmoid(xw[:, H : 2 * H] + hw[:, H : 2 * H])
            n = np.tanh(xw[:, 2 * H :] + r * hw[:, 2 * H :])
        else:
            r = _sigmoid(xw[:, :H] + h[t] @ p["Wh[reset]"])
            z = _sigmoid(xw[:, H : 2 * H] + h[t] @ p["Wh[update]"])
            n = np.tanh(xw[:, 2 * H :] + (r * h[t]) @ p["Wh[candidate]"])
        assert np.allclose(trace["gru/reset_gate"].data[t], r)
        assert np.allclose(trace["gru/update_gate"].data[t], z)
        assert np.allclose(trace["gru/candidate"].data[t], n)
        # z is the share of the old state kept
        assert np.allclose(h[t + 1], (1 - z) * n + z * h[t])


def test_the_two_conventions_differ_and_default_is_cho():
    assert ModelConfig("gru", 3, 4, 3).reset_after is False
    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 2, 3))
    cho = _model(False)
    after = build_model(ModelConfig("gru", 3, 4, 3, seed=5, reset_after=True))
    after.params.assign({k: cho.params[k] for k in cho.params})  # same weights, bh = 0
    assert not np.allclose(cho.predict(x)[0], after.predict(x)[0])


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_params_and_gate_slices(reset_after):
    model = build_model(ModelConfig("gru", 7, 4, 5, reset_after=reset_after))
    p = model.params
    expected = {"Wx": (7, 12), "Wh": (4, 12), "b": (12,), "Wy": (4, 5), "by": (5,)}
    if reset_after:
        expected["bh"] = (12,)
    assert {k: p[k].shape for k in p} == expected
    fused = ["Wx", "Wh", "b"] + (["bh"] if reset_after else [])
    for name in fused:
        assert list(p.gate_slices(name)) == list(GATES)
    assert p["Wx[update]"].shape == (7, 4) and p["b[candidate]"].shape == (4,)


@pytest.mark.parametrize("reset_after", [False, True])
def test_gru_float32_agrees_with_float64(reset_after):
    rng = np.random.default_rng(6)
    model = build_model(ModelConfig("gru", 3, 8, 3, dtype="float32", reset_after=reset_after))
    for name in model.params:  # non-zero biases, so that the bias paths are compared too
        if name.startswith("b"):
            model.params[name][...] = 0.3 * rng.standard_normal(model.params[name].shape)
    x, y = rng.standard_normal((5, 2, 3)), rng.integers(0, 3, (5, 2))
    state = {"h": 0.5 * rng.standard_normal((2, 8))}
    assert_float32_matches_float64(model, x, y, state)  # every probe, state and gradient float32
    loss, grads, result = model.loss_and_gradients(x, y)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.params.values())
    assert result.final_state["h"].dtype == np.float32
