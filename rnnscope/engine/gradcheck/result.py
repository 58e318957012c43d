"""Plain data returned by the gradient checker: rows, per-tensor checks and the whole result.

These types are what the app's gradient table, the reports and the command line
read; the checker (:mod:`rnnscope.engine.gradcheck.checker`) fills them in. The
statuses and thresholds they refer to live in :mod:`rnnscope.engine.gradcheck.status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscope.engine.gradcheck.status import STATUS_BY_CODE, Status, Thresholds, summarise_statuses

__all__ = [
    "STATUS_BY_CODE",
    "GradRow",
    "GradcheckCancelled",
    "GradcheckResult",
    "PrecisionError",
    "Status",
    "TensorCheck",
    "Thresholds",
    "summarise_statuses",
]


@dataclass
class GradRow:
    """One line of the gradient table: a parameter, or one gate slice of a fused parameter.

    ``name`` is ``"Wx"`` or ``"Wx[forget]"``; ``parameter`` the tensor (``"Wx"``)
    and ``gate`` the slice (``"forget"``) or ``None``. ``shape`` is the shape of
    the tensor or of the slice. Ranges and relative errors are over the checked
    elements (directions, in directional mode); the relative-error statistics
    leave out "too small" elements (``nan`` if every element is too small).
    The relative error is the judged one (its part beyond the rounding allowance,
    see :mod:`rnnscope.engine.gradcheck.relerr`), so 0 means "equal up to
    rounding"; ``raw_rel_err_max`` is ``max |a - n| / max(|a|, |n|, floor)``
    without that allowance. ``worst_index`` indexes the *whole* parameter tensor (``None`` in
    directional mode, where ``worst_direction`` numbers the direction instead).
    ``counts`` maps each status value to how many elements got it.
    """

    name: str
    parameter: str
    gate: str | None
    shape: tuple[int, ...]
    checked: int
    total: int
    analytic_min: float
    analytic_max: float
    numeric_min: float
    numeric_max: float
    rel_err_min: float
    rel_err_max: float
    rel_err_mean: float
    worst_index: tuple[int, ...] | None
    worst_analytic: float
    worst_numeric: float
    status: Status
    counts: dict[str, int] = field(default_factory=dict)
    worst_direction: int | None = None
    raw_rel_err_max: float = float("nan")
    sub_rows: list[GradRow] = field(default_factory=list)

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self, include_sub_rows: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "parameter": self.parameter,
            "gate": self.gate,
            "shape": list(self.shape),
            "checked": self.checked,
            "total": self.total,
            "analytic_min": self.analytic_min,
            "analytic_max": self.analytic_max,
            "numeric_min": self.numeric_min,
            "numeric_max": self.numeric_max,
            "rel_err_min": self.rel_err_min,
            "rel_err_max": self.rel_err_max,
            "rel_err_mean": self.rel_err_mean,
            "raw_rel_err_max": self.raw_rel_err_max,
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "worst_direction": self.worst_direction,
            "worst_analytic": self.worst_analytic,
            "worst_numeric": self.worst_numeric,
            "status": self.status.value,
            "counts": dict(self.counts),
        }
        if include_sub_rows:
            data["sub_rows"] = [row.to_dict() for row in self.sub_rows]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradRow:
        floats = {
            key: _float(data[key])
            for key in (
                "analytic_min",
                "analytic_max",
                "numeric_min",
                "numeric_max",
                "rel_err_min",
                "rel_err_max",
                "rel_err_mean",
                "worst_analytic",
                "worst_numeric",
            )
        }
        worst = data.get("worst_index")
        return cls(
            name=str(data["name"]),
            parameter=str(data["parameter"]),
            gate=data.get("gate"),
            shape=tuple(int(n) for n in data["shape"]),
            checked=int(data["checked"]),
            total=int(data["total"]),
            worst_index=None if worst is None else tuple(int(i) for i in worst),
            worst_direction=data.get("worst_direction"),
            raw_rel_err_max=_float(data.get("raw_rel_err_max")),
            status=Status(data["status"]),
            counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
            sub_rows=[cls.from_dict(row) for row in data.get("sub_rows", [])],
            **floats,
        )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass
class TensorCheck:
    """Every individual comparison made for one parameter tensor, for heatmaps and drill-down.

    ``analytic`` is the whole analytic gradient (shape ``shape``), always present.
    The ``K`` checks are described by parallel ``(K,)`` arrays:

    * ``indices``: flat index into the tensor of the checked element (``-1`` for a
      direction in directional mode);
    * ``gates``: the gate slice each check belongs to (``None`` for unfused tensors);
    * ``analytic_values``, ``numeric``: the two derivatives compared (for a direction,
      ``u . grad`` and the central difference along ``u``);
    * ``forward``, ``backward``: the one-sided differences used by the kink detector;
    * ``rel_err`` (judged, beyond the rounding allowance ``noise``), ``raw_rel_err``
      (without it); ``status_codes`` (see :data:`STATUS_BY_CODE`).

    ``directions`` ``(K, size)`` holds the unit directions in directional mode
    (``None`` otherwise). In full mode ``numeric_full()`` is the whole numerical
    gradient; in sampled mode it is ``nan`` where nothing was checked.
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
    floor: float
    noise: np.ndarray
    raw_rel_err: np.ndarray
    directions: np.ndarray | None = None

    @property
    def statuses(self) -> list[Status]:
        return [STATUS_BY_CODE[int(code)] for code in self.status_codes]

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
        return {
            "name": self.name,
            "shape": list(self.shape),
            "floor": self.floor,
            "indices": self.indices.tolist(),
            "gates": list(self.gates),
            "analytic_values": self.analytic_values.tolist(),
            "numeric": self.numeric.tolist(),
            "forward": self.forward.tolist(),
            "backward": self.backward.tolist(),
            "rel_err": self.rel_err.tolist(),
            "raw_rel_err": self.raw_rel_err.tolist(),
            "noise": np.broadcast_to(self.noise, self.rel_err.shape).tolist(),
            "status": [STATUS_BY_CODE[int(c)].value for c in self.status_codes],
            "analytic": self.analytic.reshape(-1).tolist(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorCheck:
        """The inverse of :meth:`to_dict` (``None`` read as ``nan``; directions are not stored)."""
        shape = tuple(int(n) for n in data["shape"])

        def floats(key: str) -> np.ndarray:
            return np.array(data[key], dtype=np.float64).reshape(-1)

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
            floor=_float(data.get("floor")),
            noise=floats("noise") if "noise" in data else np.zeros_like(rel),
            raw_rel_err=floats("raw_rel_err") if "raw_rel_err" in data else rel.copy(),
        )


@dataclass
class GradcheckResult:
    """Everything one gradient check found, plus how it was run.

    ``rows`` has one :class:`GradRow` per parameter, in the model's order, each
    with ``sub_rows`` per gate slice for fused tensors. ``tensors`` holds the
    per-element data by parameter name. ``cancelled`` is ``True`` for the partial
    result carried by :class:`GradcheckCancelled` (rows only for finished tensors).
    """

    rows: list[GradRow]
    tensors: dict[str, TensorCheck]
    model_config: dict[str, Any]
    seed: int
    mode: str
    thresholds: Thresholds
    step: float
    relative_step: bool
    samples: int
    directions: int
    loss: float
    numpy_version: str
    timestamp: str
    duration_s: float
    evaluations: int
    engine: str
    upcast: bool = False
    cancelled: bool = False

    @property
    def status(self) -> Status:
        """The verdict of the whole check (most severe row)."""
        return summarise_statuses([row.status for row in self.rows])

    @property
    def failed(self) -> bool:
        """True when any row (or gate sub-row) failed: what makes the command exit 1."""
        return any(row.failed or any(sub.failed for sub in row.sub_rows) for row in self.rows)

    def row(self, name: str) -> GradRow:
        """The row or sub-row called ``name`` (``"Wx"`` or ``"Wx[forget]"``)."""
        for row in self.all_rows():
            if row.name == name:
                return row
        raise KeyError(f"no row {name!r}; rows are {[r.name for r in self.all_rows()]}")

    def all_rows(self) -> list[GradRow]:
        """Rows and their sub-rows, flattened in display order."""
        out: list[GradRow] = []
        for row in self.rows:
            out.append(row)
            out.extend(row.sub_rows)
        return out

    def counts(self) -> dict[str, int]:
        """How many top-level rows have each status."""
        counts = {status.value: 0 for status in Status}
        for row in self.rows:
            counts[row.status.value] += 1
        return counts

    def metadata(self) -> dict[str, Any]:
        """Everything but the rows and per-element arrays (for report headers)."""
        return {
            "model_config": dict(self.model_config),
            "seed": self.seed,
            "mode": self.mode,
            "thresholds": self.thresholds.to_dict(),
            "step": self.step,
            "relative_step": self.relative_step,
            "samples": self.samples,
            "directions": self.directions,
            "loss": self.loss,
            "numpy_version": self.numpy_version,
            "timestamp": self.timestamp,
            "duration_s": self.duration_s,
            "evaluations": self.evaluations,
            "engine": self.engine,
            "upcast": self.upcast,
            "cancelled": self.cancelled,
            "status": self.status.value,
        }

    def to_dict(self, include_elements: bool = True) -> dict[str, Any]:
        data = self.metadata()
        data["rows"] = [row.to_dict() for row in self.rows]
        if include_elements:
            data["tensors"] = {name: check.to_dict() for name, check in self.tensors.items()}
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> GradcheckResult:
        """The inverse of :meth:`to_dict` (e.g. a JSON report read back)."""
        return cls(
            rows=[GradRow.from_dict(row) for row in data["rows"]],
            tensors={name: TensorCheck.from_dict(check) for name, check in data.get("tensors", {}).items()},
            model_config=dict(data["model_config"]),
            seed=int(data["seed"]),
            mode=str(data["mode"]),
            thresholds=Thresholds.from_dict(data["thresholds"]),
            step=float(data["step"]),
            relative_step=bool(data.get("relative_step", True)),
            samples=int(data.get("samples", 0)),
            directions=int(data.get("directions", 0)),
            loss=_float(data.get("loss")),
            numpy_version=str(data.get("numpy_version", "")),
            timestamp=str(data.get("timestamp", "")),
            duration_s=_float(data.get("duration_s")),
            evaluations=int(data.get("evaluations", 0)),
            engine=str(data.get("engine", "")),
            upcast=bool(data.get("upcast", False)),
            cancelled=bool(data.get("cancelled", False)),
        )


class GradcheckCancelled(Exception):
    """Raised by ``check_gradients`` when ``cancel()`` returned True.

    ``partial`` is a :class:`GradcheckResult` with ``cancelled=True`` holding the
    rows of the tensors finished before the cancellation (possibly none).
    """

    def __init__(self, partial: GradcheckResult) -> None:
        super().__init__(f"gradient check cancelled after {len(partial.rows)} parameter(s)")
        self.partial = partial


class PrecisionError(ValueError):
    """The model is float32: finite differences need float64 (pass ``upcast=True``)."""
