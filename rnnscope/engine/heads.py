"""Output heads: the linear read-out and its loss, forward and backward.

Every model ends in ``logits = features @ Wy + by`` over all timesteps at once,
followed by one of three losses:

``softmax_ce``
    softmax over the output units with cross-entropy against integer targets
    ``(T, B)`` (character / token prediction). Step loss ``-log p[target]`` in nats.
``sigmoid_bce``
    element-wise sigmoid with binary cross-entropy against 0/1 targets
    ``(T, B, O)`` (bit-sequence tasks), summed over the output units.
``mse``
    identity output, half the squared error ``0.5 * sum_o (y - target)^2``
    against real targets ``(T, B, O)`` (regression).

**Reduction.** The loss is *summed over timesteps (and output units) and
averaged over the batch*: ``loss = sum_{t,b} mask[t,b] * step_loss[t,b] / B``.
``mask`` ``(T, B)`` weights each step (zero where a step is not scored, e.g.
the input phase of the copy task). In many-to-one mode only the last step is
scored, which is the mask ``mask[:-1] = 0``. Per-character figures such as
bits per character divide by ``mask.sum() / B`` (see :func:`loss_per_scored_step`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

LOSSES = ("softmax_ce", "sigmoid_bce", "mse")


@dataclass
class HeadResult:
    """What a head computes from logits.

    ``loss`` is a float; ``step_loss`` ``(T, B)`` is mask-weighted;
    ``probs`` ``(T, B, O)`` are probabilities (or predictions for ``mse``);
    ``dlogits`` ``(T, B, O)`` is ``dloss/dlogits``.
    """

    loss: float
    step_loss: np.ndarray
    probs: np.ndarray
    dlogits: np.ndarray


def softmax(logits: np.ndarray) -> np.ndarray:
    """Softmax over the last axis with the maximum subtracted first (never overflows)."""
    shifted: np.ndarray = logits - logits.max(axis=-1, keepdims=True)
    np.exp(shifted, out=shifted)
    shifted /= shifted.sum(axis=-1, keepdims=True)
    return shifted


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function without overflow warnings for large ``|x|``."""
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out


def make_mask(
    steps: int,
    batch: int,
    mask: np.ndarray | None,
    many_to_one: bool,
    dtype: np.dtype | type = np.float64,
) -> np.ndarray:
    """The ``(T, B)`` loss weights: all ones, the given mask, and/or last step only."""
    if mask is None:
        out = np.ones((steps, batch), dtype=dtype)
    else:
        out = np.asarray(mask, dtype=dtype)
        if out.shape != (steps, batch):
            raise ValueError(f"mask has shape {out.shape}, expected (T, B) = {(steps, batch)}")
        out = out.copy()
    if many_to_one:
        out[:-1] = 0.0
    return out


def validate_targets(loss: str, targets: np.ndarray, steps: int, batch: int, outputs: int) -> np.ndarray:
    """Check the targets' shape and values for ``loss``; return them as an array."""
    targets = np.asarray(targets)
    if loss == "softmax_ce":
        if targets.shape != (steps, batch):
            raise ValueError(
                f"softmax_ce targets must be class indices of shape (T, B) = {(steps, batch)}, "
                f"got {targets.shape}"
            )
        if not np.issubdtype(targets.dtype, np.integer):
            raise ValueError(f"softmax_ce targets must be integers, got {targets.dtype}")
        if targets.size and (targets.min() < 0 or targets.max() >= outputs):
            raise ValueError(
                f"softmax_ce targets must lie in 0..{outputs - 1}, "
                f"got values in {targets.min()}..{targets.max()}"
            )
        return targets
    if loss in ("sigmoid_bce", "mse"):
        if targets.shape != (steps, batch, outputs):
            raise ValueError(
                f"{loss} targets must have shape (T, B, O) = {(steps, batch, outputs)}, got {targets.shape}"
            )
        return targets
    raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")


