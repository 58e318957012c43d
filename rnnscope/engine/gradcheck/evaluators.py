"""Loss evaluators: the numerical side of the gradient check.

An evaluator answers "what is the loss if parameter ``name`` had these values?"
for many perturbations at once. :class:`NaiveEvaluator` writes each perturbation
into the model's own arrays, runs ``model.loss`` and writes the old value back
(bit-exact: the saved element is assigned, never ``x + h - h``). The fast
evaluators in :mod:`rnnscope.engine.gradcheck.fast` compute the same losses with
many perturbed copies in one batched forward.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import numpy as np

from rnnscope.engine.models.base import RecurrentModel, State


class LossEvaluator(Protocol):
    """What the checker needs from an evaluator."""

    name: str
    chunk: int  # how many perturbations to hand over per call (progress/cancel granularity)

    def base_loss(self) -> float:
        """The loss at the unperturbed parameters."""

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Loss ``(K,)`` with ``params[name].flat[indices[k]] = values[k]`` (one element at a time)."""

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """Loss ``(K,)`` with ``params[name] = tensors[k]`` (whole tensor replaced)."""


class NaiveEvaluator:
    """Two ``model.loss`` calls per element: the reference the fast paths must match."""

    name = "naive"
    chunk = 64

    def __init__(
        self,
        model: RecurrentModel,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None,
        state: State | None,
    ) -> None:
        self.model = model
        self._loss: Callable[[], float] = lambda: model.loss(inputs, targets, mask, state)

    def base_loss(self) -> float:
        return float(self._loss())

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        array = self.model.params[name]
        flat = array.reshape(-1)
        if not np.shares_memory(flat, array):  # pragma: no cover - engine params are contiguous
            raise ValueError(f"parameter {name!r} is not contiguous; cannot perturb it in place")
        out = np.empty(len(indices), dtype=np.float64)
        for k, (index, value) in enumerate(zip(indices.tolist(), values.tolist(), strict=True)):
            old = flat[index]
            flat[index] = value
            try:
                out[k] = self._loss()
            finally:
                flat[index] = old
        return out

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        array = self.model.params[name]
        saved = array.copy()
        out = np.empty(len(tensors), dtype=np.float64)
        try:
            for k, tensor in enumerate(tensors):
                array[...] = tensor
                out[k] = self._loss()
        finally:
            array[...] = saved
        return out


class FunctionEvaluator:
    """Evaluates a scalar function ``f()`` of one array that is perturbed in place (for tests and tools)."""

    name = "naive"
    chunk = 64

    def __init__(self, f: Callable[[], float], name: str, array: np.ndarray) -> None:
        self.f = f
        self.array = array
        self.array_name = name

    def base_loss(self) -> float:
        return float(self.f())

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        flat = self.array.reshape(-1)
        if not np.shares_memory(flat, self.array):
            raise ValueError(f"{name!r} is not contiguous; cannot perturb it in place")
        out = np.empty(len(indices), dtype=np.float64)
        for k, (index, value) in enumerate(zip(indices.tolist(), values.tolist(), strict=True)):
            old = flat[index]
            flat[index] = value
            try:
                out[k] = self.f()
            finally:
                flat[index] = old
        return out

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        saved = self.array.copy()
        out = np.empty(len(tensors), dtype=np.float64)
        try:
            for k, tensor in enumerate(tensors):
                self.array[...] = tensor
                out[k] = self.f()
        finally:
            self.array[...] = saved
        return out
