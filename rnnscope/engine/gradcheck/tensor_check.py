"""Every comparison made for one checked tensor: the data behind heatmaps, drill-down and reports."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.engine.gradcheck.status import STATUS_BY_CODE, Status

# what a checked tensor is: a model parameter, the inputs, or one entry of the initial state
GROUPS = ("parameter", "input", "state")


def group_of(name: str) -> str:
    """``"input"`` for ``"inputs"``, ``"state"`` for ``"state.h"`` and the like, else ``"parameter"``."""
    if name == "inputs":
        return "input"
    return "state" if name.startswith("state.") else "parameter"


@dataclass
class TensorCheck:
    """Every individual comparison made for one tensor (a parameter, the inputs, a state entry).

    ``analytic`` is the whole analytic gradient (shape ``shape``), always present.
    The ``K`` checks are described by parallel ``(K,)`` arrays:

    * ``indices``: flat index into the tensor of the checked element (``-1`` for a
      direction in directional mode);
    * ``gates``: the gate slice each check belongs to (``None`` outside any slice);
    * ``analytic_values``, ``numeric``: the two derivatives compared (for a direction,
      ``u . grad`` and the derivative along ``u``); ``numeric`` is the extrapolated
      central difference ``R12``, ``central`` the plain one at step ``h`` (``D1``);
    * ``forward``, ``backward``: the one-sided differences at ``h`` (kink detector);
    * ``noise`` and ``truncation``: the rounding and truncation parts of the numerical
      allowance (``allowance()`` is their sum; see :mod:`rnnscope.engine.gradcheck.relerr`);
    * ``floor``: the floor of each check's gate slice; ``step``: the step ``h`` each check
      was finally computed with (smaller than the option's where the differences needed it);
    * ``rel_err`` (judged, beyond the allowance), ``raw_rel_err`` (without it);
      ``status_codes`` (see :data:`STATUS_BY_CODE`).

    ``directions`` ``(K, *shape)`` holds the unit directions in directional mode
    (``None`` otherwise). ``differentiable`` is False when the loss is not
    differentiable at this point in this tensor (see
    :mod:`rnnscope.engine.gradcheck.linearity`). In full mode ``numeric_full()`` is
    the whole numerical gradient; in sampled mode it is ``nan`` where nothing was checked.
    """

    name: str
    shape: tuple[int, ...]
    analytic: np.ndarray
    indices: np.ndarray
    gates: tuple[str | None, ...]
    analytic_values: np.ndarray
    numeric: np.ndarray
    forward: np.ndarray
    backward: np.ndarray
    rel_err: np.ndarray
    status_codes: np.ndarray
    floor: np.ndarray
    noise: np.ndarray
    raw_rel_err: np.ndarray
    directions: np.ndarray | None = None
    central: np.ndarray | None = None
    truncation: np.ndarray | None = None
    differentiable: bool = True
    step: np.ndarray | None = None

    @property
    def group(self) -> str:
        """``"parameter"``, ``"input"`` or ``"state"``."""
        return group_of(self.name)

    @property
    def statuses(self) -> list[Status]:
        return [STATUS_BY_CODE[int(code)] for code in self.status_codes]

    def allowance(self) -> np.ndarray:
        """``(K,)``: how far each numerical value may be from the true derivative (rounding + truncation)."""
        truncation = np.zeros_like(self.noise) if self.truncation is None else self.truncation
        total: np.ndarray = self.noise + truncation
        return total

    def _scatter(self, values: np.ndarray, fill: float) -> np.ndarray:
        out = np.full(int(np.prod(self.shape, dtype=np.int64)), fill, dtype=np.float64)
        elements = self.indices >= 0
        out[self.indices[elements]] = values[elements]
        return out.reshape(self.shape)

    def numeric_full(self) -> np.ndarray:
        """The numerical gradient in the tensor's shape, ``nan`` where no element was checked."""
        return self._scatter(self.numeric, np.nan)

    def rel_err_full(self) -> np.ndarray:
        """Relative errors in the tensor's shape, ``nan`` where no element was checked."""
        return self._scatter(self.rel_err, np.nan)

    def status_full(self) -> np.ndarray:
        """Status codes in the tensor's shape, ``-1`` where no element was checked."""
        return self._scatter(self.status_codes.astype(np.float64), -1.0).astype(np.int8)

    def checked_mask(self) -> np.ndarray:
        """Boolean array in the tensor's shape: ``True`` where an element was checked."""
        out = np.zeros(int(np.prod(self.shape, dtype=np.int64)), dtype=bool)
        out[self.indices[self.indices >= 0]] = True
        return out.reshape(self.shape)

    def to_dict(self) -> dict[str, Any]:
        size = len(self.rel_err)
        return {
            "name": self.name,
            "group": self.group,
            "differentiable": self.differentiable,
            "shape": list(self.shape),
            "indices": self.indices.tolist(),
            "gates": list(self.gates),
            "analytic_values": self.analytic_values.tolist(),
            "numeric": self.numeric.tolist(),
            "central": _list(self.central, size),
            "forward": self.forward.tolist(),
            "backward": self.backward.tolist(),
            "rel_err": self.rel_err.tolist(),
            "raw_rel_err": self.raw_rel_err.tolist(),
            "noise": _list(self.noise, size),
            "truncation": _list(self.truncation, size),
            "floor": _list(self.floor, size),
            "step": _list(self.step, size),
            "status": [STATUS_BY_CODE[int(c)].value for c in self.status_codes],
            "analytic": self.analytic.reshape(-1).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorCheck:
        """The inverse of :meth:`to_dict` (``None`` read as ``nan``; directions are not stored)."""
        shape = tuple(int(n) for n in data["shape"])

        def floats(key: str) -> np.ndarray:
            return np.array(data[key], dtype=np.float64).reshape(-1)

        def optional(key: str, fill: float) -> np.ndarray:
            if key not in data:
                return np.full(len(rel), fill)
            return np.broadcast_to(np.array(data[key], dtype=np.float64), rel.shape).copy()

        size = int(np.prod(shape, dtype=np.int64))
        analytic = floats("analytic") if "analytic" in data else np.full(size, np.nan)
        rel = floats("rel_err")
        return cls(
            name=str(data["name"]),
            shape=shape,
            analytic=analytic.reshape(shape),
            indices=np.array(data["indices"], dtype=np.int64).reshape(-1),
            gates=tuple(data["gates"]),
            analytic_values=floats("analytic_values"),
            numeric=floats("numeric"),
            forward=floats("forward"),
            backward=floats("backward"),
            rel_err=rel,
            status_codes=np.array([Status(v).code for v in data["status"]], dtype=np.int8),
            floor=optional("floor", np.nan),
            noise=optional("noise", 0.0),
            raw_rel_err=floats("raw_rel_err") if "raw_rel_err" in data else rel.copy(),
            central=optional("central", np.nan),
            truncation=optional("truncation", 0.0),
            differentiable=bool(data.get("differentiable", True)),
            step=optional("step", np.nan),
        )


def _list(values: np.ndarray | None, size: int) -> list[float]:
    if values is None:
        return [float("nan")] * size
    out: list[float] = np.broadcast_to(values, (size,)).tolist()
    return out
