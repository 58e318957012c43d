"""How the DNC chose its slots: each weighting split into the terms that make it up.

Computed from quantities the forward already recorded (no work in the time loop):

* read head ``i``: ``w_r[i] = pi[i][0] bw[i] + pi[i][1] c[i] + pi[i][2] fw[i]``, so
  :func:`read_mode_parts` returns the three terms ``(T, B, R, 3, N)`` (mode order
  ``backward, content, forward``), which sum over the mode axis to ``w_r``;
* the write head: ``w_w = g_w (g_a a + (1 - g_a) c_w)``, so :func:`write_parts` returns
  ``g_w g_a a`` and ``g_w (1 - g_a) c_w`` ``(T, B, 2, N)`` (order ``allocation,
  content``), which sum to ``w_w``.

Weightings over many slots are often near-uniform (every entry ~ ``1/N`` looks the same
on a 0..1 scale): :func:`normalise` shows them as the deviation from uniform
``w - 1/N`` or rescaled so each step's largest entry is 1.

:func:`link_path` reads the temporal link matrix ``L[i, j]`` (slot ``i`` written right
after slot ``j``) as the ordered chain of slots in the order they were written.
"""

from __future__ import annotations

from enum import StrEnum

import numpy as np

WRITE_PARTS = ("allocation", "content")
LINK_THRESHOLD = 0.1  # a link weaker than this is not followed (L entries are in 0..1)


def read_mode_parts(
    read_modes: np.ndarray, backward: np.ndarray, content: np.ndarray, forward: np.ndarray
) -> np.ndarray:
    """The three terms of every read weighting.

    ``read_modes`` ``(..., R, 3)`` (backward, content, forward); ``backward``, ``content``,
    ``forward`` ``(..., R, N)`` the directional and content weightings. Returns
    ``(..., R, 3, N)``: ``parts[..., i, m, :] = read_modes[..., i, m] * weighting_m[..., i, :]``.
    """
    stacked = np.stack([backward, content, forward], axis=-2)  # (..., R, 3, N)
    parts: np.ndarray = read_modes[..., None] * stacked
    return parts


def write_parts(
    allocation_gate: np.ndarray, write_gate: np.ndarray, allocation: np.ndarray, content: np.ndarray
) -> np.ndarray:
    """The allocation and content terms of the write weighting.

    ``allocation_gate`` ``g_a`` and ``write_gate`` ``g_w`` ``(...)``; ``allocation`` ``a`` and
    ``content`` ``c_w`` ``(..., N)``. Returns ``(..., 2, N)``: ``[g_w g_a a, g_w (1 - g_a) c_w]``.
    """
    g_a, g_w = allocation_gate[..., None], write_gate[..., None]
    return np.stack([g_w * g_a * allocation, g_w * (1.0 - g_a) * content], axis=-2)


class Normalisation(StrEnum):
    """How a weighting over ``N`` slots is drawn."""

    RAW = "raw"  # as it is, 0..1
    UNIFORM = "uniform"  # w - 1/N: the deviation from a uniform weighting, signed
    STEP_MAX = "step_max"  # w / max over slots of that step (and head): each step's peak is 1

    @property
    def label(self) -> str:
        return {"raw": "as is (0..1)", "uniform": "w − 1/N", "step_max": "÷ max of the step"}[self.value]


def normalise(weights: np.ndarray, how: Normalisation, slots: int | None = None) -> np.ndarray:
    """``weights`` ``(..., N)`` drawn as ``how`` says; ``slots`` is ``N`` (the last axis by default).

    For parts of one weighting ``(..., K, N)`` pass their sum's maximum yourself: this
    function treats the last axis alone. A step whose weights are all zero stays zero.
    """
    values = np.asarray(weights, dtype=float)
    if how is Normalisation.RAW:
        return values
    if how is Normalisation.UNIFORM:
        return values - 1.0 / (slots or values.shape[-1])
    peak = np.max(np.abs(values), axis=-1, keepdims=True)
    scaled: np.ndarray = np.divide(values, peak, out=np.zeros_like(values), where=peak > 0)
    return scaled


def link_path(link: np.ndarray, threshold: float = LINK_THRESHOLD) -> list[int]:
    """The longest chain of slots in write order read from one link matrix ``link`` ``(N, N)``.

    ``link[i, j]`` is how much slot ``i`` was written right after slot ``j``. From every
    slot with no predecessor above ``threshold`` (a chain's start), the chain follows the
    strongest successor ``argmax_i link[i, j]`` while it is above ``threshold`` and not yet
    visited; the longest chain wins (ties: the one starting at the lower slot). A matrix
    with no link above ``threshold`` gives ``[]``.
    """
    strong = link > threshold
    if not strong.any():
        return []
    has_successor = strong.any(axis=0)
    has_predecessor = strong.any(axis=1)
    starts = [int(j) for j in np.flatnonzero(has_successor & ~has_predecessor)]
    # a cycle has no start: begin it at its strongest link's source
    if not starts:
        starts = [int(np.unravel_index(np.argmax(link), link.shape)[1])]
    best: list[int] = []
    for start in starts:
        chain = [start]
        while True:
            column = link[:, chain[-1]]
            successor = int(np.argmax(column))
            if column[successor] <= threshold or successor in chain:
                break
            chain.append(successor)
        if len(chain) > len(best):
            best = chain
    return best


def describe_path(path: list[int]) -> str:
    """``"3→0→5"``, or a sentence when there is no link to follow."""
    if not path:
        return "no link yet (no two writes in a row)"
    return "→".join(str(slot) for slot in path)
