"""What to perturb in one tensor: which elements (or directions), grouped by gate slice.

A plan is made per tensor from its analytic gradient, its gate slices and the
options. Elements in no gate slice (or every element of an unfused tensor) form
one more group, labelled ``None``; every group is sampled (or gets its
directions) on its own, so every gate sub-row is judged. Each tensor draws from
its own random stream (seed and name), so checking a subset of tensors picks the
same elements.
"""

from __future__ import annotations

import dataclasses
import zlib
from dataclasses import dataclass, field

import numpy as np

from rnnscope.engine.gradcheck.options import CheckOptions
from rnnscope.engine.params import GateSlice


@dataclass(frozen=True)
class TensorPlan:
    """The ``K`` checks of one tensor.

    ``indices`` ``(K,)``: flat index of each checked element (``-1`` for every
    check in directional mode); ``gates``: the gate slice of each check (``None``
    outside any slice); ``directions`` ``(K, *shape)``: unit directions in
    directional mode, else ``None``.
    """

    indices: np.ndarray
    gates: tuple[str | None, ...]
    directions: np.ndarray | None = None
    # per group (gate slice, or None for the rest): the largest |analytic value| a check of it can
    # have -- max |gradient| over the slice's elements, or the gradient's norm over the slice for
    # directions -- which sets the slice's floor
    scales: dict[str | None, float] = field(default_factory=dict)

    @property
    def count(self) -> int:
        return len(self.gates)


def plan_tensor(
    name: str, grad: np.ndarray, slices: dict[str, GateSlice], options: CheckOptions
) -> TensorPlan:
    """The plan for tensor ``name`` whose analytic gradient is ``grad`` (any shape)."""
    magnitude = np.abs(np.asarray(grad, dtype=np.float64).reshape(-1))
    groups = _groups(grad.shape, slices)
    if options.mode == "directional":
        norms = {gate: float(np.linalg.norm(magnitude[members])) for gate, members in groups}
        plan = _direction_plan(grad.shape, groups, options.directions, _rng(options.seed, name))
        return dataclasses.replace(plan, scales=norms)
    largest = {gate: float(magnitude[members].max(initial=0.0)) for gate, members in groups}
    if options.mode == "full":
        indices = np.arange(grad.size, dtype=np.int64)
        return TensorPlan(indices, _gate_of_elements(grad.shape, slices), scales=largest)
    plan = _sample_plan(magnitude, groups, options.samples, _rng(options.seed, name))
    return dataclasses.replace(plan, scales=largest)


def _rng(seed: int, name: str) -> np.random.Generator:
    # a stream per tensor, so checking a subset of tensors picks the same elements
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(name.encode())])


def _gate_of_elements(shape: tuple[int, ...], slices: dict[str, GateSlice]) -> tuple[str | None, ...]:
    size = int(np.prod(shape, dtype=np.int64))
    if not slices:
        return (None,) * size
    labels = np.empty(shape, dtype=object)
    for gate, piece in slices.items():
        labels[piece.index(len(shape))] = gate
    return tuple(labels.reshape(-1))


def _groups(shape: tuple[int, ...], slices: dict[str, GateSlice]) -> list[tuple[str | None, np.ndarray]]:
    """``(gate, flat indices of its elements)`` per gate slice, then the elements in none."""
    flat_ids = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.int64).reshape(shape)
    groups: list[tuple[str | None, np.ndarray]] = []
    covered = np.zeros(shape, dtype=bool)
    for gate, piece in slices.items():
        where = piece.index(len(shape))
        groups.append((gate, flat_ids[where].reshape(-1)))
        covered[where] = True
    if not covered.all():
        groups.append((None, flat_ids[~covered]))
    return groups


def _direction_plan(
    shape: tuple[int, ...],
    groups: list[tuple[str | None, np.ndarray]],
    directions: int,
    rng: np.random.Generator,
) -> TensorPlan:
    size = int(np.prod(shape, dtype=np.int64))
    units: list[np.ndarray] = []
    gates: list[str | None] = []
    for gate, members in groups:
        for _ in range(directions):
            u = np.zeros(size)
            v = rng.standard_normal(len(members))
            u[members] = v / np.linalg.norm(v)
            units.append(u.reshape(shape))
            gates.append(gate)
    return TensorPlan(np.full(len(units), -1, dtype=np.int64), tuple(gates), np.stack(units))


def _sample_plan(
    magnitude: np.ndarray,
    groups: list[tuple[str | None, np.ndarray]],
    samples: int,
    rng: np.random.Generator,
) -> TensorPlan:
    """``samples`` elements per group, always including the group's largest ``magnitude``."""
    indices: list[np.ndarray] = []
    gates: list[str | None] = []
    for gate, members in groups:
        if len(members) <= samples:
            chosen = members
        else:
            largest = members[int(np.argmax(magnitude[members]))]
            rest = members[members != largest]
            chosen = np.concatenate([[largest], rng.choice(rest, size=samples - 1, replace=False)])
        indices.append(np.asarray(chosen, dtype=np.int64))
        gates.extend([gate] * len(chosen))
    return TensorPlan(np.concatenate(indices), tuple(gates))
