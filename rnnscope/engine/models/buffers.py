"""Large arrays reused from call to call of a model (see :class:`BufferPool`)."""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable

import numpy as np


class BufferPool:
    """Large arrays reused from one call of a model to the next.

    A fresh multi-megabyte array per call costs a page fault per 4 kB page: glibc
    maps large blocks afresh and returns them to the system when they are freed.
    That was ~40 % of an LSTM training step at H=64, B=64 here. An array comes back
    to the pool only when nothing outside the pool refers to it any more -- no name,
    no view (a view keeps a reference to its base) -- so a result, trace or view
    kept by a caller is never overwritten.
    """

    KEEP = 4  # arrays kept per (shape, dtype)
    SHAPES = 24  # distinct (shape, dtype) kept; beyond that the pool starts afresh

    def __init__(self) -> None:
        self._free: dict[tuple[tuple[int, ...], str], list[np.ndarray]] = {}
        self._lock = threading.Lock()

    def __reduce__(self) -> tuple[type, tuple]:
        return (BufferPool, ())  # a copied model starts with an empty pool (and its own lock)

    def __deepcopy__(self, memo: dict) -> BufferPool:
        return BufferPool()

    def take(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An uninitialised C-ordered array of ``shape``, reused when one is free."""
        key = (tuple(int(n) for n in shape), np.dtype(dtype).str)
        with self._lock:
            stack = self._free.get(key)
            if stack:
                return stack.pop()
        return np.empty(key[0], dtype=dtype)

    def give_back(self, arrays: list[np.ndarray]) -> None:
        """Return ``arrays`` (owned by this list alone) to the pool; any still referenced is skipped."""
        for k in range(len(arrays)):
            array = arrays[k]
            # references: the list, ``array``, getrefcount's argument; more means in use
            if array.base is not None or not array.flags.c_contiguous or sys.getrefcount(array) > 3:
                continue
            key = (array.shape, array.dtype.str)
            with self._lock:
                if key not in self._free and len(self._free) >= self.SHAPES:
                    self._free.clear()
                stack = self._free.setdefault(key, [])
                if len(stack) < self.KEEP:
                    stack.append(array)
        arrays.clear()

    def when_dead(self, owner: object, arrays: list[np.ndarray]) -> None:
        """Give ``arrays`` back once ``owner`` has been garbage collected."""
        weakref.finalize(owner, self.give_back, arrays)


    def allocator(self, fresh: bool, dtype: np.dtype) -> Callable[[tuple[int, ...]], np.ndarray]:
        """``allocate(shape)``: a new array if ``fresh`` (a trace keeps views of it, so it must
        never be reused), otherwise one from this pool."""
        if fresh:
            return lambda shape: np.empty(shape, dtype=dtype)
        return lambda shape: self.take(shape, dtype)

    def return_with_cache(self, cache: dict, arrays: list[np.ndarray]) -> None:
        """Give ``arrays`` back once ``cache`` (a core's cache, the core's last field) has died.

        A token stored as the cache's last entry carries the finalizer: it dies after
        every other reference the core held to these arrays.
        """
        token = _PoolToken()
        self.when_dead(token, arrays)
        cache["_pool"] = token


class _PoolToken:
    """Stored last in a core's cache: when the cache dies, its arrays go back to the pool."""
