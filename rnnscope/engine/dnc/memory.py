"""Writing to and reading from the memory matrix.

Write (erase, then add): ``M = M_{t-1} * (1 - w_w e^T) + w_w v^T``.
Read: ``r[i] = M^T w_r[i]`` for every head at once.
"""

from __future__ import annotations

import numpy as np


def write_forward(
    memory_prev: np.ndarray,
    write_weighting: np.ndarray,
    erase: np.ndarray,
    write_vector: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """New memory ``(B, N, W)`` from ``M_{t-1}`` ``(B, N, W)``, ``w_w`` ``(B, N)``, ``e``, ``v`` ``(B, W)``.

    ``out`` may be a ``(B, N, W)`` buffer (not ``memory_prev``) for the result.
    """
    w = write_weighting[:, :, None]
    memory: np.ndarray = np.multiply(w, erase[:, None, :], out=out)
    np.subtract(1.0, memory, out=memory)
    memory *= memory_prev
    memory += w * write_vector[:, None, :]
    return memory


def write_backward(
    dmemory: np.ndarray,
    memory_prev: np.ndarray,
    write_weighting: np.ndarray,
    erase: np.ndarray,
    write_vector: np.ndarray,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`write_forward`: ``(dmemory_prev, dwrite_weighting, derase, dwrite_vector)``."""
    w = write_weighting[:, :, None]
    dmemory_prev = 1.0 - w * erase[:, None, :]
    dmemory_prev *= dmemory
    dm_old = dmemory * memory_prev  # (B, N, W)
    # d/dw_n of M_prev[n] * (1 - w_n e) + w_n v is (v - M_prev[n] * e)
    dwrite = np.einsum("bnw,bw->bn", dmemory, write_vector)
    dwrite -= np.einsum("bnw,bw->bn", dm_old, erase)
    derase = -np.einsum("bnw,bn->bw", dm_old, write_weighting)
    dvector = np.einsum("bnw,bn->bw", dmemory, write_weighting)
    return dmemory_prev, dwrite, derase, dvector


def read_forward(memory: np.ndarray, read_weightings: np.ndarray) -> np.ndarray:
    """Read vectors ``(B, R, W)`` from memory ``(B, N, W)`` and read weightings ``(B, R, N)``."""
    reads: np.ndarray = read_weightings @ memory
    return reads


def read_backward(
    dread_vectors: np.ndarray, memory: np.ndarray, read_weightings: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`read_forward`: ``(dmemory (B, N, W), dread_weightings (B, R, N))``."""
    dmemory = read_weightings.transpose(0, 2, 1) @ dread_vectors
    dweightings = dread_vectors @ memory.transpose(0, 2, 1)
    return dmemory, dweightings
