"""How a gradient check is run: one options dataclass, checked when it is made.

Modes (``mode``):

``"sampled"``
    ``samples`` elements per tensor -- per *gate slice* for fused tensors, so every
    gate sub-row is judged -- chosen reproducibly from ``seed``, always including
    the element with the largest analytic gradient.
``"full"``
    every element.
``"directional"``
    ``directions`` random unit directions per tensor (per gate slice for fused
    tensors): ``u . grad`` against ``(f(x + h u) - f(x - h u)) / 2h``. Two forwards
    per direction: a fast first pass.

Step: element ``x`` is moved by ``+-h``, ``+-2h`` and ``+-4h`` with ``h = step *
max(1, |x|)`` (``relative_step=True``, the default) or ``h = step``; the three
central differences are extrapolated (see :mod:`~rnnscope.engine.gradcheck.relerr`).

Besides the parameters, the gradients of the inputs and of every entry of the
initial state are checked (``with_inputs=True``, the default): rows ``inputs`` and
``state.h``, ``state.c``, ... after the parameters.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rnnscope.engine.gradcheck.status import Thresholds

MODES = ("sampled", "full", "directional")
ENGINES = ("auto", "fast", "naive")


@dataclass(frozen=True)
class CheckOptions:
    """The settings of one gradient check (see the module docstring for the modes)."""

    mode: str = "sampled"  # "sampled" | "full" | "directional"
    samples: int = 10  # sampled mode: elements per tensor or gate slice
    directions: int = 3  # directional mode: random unit directions per tensor or gate slice
    seed: int = 0  # chooses the sampled elements and the directions
    step: float = 1e-3  # finite-difference step h (the differences use h, 2h and 4h)
    relative_step: bool = True  # h * max(1, |x|) rather than h as is
    thresholds: Thresholds = field(default_factory=Thresholds)
    upcast: bool = True  # check a float64 copy of a float32 model (False: refuse it)
    engine: str = "auto"  # "auto": a batched evaluator where one exists; "fast": insist; "naive"
    parameters: Sequence[str] | None = None  # check only these tensors (None: every one)
    with_inputs: bool = True  # also check the gradients of the inputs and of the initial state
    diagnose: bool = True  # name the likely cause of each failing row (see diagnosis_run.py)
    diagnosis_budget: int = 2000  # extra numerical derivatives the diagnoses may compute

    def __post_init__(self) -> None:
        if self.thresholds is None:  # the older keyword form accepted None for the defaults
            object.__setattr__(self, "thresholds", Thresholds())
        if self.mode not in MODES:
            raise ValueError(f"unknown mode {self.mode!r}; choose one of {MODES}")
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; choose one of {ENGINES}")
        for name in ("samples", "directions"):
            value = getattr(self, name)
            if int(value) != value or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if int(self.diagnosis_budget) != self.diagnosis_budget or self.diagnosis_budget < 0:
            raise ValueError(f"diagnosis_budget must be a whole number >= 0, got {self.diagnosis_budget!r}")
        if not (math.isfinite(self.step) and self.step > 0):
            raise ValueError(f"step must be a positive number, got {self.step!r}")
        if self.parameters is not None:
            # any sequence of names is accepted; kept as a tuple without repeats
            object.__setattr__(self, "parameters", tuple(dict.fromkeys(self.parameters)))

    def tensor_names(self, available: Mapping[str, Any]) -> list[str]:
        """The tensors to check, in the order given (every one of ``available`` by default)."""
        if self.parameters is None:
            return list(available)
        for name in self.parameters:
            if name not in available:
                raise ValueError(f"no parameter {name!r}; the check can perturb {list(available)}")
        return list(self.parameters)


def merged_options(options: CheckOptions | None, settings: Mapping[str, Any]) -> CheckOptions:
    """``options`` (the defaults if ``None``) with the keyword ``settings`` replaced."""
    base = CheckOptions() if options is None else options
    if not settings:
        return base
    return dataclasses.replace(base, **settings)
