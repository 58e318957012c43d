"""Temporal linkage: the link matrix, precedence and the forward/backward weightings.

``L[i,j] = (1 - w_w[i] - w_w[j]) L_{t-1}[i,j] + w_w[i] p_{t-1}[j]`` with ``L[i,i] = 0``
(``L[i, j]``: how much slot ``i`` was written right after slot ``j``),
``p = (1 - sum(w_w)) p_{t-1} + w_w``, and for each read head
``fw = L w_r_{t-1}``, ``bw = L^T w_r_{t-1}``. The link update is ``O(N^2)`` per
row and a handful of whole-array operations.
"""

from __future__ import annotations

import numpy as np


def _zero_diagonal(square: np.ndarray) -> np.ndarray:
    """Set the diagonal of every ``(N, N)`` matrix of ``square`` ``(B, N, N)`` to 0, in place."""
    slots = square.shape[-1]
    square.reshape(square.shape[0], slots * slots)[:, :: slots + 1] = 0.0
    return square


def link_forward(
    link_prev: np.ndarray,
    write_weighting: np.ndarray,
    precedence_prev: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """The new link matrix ``(B, N, N)`` from ``L_{t-1}`` ``(B, N, N)``, ``w_w``, ``p_{t-1}`` ``(B, N)``.

    ``out`` may be a ``(B, N, N)`` buffer (not ``link_prev``) to write the result into.
    """
    w = write_weighting
    link = np.subtract(1.0 - w[:, :, None], w[:, None, :], out=out)
    link *= link_prev
    link += w[:, :, None] * precedence_prev[:, None, :]
    return _zero_diagonal(link)


def link_backward(
    dlink: np.ndarray,
    link_prev: np.ndarray,
    write_weighting: np.ndarray,
    precedence_prev: np.ndarray,
    overwrite: bool = False,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`link_forward`: ``(dlink_prev, dwrite_weighting, dprecedence_prev)``.

    ``overwrite=True`` lets the function use ``dlink`` as scratch space (saves a copy);
    ``out`` may be a ``(B, N, N)`` buffer (neither ``dlink`` nor ``link_prev``) for ``dlink_prev``.
    The model passes work buffers so that no step allocates a fresh ``(B, N, N)`` array.
    """
    w = write_weighting
    if not overwrite:
        dlink = dlink.copy()
    _zero_diagonal(dlink)  # the diagonal is overwritten in the forward: no gradient flows there
    weighted = np.multiply(dlink, link_prev, out=out)
    dwrite = (dlink @ precedence_prev[:, :, None])[:, :, 0]
    dwrite -= weighted.sum(axis=2)
    dwrite -= weighted.sum(axis=1)
    dprecedence = (w[:, None, :] @ dlink)[:, 0]
    # dlink_prev = (1 - w_i - w_j) * dlink, reusing the product's buffer
    dlink_prev = np.subtract(1.0 - w[:, :, None], w[:, None, :], out=weighted)
    dlink_prev *= dlink
    return dlink_prev, dwrite, dprecedence


def precedence_forward(
    precedence_prev: np.ndarray, write_weighting: np.ndarray, out: np.ndarray | None = None
) -> np.ndarray:
    """``p = (1 - sum(w_w)) p_{t-1} + w_w``; all ``(B, N)``.

    ``out`` may be a ``(B, N)`` buffer (not ``precedence_prev``) for the result.
    """
    precedence: np.ndarray = np.multiply(
        1.0 - write_weighting.sum(axis=1, keepdims=True), precedence_prev, out=out
    )
    precedence += write_weighting
    return precedence


def precedence_backward(
    dprecedence: np.ndarray, precedence_prev: np.ndarray, write_weighting: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`precedence_forward`: ``(dprecedence_prev, dwrite_weighting)``."""
    dprev = (1.0 - write_weighting.sum(axis=1, keepdims=True)) * dprecedence
    dwrite = dprecedence - (dprecedence * precedence_prev).sum(axis=1, keepdims=True)
    return dprev, dwrite


def directional_forward(link: np.ndarray, read_weightings_prev: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Forward and backward weightings ``(B, R, N)`` of every read head.

    ``fw[r] = L w_r[r]_{t-1}`` (the slots written after the ones read) and
    ``bw[r] = L^T w_r[r]_{t-1}`` (the slots written before).
    """
    forward = read_weightings_prev @ link.transpose(0, 2, 1)
    backward = read_weightings_prev @ link
    return forward, backward


def directional_backward(
    dforward: np.ndarray,
    dbackward: np.ndarray,
    link: np.ndarray,
    read_weightings_prev: np.ndarray,
    out: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Backward of :func:`directional_forward`: ``(dlink (B, N, N), dread_weightings_prev (B, R, N))``.

    ``out`` may be a ``(B, N, N)`` buffer for ``dlink``.
    """
    # dL = dfw^T w_r + w_r^T dbw as one (N, 2R) x (2R, N) product per row
    left = np.concatenate([dforward, read_weightings_prev], axis=1).transpose(0, 2, 1)
    right = np.concatenate([read_weightings_prev, dbackward], axis=1)
    dlink = np.matmul(left, right, out=out)
    dread = dforward @ link
    dread += dbackward @ link.transpose(0, 2, 1)
    return dlink, dread