def unit_losses(loss: str, logits: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Loss of every output unit of an element-wise head: ``logits`` and ``targets`` ``(..., O)``.

    ``sigmoid_bce``: ``max(z, 0) - z y + log(1 + exp(-|z|))``, the stable form of
    binary cross-entropy on logits; ``mse``: ``0.5 (z - y)^2``.
    """
    if loss == "sigmoid_bce":
        terms: np.ndarray = np.maximum(logits, 0) - logits * targets + np.log1p(np.exp(-np.abs(logits)))
        return terms
    if loss == "mse":
        error = logits - targets
        squared: np.ndarray = 0.5 * (error * error)
        return squared
    raise ValueError(f"{loss!r} is not an element-wise loss; choose 'sigmoid_bce' or 'mse'")


def softmax_cross_entropy(sum_exp: np.ndarray, target_shifted: np.ndarray) -> np.ndarray:
    """``-log p[target]`` from its two parts, for logits shifted by any ``m`` (their maximum, say).

    ``sum_exp`` is ``sum_k exp(l_k - m)``, ``target_shifted`` is ``l_target - m``:
    ``-log p[target] = log(sum_exp) - target_shifted``.
    """
    loss: np.ndarray = np.log(sum_exp) - target_shifted
    return loss


def step_losses(loss: str, logits: np.ndarray, targets: np.ndarray, *, overwrite: bool = False) -> np.ndarray:
    """Unmasked loss of every position of ``logits`` ``(..., O)``: ``(...)``, summed over the units.

    ``targets`` are class indices ``(...)`` for ``softmax_ce`` and ``(..., O)``
    otherwise. ``overwrite=True`` lets ``softmax_ce`` work in the memory of
    ``logits`` (which it then destroys) instead of a copy.
    """
    if loss != "softmax_ce":
        if loss not in LOSSES:
            raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
        summed: np.ndarray = unit_losses(loss, logits, targets).sum(axis=-1)
        return summed
    top = logits.max(axis=-1, keepdims=True)
    if overwrite:
        shifted = logits
        shifted -= top
    else:
        shifted = logits - top
    target_shifted = _pick(shifted, targets)
    exps = np.exp(shifted, out=shifted) if overwrite else np.exp(shifted)
    return softmax_cross_entropy(exps.sum(axis=-1), target_shifted)


def _pick(values: np.ndarray, index: np.ndarray) -> np.ndarray:
    """``values[..., index[...]]``: one entry of the last axis per position (a copy)."""
    if values.ndim == 2:  # the common case, without take_along_axis's index arrays
        picked: np.ndarray = values[np.arange(len(values)), index]
        return picked
    return np.take_along_axis(values, index[..., None], axis=-1)[..., 0]


def head_forward(loss: str, logits: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> HeadResult:
    """Loss, per-step loss, probabilities and ``dloss/dlogits`` for ``logits`` ``(T, B, O)``."""
    steps, batch, _ = logits.shape
    if loss == "softmax_ce":
        probs = softmax(logits)
        dlogits = probs.copy()
        t_index, b_index = np.indices((steps, batch))
        dlogits[t_index, b_index, targets] -= 1.0
    elif loss == "sigmoid_bce":
        probs = sigmoid(logits)
        dlogits = probs - targets
    elif loss == "mse":
        probs = logits.copy()
        dlogits = logits - targets
    else:
        raise ValueError(f"unknown loss {loss!r}; choose one of {LOSSES}")
    dlogits *= (mask / batch)[..., None]
    step_loss = step_losses(loss, logits, targets) * mask
    return HeadResult(
        loss=float(step_loss.sum() / batch),
        step_loss=step_loss,
        probs=probs,
        dlogits=dlogits,
    )


def linear_forward(features: np.ndarray, weight: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """``features @ weight + bias`` for ``features`` ``(T, B, F)``, ``weight`` ``(F, O)``: ``(T, B, O)``."""
    steps, batch, width = features.shape
    out: np.ndarray = features.reshape(steps * batch, width) @ weight
    out += bias
    return out.reshape(steps, batch, weight.shape[1])


def linear_backward(
    dout: np.ndarray, features: np.ndarray, weight: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gradients ``(dfeatures (T, B, F), dweight (F, O), dbias (O,))`` of :func:`linear_forward`."""
    steps, batch, width = features.shape
    dout_2d = dout.reshape(steps * batch, -1)
    dweight = features.reshape(steps * batch, width).T @ dout_2d
    dbias = dout_2d.sum(axis=0)
    dfeatures = (dout_2d @ weight.T).reshape(steps, batch, width)
    return dfeatures, dweight, dbias


def loss_per_scored_step(loss: float, mask: np.ndarray) -> float:
    """Mean loss per scored step (nats); divide by ``ln 2`` for bits per character."""
    batch = mask.shape[1]
    scored = float(mask.sum())
    return loss * batch / scored if scored else 0.0
