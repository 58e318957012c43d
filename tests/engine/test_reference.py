"""The fast RNN, LSTM and GRU equal their readable references (models/reference.py).

Loss, every probe (name, kind, gate, axes, layer, values), the final state, every
parameter gradient, the input gradient, the initial-state gradient and dLoss/dh_t agree
to 1e-13 of the largest element of each array -- for several sizes, batch 1 and > 1,
one-hot and dense inputs, with and without a carried state and a mask, one layer and
stacks of two and three (the reference steps time-major, the fast path layer by layer),
with and without an embedding table.
"""

import numpy as np
import pytest

from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.models.gru_cell import gru_reset_after_step_forward, gru_step_forward
from rnnscope.engine.models.lstm_cell import lstm_cell_forward, lstm_step_forward
from rnnscope.engine.models.reference import ReferenceGRU, ReferenceLSTM, ReferenceRNN, reference_model
from rnnscope.engine.models.rnn_cell import rnn_step_forward
from tests.engine.gradutil import numerical_gradient, relative_error

TOLERANCE = 1e-13
MODELS = {"rnn": {}, "lstm": {}, "gru": {}, "gru_reset_after": {"reset_after": True}}
SIZES = {"small": (3, 4, 3), "wide": (11, 24, 7)}  # (D, H, O)
STACKS = {
    "one-layer": {},
    "two-layers": {"num_layers": 2},
    "three-layers-embedded": {"num_layers": 3, "embedding_size": 5},
}


def _pair(name, size, loss="softmax_ce", seed=0, **extra):
    D, H, O = SIZES[size]
    config = ModelConfig(name.split("_")[0], D, H, O, loss=loss, seed=seed, **MODELS[name], **extra)
    fast = build_model(config)
    rng = np.random.default_rng(seed + 50)
    for key in fast.params:  # non-zero biases, so that every term is exercised
        if key.startswith("b"):
            fast.params[key][...] = 0.3 * rng.standard_normal(fast.params[key].shape)
    return fast, reference_model(fast)


def _problem(model, T, B, one_hot, carried, seed=1):
    rng = np.random.default_rng(seed)
    D, O = model.config.input_size, model.config.output_size
    x = np.eye(D)[rng.integers(0, D, (T, B))] if one_hot else rng.standard_normal((T, B, D))
    if model.config.loss == "softmax_ce":
        y = rng.integers(0, O, (T, B))
    else:
        y = rng.standard_normal((T, B, O))
    state = mask = None
    if carried:
        state = {k: 0.8 * rng.standard_normal(v.shape) for k, v in model.initial_state(B).items()}
        mask = (rng.random((T, B)) > 0.3) * rng.random((T, B))
    return x, y, mask, state


def _assert_close(fast, ref, what):
    fast, ref = np.asarray(fast), np.asarray(ref)
    assert fast.shape == ref.shape and fast.dtype == ref.dtype, what
    if not np.issubdtype(ref.dtype, np.floating):
        assert np.array_equal(fast, ref), what
        return
    scale = max(float(np.abs(ref).max(initial=0.0)), np.finfo(ref.dtype).tiny)
    difference = float(np.abs(fast - ref).max(initial=0.0)) / scale
    assert difference <= TOLERANCE, f"{what}: relative difference {difference:.2e}"


def _assert_models_agree(fast, ref, x, y, mask, state):
    out = {}
    for label, model in (("fast", fast), ("ref", ref)):
        result = model.forward(x, y, mask, state, record=True)
        out[label] = result, model.backward(result)
    (fast_result, fast_grads), (ref_result, ref_grads) = out["fast"], out["ref"]
    _assert_close(fast_result.loss, ref_result.loss, "loss")
    assert list(fast_result.trace.probes) == list(ref_result.trace.probes)
    for probe in fast_result.trace:
        twin = ref_result.trace[probe.name]
        assert (probe.kind, probe.gate, probe.axes, probe.description, probe.layer) == (
            twin.kind,
            twin.gate,
            twin.axes,
            twin.description,
            twin.layer,
        ), probe.name
        _assert_close(probe.data, twin.data, probe.name)
    for key, value in fast_result.final_state.items():
        _assert_close(value, ref_result.final_state[key], f"final state {key}")
    assert list(fast_grads.params) == list(ref_grads.params)
    for key, value in fast_grads.params.items():
        _assert_close(value, ref_grads.params[key], f"gradient of {key}")
    _assert_close(fast_grads.inputs, ref_grads.inputs, "input gradient")
    for key, value in fast_grads.initial_state.items():
        _assert_close(value, ref_grads.initial_state[key], f"initial-state gradient {key}")
    _assert_close(fast_grads.hidden, ref_grads.hidden, "dLoss/dh_t")


