"""Plain data returned by the gradient checker: rows, per-tensor checks and the whole result.

These types are what the app's gradient table, the reports and the command line
read; the checker (:mod:`rnnscope.engine.gradcheck.checker`) fills them in. The
statuses and thresholds they refer to live in :mod:`rnnscope.engine.gradcheck.status`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from rnnscope.engine.gradcheck.diagnosis import Diagnosis
from rnnscope.engine.gradcheck.status import STATUS_BY_CODE, Status, Thresholds, summarise_statuses
from rnnscope.engine.gradcheck.tensor_check import TensorCheck, group_of

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
    """One line of the gradient table: a tensor, or one gate slice of a fused parameter.

    ``name`` is ``"Wx"``, ``"Wx[forget]"``, ``"inputs"`` or ``"state.h"``;
    ``parameter`` the tensor (``"Wx"``) and ``gate`` the slice (``"forget"``) or
    ``None``; ``group`` says what the tensor is (``"parameter"``, ``"input"`` or
    ``"state"``, the initial state). ``shape`` is the shape of the tensor or of the
    slice. Ranges and relative errors are over the checked elements (directions,
    in directional mode); the relative-error statistics leave out "too small"
    elements (``nan`` if every element is too small). The relative error is the
    judged one (its part beyond the numerical allowance, see
    :mod:`rnnscope.engine.gradcheck.relerr`), so 0 means "equal within the error
    bar"; ``raw_rel_err_max`` is ``max |a - n| / max(|a|, |n|, floor)`` without
    that allowance. ``resolution`` is the smallest relative error the row could
    have seen (the least ``allowance / |gradient|`` among its judged elements;
    ``nan`` if none was judged) and ``allowance_min`` the least absolute allowance
    of its checks: what a gradient must exceed to be judged at all.
    ``diagnoses`` are the likely causes found for a failing row (see
    :mod:`rnnscope.engine.gradcheck.diagnosis`; empty when the evidence supports none).
    ``worst_index`` indexes the *whole* tensor (``None`` in directional mode,
    where ``worst_direction`` numbers the direction instead). ``counts`` maps each
    status value to how many elements got it.
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
    resolution: float = float("nan")
    allowance_min: float = float("nan")
    rel_err_median: float = float("nan")
    sub_rows: list[GradRow] = field(default_factory=list)
    diagnoses: list[Diagnosis] = field(default_factory=list)

    @property
    def group(self) -> str:
        """``"parameter"``, ``"input"`` or ``"state"``."""
        return group_of(self.parameter)

    @property
    def largest(self) -> float:
        """The largest ``|analytic value|`` checked (``nan`` if nothing was)."""
        return max(abs(self.analytic_min), abs(self.analytic_max))

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL

    def to_dict(self, include_sub_rows: bool = True) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "parameter": self.parameter,
            "gate": self.gate,
            "group": self.group,
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
            "rel_err_median": self.rel_err_median,
            "raw_rel_err_max": self.raw_rel_err_max,
            "resolution": self.resolution,
            "allowance_min": self.allowance_min,
            "worst_index": None if self.worst_index is None else list(self.worst_index),
            "worst_direction": self.worst_direction,
            "worst_analytic": self.worst_analytic,
            "worst_numeric": self.worst_numeric,
            "status": self.status.value,
            "counts": dict(self.counts),
            "diagnoses": [diagnosis.to_dict() for diagnosis in self.diagnoses],
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
            resolution=_float(data.get("resolution")),
            rel_err_median=_float(data.get("rel_err_median")),
            allowance_min=_float(data.get("allowance_min")),
            status=Status(data["status"]),
            counts={str(k): int(v) for k, v in data.get("counts", {}).items()},
            sub_rows=[cls.from_dict(row) for row in data.get("sub_rows", [])],
            diagnoses=[Diagnosis.from_dict(item) for item in data.get("diagnoses", [])],
            **floats,
        )


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)


@dataclass
class GradcheckResult:
    """Everything one gradient check found, plus how it was run.

    ``rows`` has one :class:`GradRow` per checked tensor: the parameters in the
    model's order, then ``inputs`` and the initial state (``state.h``, ...), each
    with ``sub_rows`` per gate slice for fused tensors. ``tensors`` holds the
    per-element data by tensor name. ``loss_scale`` is the scale ``S`` the
    rounding allowance is measured in. ``notes`` are plain sentences about the
    check (a float32 model checked as a float64 copy, a slice whose gradient is
    negligible for the loss). ``cancelled`` is ``True`` for the partial result
    carried by :class:`GradcheckCancelled` (rows only for finished tensors).
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
    loss_scale: float = float("nan")
    notes: list[str] = field(default_factory=list)

    @property
    def status(self) -> Status:
        """The verdict of the whole check (most severe row)."""
        return summarise_statuses([row.status for row in self.rows])

    @property
    def failed(self) -> bool:
        """True when any row (or gate sub-row) failed: what makes the command exit 1."""
        return any(row.failed or any(sub.failed for sub in row.sub_rows) for row in self.rows)

    def row(self, name: str) -> GradRow:
        """The row or sub-row called ``name`` (``"Wx"``, ``"Wx[forget]"``, ``"state.h"``)."""
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
            "loss_scale": self.loss_scale,
            "notes": list(self.notes),
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
            loss_scale=_float(data.get("loss_scale")),
            notes=[str(note) for note in data.get("notes", [])],
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
    """A float32 model with ``upcast=False``: finite differences need float64."""
