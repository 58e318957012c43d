"""Properties every recurrent core must have: RNN, LSTM and both GRU conventions x every head.

* analytic gradients of every parameter, input and initial-state element agree with
  float64 central differences;
* stepping one timestep at a time with carried state gives the whole sequence's
  outputs, final state and -- chaining the initial-state gradient backwards --
  gradients;
* a batch gives the per-example results (the loss is averaged over the batch);
* a deliberately broken backward is caught by the same numerical check;
* probe names and shapes are the documented ones; float32 agrees with float64 (loss,
  every probe, every gradient) to float32's precision.
"""

import numpy as np
import pytest

from rnnscope.engine.heads import linear_backward
from rnnscope.engine.models import ModelConfig, build_model
from tests.engine.gradutil import assert_float32_matches_float64, numerical_gradient, relative_error

D, H, O = 3, 3, 3
MODELS = {
    "rnn": {},
    "lstm": {},
    "gru": {},
    "gru_reset_after": {"reset_after": True},
}
HEADS = {
    "softmax_ce": {"loss": "softmax_ce"},
    "sigmoid_bce": {"loss": "sigmoid_bce"},
    "mse": {"loss": "mse"},
    "many_to_one": {"loss": "softmax_ce", "many_to_one": True},
}
TOLERANCE = 1e-6  # relative, with a floor of 1e-3 of the tensor's largest gradient


def _kind(name):
    return name.split("_")[0]


def _model(name, head="softmax_ce", seed=3, **extra):
    config = ModelConfig(_kind(name), D, H, O, seed=seed, **MODELS[name], **HEADS[head], **extra)
    model = build_model(config)
    rng = np.random.default_rng(seed + 100)
    for key in model.params:  # non-zero biases, so that every gradient term is exercised
        if key.startswith("b"):
            model.params[key][...] += 0.3 * rng.standard_normal(model.params[key].shape)
    return model


def _data(model, T=4, B=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, D))
    if model.config.loss == "softmax_ce":
        y = rng.integers(0, O, (T, B))
    elif model.config.loss == "sigmoid_bce":
        y = (rng.random((T, B, O)) > 0.5).astype(float)
    else:
        y = rng.standard_normal((T, B, O))
    state = {k: 0.5 * rng.standard_normal(v.shape) for k, v in model.initial_state(B).items()}
    return x, y, state


def _numeric_errors(model, x, y, state, grads, mask=None):
    """Relative error of every parameter, the inputs and every state entry."""

    def f():
        return model.loss(x, y, mask, state)

    errors = {
        name: relative_error(grads.params[name], numerical_gradient(f, model.params[name]), 1e-3)
        for name in model.params
    }
    errors["inputs"] = relative_error(grads.inputs, numerical_gradient(f, x), 1e-3)
    for key in state:
        errors[f"state.{key}"] = relative_error(
            grads.initial_state[key], numerical_gradient(f, state[key]), 1e-3
        )
    return errors


@pytest.mark.parametrize("head", list(HEADS))
@pytest.mark.parametrize("name", list(MODELS))
def test_every_gradient_element_matches_central_differences(name, head):
    model = _model(name, head)
    x, y, state = _data(model)
    mask = None if head == "many_to_one" else np.array([[1, 1], [0, 1], [1, 0.5], [1, 1]], float)
    _, grads, _ = model.loss_and_gradients(x, y, mask, state)
    errors = _numeric_errors(model, x, y, state, grads, mask)
    assert max(errors.values()) < TOLERANCE, errors


def _chunk_backward(model, result, dfinal_state):
    """Gradients of one chunk's loss plus ``dfinal_state . final_state``."""
    dfeatures, dWy, dby = linear_backward(result.head.dlogits, result.core.features, model.params["Wy"])
    grads, dinputs, dstate, _ = model.backward_core(
        dfeatures, result.core, result.inputs, dfinal_state=dfinal_state
    )
    grads.update(Wy=dWy, by=dby)
    return grads, dinputs, dstate


