"""Batched loss evaluators that compute the naive loop's central differences faster."""

from __future__ import annotations

import numpy as np

from rnnscope.engine.gradcheck.evaluators import LossEvaluator
from rnnscope.engine.models.base import RecurrentModel, State


def fast_evaluator(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
) -> LossEvaluator | None:
    """A batched evaluator for ``model``, or ``None`` when there is none for its class."""
    return None
