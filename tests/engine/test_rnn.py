import numpy as np

from rnnscope.engine.models import ModelConfig, build_model
from tests.engine.gradutil import numerical_gradient, relative_error


def _data(rng, T=5, B=3, D=4, O=5):
    x = rng.standard_normal((T, B, D))
    y = rng.integers(0, O, size=(T, B))
    return x, y


def test_rnn_gradients_match_central_differences():
    rng = np.random.default_rng(1)
    model = build_model(ModelConfig("rnn", 4, 6, 5, seed=3))
    x, y = _data(rng)
    h0 = {"h": rng.standard_normal((3, 6)) * 0.5}
    _, grads, _ = model.loss_and_gradients(x, y, state=h0)
    for name in model.params:
        numeric = numerical_gradient(lambda: model.loss(x, y, state=h0), model.params[name])
        assert relative_error(grads.params[name], numeric) < 1e-7, name
    numeric_x = numerical_gradient(lambda: model.loss(x, y, state=h0), x)
    assert relative_error(grads.inputs, numeric_x) < 1e-7
    numeric_h0 = numerical_gradient(lambda: model.loss(x, y, state=h0), h0["h"])
    assert relative_error(grads.initial_state["h"], numeric_h0) < 1e-7


def test_rnn_trace_probes():
    rng = np.random.default_rng(0)
    model = build_model(ModelConfig("rnn", 4, 6, 5))
    x, y = _data(rng)
    result = model.forward(x, y)
    trace = result.trace
    assert trace["rnn/hidden"].data.shape == (5, 3, 6)
    assert np.allclose(trace["output/probs"].data.sum(axis=-1), 1.0)
    assert np.isclose(trace["loss/step"].data.sum() / 3, result.loss)


def test_predict_matches_forward_probabilities_and_continues_state():
    rng = np.random.default_rng(2)
    model = build_model(ModelConfig("rnn", 4, 6, 5))
    x, y = _data(rng, T=6)
    whole = model.forward(x, y)
    first, state = model.predict(x[:3])
    second, final = model.predict(x[3:], state)
    assert np.allclose(np.concatenate([first, second]), whole.trace["output/probs"].data)
    assert np.allclose(final["h"], whole.final_state["h"])
