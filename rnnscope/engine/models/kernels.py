"""Array pieces the RNN, LSTM and GRU share: the logistic function, the input projection of
all steps at once and the column-major copy of the recurrent weights."""

from __future__ import annotations

import numpy as np


def sigmoid(preact: np.ndarray) -> np.ndarray:
    """The logistic function, as ``0.5 (1 + tanh(a / 2))``: no overflow for any ``a``.

    Every core computes its gates this way (the fast paths in place, with
    :func:`sigmoid_into`), so the readable cells give the same numbers bit for bit.
    """
    result: np.ndarray = 0.5 * (1.0 + np.tanh(0.5 * preact))
    return result


def sigmoid_into(preact: np.ndarray, out: np.ndarray) -> None:
    """``out = sigmoid(preact)`` in place (``out`` may be ``preact``), the numbers of :func:`sigmoid`."""
    np.multiply(preact, 0.5, out=out)
    np.tanh(out, out=out)
    out *= 0.5
    out += 0.5


def one_hot_indices(inputs_2d: np.ndarray) -> np.ndarray | None:
    """The column of the one in every row of ``inputs_2d`` ``(N, D)`` if every row is one-hot, else None."""
    rows = inputs_2d.shape[0]
    index: np.ndarray = inputs_2d.argmax(axis=1)
    if not np.all(inputs_2d[np.arange(rows), index] == 1.0) or np.count_nonzero(inputs_2d) != rows:
        return None
    return index


def input_projection(inputs: np.ndarray, Wx: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``inputs`` ``(T, B, D)`` times ``Wx`` ``(D, G)``, as ``(T * B, G)`` (into ``out`` if given).

    One-hot inputs (character models) pick rows of ``Wx`` instead of a matmul: the
    same numbers (a one-hot row times ``Wx`` only adds exact zeros), many times faster.
    """
    flat = inputs.reshape(-1, inputs.shape[-1])
    index = one_hot_indices(flat)
    if index is None:
        return np.matmul(flat, Wx, out=out)
    return np.take(Wx, index, axis=0, out=out)


def column_major(matrix: np.ndarray, scale: np.ndarray | None = None) -> np.ndarray:
    """A column-major (Fortran-order) copy of ``matrix`` ``(R, C)``, times ``scale`` ``(C,)`` if given.

    Copied in blocks of 16 rows: a plain transposing copy strides through memory and
    is 4-7x slower at ``H`` = 256..512 (measured here).
    """
    rows, cols = matrix.shape
    out_t = np.empty((cols, rows), dtype=matrix.dtype)
    for start in range(0, rows, 16):
        block = matrix[start : start + 16].T
        if scale is None:
            out_t[:, start : start + 16] = block
        else:
            np.multiply(block, scale[:, None], out=out_t[:, start : start + 16])
    return out_t.T
