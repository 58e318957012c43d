"""The DNC's addressing decomposition: hand-computed terms, sums, normalisation, the link path."""

import numpy as np
import pytest

from rnnscope.engine.dnc.decomposition import (
    Normalisation,
    describe_path,
    link_path,
    normalise,
    read_mode_parts,
    write_parts,
)
from rnnscope.engine.tasks import build_task
from tests.engine.test_dnc import _copy_machine, _problem


def test_read_mode_parts_by_hand():
    modes = np.array([[0.2, 0.5, 0.3]])  # one head: backward, content, forward
    backward = np.array([[0.0, 1.0, 0.0]])
    content = np.array([[0.6, 0.2, 0.2]])
    forward = np.array([[0.0, 0.0, 1.0]])
    parts = read_mode_parts(modes, backward, content, forward)
    assert parts.shape == (1, 3, 3)
    np.testing.assert_allclose(parts[0, 0], [0.0, 0.2, 0.0])
    np.testing.assert_allclose(parts[0, 1], [0.3, 0.1, 0.1])
    np.testing.assert_allclose(parts[0, 2], [0.0, 0.0, 0.3])
    np.testing.assert_allclose(parts[0].sum(axis=0), [0.3, 0.3, 0.4])


def test_write_parts_by_hand():
    parts = write_parts(np.array(0.25), np.array(0.8), np.array([1.0, 0.0, 0.0]), np.array([0.0, 0.5, 0.5]))
    np.testing.assert_allclose(parts, [[0.2, 0.0, 0.0], [0.0, 0.3, 0.3]])  # 0.8*0.25, 0.8*0.75*0.5


def test_the_traced_parts_sum_to_the_traced_weightings():
    model, x, y, state = _problem(2, T=5, B=2)
    trace = model.forward(x, y, state=state).trace
    reads = trace["dnc/read_mode_parts"]
    assert reads.data.shape == (5, 2, 2, 3, 6) and reads.axes == ("head", "mode", "slot")
    assert reads.tick_labels == {1: ("backward", "content", "forward")}
    np.testing.assert_allclose(reads.data.sum(axis=3), trace["dnc/read_weighting"].data, atol=1e-14)
    content = trace["dnc/read_modes"].data[..., 1:2] * trace["dnc/read_content_weighting"].data
    np.testing.assert_allclose(reads.data[:, :, :, 1], content)
    writes = trace["dnc/write_parts"]
    assert writes.data.shape == (5, 2, 2, 6) and writes.tick_labels == {0: ("allocation", "content")}
    np.testing.assert_allclose(writes.data.sum(axis=2), trace["dnc/write_weighting"].data, atol=1e-14)


def test_normalisations():
    w = np.array([[0.25, 0.25, 0.3, 0.2], [0.0, 0.0, 0.0, 0.0]])
    np.testing.assert_array_equal(normalise(w, Normalisation.RAW), w)
    np.testing.assert_allclose(normalise(w, Normalisation.UNIFORM)[0], [0.0, 0.0, 0.05, -0.05])
    expected = [[5 / 6, 5 / 6, 1.0, 2 / 3], [0, 0, 0, 0]]
    np.testing.assert_allclose(normalise(w, Normalisation.STEP_MAX), expected)


def test_link_path_follows_the_strongest_links_in_write_order():
    link = np.zeros((5, 5))
    link[3, 1] = 0.9  # 1 then 3
    link[0, 3] = 0.8  # then 0
    link[4, 2] = 0.05  # too weak to follow
    assert link_path(link) == [1, 3, 0]
    assert describe_path([1, 3, 0]) == "1→3→0"
    assert link_path(np.zeros((4, 4))) == [] and "no link" in describe_path([])
    cycle = np.zeros((3, 3))
    cycle[1, 0] = cycle[2, 1] = 0.9
    cycle[0, 2] = 0.95
    assert link_path(cycle) == [2, 0, 1]


@pytest.mark.parametrize("seed", [0, 1])
def test_copy_machine_path_is_its_write_order_and_its_reads_are_content_then_forward(seed):
    bits, slots = 4, 8
    batch = build_task("copy", bits=bits, min_length=3, max_length=6, seed=0).sample(2, seed)
    trace = _copy_machine(bits, slots).forward(batch.inputs, batch.targets, batch.mask).trace
    for b in range(batch.batch_size):
        length = int((batch.inputs[:, b, bits] == 0).argmin())
        order = list(trace["dnc/write_weighting"].data[:length, b].argmax(axis=1))
        assert link_path(trace["dnc/link"].data[length - 1, b]) == order
        parts = trace["dnc/read_mode_parts"].data[:, b, 0]  # (T, 3, N)
        first = length + 1
        assert parts[first, 1, order[0]] > 0.99  # the first read is by content
        for k, t in enumerate(range(first + 1, first + length), start=1):
            assert parts[t, 2, order[k]] > 0.99  # the others forward along the link
        allocation = trace["dnc/write_parts"].data[:length, b, 0]
        assert allocation[np.arange(length), order].min() > 0.99  # every write by allocation
