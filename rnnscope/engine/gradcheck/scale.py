"""The loss scale ``S``: what one evaluation of the loss is rounded against.

A loss computed in float64 is off by a few ``eps`` times the magnitudes it is
computed from, not only times its own value: a confident softmax has a step
loss near 0 computed from logits of 10 or more (``log sum exp(l) - l_target``),
and an element-wise head adds a term per output unit. So

    S = |f| + sum over (t, b) of mask[t, b] * max_o |logits[t, b, o]| / B

the loss plus what the logits of every scored step weigh in it (the same
reduction as the loss: summed over time, averaged over the batch). For a model
fresh from initialisation ``S`` is close to ``|f|``; for a trained one it can be
several times larger, which widens the rounding allowance where it must.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.heads import linear_forward
from rnnscope.engine.models.base import ForwardResult, RecurrentModel


def loss_scale(model: RecurrentModel, result: ForwardResult) -> float:
    """``S`` for one forward pass of ``model`` (see the module docstring)."""
    logits = linear_forward(result.core.features, model.params["Wy"], model.params["by"])
    batch = int(logits.shape[1])
    weight = float((np.abs(logits).max(axis=-1) * np.abs(result.mask)).sum()) / batch
    return abs(float(result.loss)) + weight
