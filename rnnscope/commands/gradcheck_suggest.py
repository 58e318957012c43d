"""Where a negligible slice is not negligible: a check setting to suggest for it.

When a row of the check is negligible -- every element below its numerical
allowance -- the command tries a few other settings of the same check, from the
cheapest: a larger step (the rounding part of the allowance falls as ``1 / h``),
shorter or longer sequences (``--length``: a gradient that vanishes over time
wants fewer steps, a memory that is barely used more), another seed (another
initialisation and batch). For each it runs one forward
and backward pass, no differences: the row's largest analytic gradient against
the rounding allowance of that setting (``1.5 noise eps S / h``, see
:mod:`rnnscope.engine.gradcheck.relerr`). Of the settings that lift every
negligible row (with a gradient not exactly zero) at least ``COMFORT`` times
above its allowance, the one with the widest margin is suggested, with its numbers.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from rnnscope.commands.argtypes import UsageError
from rnnscope.engine.gradcheck import GradcheckResult, GradRow, negligible_rows
from rnnscope.engine.gradcheck.negligible import COMFORT, LARGEST_STEP
from rnnscope.engine.gradcheck.relerr import noise_level
from rnnscope.engine.gradcheck.scale import loss_scale
from rnnscope.engine.gradcheck.tensors import INPUTS, STATE_PREFIX
from rnnscope.engine.models.base import Gradients, RecurrentModel
from rnnscope.engine.params import split_name
from rnnscope.engine.tasks import Batch

Builder = Callable[..., tuple[RecurrentModel, Batch]]


@dataclass(frozen=True)
class Suggestion:
    """Settings (``{option: value}``) under which ``largest[row]`` exceeds ``allowance`` ``COMFORT`` times."""

    changes: dict[str, Any]
    largest: dict[str, float]
    allowance: float

    def options(self) -> str:
        """``--length 26 --step 0.01``: the options to add."""
        return " ".join(f"--{key.replace('_', '-')} {value:g}" for key, value in self.changes.items())

    def text(self) -> str:
        rows = ", ".join(f"{value:.2e} for {name}" for name, value in self.largest.items())
        return (
            f"suggestion: try {self.options()}: there the largest |gradient| is {rows}, against a rounding "
            f"allowance of {self.allowance:.2e}"
        )


def suggest(result: GradcheckResult, args: argparse.Namespace, build: Builder) -> Suggestion | None:
    """The setting under which every negligible row of ``result`` is judged with the widest margin
    (at least ``COMFORT`` times its allowance), or None."""
    rows = [row for row in negligible_rows(result.rows) if row.largest > 0]
    if not rows:
        return None
    best: tuple[float, Suggestion] | None = None
    for changes in _candidates(args, result.step):
        try:
            model, batch = build(args, **{k: v for k, v in changes.items() if k != "step"})
        except UsageError:
            continue  # e.g. a task that takes no --length
        step = float(changes.get("step", result.step))
        largest, allowance = _measure(model, batch, rows, step, result)
        margin = min(largest.values()) / allowance if allowance > 0 else 0.0
        if margin >= COMFORT and (best is None or margin > best[0]):
            best = (margin, Suggestion(changes, largest, allowance))
    return None if best is None else best[1]


def _candidates(args: argparse.Namespace, step: float) -> list[dict[str, Any]]:
    """From the cheapest change: larger steps, shorter and longer sequences (a gradient that
    vanishes over time wants fewer steps, a memory that is barely used more), other seeds."""
    out: list[dict[str, Any]] = [{"step": step * k} for k in (10, 100) if step * k <= LARGEST_STEP]
    lengths = (
        (8, 16, 32, 64) if args.length is None else (args.length // 4, args.length // 2, 2 * args.length)
    )
    out += [{"length": n} for n in lengths if n >= 2 and n != args.length]
    out += [{"seed": args.seed + k} for k in (1, 2, 3)]
    return out


def _measure(
    model: RecurrentModel, batch: Batch, rows: list[GradRow], step: float, result: GradcheckResult
) -> tuple[dict[str, float], float]:
    """Each row's largest |analytic gradient| under the new setting, and the rounding allowance."""
    if model.dtype != np.float64:
        model = type(model)(model.config, model.params.astype("float64"))
    inputs = np.asarray(batch.inputs, dtype=np.float64)
    _, grads, forward = model.loss_and_gradients(inputs, batch.targets, batch.mask)
    scale = loss_scale(model, forward)
    allowance = 1.5 * float(noise_level(scale, step, result.thresholds))
    return {row.name: _largest(model, grads, row) for row in rows}, allowance


def _largest(model: RecurrentModel, grads: Gradients, row: GradRow) -> float:
    name, gate = split_name(row.name)
    if name == INPUTS:
        gradient = grads.inputs
    elif name.startswith(STATE_PREFIX):
        gradient = grads.initial_state.get(name.removeprefix(STATE_PREFIX))
    else:
        gradient = grads.params.get(name)
    if gradient is None:
        return 0.0
    piece = model.params.gate_slices(name).get(gate) if gate is not None and name in model.params else None
    if piece is not None:
        gradient = gradient[piece.index(gradient.ndim)]
    return float(np.abs(gradient).max(initial=0.0))
