"""Dynamic memory allocation: retention, usage and the allocation weighting.

``psi = prod_i (1 - f[i] * w_r[i]_{t-1})`` (retention: how much each slot is
kept after the free gates release what was read), ``u = (u_{t-1} + w_w_{t-1} -
u_{t-1} * w_w_{t-1}) * psi`` (usage) and, with ``phi`` the slots sorted by usage
ascending, ``a[phi[j]] = (1 - u[phi[j]]) * prod_{i<j} u[phi[i]]`` (allocation).

The sort is piecewise constant: the backward holds the forward's permutation
fixed (exact wherever no two usages tie). Unlike the reference code, gradients
flow through the usage. The allocation backward is ``O(N)`` per row and safe for
usages of exactly 0 (the usual case at the start of a sequence) and for products
that underflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TINY = 1e-250  # products of usages below this are treated as underflowed (see allocation_backward)


def _exclusive_products(terms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Products of the other factors along axis 1 without division: ``(left, right)``.

    ``terms`` ``(B, R, N)``; ``left[:, i] = prod_{k<i} terms[:, k]`` and
    ``right[:, i] = prod_{k>i} terms[:, k]``, so ``left * right`` excludes factor ``i``.
    """
    left = np.ones_like(terms)
    right = np.ones_like(terms)
    if terms.shape[1] > 1:
        np.cumprod(terms[:, :-1], axis=1, out=left[:, 1:])
        right[:, :-1] = np.cumprod(terms[:, :0:-1], axis=1)[:, ::-1]
    return left, right


def retention_forward(
    free_gates: np.ndarray, read_weightings_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """``psi`` ``(B, N)`` from free gates ``(B, R)`` and the previous read weightings ``(B, R, N)``.

    Returns ``(psi, terms)`` where ``terms`` ``(B, R, N)`` are the factors ``1 - f[i] w_r[i]``.
    """
    terms = 1.0 - free_gates[:, :, None] * read_weightings_prev
    return terms.prod(axis=1), terms


def retention_backward(
    dpsi: np.ndarray, terms: np.ndarray, free_gates: np.ndarray, read_weightings_prev: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`retention_forward`: ``(dfree_gates (B, R), dread_weightings_prev (B, R, N))``."""
    left, right = _exclusive_products(terms)
    dterms = dpsi[:, None, :] * left * right  # safe when a factor is exactly 0
    dfree = -(dterms * read_weightings_prev).sum(axis=2)
    dread = -dterms * free_gates[:, :, None]
    return dfree, dread


def usage_forward(
    usage_prev: np.ndarray,
    write_weighting_prev: np.ndarray,
    retention: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """``u = (u_{t-1} + w_w_{t-1} - u_{t-1} w_w_{t-1}) * psi``; all ``(B, N)``.

    ``out`` may be a ``(B, N)`` buffer for the result.
    """
    usage: np.ndarray = np.multiply(
        usage_prev + write_weighting_prev - usage_prev * write_weighting_prev, retention, out=out
    )
    return usage


def usage_backward(
    dusage: np.ndarray, usage_prev: np.ndarray, write_weighting_prev: np.ndarray, retention: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`usage_forward`: ``(dusage_prev, dwrite_weighting_prev, dretention)``."""
    scaled = dusage * retention
    dusage_prev = scaled * (1.0 - write_weighting_prev)
    dwrite_prev = scaled * (1.0 - usage_prev)
    dretention = dusage * (usage_prev + write_weighting_prev - usage_prev * write_weighting_prev)
    return dusage_prev, dwrite_prev, dretention


@dataclass
class AllocationCache:
    """The sort of one step: ``order`` ``(B, N)`` (the permutation ``phi``), sorted usage, products."""

    order: np.ndarray  # (B, N) int: slot indices by usage ascending (stable: ties keep slot order)
    sorted_usage: np.ndarray  # (B, N)
    before: np.ndarray  # (B, N): prod_{i<j} sorted_usage[i]
    rows: np.ndarray  # (B, 1) batch indices: x[rows, order] is x in sorted order


def allocation_forward(usage: np.ndarray) -> tuple[np.ndarray, AllocationCache]:
    """Allocation weighting ``(B, N)`` from usage ``(B, N)``; sums to ``1 - prod(u) <= 1``."""
    order = np.argsort(usage, axis=1, kind="stable")
    rows = np.arange(usage.shape[0])[:, None]
    sorted_usage = usage[rows, order]
    before = np.ones_like(sorted_usage)
    np.cumprod(sorted_usage[:, :-1], axis=1, out=before[:, 1:])
    allocation = np.empty_like(usage)
    allocation[rows, order] = (1.0 - sorted_usage) * before
    return allocation, AllocationCache(order, sorted_usage, before, rows)


def allocation_backward(dallocation: np.ndarray, cache: AllocationCache) -> np.ndarray:
    """Gradient of the usage ``(B, N)`` with the permutation held fixed.

    With ``s`` the sorted usage, ``P_j = prod_{i<j} s_i`` and ``g_k = da_k (1 - s_k)``:
    ``ds_j = P_j (sum_{k>j} g_k prod_{j<i<k} s_i - da_j)``. Where ``P_{j+1} = P_j s_j`` is
    a normal number, ``P_j prod_{j<i<k} s_i = P_k / s_j``, so the sum is a suffix sum of
    ``g_k P_k`` divided by ``s_j`` (``O(N)``). Usages are sorted ascending, so the
    products only shrink: past the first ``j`` where ``P_{j+1}`` underflows (a zero usage,
    or many tiny ones) every ``P_j`` is below ``TINY`` and so is ``ds_j``, which is set to
    ``P_j * (-da_j)``; that one ``j`` gets its sum from an explicit product.
    """
    s = cache.sorted_usage
    before = cache.before
    batch, slots = s.shape
    dsorted_alloc = dallocation[cache.rows, cache.order]
    weighted = dsorted_alloc * (1.0 - s) * before  # g_k P_k
    # suffix[j] = sum_{k>j} g_k P_k
    suffix = np.zeros_like(weighted)
    suffix[:, :-1] = np.cumsum(weighted[:, :0:-1], axis=1)[:, ::-1]
    after = np.zeros_like(before)  # P_{j+1}
    after[:, :-1] = before[:, 1:]
    safe = after > TINY
    total = np.zeros_like(s)  # P_j * sum_{k>j} g_k prod_{j<i<k} s_i
    np.divide(suffix, s, out=total, where=safe)
    # the boundary: P_j normal, P_{j+1} not (at most one per row)
    boundary = ~safe & (before > TINY)
    boundary[:, -1] = False  # nothing follows the last slot
    rows, cols = np.nonzero(boundary)
    if rows.size:
        g = dsorted_alloc[rows] * (1.0 - s[rows])
        index = np.arange(slots)
        inside = index[None, :] > cols[:, None]
        factors = np.where(inside, s[rows], 1.0)
        between = np.ones_like(factors)  # prod_{j<i<k} s_i for k > j
        np.cumprod(factors[:, :-1], axis=1, out=between[:, 1:])
        total[rows, cols] = before[rows, cols] * (g * between * inside).sum(axis=1)
    dsorted = total - before * dsorted_alloc
    dusage: np.ndarray = np.empty_like(dsorted)
    dusage[cache.rows, cache.order] = dsorted
    return dusage
