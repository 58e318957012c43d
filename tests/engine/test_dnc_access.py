"""One memory-access step (rnnscope/engine/dnc/access.py): exact backward, invariants, behaviour."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rnnscope.engine.dnc import interface_layout, interface_size
from rnnscope.engine.dnc.access import AccessState, access_step_backward, access_step_forward
from tests.engine.gradutil import numerical_gradient, relative_error


def _zero_state(batch, slots, width, heads):
    return AccessState(
        memory=np.zeros((batch, slots, width)),
        usage=np.zeros((batch, slots)),
        link=np.zeros((batch, slots, slots)),
        precedence=np.zeros((batch, slots)),
        read_weightings=np.zeros((batch, heads, slots)),
        write_weighting=np.zeros((batch, slots)),
    )


def _random_state(rng, batch, slots, width, heads):
    """A valid state: weightings and usages in 0..1 with sums <= 1, a link with zero diagonal."""
    link = rng.random((batch, slots, slots)) / slots
    link[:, np.arange(slots), np.arange(slots)] = 0.0
    return AccessState(
        memory=0.5 * rng.standard_normal((batch, slots, width)),
        usage=rng.random((batch, slots)),
        link=link,
        precedence=rng.random((batch, slots)) / slots,
        read_weightings=rng.random((batch, heads, slots)) / slots,
        write_weighting=rng.random((batch, slots)) / slots,
    )


def _usage_gap(interface, state):
    """The smallest distance between two usages after the step (the sort is locally constant above 0)."""
    _, new, _ = access_step_forward(interface, state)
    return float(np.diff(np.sort(new.usage, axis=-1), axis=-1).min())


@pytest.mark.parametrize("batch, slots, width, heads", [(2, 5, 3, 2), (1, 4, 2, 1), (3, 3, 4, 3)])
def test_access_backward_matches_central_differences(batch, slots, width, heads):
    rng = np.random.default_rng(slots * 10 + heads)
    interface = 1.5 * rng.standard_normal((batch, interface_size(width, heads)))
    state = _random_state(rng, batch, slots, width, heads)
    assert _usage_gap(interface, state) > 1e-4
    reads, new, cache = access_step_forward(interface, state)
    # probes: the gradient arriving at the reads and at every entry of the new state
    dreads = rng.standard_normal(reads.shape)
    dnext = AccessState(*(rng.standard_normal(value.shape) for value in new))

    def objective():
        r, s, _ = access_step_forward(interface, state)
        return float((r * dreads).sum() + sum((value * d).sum() for value, d in zip(s, dnext, strict=True)))

    dinterface, dprevious = access_step_backward(dreads, dnext, cache)
    assert relative_error(dinterface, numerical_gradient(objective, interface)) < 1e-6
    for name in AccessState._fields:
        numeric = numerical_gradient(objective, getattr(state, name))
        assert relative_error(getattr(dprevious, name), numeric) < 1e-6, name


def test_work_buffers_give_the_same_gradients_and_may_take_the_incoming_link_gradient():
    rng = np.random.default_rng(7)
    batch, slots, width, heads = 2, 6, 3, 2
    interface = rng.standard_normal((batch, interface_size(width, heads)))
    state = _random_state(rng, batch, slots, width, heads)
    reads, new, cache = access_step_forward(interface, state)
    dreads = rng.standard_normal(reads.shape)
    dnext = AccessState(*(rng.standard_normal(value.shape) for value in new))
    plain = access_step_backward(dreads, dnext, cache)
    incoming = dnext.link.copy()
    scratch = np.full_like(incoming, np.nan)  # whatever the scratch holds must not matter
    buffered = access_step_backward(dreads, dnext._replace(link=incoming), cache, work=(scratch, incoming))
    assert buffered[1].link is incoming  # the outgoing link gradient went into the buffer given
    np.testing.assert_array_equal(buffered[0], plain[0])
    for name, value in buffered[1]._asdict().items():
        np.testing.assert_array_equal(value, getattr(plain[1], name), err_msg=name)


def test_out_buffers_hold_the_new_state_with_the_same_bits():
    rng = np.random.default_rng(11)
    batch, slots, width, heads = 3, 5, 2, 2
    interface = rng.standard_normal((batch, interface_size(width, heads)))
    state = _random_state(rng, batch, slots, width, heads)
    reads, fresh, _ = access_step_forward(interface, state)
    # step 1 of time-major buffers, as the model passes them; NaN: every entry must be written
    series = AccessState(*(np.full((2,) + value.shape, np.nan) for value in state))
    out = AccessState(*(value[1] for value in series))
    buffered_reads, buffered, cache = access_step_forward(interface, state, out=out)
    np.testing.assert_array_equal(buffered_reads, reads)
    for name in AccessState._fields:
        assert getattr(buffered, name) is getattr(out, name), name
        np.testing.assert_array_equal(getattr(series, name)[1], getattr(fresh, name), err_msg=name)
        assert np.isnan(getattr(series, name)[0]).all(), name  # nothing written elsewhere
    assert cache.state is buffered


def test_the_step_leaves_its_inputs_alone():
    rng = np.random.default_rng(3)
    interface = rng.standard_normal((2, interface_size(3, 2)))
    state = _random_state(rng, 2, 4, 3, 2)
    saved = [value.copy() for value in state]
    saved_interface = interface.copy()
    reads, new, cache = access_step_forward(interface, state)
    dnext = AccessState(*(np.ones_like(value) for value in new))
    access_step_backward(np.ones_like(reads), dnext, cache)
    for before, after in zip(saved, state, strict=True):
        np.testing.assert_array_equal(before, after)
    np.testing.assert_array_equal(saved_interface, interface)
    assert all((value == 1.0).all() for value in dnext)
    assert cache.previous is state and cache.state is new


def _check_invariants(state, tol=1e-12):
    assert state.usage.min() >= -tol and state.usage.max() <= 1 + tol
    assert state.read_weightings.min() >= -tol
    assert state.read_weightings.sum(axis=-1).max() <= 1 + tol
    assert state.write_weighting.min() >= -tol and state.write_weighting.sum(axis=-1).max() <= 1 + tol
    assert state.precedence.min() >= -tol and state.precedence.sum(axis=-1).max() <= 1 + tol
    slots = state.link.shape[-1]
    assert not state.link[:, np.arange(slots), np.arange(slots)].any()
    assert state.link.min() >= -tol
    assert state.link.sum(axis=-1).max() <= 1 + tol and state.link.sum(axis=-2).max() <= 1 + tol


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**16),
    scale=st.sampled_from([0.1, 1.0, 10.0, 1e4]),
    slots=st.integers(1, 8),
    width=st.integers(1, 4),
    heads=st.integers(1, 3),
    carried=st.booleans(),
)
def test_invariants_hold_step_after_step(seed, scale, slots, width, heads, carried):
    rng = np.random.default_rng(seed)
    batch = 2
    state = (
        _random_state(rng, batch, slots, width, heads) if carried else _zero_state(batch, slots, width, heads)
    )
    for _ in range(6):
        interface = scale * rng.standard_normal((batch, interface_size(width, heads)))
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            reads, state, cache = access_step_forward(interface, state)
        assert np.isfinite(reads).all() and all(np.isfinite(value).all() for value in state)
        _check_invariants(state)
        np.testing.assert_allclose(cache.interface.read_modes.sum(axis=-1), 1.0, atol=1e-12)


def _interface(width, heads, **parts):
    """A raw interface ``(1, I)`` with the given parts set (raw values) and the rest zero."""
    layout = interface_layout(width, heads)
    raw = np.zeros((1, interface_size(width, heads)))
    for name, value in parts.items():
        start, stop = layout[name]
        raw[0, start:stop] = value
    return raw


def test_a_vector_written_by_allocation_is_read_back_by_content():
    width, heads, slots, big = 3, 1, 4, 30.0
    state = _zero_state(1, slots, width, heads)
    stored = []
    for vector in ([1.0, -2.0, 0.5], [-1.0, 0.0, 2.0]):
        write = _interface(
            width,
            heads,
            write_vector=vector,
            erase=-big,
            free_gates=-big,
            allocation_gate=big,
            write_gate=big,
            read_modes=[0.0, big, 0.0],
        )
        _, state, cache = access_step_forward(write, state)
        stored.append(int(cache.state.write_weighting[0].argmax()))
    assert stored == [0, 1]  # all slots free: the stable sort allocates by slot index, then the next free one
    np.testing.assert_allclose(state.memory[0, :2], [[1.0, -2.0, 0.5], [-1.0, 0.0, 2.0]], atol=1e-9)
    np.testing.assert_allclose(state.link[0, 1, 0], 1.0, atol=1e-9)  # slot 1 was written right after slot 0
    read = _interface(
        width,
        heads,
        read_keys=[2.0, -4.0, 1.0],  # the first vector, scaled: cosine ignores the scale
        read_strengths=big,
        write_gate=-big,
        read_modes=[-big, big, -big],
    )
    reads, state, _ = access_step_forward(read, state)
    assert state.read_weightings[0, 0].argmax() == 0 and state.read_weightings[0, 0, 0] > 0.99
    np.testing.assert_allclose(reads[0, 0], [1.0, -2.0, 0.5], atol=1e-2)
    follow = _interface(width, heads, write_gate=-big, read_modes=[-big, -big, big])
    reads, state, _ = access_step_forward(follow, state)  # forward along the link: the second vector
    np.testing.assert_allclose(reads[0, 0], [-1.0, 0.0, 2.0], atol=1e-2)
