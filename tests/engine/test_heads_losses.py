"""The heads' one loss implementation: step_losses serves head_forward and the gradient check."""

import numpy as np
import pytest

from rnnscope.engine.heads import head_forward, softmax_cross_entropy, step_losses, unit_losses


def _problem(loss, seed=0, shape=(4, 3, 5), scale=3.0):
    rng = np.random.default_rng(seed)
    logits = scale * rng.standard_normal(shape)
    if loss == "softmax_ce":
        targets = rng.integers(0, shape[-1], shape[:-1])
    elif loss == "sigmoid_bce":
        targets = (rng.random(shape) > 0.5).astype(float)
    else:
        targets = rng.standard_normal(shape)
    return logits, targets


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_head_forward_step_loss_is_step_losses_times_the_mask(loss):
    logits, targets = _problem(loss)
    mask = (np.random.default_rng(1).random(logits.shape[:2]) > 0.3).astype(float)
    head = head_forward(loss, logits, targets, mask)
    assert np.array_equal(head.step_loss, step_losses(loss, logits, targets) * mask)


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_step_losses_match_the_textbook_formulas(loss):
    logits, targets = _problem(loss, scale=1.0)
    if loss == "softmax_ce":
        probs = np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)
        expected = -np.log(np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0])
    elif loss == "sigmoid_bce":
        p = 1.0 / (1.0 + np.exp(-logits))
        expected = -(targets * np.log(p) + (1 - targets) * np.log(1 - p)).sum(axis=-1)
    else:
        expected = 0.5 * ((logits - targets) ** 2).sum(axis=-1)
    np.testing.assert_allclose(step_losses(loss, logits, targets), expected, rtol=1e-12)


@pytest.mark.parametrize("loss", ["softmax_ce", "sigmoid_bce", "mse"])
def test_any_leading_shape_and_in_place(loss):
    logits, targets = _problem(loss, shape=(2, 3, 4, 6))
    flat_logits = logits.reshape(-1, 6)
    flat_targets = targets.reshape(-1) if loss == "softmax_ce" else targets.reshape(-1, 6)
    whole = step_losses(loss, logits, targets)
    assert whole.shape == (2, 3, 4)
    np.testing.assert_array_equal(whole.reshape(-1), step_losses(loss, flat_logits, flat_targets))
    scratch = logits.copy()
    np.testing.assert_array_equal(step_losses(loss, scratch, targets, overwrite=True), whole)


def test_softmax_never_overflows_and_its_parts_give_the_loss():
    logits = np.array([[1000.0, 0.0, -1000.0]])
    assert np.isfinite(step_losses("softmax_ce", logits, np.array([1]))).all()
    shifted = logits - logits.max(axis=-1, keepdims=True)
    parts = softmax_cross_entropy(np.exp(shifted).sum(axis=-1), shifted[:, 1])
    np.testing.assert_array_equal(parts, step_losses("softmax_ce", logits, np.array([1])))


def test_unknown_losses_are_clear_errors():
    with pytest.raises(ValueError, match="unknown loss"):
        step_losses("hinge", np.zeros((2, 3)), np.zeros(2, dtype=int))
    with pytest.raises(ValueError, match="element-wise"):
        unit_losses("softmax_ce", np.zeros((2, 3)), np.zeros((2, 3)))
