"""The DNC's memory-access pieces on their own: known values, edge cases, exact backward."""

import numpy as np
import pytest

from rnnscope.engine.dnc import (
    allocation_backward,
    allocation_forward,
    content_backward,
    content_forward,
    directional_backward,
    directional_forward,
    interface_backward,
    interface_forward,
    interface_layout,
    interface_size,
    link_backward,
    link_forward,
    oneplus,
    precedence_backward,
    precedence_forward,
    read_backward,
    read_forward,
    retention_backward,
    retention_forward,
    write_backward,
    write_forward,
)
from rnnscope.engine.dnc.allocation import usage_backward, usage_forward
from tests.engine.gradutil import numerical_gradient, relative_error

rng = np.random.default_rng(0)


def _check(forward, backward_grads, arrays, tol=1e-7, step=1e-5):
    """Compare ``backward_grads`` with central differences of ``sum(out * probe)``."""
    out = forward()
    probe = rng.standard_normal(out.shape)
    analytic = backward_grads(probe)
    for name, array in arrays.items():
        numeric = numerical_gradient(lambda: float((forward() * probe).sum()), array, step=step)
        assert relative_error(analytic[name], numeric) < tol, name


def test_content_read_with_a_stored_row_as_key_lands_on_that_row():
    memory = rng.standard_normal((2, 6, 4))
    keys = memory[:, [3, 1]] * 2.5  # cosine ignores the scale
    weighting, _ = content_forward(memory, keys, np.full((2, 2), 100.0))
    assert (weighting[:, 0].argmax(axis=1) == 3).all() and (weighting[:, 1].argmax(axis=1) == 1).all()
    assert weighting[:, 0, 3].min() > 0.99
    np.testing.assert_allclose(weighting.sum(axis=-1), 1.0)


def test_zero_keys_zero_memory_and_huge_strengths_stay_finite():
    memory = np.zeros((1, 5, 3))
    memory[0, 2] = [1.0, 0.0, 0.0]
    for keys, strength in ((np.zeros((1, 1, 3)), 1e12), (np.array([[[1.0, 0, 0]]]), 1e12)):
        with np.errstate(over="raise", divide="raise", invalid="raise"):
            weighting, cache = content_forward(memory, keys, np.array([[strength]]))
            grads = content_backward(np.ones_like(weighting), cache)
        assert np.isfinite(weighting).all() and all(np.isfinite(g).all() for g in grads)
    # a zero key matches nothing: every slot equally
    weighting, _ = content_forward(memory, np.zeros((1, 1, 3)), np.array([[5.0]]))
    np.testing.assert_allclose(weighting, 0.2)
    assert oneplus(np.array([1e6, -1e6, 0.0])).tolist() == [1e6 + 1, 1.0, 1.0 + np.log(2.0)]


def test_content_backward():
    memory = rng.standard_normal((2, 5, 3))
    memory[0, 1] = 0.0  # a zero row: smooth thanks to the epsilon inside the norm
    keys = rng.standard_normal((2, 2, 3))
    strengths = 1.0 + rng.random((2, 2)) * 3

    def grads(probe):
        _, cache = content_forward(memory, keys, strengths)
        dm, dk, ds = content_backward(probe, cache)
        return {"memory": dm, "keys": dk, "strengths": ds}

    arrays = {"memory": memory, "keys": keys, "strengths": strengths}
    # the zero row's norm is sqrt(EPSILON) = 1e-3: a step well below that keeps truncation small
    _check(lambda: content_forward(memory, keys, strengths)[0], grads, arrays, step=1e-7, tol=1e-6)


def test_allocation_known_values_and_sum():
    usage = np.array([[0.5, 0.2, 0.9], [0.0, 0.0, 0.0]])
    allocation, cache = allocation_forward(usage)
    np.testing.assert_allclose(allocation[0], [0.5 * 0.2, 0.8, 0.1 * 0.2 * 0.5])
    np.testing.assert_allclose(allocation.sum(axis=1), 1.0 - usage.prod(axis=1))
    assert allocation[1].tolist() == [1.0, 0.0, 0.0]  # all free: ties break by slot index
    assert cache.order[0].tolist() == [1, 0, 2]


def test_allocation_backward_with_zero_and_full_usages():
    usage = np.array([[0.0, 0.7, 0.3, 1.0, 0.55, 0.1], [0.9, 0.2, 0.4, 0.05, 0.6, 0.8]])

    def grads(probe):
        _, cache = allocation_forward(usage)
        return {"usage": allocation_backward(probe, cache)}

    _check(lambda: allocation_forward(usage)[0], grads, {"usage": usage})


def test_allocation_backward_matches_the_explicit_products_also_where_products_underflow():
    def explicit(dallocation, cache):
        s, before = cache.sorted_usage, cache.before
        dsorted_alloc = np.take_along_axis(dallocation, cache.order, axis=1)
        g = dsorted_alloc * (1.0 - s)
        out = np.zeros_like(s)
        for r in range(s.shape[0]):
            for j in range(s.shape[1]):
                total = sum(g[r, k] * np.prod(s[r, j + 1 : k]) for k in range(j + 1, s.shape[1]))
                out[r, j] = before[r, j] * (total - dsorted_alloc[r, j])
        dusage = np.empty_like(out)
        np.put_along_axis(dusage, cache.order, out, axis=1)
        return dusage

    cases = [
        np.zeros((2, 5)),
        np.array([[0.0, 0.3, 0.5, 0.0, 0.9, 1.0]]),
        np.array([[1e-200, 1e-100, 0.5, 0.7, 1e-90, 0.2]]),  # the product underflows mid-row
        np.full((1, 130), 1e-3),
        rng.random((2, 40)) ** 8,
        np.array([[1e-320, 0.5, 0.6]]),  # a subnormal usage
    ]
    for usage in cases:
        _, cache = allocation_forward(usage)
        dallocation = rng.standard_normal(usage.shape)
        fast = allocation_backward(dallocation, cache)
        assert np.isfinite(fast).all()
        np.testing.assert_allclose(fast, explicit(dallocation, cache), rtol=1e-12, atol=1e-200)


