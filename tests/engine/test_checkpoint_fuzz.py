"""Fuzz: hundreds of malformed checkpoints, each refused with a CheckpointError, cheaply.

The files come from a seeded generator (``checkpoint_mutations.py``), not from committed
binaries. For each one the test records the peak of Python's and NumPy's allocations
(``tracemalloc``) and the time taken; the bounds are generous (what a tiny checkpoint
needs is a few hundred kB and a few ms): they catch a file that makes the reader allocate
what the file declares (a deflate bomb inflated, a header believed) or hang, not
ordinary jitter.
"""

from __future__ import annotations

import os
import resource
import time
import tracemalloc

import pytest

from rnnscope.engine.checkpoint import CheckpointError, load_checkpoint
from tests.engine.checkpoint_mutations import base_checkpoints, malformed

CASES = 400
PEAK_BYTES = 32 * 2**20  # per file; a valid tiny checkpoint needs well under 1 MB
HANG_SECONDS = 30.0  # per file: "does not hang", not a speed target
RSS_GROWTH_KB = 512 * 1024  # the whole run (ru_maxrss is in kB on Linux)


@pytest.fixture(scope="module")
def bases(tmp_path_factory):
    return base_checkpoints(tmp_path_factory.mktemp("bases"))


def test_the_base_files_load(bases, tmp_path):
    # the fuzz below proves nothing unless the unmutated files pass the same gate
    for index, data in enumerate(bases):
        path = tmp_path / f"base{index}.npz"
        path.write_bytes(data)
        assert load_checkpoint(path).iteration == 2


@pytest.mark.parametrize("seed", [11, 12])
def test_every_malformed_file_is_a_checkpoint_error_within_budget(bases, tmp_path, seed):
    path = tmp_path / "case.npz"
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    refused = 0
    for case in malformed(bases, seed, CASES // 2):
        path.write_bytes(case.data)
        tracemalloc.start()
        started = time.perf_counter()
        try:
            load_checkpoint(path)
        except CheckpointError as error:
            assert str(path) in str(error), case.name
            refused += 1
        except Exception as error:  # anything else is the bug this test exists for
            pytest.fail(f"{case.name}: {type(error).__name__}: {error}")
        else:
            pytest.fail(f"{case.name}: the malformed file was accepted")
        finally:
            elapsed = time.perf_counter() - started
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        assert peak < PEAK_BYTES, f"{case.name}: reading it allocated {peak:,} bytes"
        assert elapsed < HANG_SECONDS, f"{case.name}: reading it took {elapsed:.0f} s"
    assert refused == CASES // 2
    growth = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before
    assert growth < RSS_GROWTH_KB, f"the process grew by {growth:,} kB"


def test_special_paths_are_named_not_opened(tmp_path):
    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)
    with pytest.raises(CheckpointError, match="FIFO"):
        load_checkpoint(fifo)  # never blocks waiting for a writer
    with pytest.raises(CheckpointError, match="directory"):
        load_checkpoint(tmp_path)
    with pytest.raises(CheckpointError, match="character device"):
        load_checkpoint("/dev/zero")
