"""Content addressing: ``C(M, k, beta)[n] = softmax_n(beta * cos(k, M[n]))``.

Numerical safety, the failure of earlier NumPy DNCs:

* the norms are ``sqrt(|x|^2 + EPSILON)``: smooth at zero, so a zero key or a
  zero memory row has a finite gradient (a bare ``|x|`` has ``0/0`` there);
* ``cos = k.m / (|k| |m| + EPSILON)``: never divides by zero, ``|cos| < 1``;
* the softmax subtracts its maximum, so huge strengths cannot overflow;
* ``oneplus(x) = 1 + log(1 + e^x)`` through ``logaddexp``: no overflow.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPSILON = 1e-6  # the reference implementation's epsilon (deepmind/dnc addressing.py)


def oneplus(x: np.ndarray) -> np.ndarray:
    """``1 + softplus(x)`` in ``[1, inf)``; its derivative is ``sigmoid(x)``."""
    strength: np.ndarray = 1.0 + np.logaddexp(0.0, x)
    return strength


def sigmoid(x: np.ndarray) -> np.ndarray:
    """Logistic function via tanh: one transcendental call, no overflow for any ``x``."""
    return 0.5 * (1.0 + np.tanh(0.5 * x))


def stable_softmax(z: np.ndarray, axis: int = -1) -> np.ndarray:
    """Softmax with the maximum subtracted: finite for any finite ``z``."""
    shifted = z - z.max(axis=axis, keepdims=True)
    e: np.ndarray = np.exp(shifted)
    e /= e.sum(axis=axis, keepdims=True)
    return e


def softmax_backward(dy: np.ndarray, y: np.ndarray, axis: int = -1) -> np.ndarray:
    """Gradient of the softmax input from ``dy`` and the softmax output ``y``."""
    dz: np.ndarray = y * (dy - (dy * y).sum(axis=axis, keepdims=True))
    return dz


@dataclass
class ContentCache:
    """What :func:`content_backward` needs (shapes for ``B`` rows, ``K`` keys, ``N`` slots)."""

    memory: np.ndarray  # (B, N, W)
    keys: np.ndarray  # (B, K, W)
    strengths: np.ndarray  # (B, K)
    memory_norms: np.ndarray  # (B, N)
    key_norms: np.ndarray  # (B, K)
    denominator: np.ndarray  # (B, K, N)
    similarity: np.ndarray  # (B, K, N) cosine similarities
    weighting: np.ndarray  # (B, K, N)


def content_forward(
    memory: np.ndarray, keys: np.ndarray, strengths: np.ndarray
) -> tuple[np.ndarray, ContentCache]:
    """Content weighting of ``K`` keys over the ``N`` memory rows.

    ``memory`` ``(B, N, W)``, ``keys`` ``(B, K, W)``, ``strengths`` ``(B, K)``
    (already through oneplus). Returns the weighting ``(B, K, N)``, each row a
    distribution over slots, and the cache for the backward.
    """
    memory_norms = np.sqrt(np.einsum("bnw,bnw->bn", memory, memory) + EPSILON)
    key_norms = np.sqrt(np.einsum("bkw,bkw->bk", keys, keys) + EPSILON)
    dot = keys @ memory.transpose(0, 2, 1)  # (B, K, N)
    denominator = key_norms[:, :, None] * memory_norms[:, None, :] + EPSILON
    similarity = dot / denominator
    weighting = stable_softmax(strengths[:, :, None] * similarity)
    cache = ContentCache(memory, keys, strengths, memory_norms, key_norms, denominator, similarity, weighting)
    return weighting, cache


def content_backward(
    dweighting: np.ndarray, cache: ContentCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Backward of :func:`content_forward`: ``(dmemory (B,N,W), dkeys (B,K,W), dstrengths (B,K))``."""
    dz = softmax_backward(dweighting, cache.weighting)
    dstrengths = (dz * cache.similarity).sum(axis=-1)
    dsim = dz * cache.strengths[:, :, None]
    ddot = dsim / cache.denominator
    # sim = dot / den, so dden = -dsim * sim / den = -ddot * sim
    dden = -ddot * cache.similarity
    dkey_norms = np.einsum("bkn,bn->bk", dden, cache.memory_norms)
    dmemory_norms = np.einsum("bkn,bk->bn", dden, cache.key_norms)
    dkeys = ddot @ cache.memory
    dkeys += (dkey_norms / cache.key_norms)[:, :, None] * cache.keys
    dmemory = ddot.transpose(0, 2, 1) @ cache.keys
    dmemory += (dmemory_norms / cache.memory_norms)[:, :, None] * cache.memory
    return dmemory, dkeys, dstrengths
