"""What a check perturbs: the model's parameters, the inputs and every entry of the initial state.

The inputs and the state are the check's own float64 copies (never the caller's
arrays), passed to the model's loss every time, so perturbing them in place is
perturbing what the model reads. Their rows are named ``inputs`` ``(T, B, D)``
and ``state.<key>`` (``state.h``, ``state.c``, the DNC's ``state.memory``,
``state.usage``, ``state.link``, ...), after the parameters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.models.base import Gradients, RecurrentModel, State
from rnnscope.engine.params import GateSlice

INPUTS = "inputs"
STATE_PREFIX = "state."


@dataclass(frozen=True)
class CheckBatch:
    """The batch a check runs on: ``inputs`` ``(T, B, D)`` float64, ``targets`` ``(T, B)`` class
    indices or ``(T, B, O)`` float64, ``mask`` ``(T, B)`` or None, and ``state``: every entry of
    the model's initial state (zeros where none was given). All are the check's own copies."""

    inputs: np.ndarray
    targets: np.ndarray
    mask: np.ndarray | None
    state: State


@dataclass(frozen=True)
class CheckedTensor:
    """One tensor a check can perturb: the ``array`` the loss reads (perturbed in place), its
    analytic gradient ``analytic`` (same shape) and its gate slices (empty if it has none)."""

    array: np.ndarray
    analytic: np.ndarray
    slices: dict[str, GateSlice]


def check_batch(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None,
    state: State | None,
) -> CheckBatch:
    """Private float64 copies of a batch for ``model`` (a float64 model); integer targets (class
    indices) stay integers; a missing ``state`` becomes the model's zero state."""
    x = np.array(inputs, dtype=np.float64)
    if x.ndim != 3:
        raise ValueError(f"inputs must be time-major (T, B, D), got shape {x.shape}")
    y = np.asarray(targets)
    y = y.copy() if np.issubdtype(y.dtype, np.integer) else np.array(y, dtype=np.float64)
    weights = None if mask is None else np.array(mask, dtype=np.float64)
    batch = x.shape[1]
    given = model.initial_state(batch) if state is None else model.check_state(state, batch)
    copied = {key: np.array(value, dtype=np.float64) for key, value in given.items()}
    return CheckBatch(x, y, weights, copied)


def perturbable_arrays(model: RecurrentModel, batch: CheckBatch) -> dict[str, np.ndarray]:
    """Every array an evaluator may perturb, by row name: parameters, ``inputs``, ``state.<key>``."""
    arrays: dict[str, np.ndarray] = dict(model.params.items())
    arrays[INPUTS] = batch.inputs
    arrays.update({STATE_PREFIX + key: value for key, value in batch.state.items()})
    return arrays


def checked_tensors(
    model: RecurrentModel, batch: CheckBatch, grads: Gradients, with_inputs: bool
) -> dict[str, CheckedTensor]:
    """The tensors to check, in table order: every parameter, then (``with_inputs``) the inputs and
    each state entry whose gradient the model's backward returns."""
    out = {
        name: CheckedTensor(model.params[name], _float64(grads.params[name]), model.params.gate_slices(name))
        for name in model.params
    }
    if not with_inputs:
        return out
    if grads.inputs is not None:
        out[INPUTS] = CheckedTensor(batch.inputs, _float64(grads.inputs), {})
    out.update(_state_tensors(batch.state, grads.initial_state))
    return out


def _state_tensors(state: State, gradient: Mapping[str, np.ndarray]) -> dict[str, CheckedTensor]:
    return {
        STATE_PREFIX + key: CheckedTensor(value, _float64(gradient[key]), {})
        for key, value in state.items()
        if gradient.get(key) is not None and np.shape(gradient[key]) == value.shape
    }


def _float64(array: np.ndarray) -> np.ndarray:
    return np.array(array, dtype=np.float64)
