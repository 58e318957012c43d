"""Large work arrays reused from one call of a model to the next (see :class:`BufferPool`)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

_Key = tuple[tuple[int, ...], str]


class BufferPool:
    """Large arrays reused from one call of a model to the next, each with an explicit owner.

    Why: a fresh multi-megabyte array per call costs a page fault per 4 kB page (glibc
    maps large blocks afresh and returns them to the system when they are freed).
    Without the pool an LSTM training step at H=64..128, B=64 takes 1.3-1.8x as long here.

    Who owns what: :meth:`take` hands out an array whose memory belongs to a lease (an
    object the array, and every view of it, holds through its ``base`` chain). The
    memory goes back on the pool's shelf when the lease dies, that is when the last
    array or view of it has died -- whatever a caller keeps (a result awaiting
    backward, a trace, a view of the features) keeps its memory out of the pool. No
    reference count is inspected, so this holds on every Python (3.14 borrows
    references that ``sys.getrefcount`` used to count).

    Arrays under :attr:`MIN_BYTES` are plain ``np.empty``: malloc reuses small blocks
    without page faults, and a lease (about 2 us) would cost more than it saves.
    """

    KEEP = 4  # arrays kept on the shelf of one (shape, dtype)
    SHAPES = 24  # distinct (shape, dtype) shelves; beyond that the pool starts afresh
    MIN_BYTES = 1 << 17  # 128 KiB, glibc's initial threshold for mapping a block afresh

    def __init__(self) -> None:
        # no lock: list.pop and list.append are atomic, and a lease may die (and return
        # its memory) in any thread, even inside another call of take
        self._shelves: dict[_Key, list[np.ndarray]] = {}

    def __reduce__(self) -> tuple[type[BufferPool], tuple[()]]:
        return (BufferPool, ())  # a copied model starts with an empty pool

    def __deepcopy__(self, memo: dict[int, Any]) -> BufferPool:
        return BufferPool()

    def take(self, shape: tuple[int, ...], dtype: npt.DTypeLike) -> np.ndarray:
        """An uninitialised C-ordered array of ``shape``, on reused memory when it is large."""
        shape = tuple(int(n) for n in shape)
        dtype = np.dtype(dtype)
        if math.prod(shape) * dtype.itemsize < self.MIN_BYTES:
            return np.empty(shape, dtype=dtype)
        key = (shape, dtype.str)
        shelf = self._shelves.get(key)
        if shelf is None:
            if len(self._shelves) >= self.SHAPES:
                # leases of the old shelves put their memory on lists nobody reads any more
                self._shelves = {}
            shelf = self._shelves.setdefault(key, [])
        try:
            storage = shelf.pop()
        except IndexError:
            storage = np.empty(shape, dtype=dtype)
        return np.asarray(_Lease(storage, shelf, self.KEEP))

    def shelved(self) -> int:
        """How many arrays wait on the shelves (for tests and curiosity)."""
        return sum(len(shelf) for shelf in self._shelves.values())


class _Lease:
    """Owns one pooled array's memory while anything handed out from it lives.

    NumPy builds the handed-out array from :attr:`__array_interface__` and keeps this
    object as its ``base``; views keep that array (or this object) alive in turn.
    """

    __slots__ = ("__array_interface__", "_storage", "_shelf", "_keep")

    def __init__(self, storage: np.ndarray, shelf: list[np.ndarray], keep: int) -> None:
        self.__array_interface__: dict[str, Any] = storage.__array_interface__
        self._storage = storage
        self._shelf = shelf
        self._keep = keep

    def __del__(self) -> None:
        if len(self._shelf) < self._keep:
            self._shelf.append(self._storage)