@pytest.mark.parametrize("carried", [False, True], ids=["zero-state", "carried-state-and-mask"])
@pytest.mark.parametrize("one_hot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("batch", [1, 4])
@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("name", list(MODELS))
def test_the_fast_model_equals_its_reference(name, stack, size, batch, one_hot, carried):
    fast, ref = _pair(name, size, **STACKS[stack])
    x, y, mask, state = _problem(fast, T=7, B=batch, one_hot=one_hot, carried=carried)
    _assert_models_agree(fast, ref, x, y, mask, state)


@pytest.mark.parametrize("head", ["sigmoid_bce", "mse", "many_to_one"])
@pytest.mark.parametrize("name", list(MODELS))
def test_the_fast_model_equals_its_reference_under_every_head(name, head):
    loss = "softmax_ce" if head == "many_to_one" else head
    fast, ref = _pair(name, "small", loss=loss, many_to_one=head == "many_to_one", seed=3)
    x, y, mask, state = _problem(fast, T=6, B=3, one_hot=False, carried=True, seed=4)
    if head == "sigmoid_bce":
        y = (y > 0).astype(float)
    _assert_models_agree(fast, ref, x, y, mask, state)


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("name", list(MODELS))
def test_a_gradient_arriving_at_the_final_state_is_the_same(name, stack):
    fast, ref = _pair(name, "wide", seed=5, **STACKS[stack])
    x, y, mask, state = _problem(fast, T=5, B=2, one_hot=False, carried=True, seed=6)
    rng = np.random.default_rng(7)
    dfinal = {k: rng.standard_normal(v.shape) for k, v in fast.initial_state(2).items()}
    results = [model.forward(x, y, mask, state, record=False) for model in (fast, ref)]
    dfeatures = rng.standard_normal(results[0].core.features.shape)
    (g_fast, dx_fast, ds_fast, _), (g_ref, dx_ref, ds_ref, _) = (
        model.backward_core(dfeatures, result.core, result.core_inputs, dfinal_state=dfinal)
        for model, result in zip((fast, ref), results, strict=True)
    )
    for key in g_fast:
        _assert_close(g_fast[key], g_ref[key], key)
    _assert_close(dx_fast, dx_ref, "input gradient")
    for key in ds_fast:
        _assert_close(ds_fast[key], ds_ref[key], f"initial-state gradient {key}")


@pytest.mark.parametrize("stack", list(STACKS))
@pytest.mark.parametrize("name", list(MODELS))
def test_the_reference_gradients_match_central_differences(name, stack):
    """The references stand on their own: checked against float64 central differences."""
    _, ref = _pair(name, "small", seed=8, **STACKS[stack])
    x, y, mask, state = _problem(ref, T=4, B=2, one_hot=False, carried=True, seed=9)
    _, grads, _ = ref.loss_and_gradients(x, y, mask, state)
    _, lean, _ = ref.loss_and_gradients(x, y, mask, state, input_gradient=False)
    assert lean.inputs is None

    def f():
        return ref.loss(x, y, mask, state)

    # the bottom of a deep stack has gradients of ~1e-5, where the rounding noise of a 1e-5 step
    # (~1e-10) would dominate: a larger step there (its truncation error stays far below)
    step = 1e-5 if stack == "one-layer" else 1e-4
    for key in ref.params:
        numeric = numerical_gradient(f, ref.params[key], step)
        assert relative_error(grads.params[key], numeric, 1e-3) < 1e-6, key
        np.testing.assert_array_equal(lean.params[key], grads.params[key])
    assert relative_error(grads.inputs, numerical_gradient(f, x, step), 1e-3) < 1e-6
    for key in state:
        numeric = numerical_gradient(f, state[key], step)
        assert relative_error(grads.initial_state[key], numeric, 1e-3) < 1e-6, key


def test_the_step_functions_read_as_their_equations():
    """One step of each cell against the equations written out (no fused columns)."""
    rng = np.random.default_rng(10)
    B, D, H = 3, 4, 5

    def sig(a):
        return 1.0 / (1.0 + np.exp(-a))

    x, h_prev, c_prev = rng.standard_normal((B, D)), rng.standard_normal((B, H)), rng.standard_normal((B, H))
    rnn = {"Wx": rng.standard_normal((D, H)), "Wh": rng.standard_normal((H, H)), "b": rng.standard_normal(H)}
    h, _ = rnn_step_forward(x, h_prev, rnn)
    assert np.allclose(h, np.tanh(x @ rnn["Wx"] + h_prev @ rnn["Wh"] + rnn["b"]), rtol=1e-14)

    lstm = {
        "Wx": rng.standard_normal((D, 4 * H)),
        "Wh": rng.standard_normal((H, 4 * H)),
        "b": rng.standard_normal(4 * H),
    }
    h, c, cache = lstm_step_forward(x, h_prev, c_prev, lstm)
    a = x @ lstm["Wx"] + h_prev @ lstm["Wh"] + lstm["b"]
    i, f, o, g = sig(a[:, :H]), sig(a[:, H : 2 * H]), sig(a[:, 2 * H : 3 * H]), np.tanh(a[:, 3 * H :])
    assert np.allclose(c, f * c_prev + i * g, rtol=1e-13) and np.allclose(h, o * np.tanh(c), rtol=1e-13)
    assert np.array_equal(cache.gates, lstm_cell_forward(cache.preact, c_prev)[0])

    W = {
        "Wx": rng.standard_normal((D, 3 * H)),
        "Wh": rng.standard_normal((H, 3 * H)),
        "b": rng.standard_normal(3 * H),
    }
    W["bh"] = rng.standard_normal(3 * H)
    xr, xz, xn = (x @ W["Wx"][:, k * H : (k + 1) * H] + W["b"][k * H : (k + 1) * H] for k in range(3))
    Whr, Whz, Whn = (W["Wh"][:, k * H : (k + 1) * H] for k in range(3))
    bhr, bhz, bhn = (W["bh"][k * H : (k + 1) * H] for k in range(3))
    r, z = sig(xr + h_prev @ Whr), sig(xz + h_prev @ Whz)
    n = np.tanh(xn + (r * h_prev) @ Whn)
    h, _ = gru_step_forward(x, h_prev, W)
    assert np.allclose(h, (1 - z) * n + z * h_prev, rtol=1e-13)
    r, z = sig(xr + h_prev @ Whr + bhr), sig(xz + h_prev @ Whz + bhz)
    n = np.tanh(xn + r * (h_prev @ Whn + bhn))
    h, _ = gru_reset_after_step_forward(x, h_prev, W)
    assert np.allclose(h, (1 - z) * n + z * h_prev, rtol=1e-13)


def test_reference_models_are_their_kinds_with_copied_parameters():
    for name, cls in (("rnn", ReferenceRNN), ("lstm", ReferenceLSTM), ("gru", ReferenceGRU)):
        fast = build_model(ModelConfig(name, 3, 4, 3))
        ref = reference_model(fast)
        assert type(ref) is cls and ref.kind == fast.kind and ref.config == fast.config
        for key in fast.params:
            assert np.array_equal(ref.params[key], fast.params[key])
            assert not np.shares_memory(ref.params[key], fast.params[key])
    with pytest.raises(ValueError, match="no reference model"):
        reference_model(
            build_model(ModelConfig("dnc", 3, 4, 3, memory_slots=4, memory_width=3, read_heads=1))
        )
