"""LSTM: gradients, the fast in-place cell against the reference cell, probes, init."""

import numpy as np
import pytest

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.models.lstm import PROBE_NAMES
from rnnscope.engine.models.lstm_cell import GATES, lstm_cell_backward, lstm_cell_forward
from rnnscope.engine.models.lstm_kernels import (
    lstm_backward_factors,
    lstm_cell_backward_factored,
    lstm_cell_step,
)
from rnnscope.engine.trace import ProbeKind
from tests.engine.gradutil import assert_float32_matches_float64, numerical_gradient, relative_error


def test_in_place_cell_step_is_the_reference_cell_bit_for_bit():
    rng = np.random.default_rng(0)
    B, H = 3, 5
    pre = rng.standard_normal((B, 4 * H)) * 3
    c_prev = rng.standard_normal((B, H))
    gates, c, tanh_c, h = lstm_cell_forward(pre, c_prev)
    half = pre.copy()
    half[:, : 3 * H] *= 0.5
    out = [np.empty((B, 4 * H))] + [np.empty((B, H)) for _ in range(4)]
    lstm_cell_step(half, c_prev, *out)
    for mine, ref in zip(out[:4], (gates, c, tanh_c, h), strict=True):
        assert np.array_equal(mine, ref)


def test_factored_backward_is_the_reference_backward():
    rng = np.random.default_rng(1)
    B, H = 4, 3
    pre = rng.standard_normal((B, 4 * H))
    c_prev = rng.standard_normal((B, H))
    gates, _, tanh_c, _ = lstm_cell_forward(pre, c_prev)
    dh, dc = rng.standard_normal((2, B, H))
    dpre_ref, dc_prev_ref = lstm_cell_backward(dh, dc, gates, c_prev, tanh_c)
    factors, dcell = lstm_backward_factors(gates, c_prev, tanh_c)
    dpre = np.empty((B, 4 * H))
    dc_inout = dc.copy()
    lstm_cell_backward_factored(dh, dc_inout, factors, dcell, gates[:, H : 2 * H], dpre, np.empty((B, H)))
    assert np.allclose(dpre, dpre_ref, rtol=1e-14, atol=1e-15)
    assert np.allclose(dc_inout, dc_prev_ref, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_lstm_gradients_match_central_differences(loss):
    rng = np.random.default_rng(2)
    model = build_model(ModelConfig("lstm", 3, 4, 3, loss=loss, seed=5))
    T, B = 5, 2
    x = rng.standard_normal((T, B, 3))
    y = rng.integers(0, 3, (T, B)) if loss == "softmax_ce" else (rng.random((T, B, 3)) > 0.5) * 1.0
    state = {"h": 0.5 * rng.standard_normal((B, 4)), "c": 0.5 * rng.standard_normal((B, 4))}
    _, grads, _ = model.loss_and_gradients(x, y, state=state)

    def f():
        return model.loss(x, y, state=state)

    for name in model.params:
        numeric = numerical_gradient(f, model.params[name])
        assert relative_error(grads.params[name], numeric, 1e-3) < 1e-6, name
    assert relative_error(grads.inputs, numerical_gradient(f, x), 1e-3) < 1e-6
    for key in ("h", "c"):
        assert relative_error(grads.initial_state[key], numerical_gradient(f, state[key]), 1e-3) < 1e-6


def test_lstm_params_gate_slices_and_forget_bias():
    model = build_model(ModelConfig("lstm", 7, 4, 5, forget_bias=2.5))
    p = model.params
    assert {k: p[k].shape for k in p} == {
        "Wx": (7, 16),
        "Wh": (4, 16),
        "b": (16,),
        "Wy": (4, 5),
        "by": (5,),
    }
    for name in ("Wx", "Wh", "b"):
        assert list(p.gate_slices(name)) == list(GATES)
    assert np.all(p["b[forget]"] == 2.5)
    assert np.all(p["b[input]"] == 0) and np.all(p["b[candidate]"] == 0)
    p["Wh[output]"][...] = 7.0  # a view: writes land in the fused matrix
    assert np.all(p["Wh"][:, 8:12] == 7.0)


def test_lstm_probes_names_shapes_kinds_and_values():
    rng = np.random.default_rng(3)
    model = build_model(ModelConfig("lstm", 3, 4, 3, seed=1))
    x = rng.standard_normal((6, 2, 3))
    y = rng.integers(0, 3, (6, 2))
    trace = model.forward(x, y).trace
    names = [n for n in trace.probes if n.startswith("lstm/")]
    assert names == list(PROBE_NAMES)
    for name in names:
        probe = trace[name]
        assert probe.data.shape == (6, 2, 4) and probe.axes == ("unit",) and probe.group == "lstm"
    for gate in ("input", "forget", "output"):
        assert trace[f"lstm/{gate}_gate"].kind is ProbeKind.GATE
        assert trace[f"lstm/{gate}_gate"].gate == gate
        pre = trace[f"lstm/{gate}_preact"].data
        assert np.allclose(trace[f"lstm/{gate}_gate"].data, 1 / (1 + np.exp(-pre)), rtol=1e-13)
    assert trace["lstm/candidate"].kind is ProbeKind.SIGNED
    assert np.allclose(trace["lstm/candidate"].data, np.tanh(trace["lstm/candidate_preact"].data))
    i, f, g = (trace[n].data for n in ("lstm/input_gate", "lstm/forget_gate", "lstm/candidate"))
    c = trace["lstm/cell"].data
    assert np.allclose(c[1:], f[1:] * c[:-1] + i[1:] * g[1:])
    assert np.allclose(trace["lstm/hidden"].data, trace["lstm/output_gate"].data * np.tanh(c))
    # the pre-activations really are x Wx + h Wh + b
    h_prev = np.concatenate([np.zeros((1, 2, 4)), trace["lstm/hidden"].data[:-1]])
    a = x @ model.params["Wx"] + h_prev @ model.params["Wh"] + model.params["b"]
    assert np.allclose(trace["lstm/forget_preact"].data, a[..., 4:8])


def test_lstm_float32_agrees_with_float64():
    rng = np.random.default_rng(4)
    model = build_model(ModelConfig("lstm", 3, 8, 3, dtype="float32"))
    x = rng.standard_normal((5, 2, 3))
    y = rng.integers(0, 3, (5, 2))
    state = {"h": 0.5 * rng.standard_normal((2, 8)), "c": 0.5 * rng.standard_normal((2, 8))}
    assert_float32_matches_float64(model, x, y, state)  # every probe, state and gradient float32
    loss, grads, result = model.loss_and_gradients(x, y, record=True)
    assert np.isfinite(loss)
    assert all(g.dtype == np.float32 for g in grads.params.values())
    assert result.trace["lstm/cell"].data.dtype == np.float32
    assert result.final_state["c"].dtype == np.float32


def test_one_hot_inputs_pick_rows_with_the_matmuls_numbers():
    from rnnscope.engine.models.kernels import input_projection, one_hot_indices

    rng = np.random.default_rng(7)
    Wx = rng.standard_normal((6, 8))
    x = np.eye(6)[rng.integers(0, 6, (5, 3))]
    flat = x.reshape(15, 6)
    assert np.array_equal(one_hot_indices(flat), flat.argmax(axis=1))
    assert np.array_equal(input_projection(x, Wx), flat @ Wx)  # bit for bit
    two = x.copy()
    two[2, 1, 0] += 0.5  # two non-zeros in one row
    scaled = 2.0 * x  # one non-zero that is not one
    zero = x.copy()
    zero[4, 2] = 0.0  # a step with no input
    for bad in (two, scaled, zero):
        assert one_hot_indices(bad.reshape(15, 6)) is None
        assert np.array_equal(input_projection(bad, Wx), bad.reshape(15, 6) @ Wx)
    # the model gives the same loss and gradients on the one-hot path as on the matmul path
    model = build_model(ModelConfig("lstm", 6, 4, 6, seed=2))
    y = rng.integers(0, 6, (5, 3))
    dense = x.copy()
    dense[0, 0, (dense[0, 0].argmax() + 1) % 6] = 1e-300  # numerically nothing, but not one-hot
    assert one_hot_indices(dense.reshape(15, 6)) is None
    loss_fast, grads_fast, _ = model.loss_and_gradients(x, y)
    loss_dense, grads_dense, _ = model.loss_and_gradients(dense, y)
    assert np.isclose(loss_fast, loss_dense, rtol=1e-14)
    for name in model.params:
        assert np.allclose(grads_fast.params[name], grads_dense.params[name], rtol=1e-12, atol=1e-15)


def test_column_major_copy_in_blocks():
    from rnnscope.engine.models.kernels import column_major

    rng = np.random.default_rng(8)
    matrix = rng.standard_normal((37, 12))  # rows not a multiple of the block
    scale = rng.standard_normal(12)
    plain = column_major(matrix)
    scaled = column_major(matrix, scale)
    assert plain.flags.f_contiguous and scaled.flags.f_contiguous
    assert np.array_equal(plain, matrix)
    assert np.array_equal(scaled, matrix * scale)


def test_batched_and_single_sequence_paths_agree():
    """B > 1 runs the recurrent matmul on column-major weights, B = 1 on rows."""
    rng = np.random.default_rng(9)
    model = build_model(ModelConfig("lstm", 5, 6, 5, seed=4))
    x = rng.standard_normal((4, 3, 5))
    y = rng.integers(0, 5, (4, 3))
    batched = model.forward(x, y).trace
    for b in range(3):
        single = model.forward(x[:, b : b + 1], y[:, b : b + 1]).trace
        for name in ("lstm/cell", "lstm/hidden", "output/probs"):
            assert np.allclose(single[name].data[:, 0], batched[name].data[:, b], rtol=1e-13, atol=1e-15)


def _lstm_problem(seed=10, T=5, B=3):
    rng = np.random.default_rng(seed)
    model = build_model(ModelConfig("lstm", 4, 6, 4, seed=seed))
    x = rng.standard_normal((T, B, 4))
    y = rng.integers(0, 4, (T, B))
    return model, x, y, rng


def test_a_copied_model_gets_its_own_pool():
    import copy

    model, x, y, _ = _lstm_problem()
    model.loss_and_gradients(x, y)
    twin = copy.deepcopy(model)
    assert twin.buffers is not model.buffers
    assert np.isclose(twin.loss(x, y), model.loss(x, y), rtol=0, atol=0)