@pytest.mark.parametrize("name", list(MODELS))
def test_stepping_one_step_at_a_time_equals_the_whole_sequence(name):
    model = _model(name)
    x, y, state = _data(model, T=5, B=3, seed=1)
    whole = model.forward(x, y, state=state)
    whole_grads = model.backward(whole)

    carried = state
    chunks = []
    for t in range(x.shape[0]):
        result = model.forward(x[t : t + 1], y[t : t + 1], state=carried)
        chunks.append(result)
        carried = result.final_state
        assert np.allclose(result.trace["output/probs"].data[0], whole.trace["output/probs"].data[t])
        for probe in whole.trace.probes:
            if probe.startswith(model.kind + "/"):
                assert np.allclose(result.trace[probe].data[0], whole.trace[probe].data[t]), probe
    for key in state:
        assert np.allclose(carried[key], whole.final_state[key], rtol=1e-13, atol=1e-14)
    assert np.isclose(sum(c.loss for c in chunks), whole.loss, rtol=1e-13)

    # backward, last step first: each step's initial-state gradient is the gradient
    # arriving at the previous step's final state
    dstate = {k: np.zeros_like(v) for k, v in state.items()}
    total = {k: np.zeros_like(v) for k, v in model.params.items()}
    for t in range(x.shape[0] - 1, -1, -1):
        grads, dinputs, dstate = _chunk_backward(model, chunks[t], dstate)
        for k in total:
            total[k] += grads[k]
        assert np.allclose(dinputs[0], whole_grads.inputs[t], rtol=1e-10, atol=1e-13)
    for k in total:
        assert np.allclose(total[k], whole_grads.params[k], rtol=1e-10, atol=1e-13), k
    for key in state:
        assert np.allclose(dstate[key], whole_grads.initial_state[key], rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("head", ["softmax_ce", "mse"])
@pytest.mark.parametrize("name", list(MODELS))
def test_a_batch_equals_its_examples_one_by_one(name, head):
    model = _model(name, head)
    B = 3
    x, y, state = _data(model, T=4, B=B, seed=2)
    batched = model.forward(x, y, state=state)
    grads = model.backward(batched)
    sum_params = {k: np.zeros_like(v) for k, v in model.params.items()}
    losses = []
    for b in range(B):
        one_state = {k: v[b : b + 1] for k, v in state.items()}
        single = model.forward(x[:, b : b + 1], y[:, b : b + 1], state=one_state)
        single_grads = model.backward(single)
        losses.append(single.loss)
        assert np.allclose(single.trace["output/probs"].data[:, 0], batched.trace["output/probs"].data[:, b])
        for key in state:
            assert np.allclose(single.final_state[key][0], batched.final_state[key][b])
        # the batch loss is the mean of the examples' losses: per-example gradients are B times larger
        assert np.allclose(single_grads.inputs[:, 0], B * grads.inputs[:, b])
        for key in state:
            assert np.allclose(single_grads.initial_state[key][0], B * grads.initial_state[key][b])
        for k in sum_params:
            sum_params[k] += single_grads.params[k]
    assert np.isclose(np.mean(losses), batched.loss)
    for k in sum_params:
        assert np.allclose(sum_params[k] / B, grads.params[k]), k


def _broken(model, mutate):
    """A model whose backward passes through ``mutate(grads, core)``."""

    class Broken(type(model)):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(
                dfeatures, core, inputs, need_inputs=need_inputs
            )
            mutate(grads, core)
            return grads, dinputs, dstate, dhidden

    return Broken(model.config, model.params.copy())


@pytest.mark.parametrize("name", list(MODELS))
def test_a_slightly_wrong_term_is_detected(name):
    model = _model(name)
    x, y, state = _data(model)
    _, good, _ = model.loss_and_gradients(x, y, state=state)

    def nudge(grads, _core):
        grads["Wh"][0, -1] *= 1.001  # one element, 0.1 % off

    broken = _broken(model, nudge)
    _, bad, _ = broken.loss_and_gradients(x, y, state=state)
    errors = _numeric_errors(broken, x, y, state, bad)
    assert errors["Wh"] > 1e-4
    assert all(v < TOLERANCE for k, v in errors.items() if k != "Wh"), errors
    assert _numeric_errors(model, x, y, state, good)["Wh"] < TOLERANCE


def test_an_lstm_backward_that_uses_the_wrong_cell_is_detected():
    """Off by one in time: backward reads c_t where the forget gate needs c_{t-1}."""
    model = _model("lstm")
    x, y, state = _data(model)

    class OffByOne(type(model)):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            cs = core.cache["cs"]
            shifted = np.concatenate([cs[1:], cs[-1:]])
            core.cache = dict(core.cache, cs=shifted)
            return super().backward_core(dfeatures, core, inputs, need_inputs=need_inputs)

    broken = OffByOne(model.config, model.params.copy())
    _, grads, _ = broken.loss_and_gradients(x, y, state=state)
    errors = _numeric_errors(broken, x, y, state, grads)
    assert errors["Wh"] > 1e-2 and errors["b"] > 1e-2
    assert errors["Wy"] < TOLERANCE and errors["by"] < TOLERANCE  # the read-out is untouched


SHARED = ["data/input", "data/target", "data/mask", "output/logits", "output/probs", "loss/step"]
PROBES = {
    "rnn": ["rnn/preact", "rnn/hidden"],
    "lstm": [
        "lstm/input_preact",
        "lstm/forget_preact",
        "lstm/output_preact",
        "lstm/candidate_preact",
        "lstm/input_gate",
        "lstm/forget_gate",
        "lstm/output_gate",
        "lstm/candidate",
        "lstm/cell",
        "lstm/tanh_cell",
        "lstm/hidden",
    ],
    "gru": [
        "gru/reset_preact",
        "gru/update_preact",
        "gru/candidate_preact",
        "gru/reset_gate",
        "gru/update_gate",
        "gru/candidate",
        "gru/reset_hidden",
        "gru/hidden",
    ],
    "gru_reset_after": [
        "gru/reset_preact",
        "gru/update_preact",
        "gru/candidate_preact",
        "gru/reset_gate",
        "gru/update_gate",
        "gru/candidate",
        "gru/recurrent_candidate",
        "gru/hidden",
    ],
}


@pytest.mark.parametrize("name", list(MODELS))
def test_probe_names_and_shapes_are_stable(name):
    model = build_model(ModelConfig(_kind(name), 5, 7, 6, **MODELS[name]))
    rng = np.random.default_rng(0)
    T, B = 4, 2
    trace = model.forward(rng.standard_normal((T, B, 5)), rng.integers(0, 6, (T, B))).trace
    assert trace.model_kind == model.kind
    assert sorted(trace.probes) == sorted(SHARED + PROBES[name])
    assert [n for n in trace.probes if n not in SHARED] == PROBES[name]  # recording order too
    for probe in PROBES[name]:
        assert trace[probe].data.shape == (T, B, 7), probe
        assert trace[probe].axes == ("unit",)
        assert trace[probe].description
        assert np.all(np.isfinite(trace[probe].data))
        if trace[probe].kind.bounded:
            assert trace[probe].data.min() >= 0.0 and trace[probe].data.max() <= 1.0
    assert trace["output/probs"].data.shape == (T, B, 6)
    assert trace["loss/step"].data.shape == (T, B)


@pytest.mark.parametrize("one_hot", [False, True], ids=["dense", "one-hot"])
@pytest.mark.parametrize("name", list(MODELS))
def test_float32_runs_and_agrees_with_float64(name, one_hot):
    m64 = _model(name)
    m32 = build_model(ModelConfig(_kind(name), D, H, O, dtype="float32", **MODELS[name]), m64.params)
    x, y, state = _data(m64, T=6, B=1 if one_hot else 3)
    if one_hot:
        x = np.eye(D)[np.random.default_rng(5).integers(0, D, x.shape[:2])]
    assert_float32_matches_float64(m32, x, y, state)
    loss32, g32, r32 = m32.loss_and_gradients(x, y, state=state, record=True)
    assert r32.trace[f"{m32.kind}/hidden"].data.dtype == np.float32
    for k in g32.params:
        assert g32.params[k].dtype == np.float32


@pytest.mark.parametrize("name", list(MODELS))
def test_parameter_gradients_without_the_input_gradient_are_the_same(name):
    """Training asks for the parameters' gradients only; they must not change."""
    model = _model(name)
    x, y, state = _data(model)
    _, full, _ = model.loss_and_gradients(x, y, state=state)
    _, lean, _ = model.loss_and_gradients(x, y, state=state, input_gradient=False)
    assert full.inputs is not None and full.inputs.shape == x.shape
    assert lean.inputs is None
    for key in full.params:
        np.testing.assert_array_equal(lean.params[key], full.params[key])
    for key in full.initial_state:
        np.testing.assert_array_equal(lean.initial_state[key], full.initial_state[key])


@pytest.mark.parametrize("name", list(MODELS))
def test_buffers_are_reused_but_kept_results_never_overwritten(name):
    """Large arrays come back from a pool call after call; nothing a caller still holds
    (features, a view of a view, a trace, a result awaiting backward) is ever written over."""
    model = _model(name)
    model.buffers.MIN_BYTES = 0  # pool every array, however small
    x, y, _ = _data(model, T=5, B=3)
    rng = np.random.default_rng(11)
    first = model.forward(x, y, record=False)
    grads_first = model.backward(first)
    features = model.forward(x, y, record=False).core.features  # result dropped, view kept
    kept_features = features.copy()
    corner = model.forward(x, y, record=False).core.cache["hs"][2:, 1].T  # a view of a view
    kept_corner = corner.copy()
    trace = model.forward(x, y).trace  # every probe is a view of pooled memory
    kept_probes = {name: probe.data.copy() for name, probe in trace.probes.items()}
    result = model.forward(x, y, record=False)
    # arrays of one shape (the LSTM's h and c) may come back in either order
    addresses = {v.ctypes.data for v in result.core.cache.values() if isinstance(v, np.ndarray)}
    del result
    assert model.forward(x, y, record=False).core.cache["hs"].ctypes.data in addresses  # reused
    for _ in range(3):  # other inputs through the same model, with and without backward
        other = rng.standard_normal(x.shape)
        model.loss_and_gradients(other, y)
        model.forward(other, y, record=False)
        model.forward(other, y)
    assert model.buffers.shelved() > 0
    assert np.array_equal(features, kept_features)
    assert np.array_equal(corner, kept_corner)
    for probe in trace:
        assert np.array_equal(probe.data, kept_probes[probe.name]), probe.name
    grads_again = model.backward(first)  # its cache is intact
    for key in model.params:
        assert np.array_equal(grads_again.params[key], grads_first.params[key])
