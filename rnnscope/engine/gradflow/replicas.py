"""One sequence of a batch copied into many batch rows: one forward and one backward then give many
vector-Jacobian products at once (one per row), through the model's own code."""

from __future__ import annotations

import numpy as np

from rnnscope.engine.models.base import RecurrentModel, State


def replicated(array: np.ndarray, row: int, copies: int) -> np.ndarray:
    """Batch row ``row`` of the time-major ``array`` ``(T, B, ...)`` as ``(T, copies, ...)``."""
    one = array[:, row : row + 1]
    return np.ascontiguousarray(np.repeat(one, copies, axis=1))


def replicated_state(state: State, copies: int) -> State:
    """Every ``(1, ...)`` entry of ``state`` as ``(copies, ...)``."""
    return {name: np.ascontiguousarray(np.repeat(value, copies, axis=0)) for name, value in state.items()}


def state_row(model: RecurrentModel, state: State | None, row: int, batch: int) -> State:
    """Batch row ``row`` of ``state`` (zeros when None), kept ``(1, ...)``."""
    full = model.initial_state(batch) if state is None else model.check_state(state, batch)
    return {name: value[row : row + 1].copy() for name, value in full.items()}


def check_row(inputs: np.ndarray, row: int) -> None:
    """A clear error for a batch row ``inputs`` ``(T, B, D)`` does not have."""
    if not 0 <= row < inputs.shape[1]:
        raise ValueError(f"batch row {row} is outside the batch's 0..{inputs.shape[1] - 1}")
