"""Jacobian norms ``||dh_t / dh_s||`` for a target step ``t`` over the earlier steps ``s``.

The textbook picture of vanishing and exploding gradients, for the actual model and
sequence: how strongly the hidden state at ``t`` depends on the hidden state at ``s``.
``dh_t / dh_s`` is ``H x H``; its spectral norm (largest singular value) is the most any
unit-length change of ``h_s`` can move ``h_t``.

Exact, through the model's own backward (never a second implementation of its numerics):
the sequence is copied into ``H`` batch rows, row ``i`` gets the unit vector ``e_i`` as the
gradient at ``h_t``, and one call of the model's ``backward_core`` returns in its
``dhidden`` row ``i`` of every ``dh_t / dh_s`` at once (the total gradient reaching
``h_s``, with the cell or memory state of step ``s`` held). The singular values then come
from an SVD of each matrix.

Cost: one forward and one backward of batch ``H`` over the window of steps, and
``window x H x H`` numbers. The window is the ``t + 1`` steps up to ``t`` when they fit in
:data:`MEMORY_BUDGET`, otherwise the latest steps that do (the state at its start comes
from a forward of the one sequence). Above :data:`MAX_EXACT_HIDDEN` units the exact matrices
cost too much and :class:`GradFlowUnavailable` says so.

What a model must give: its read-out reads ``h_t`` as the first ``H`` columns of its
features (every built-in model; a stacked model's layers are taken one at a time through
their own ``backward_layer``), and its backward's ``dhidden`` is the total gradient
reaching ``h_t``. A step model of the user's whose state has no ``HIDDEN`` entry of ``h_t``'s
shape returns only the read-out's share, so its Jacobians are not available.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.gradflow.replicas import check_row, replicated, replicated_state, state_row
from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State
from rnnscope.engine.models.stack import LayerOutput, StackedModel
from rnnscope.engine.protocol.step import StepModel

MAX_EXACT_HIDDEN = 512  # units: above, H backward passes of H x H matrices cost too much
MEMORY_BUDGET = 2**25  # numbers the replicated forward may hold (about 16 per unit, copy and step)


class GradFlowUnavailable(ValueError):
    """A gradient-flow view that cannot be computed for this model; the message says why."""


@dataclass
class JacobianNorms:
    """``norms[k]`` ``(S,)`` = ``||dh_t / dh_s||_2`` for ``s = first + k``, ``s = first .. target``
    (NaN where the matrix holds NaN or Inf)."""

    target: int
    first: int
    norms: np.ndarray
    layer: int | None = None  # the layer of a stacked model (None: the model's one hidden state)

    @property
    def sources(self) -> np.ndarray:
        """The steps ``s`` ``(S,)`` the norms are of."""
        return np.arange(self.first, self.target + 1)


def jacobian_norms(
    model: RecurrentModel,
    inputs: np.ndarray,
    target: int,
    *,
    state: State | None = None,
    row: int = 0,
    layer: int | None = None,
    window: int | None = None,
) -> JacobianNorms:
    """The spectral norms of ``dh_t / dh_s`` for ``t = target`` and every ``s`` of the window.

    ``inputs`` ``(T, B, D)`` (batch row ``row`` is used), ``state`` the state the sequence
    starts from (zeros when None); ``layer`` picks a stacked model's layer (default: the top
    one); ``window`` caps the number of steps ``s`` (default: as many as the budget allows).
    """
    first, matrices = jacobians(model, inputs, target, state=state, row=row, layer=layer, window=window)
    # a matrix holding NaN / Inf (weights gone non-finite) has no SVD: its norm is NaN, a gap in the plot
    finite = np.isfinite(matrices).all(axis=(1, 2))
    norms = np.full(matrices.shape[0], np.nan, dtype=matrices.dtype)
    if finite.any():
        norms[finite] = np.linalg.norm(matrices[finite], ord=2, axis=(1, 2))
    return JacobianNorms(target, first, norms, _layer_of(model, layer))


def jacobians(
    model: RecurrentModel,
    inputs: np.ndarray,
    target: int,
    *,
    state: State | None = None,
    row: int = 0,
    layer: int | None = None,
    window: int | None = None,
) -> tuple[int, np.ndarray]:
    """``(first, J)``: ``J[k]`` ``(H, H)`` = ``dh_t / dh_s`` for ``s = first + k`` (``J[k][i, j]`` =
    ``dh_{t,i} / dh_{s,j}``), ``t = target``. Arguments as :func:`jacobian_norms`."""
    inputs = model.check_inputs(inputs)
    check_row(inputs, row)
    steps, batch, _ = inputs.shape
    if not 0 <= target < steps:
        raise ValueError(f"target step {target} is outside the sequence's 0..{steps - 1}")
    _check_hidden_reaches_backward(model)
    hidden = model.config.hidden_size
    if hidden > MAX_EXACT_HIDDEN:
        raise GradFlowUnavailable(
            f"Jacobian norms are computed exactly up to H = {MAX_EXACT_HIDDEN} units; "
            f"this model has H = {hidden}"
        )
    span = max(1, MEMORY_BUDGET // (16 * hidden * hidden))
    if window is not None:
        span = max(1, min(span, window))
    first = max(0, target - span + 1)
    embedded = model.embed(inputs)
    core_inputs = inputs if embedded is None else embedded
    start = state_row(model, state, row, batch)
    if first > 0:  # the state at the window's start, from the one sequence
        start = model.forward_core(core_inputs[:first, row : row + 1], start, None).final_state
    window_inputs = replicated(core_inputs[first : target + 1], row, hidden)
    core = model.forward_core(window_inputs, replicated_state(start, hidden), None)
    return first, _backward_from_target(model, core, window_inputs, layer)


def _layer_of(model: RecurrentModel, layer: int | None) -> int | None:
    layers = model.config.num_layers if model.stacked else 1
    if layers == 1:
        if layer not in (None, 0):
            raise ValueError(f"layer {layer}: the model has one layer")
        return None
    if layer is None:
        return layers - 1
    if not 0 <= layer < layers:
        raise ValueError(f"layer {layer} is outside the model's 0..{layers - 1}")
    return layer


def _check_hidden_reaches_backward(model: RecurrentModel) -> None:
    if isinstance(model, StepModel):
        name = model.HIDDEN
        if name is None or name not in model.state_shapes(1):
            raise GradFlowUnavailable(
                f"{type(model).__name__}'s state has no entry HIDDEN = {name!r} holding h_t, so its "
                "backward gives only the read-out's share of dLoss/dh_t, not the gradient from later steps"
            )


def _backward_from_target(
    model: RecurrentModel, core: CoreOutput, inputs: np.ndarray, layer: int | None
) -> np.ndarray:
    """The model's backward with ``e_i`` at ``h_t`` (the last step) in batch row ``i``: ``(S, H, H)``."""
    steps, copies = inputs.shape[:2]
    unit = np.eye(copies, dtype=model.dtype)
    chosen = _layer_of(model, layer)
    if chosen is not None and isinstance(model, StackedModel):
        outputs, layer_inputs = core.cache
        names = model.layer_names()[chosen]
        dabove = np.zeros((steps, copies, copies), dtype=model.dtype)
        dabove[-1] = unit
        out: LayerOutput = outputs[chosen]
        weights = model.layer_weights(names)
        return model.backward_layer(weights, dabove, out, layer_inputs[chosen], None, False)[3]
    width = core.hidden.shape[-1]
    if width != copies or not np.array_equal(core.features[..., :width], core.hidden, equal_nan=True):
        raise GradFlowUnavailable(
            f"{type(model).__name__}'s read-out does not read its hidden state h_t as the first "
            "columns of its features, so no gradient can be put at h_t through its backward"
        )
    dfeatures = np.zeros(core.features.shape, dtype=model.dtype)
    dfeatures[-1, :, :width] = unit
    return model.backward_core(dfeatures, core, inputs, need_inputs=False)[3]
