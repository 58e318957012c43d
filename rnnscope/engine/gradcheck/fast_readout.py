"""Perturbed read-out weights need no recurrence: their losses in closed form.

Changing ``Wy[i, j]`` by ``delta`` moves only logit ``j``, by ``delta * f[..., i]``
(``f`` the features); changing ``by[j]`` moves it by ``delta``. Each new step
loss follows from the stored logits through the head's own loss functions
(:mod:`rnnscope.engine.heads`): for ``softmax_ce`` only one term of the
normaliser ``sum_k exp(l_k - m)`` changes, so it is swapped rather than
recomputed over every output unit.

Every function returns, per perturbation, ``sum over (t, b) of mask * (new step
loss - unperturbed step loss)``: the batched evaluator adds it (divided by
``B``) to the model's own loss.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.fast_base import BaseRun
from rnnscope.engine.heads import softmax_cross_entropy, step_losses, unit_losses

# numbers per (perturbations x steps*batch) block of the closed-form read-out
READOUT_NUMBERS = 2_000_000


def readout_element_changes(
    base: BaseRun, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    """Loss changes ``(K,)`` with ``Wy`` or ``by`` (``name``, of ``shape``) changed by ``delta[k]``
    at flat index ``indices[k]``, one element at a time."""
    # (K, T*B) temporaries: keep each block to a few million numbers
    block = max(1, READOUT_NUMBERS // (base.steps * base.batch))
    if len(indices) <= block:
        return _element_block(base, name, shape, indices, delta)
    return np.concatenate(
        [
            _element_block(base, name, shape, indices[k : k + block], delta[k : k + block])
            for k in range(0, len(indices), block)
        ]
    )


def _element_block(
    base: BaseRun, name: str, shape: tuple[int, ...], indices: np.ndarray, delta: np.ndarray
) -> np.ndarray:
    rows = base.steps * base.batch
    logits = base.logits.reshape(rows, -1)
    mask = base.mask.reshape(rows)
    if name == "Wy":
        unit, column = np.divmod(indices, shape[1])
        shift = delta[:, None] * base.features.reshape(rows, -1)[:, unit].T  # (K, rows)
    else:
        column = indices
        shift = np.broadcast_to(delta[:, None], (len(indices), rows))
    old = logits[:, column].T  # (K, rows)
    new = old + shift
    if base.loss_kind == "softmax_ce":
        top = logits.max(axis=-1)
        total = np.exp(logits - top[:, None]).sum(axis=-1)
        # only logit `column` moved: swap its term in the normaliser
        moved = total[None] - np.exp(old - top[None]) + np.exp(new - top[None])
        targets = base.targets.reshape(rows)
        hit = targets[None, :] == column[:, None]
        target_logit = np.where(hit, new, logits[np.arange(rows), targets][None])
        change = softmax_cross_entropy(moved, target_logit - top[None]) - base.step_loss.reshape(rows)[None]
    else:
        # element-wise heads: only unit `column`'s term of the step loss changes
        targets = base.targets.reshape(rows, -1)[:, column].T
        change = unit_losses(base.loss_kind, new, targets) - unit_losses(base.loss_kind, old, targets)
    summed: np.ndarray = (change * mask[None]).sum(axis=1)
    return summed


def readout_dense_changes(base: BaseRun, name: str, delta: np.ndarray) -> np.ndarray:
    """Loss changes ``(K,)`` with the whole of ``Wy`` or ``by`` changed by ``delta[k]`` (``(K, *shape)``)."""
    count = len(delta)
    if name == "Wy":
        features = np.broadcast_to(base.features, (count, *base.features.shape))
        logits = base.logits[None] + features @ delta[:, None]
    else:
        logits = base.logits[None] + delta[:, None, None, :]
    targets = np.broadcast_to(base.targets, (count, *base.targets.shape))
    step_loss = step_losses(base.loss_kind, logits, targets)  # (K, T, B)
    change = (step_loss - base.step_loss[None]) * base.mask[None]
    summed: np.ndarray = change.reshape(count, -1).sum(axis=1)
    return summed
