"""Loss evaluators: the numerical side of the gradient check.

An evaluator answers "what is the loss if tensor ``name`` (a parameter, the
inputs or a state entry) had these values?" for many perturbations at once.
:class:`InPlaceEvaluator` writes each perturbation into the arrays themselves,
calls the loss and writes the old value back (bit-exact: the saved element is
assigned, never ``x + h - h``); :func:`naive_evaluator` is that evaluator over
a model's parameters and the check's copies of the inputs and initial state,
the reference the fast evaluators in :mod:`rnnscope.engine.gradcheck.fast` must
match with many perturbed copies in one batched forward.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

import numpy as np

from rnnscope.engine.gradcheck.tensors import CheckBatch, perturbable_arrays
from rnnscope.engine.models.base import RecurrentModel


class LossEvaluator(Protocol):
    """What the checker needs from an evaluator."""

    @property
    def name(self) -> str:
        """How the losses are computed (``"naive"``, ``"fast"``, ...), recorded in the result."""
        ...

    @property
    def chunk(self) -> int:
        """How many perturbations to hand over per call (progress and cancel granularity)."""
        ...

    def base_loss(self) -> float:
        """The loss at the unperturbed values."""
        ...

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Loss ``(K,)`` with ``tensor[name].flat[indices[k]] = values[k]`` (one element at a time)."""
        ...

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        """Loss ``(K,)`` with ``tensor[name] = tensors[k]`` (the whole tensor replaced)."""
        ...


class InPlaceEvaluator:
    """``loss()`` once per perturbation, each written into the array it reads and then undone.

    ``arrays`` maps a name to the array ``loss`` reads (perturbed in place, so it
    must be contiguous: a model's parameters, or the array of a scalar function).
    """

    name = "naive"
    chunk = 64

    def __init__(self, loss: Callable[[], float], arrays: Mapping[str, np.ndarray]) -> None:
        self._loss = loss
        self._arrays = arrays

    def base_loss(self) -> float:
        return float(self._loss())

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        array = self._arrays[name]
        flat = array.reshape(-1)
        if not np.shares_memory(flat, array):
            raise ValueError(f"{name!r} is not contiguous; cannot perturb it in place")
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
        array = self._arrays[name]
        saved = array.copy()
        out = np.empty(len(tensors), dtype=np.float64)
        try:
            for k, tensor in enumerate(tensors):
                array[...] = tensor
                out[k] = self._loss()
        finally:
            array[...] = saved
        return out


def naive_evaluator(model: RecurrentModel, batch: CheckBatch) -> InPlaceEvaluator:
    """One ``model.loss`` call per perturbation, on the model's own parameter arrays and the
    check's copies of the inputs and the initial state (see :mod:`~rnnscope.engine.gradcheck.tensors`)."""

    def loss() -> float:
        return model.loss(batch.inputs, batch.targets, batch.mask, batch.state)

    return InPlaceEvaluator(loss, perturbable_arrays(model, batch))


class CountingEvaluator:
    """An evaluator that counts the losses it hands out (refined steps and probes included)."""

    def __init__(self, inner: LossEvaluator) -> None:
        self.inner = inner
        self.count = 0

    @property
    def name(self) -> str:
        return self.inner.name

    @property
    def chunk(self) -> int:
        return self.inner.chunk

    def base_loss(self) -> float:
        return self.inner.base_loss()

    def element_losses(self, name: str, indices: np.ndarray, values: np.ndarray) -> np.ndarray:
        self.count += len(values)
        return self.inner.element_losses(name, indices, values)

    def dense_losses(self, name: str, tensors: np.ndarray) -> np.ndarray:
        self.count += len(tensors)
        return self.inner.dense_losses(name, tensors)
