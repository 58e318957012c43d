"""The buffer pool: memory is reused only once nothing handed out from it lives."""

import copy
import pickle
import sys

import numpy as np

from rnnscope.engine.models.buffers import BufferPool

LARGE = (64, 16, 32)  # 256 KiB of float64: above BufferPool.MIN_BYTES


def test_small_arrays_are_plain_and_never_shelved():
    pool = BufferPool()
    small = pool.take((4, 3), np.float64)
    assert small.shape == (4, 3) and small.dtype == np.float64 and small.base is None
    del small
    assert pool.shelved() == 0


def test_a_dropped_array_comes_back_on_the_next_take():
    pool = BufferPool()
    array = pool.take(LARGE, np.float64)
    assert array.shape == LARGE and array.flags.c_contiguous and array.flags.writeable
    address = array.ctypes.data
    del array
    assert pool.shelved() == 1
    again = pool.take(LARGE, np.float64)
    assert again.ctypes.data == address and pool.shelved() == 0
    assert pool.take(LARGE, np.float32).ctypes.data != address  # another dtype, another shelf


def test_a_kept_view_keeps_its_memory_out_of_the_pool(monkeypatch):
    # reference counts are not consulted: the pool works the same when they lie
    monkeypatch.setattr(sys, "getrefcount", lambda obj: 1)
    pool = BufferPool()
    array = pool.take(LARGE, np.float64)
    view = array.reshape(64, -1)[3:].T[::2]  # a view of a view of a view
    array[...] = 7.0
    del array
    assert pool.shelved() == 0
    fresh = [pool.take(LARGE, np.float64) for _ in range(3)]
    for other in fresh:
        other[...] = -1.0
        assert not np.shares_memory(other, view)
    assert np.all(view == 7.0)
    del view
    assert pool.shelved() == 1


def test_the_shelves_are_bounded():
    pool = BufferPool()
    arrays = [pool.take(LARGE, np.float64) for _ in range(BufferPool.KEEP + 3)]
    del arrays
    assert pool.shelved() == BufferPool.KEEP
    for rows in range(BufferPool.SHAPES + 5):
        pool.take((rows + 1, 128, 128), np.float64)
    assert len(pool._shelves) <= BufferPool.SHAPES
    assert pool.shelved() <= BufferPool.SHAPES


def test_a_copied_pool_starts_empty():
    pool = BufferPool()
    array = pool.take(LARGE, np.float64)
    del array
    assert pool.shelved() == 1
    assert copy.deepcopy(pool).shelved() == 0
    assert pickle.loads(pickle.dumps(pool)).shelved() == 0