def test_retention_and_usage_backward_even_with_a_factor_of_zero():
    free = rng.random((2, 3))
    read_prev = rng.random((2, 3, 4)) / 4
    free[0, 1] = 1.0
    read_prev[0, 1, 2] = 1.0  # a slot fully freed: psi = 0 exactly
    psi, _ = retention_forward(free, read_prev)
    assert psi[0, 2] == 0.0

    def grads(probe):
        _, terms = retention_forward(free, read_prev)
        df, dr = retention_backward(probe, terms, free, read_prev)
        return {"free": df, "read_prev": dr}

    _check(lambda: retention_forward(free, read_prev)[0], grads, {"free": free, "read_prev": read_prev})
    usage, write, psi = rng.random((3, 2, 4))

    def grads_u(probe):
        du, dw, dp = usage_backward(probe, usage, write, psi)
        return {"usage": du, "write": dw, "psi": dp}

    _check(lambda: usage_forward(usage, write, psi), grads_u, {"usage": usage, "write": write, "psi": psi})


def test_link_precedence_and_directional_backward():
    N = 5
    link = rng.random((2, N, N)) / N
    link[:, np.arange(N), np.arange(N)] = 0.0
    write = rng.random((2, N)) / N
    prec = rng.random((2, N)) / N
    read_prev = rng.random((2, 3, N)) / N

    def grads_link(probe):
        dl, dw, dp = link_backward(probe, link, write, prec)
        return {"link": dl, "write": dw, "prec": dp}

    _check(lambda: link_forward(link, write, prec), grads_link, {"link": link, "write": write, "prec": prec})

    def grads_prec(probe):
        dp, dw = precedence_backward(probe, prec, write)
        return {"prec": dp, "write": dw}

    _check(lambda: precedence_forward(prec, write), grads_prec, {"prec": prec, "write": write})

    def both():
        fwd, bwd = directional_forward(link, read_prev)
        return np.concatenate([fwd, bwd], axis=1)

    def grads_dir(probe):
        dl, dr = directional_backward(probe[:, :3], probe[:, 3:], link, read_prev)
        return {"link": dl, "read_prev": dr}

    _check(both, grads_dir, {"link": link, "read_prev": read_prev})


def test_link_known_values():
    # write slot 0, then slot 2: L[2, 0] = 1 (slot 2 written right after slot 0)
    N = 3
    link, prec = np.zeros((1, N, N)), np.zeros((1, N))
    for slot in (0, 2):
        write = np.eye(N)[[slot]]
        link = link_forward(link, write, prec)
        prec = precedence_forward(prec, write)
    np.testing.assert_allclose(link[0], [[0, 0, 0], [0, 0, 0], [1, 0, 0]])
    fwd, bwd = directional_forward(link, np.eye(N)[[0]][None])
    assert fwd[0, 0].tolist() == [0, 0, 1] and bwd[0, 0].tolist() == [0, 0, 0]


def test_write_and_read_backward():
    memory = rng.standard_normal((2, 4, 3))
    write = rng.random((2, 4)) / 4
    erase = rng.random((2, 3))
    vector = rng.standard_normal((2, 3))

    def grads(probe):
        dm, dw, de, dv = write_backward(probe, memory, write, erase, vector)
        return {"memory": dm, "write": dw, "erase": de, "vector": dv}

    arrays = {"memory": memory, "write": write, "erase": erase, "vector": vector}
    _check(lambda: write_forward(memory, write, erase, vector), grads, arrays)
    weights = rng.random((2, 2, 4))

    def grads_r(probe):
        dm, dw = read_backward(probe, memory, weights)
        return {"memory": dm, "weights": dw}

    _check(lambda: read_forward(memory, weights), grads_r, {"memory": memory, "weights": weights})


@pytest.mark.parametrize("width, heads", [(4, 2), (1, 1), (3, 4)])
def test_interface_layout_and_squashing(width, heads):
    layout = interface_layout(width, heads)
    size = interface_size(width, heads)
    assert size == heads * width + 3 * width + 5 * heads + 3
    assert list(layout.values())[-1][1] == size
    local = np.random.default_rng(width * 10 + heads)
    raw = 1.5 * local.standard_normal((2, size))
    iface = interface_forward(raw, width, heads)
    assert iface.read_keys.shape == (2, heads, width) and iface.read_modes.shape == (2, heads, 3)
    np.testing.assert_allclose(iface.read_modes.sum(axis=-1), 1.0)
    assert iface.read_strengths.min() >= 1 and iface.write_strength.min() >= 1
    fields = [
        "read_keys",
        "read_strengths",
        "write_key",
        "write_strength",
        "erase",
        "write_vector",
        "free_gates",
        "allocation_gate",
        "write_gate",
        "read_modes",
    ]
    probes = {name: local.standard_normal(getattr(iface, name).shape) for name in fields}

    def total():
        squashed = interface_forward(raw, width, heads)
        return np.array([sum(float((getattr(squashed, n) * probes[n]).sum()) for n in fields)])

    analytic = interface_backward(probes, iface, width, heads)
    numeric = numerical_gradient(lambda: float(total()[0]), raw)
    assert relative_error(analytic, numeric) < 1e-6
