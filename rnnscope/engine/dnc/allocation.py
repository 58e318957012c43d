"""Dynamic memory allocation: retention, usage and the allocation weighting.

``psi = prod_i (1 - f[i] * w_r[i]_{t-1})`` (retention: how much each slot is
kept after the free gates release what was read), ``u = (u_{t-1} + w_w_{t-1} -
u_{t-1} * w_w_{t-1}) * psi`` (usage) and, with ``phi`` the slots sorted by usage
ascending, ``a[phi[j]] = (1 - u[phi[j]]) * prod_{i<j} u[phi[i]]`` (allocation).

The sort is piecewise constant: the backward holds the forward's permutation
fixed (exact wherever no two usages tie). Unlike the reference code, gradients
flow through the usage. The allocation backward never divides by a usage (usages
are often exactly 0): it forms the products ``prod_{j<i<k} u[phi[i]]`` for all
pairs with one cumulative product of an ``(N, N)`` matrix per batch row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


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
    usage_prev: np.ndarray, write_weighting_prev: np.ndarray, retention: np.ndarray
) -> np.ndarray:
    """``u = (u_{t-1} + w_w_{t-1} - u_{t-1} w_w_{t-1}) * psi``; all ``(B, N)``."""
    return (usage_prev + write_weighting_prev - usage_prev * write_weighting_prev) * retention


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


def allocation_forward(usage: np.ndarray) -> tuple[np.ndarray, AllocationCache]:
    """Allocation weighting ``(B, N)`` from usage ``(B, N)``; sums to ``1 - prod(u) <= 1``."""
    order = np.argsort(usage, axis=1, kind="stable")
    sorted_usage = np.take_along_axis(usage, order, axis=1)
    before = np.ones_like(sorted_usage)
    np.cumprod(sorted_usage[:, :-1], axis=1, out=before[:, 1:])
    allocation = np.empty_like(usage)
    np.put_along_axis(allocation, order, (1.0 - sorted_usage) * before, axis=1)
    return allocation, AllocationCache(order, sorted_usage, before)


def allocation_backward(dallocation: np.ndarray, cache: AllocationCache) -> np.ndarray:
    """Gradient of the usage ``(B, N)`` with the permutation held fixed.

    With ``s`` the sorted usage, ``P_j = prod_{i<j} s_i`` and ``g_k = da_k (1 - s_k)``:
    ``ds_j = P_j (-da_j + sum_{k>j} g_k prod_{j<i<k} s_i)``.
    """
    s = cache.sorted_usage
    batch, slots = s.shape
    dsorted_alloc = np.take_along_axis(dallocation, cache.order, axis=1)
    g = dsorted_alloc * (1.0 - s)
    # between[b, j, k] = prod_{j<i<k} s_i for k > j (0 elsewhere): a cumprod along k of
    # s_k above the diagonal and 1 on and below it, shifted by one column.
    upper = np.triu(np.ones((slots, slots), dtype=bool), 1)
    factors = np.where(upper, s[:, None, :], 1.0)
    running = np.cumprod(factors, axis=2)
    between = np.zeros_like(running)
    between[:, :, 1:] = running[:, :, :-1]
    between *= upper
    dsorted = cache.before * (np.einsum("bjk,bk->bj", between, g) - dsorted_alloc)
    dusage = np.empty_like(dsorted)
    np.put_along_axis(dusage, cache.order, dsorted, axis=1)
    return dusage
