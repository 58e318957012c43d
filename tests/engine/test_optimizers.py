"""Optimisers and clipping: each reduces the loss, updates in place, round-trips its state."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import (
    OPTIMIZER_NAMES,
    OptimizerError,
    build_optimizer,
    clip_by_global_norm,
    clip_by_value,
    global_norm,
)

LEARNING_RATES = {"sgd": 0.2, "adagrad": 0.1, "rmsprop": 5e-3, "adam": 5e-3}


def _loss_after(name: str, steps: int, lr: float | None = None, **options) -> tuple[float, float]:
    """Loss on a fixed copy-task batch before and after ``steps`` full-batch updates."""
    task = build_task("copy", bits=3, min_length=2, max_length=3)
    model = build_model(task.model_config("rnn", 12, seed=2))
    batch = task.sample(8, np.random.default_rng(5))
    optimizer = build_optimizer(name, lr=lr or LEARNING_RATES[name], **options)
    before = model.loss(batch.inputs, batch.targets, batch.mask)
    for _ in range(steps):
        _, grads, _ = model.loss_and_gradients(batch.inputs, batch.targets, batch.mask)
        optimizer.step(model.params, grads.params)
    return before, model.loss(batch.inputs, batch.targets, batch.mask)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_each_optimiser_reduces_the_loss(name):
    before, after = _loss_after(name, 60)
    assert after < 0.7 * before, (name, before, after)


@pytest.mark.parametrize("options", [{"momentum": 0.9}, {"momentum": 0.9, "nesterov": True}])
def test_sgd_with_momentum_reduces_the_loss(options):
    before, after = _loss_after("sgd", 60, lr=0.05, **options)
    assert after < 0.7 * before


def test_rmsprop_with_momentum_reduces_the_loss():
    before, after = _loss_after("rmsprop", 60, momentum=0.9)
    assert after < 0.7 * before


def _params_and_grads(seed=0):
    rng = np.random.default_rng(seed)
    params = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    grads = {"W": rng.normal(size=(3, 4)), "b": rng.normal(size=4)}
    return params, grads


def test_updates_are_in_place_and_match_the_textbook_rules():
    params, grads = _params_and_grads()
    start = {k: v.copy() for k, v in params.items()}
    arrays = dict(params)
    # plain SGD
    build_optimizer("sgd", lr=0.1).step(params, grads)
    for name in params:
        assert params[name] is arrays[name]
        np.testing.assert_allclose(params[name], start[name] - 0.1 * grads[name], rtol=0, atol=1e-15)
    # Adagrad: the first step is lr * g / (|g| + eps)
    params, grads = _params_and_grads()
    adagrad = build_optimizer("adagrad", lr=0.1)
    adagrad.step(params, grads)
    expected = start["W"] - 0.1 * grads["W"] / (np.abs(grads["W"]) + 1e-8)
    np.testing.assert_allclose(params["W"], expected, rtol=1e-12)
    # Adam: the first step is about lr * sign(g)
    params, grads = _params_and_grads()
    build_optimizer("adam", lr=0.01).step(params, grads)
    np.testing.assert_allclose(params["W"], start["W"] - 0.01 * np.sign(grads["W"]), rtol=0, atol=1e-8)
    # RMSProp: the first step is lr * g / sqrt((1 - decay) g^2 + eps)
    params, grads = _params_and_grads()
    build_optimizer("rmsprop", lr=0.01, decay=0.9).step(params, grads)
    expected = start["W"] - 0.01 * grads["W"] / np.sqrt(0.1 * grads["W"] ** 2 + 1e-8)
    np.testing.assert_allclose(params["W"], expected, rtol=1e-12)


def test_sgd_momentum_accumulates_velocity():
    params, grads = _params_and_grads()
    start = params["b"].copy()
    sgd = build_optimizer("sgd", lr=0.1, momentum=0.5)
    sgd.step(params, grads)
    sgd.step(params, grads)
    # v1 = -lr g; v2 = 0.5 v1 - lr g  ->  total = -lr g (1 + 1.5)
    np.testing.assert_allclose(params["b"], start - 0.1 * grads["b"] * 2.5, rtol=1e-12)


@pytest.mark.parametrize("name", OPTIMIZER_NAMES)
def test_state_dict_round_trip_continues_identically(name):
    options = {"momentum": 0.9} if name in ("sgd", "rmsprop") else {}
    params, grads = _params_and_grads()
    first = build_optimizer(name, lr=0.01, **options)
    for _ in range(3):
        first.step(params, grads)
    state = first.state_dict()
    assert state["lr"] == 0.01 and state["t"] == 3
    second = build_optimizer(name, lr=0.5)
    second.load_state_dict(state)
    assert second.lr == 0.01
    copy = {k: v.copy() for k, v in params.items()}
    first.step(params, grads)
    second.step(copy, grads)
    for key in params:
        np.testing.assert_array_equal(params[key], copy[key])
    # the state dict holds copies, not the live slots
    arrays = [v for v in state.values() if isinstance(v, np.ndarray)]
    assert arrays and all(not any(a is s for s in first.state_dict().values()) for a in arrays)


def test_learning_rate_is_settable_and_checked():
    optimizer = build_optimizer("adagrad")
    optimizer.lr = 0.05
    assert optimizer.lr == 0.05 and optimizer.state_dict()["lr"] == 0.05
    with pytest.raises(OptimizerError, match="lr must be > 0"):
        optimizer.lr = -1
    with pytest.raises(OptimizerError, match="lr must be > 0"):
        build_optimizer("adam", lr=math.nan)


def test_a_hyperparameter_is_settable_by_name_and_checked():
    optimizer = build_optimizer("rmsprop", momentum=0.9)
    optimizer.set_hyperparameter("momentum", 0.5)
    assert optimizer.hyperparameters()["momentum"] == 0.5 and optimizer.state_dict()["momentum"] == 0.5
    with pytest.raises(OptimizerError, match="momentum must be"):
        optimizer.set_hyperparameter("momentum", 1.5)
    with pytest.raises(OptimizerError, match="adagrad has no option 'momentum'"):
        build_optimizer("adagrad").set_hyperparameter("momentum", 0.5)
    assert optimizer.hyperparameters()["momentum"] == 0.5


def test_bad_names_options_and_states_are_named():
    with pytest.raises(OptimizerError, match="unknown optimizer 'adadelta'"):
        build_optimizer("adadelta")
    with pytest.raises(OptimizerError, match=r"adagrad has no option\(s\) \['momentum'\]"):
        build_optimizer("adagrad", momentum=0.9)
    with pytest.raises(OptimizerError, match="momentum must be"):
        build_optimizer("sgd", momentum=1.5)
    adam = build_optimizer("adam")
    with pytest.raises(OptimizerError, match="unknown slot 'cache'"):
        adam.load_state_dict({"cache/W": np.zeros(3)})
    with pytest.raises(OptimizerError, match="non-finite"):
        adam.load_state_dict({"m/W": np.array([np.nan])})
    params, grads = _params_and_grads()
    adam.load_state_dict({"m/W": np.zeros((4, 3))})
    with pytest.raises(OptimizerError, match=r"m/W has shape \(4, 3\).*\(3, 4\)"):
        adam.step(params, grads)
    with pytest.raises(OptimizerError, match="no gradient for parameter 'b'"):
        build_optimizer("sgd").step(params, {"W": grads["W"]})


def test_global_norm_clipping_scales_everything_by_one_factor():
    _, grads = _params_and_grads()
    original = {k: v.copy() for k, v in grads.items()}
    norm = global_norm(grads)
    assert norm == pytest.approx(math.sqrt(sum(float((g**2).sum()) for g in original.values())))
    assert clip_by_global_norm(grads, norm / 2) == pytest.approx(norm)
    assert global_norm(grads) == pytest.approx(norm / 2)
    for key in grads:
        np.testing.assert_allclose(grads[key], original[key] / 2)
    # under the limit: untouched
    assert clip_by_global_norm(grads, 1e9) == pytest.approx(norm / 2)
    np.testing.assert_allclose(grads["W"], original["W"] / 2)


def test_element_clipping_clamps_each_value():
    grads = {"W": np.array([[-7.0, 0.5], [3.0, 9.0]])}
    assert clip_by_value(grads, 5.0) == 2
    np.testing.assert_array_equal(grads["W"], [[-5.0, 0.5], [3.0, 5.0]])
    with pytest.raises(ValueError, match="limit must be positive"):
        clip_by_value(grads, 0)


@pytest.mark.parametrize(
    ("name", "options", "active"),
    [
        ("sgd", {}, ()),
        ("sgd", {"momentum": 0.9}, ("velocity",)),
        ("adagrad", {}, ("cache",)),
        ("rmsprop", {}, ("mean_square",)),
        ("rmsprop", {"momentum": 0.5}, ("mean_square", "momentum")),
        ("adam", {}, ("m", "v")),
    ],
)
def test_active_slots_are_the_ones_a_step_fills(name, options, active):
    optimizer = build_optimizer(name, **options)
    assert optimizer.active_slots() == active
    params = {"w": np.ones(3), "b": np.zeros(2)}
    optimizer.step(params, {"w": np.full(3, 0.5), "b": np.ones(2)})
    filled = {slot for slot, arrays in optimizer.slots.items() if set(arrays) == set(params)}
    assert filled == set(active)


@pytest.mark.parametrize(("name", "slot"), [("adagrad", "cache"), ("rmsprop", "mean_square"), ("adam", "v")])
def test_a_negative_sum_of_squares_is_refused(name, slot):
    with pytest.raises(OptimizerError, match=f"'{slot}/w' has negative values"):
        build_optimizer(name).load_state_dict({f"{slot}/w": np.array([1.0, -1e-3])})
