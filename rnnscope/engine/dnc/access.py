"""One step of the DNC's memory access as a forward/backward pair over a named state.

:func:`access_step_forward` takes the raw interface vector ``xi`` ``(B, I)`` the
controller emitted at step ``t`` and the :class:`AccessState` of step ``t - 1``, and
returns the read vectors ``r_t`` ``(B, R, W)``, the new state and an
:class:`AccessCache`; :func:`access_step_backward` turns the gradients of ``r_t`` and
of the new state into those of ``xi`` and of the previous state. Between them they
compose the pieces of this package in the order of the paper's Methods section::

    xi  -> interface (squashing)                          interface.py
    write weighting: content C(M_{t-1}, k_w, beta_w),      addressing.py
        retention psi, usage u, allocation a,              allocation.py
        w_w = g_w (g_a a + (1 - g_a) c_w)
    M = M_{t-1} (1 - w_w e^T) + w_w v^T                   memory.py
    L, p (temporal links and precedence)                  linkage.py
    read weighting: bw = L^T w_r_{t-1}, fw = L w_r_{t-1},
        content C(M, k_r, beta_r),
        w_r = pi_b bw + pi_c c_r + pi_f fw
    r = M^T w_r                                           memory.py

Sizes: ``B`` batch rows, ``N`` memory slots of width ``W``, ``R`` read heads, one write
head, ``I = R W + 3 W + 5 R + 3``. The read vectors are the access step's output,
not part of its state: the previous ones feed the controller, never the access.

The backward is exact through every path, the usage included, with the allocation's
sort permutation held fixed (see :mod:`rnnscope.engine.dnc.allocation`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from rnnscope.engine.dnc import allocation, linkage
from rnnscope.engine.dnc.addressing import ContentCache, content_backward, content_forward
from rnnscope.engine.dnc.allocation import AllocationCache
from rnnscope.engine.dnc.interface import Interface, interface_backward, interface_forward
from rnnscope.engine.dnc.memory import read_backward, read_forward, write_backward, write_forward


class AccessState(NamedTuple):
    """What the memory carries from one step to the next (for ``B`` rows).

    The gradient of a state has the same shape and is an ``AccessState`` too.
    """

    memory: np.ndarray  # (B, N, W) M
    usage: np.ndarray  # (B, N) u, in 0..1
    link: np.ndarray  # (B, N, N) L[i, j]: slot i written right after slot j; zero diagonal
    precedence: np.ndarray  # (B, N) p: how much each slot was the last one written
    read_weightings: np.ndarray  # (B, R, N) w_r, each head's row sums to <= 1
    write_weighting: np.ndarray  # (B, N) w_w, sums to <= 1


class _Buffers(NamedTuple):
    """Where :func:`access_step_forward` writes the new state: an array each, or None for fresh ones."""

    memory: np.ndarray | None = None
    usage: np.ndarray | None = None
    link: np.ndarray | None = None
    precedence: np.ndarray | None = None
    read_weightings: np.ndarray | None = None
    write_weighting: np.ndarray | None = None


_NO_BUFFERS = _Buffers()


@dataclass
class WriteAddressing:
    """How the write head chose its slots at one step (besides ``u`` and ``w_w`` of the new state)."""

    content: np.ndarray  # (B, N) c_w = C(M_{t-1}, k_w, beta_w)
    content_cache: ContentCache
    retention: np.ndarray  # (B, N) psi = prod_i (1 - f[i] w_r[i]_{t-1})
    retention_terms: np.ndarray  # (B, R, N) the factors 1 - f[i] w_r[i]_{t-1}
    allocation: np.ndarray  # (B, N) a
    allocation_cache: AllocationCache


@dataclass
class ReadAddressing:
    """The three read modes' weightings at one step, before :attr:`Interface.read_modes` mixes them."""

    content: np.ndarray  # (B, R, N) c_r = C(M_t, k_r, beta_r)
    content_cache: ContentCache
    forward: np.ndarray  # (B, R, N) fw = L_t w_r_{t-1}
    backward: np.ndarray  # (B, R, N) bw = L_t^T w_r_{t-1}


@dataclass
class AccessCache:
    """Everything one :func:`access_step_forward` computed: what its backward and the trace read."""

    interface: Interface  # the squashed interface (its ``raw`` is the input xi)
    previous: AccessState  # the state the step started from (step t - 1)
    state: AccessState  # the state it produced (step t)
    write: WriteAddressing
    read: ReadAddressing


def _write_addressing_forward(
    iface: Interface, previous: AccessState, usage_out: np.ndarray | None, write_out: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, WriteAddressing]:
    """Usage ``u`` ``(B, N)``, write weighting ``w_w`` ``(B, N)`` and how they came about.

    Content is looked up in the memory before the write, ``M_{t-1}``; allocation comes
    from the usage after the free gates released what the heads read at ``t - 1``.
    ``usage_out``, ``write_out``: optional ``(B, N)`` buffers for ``u`` and ``w_w``.
    """
    content, content_cache = content_forward(
        previous.memory, iface.write_key[:, None, :], iface.write_strength[:, None]
    )
    retention, terms = allocation.retention_forward(iface.free_gates, previous.read_weightings)
    usage = allocation.usage_forward(previous.usage, previous.write_weighting, retention, out=usage_out)
    allocated, allocation_cache = allocation.allocation_forward(usage)
    ga = iface.allocation_gate[:, None]
    gw = iface.write_gate[:, None]
    write_content = content[:, 0]
    weighting = np.multiply(gw, ga * allocated + (1.0 - ga) * write_content, out=write_out)
    record = WriteAddressing(write_content, content_cache, retention, terms, allocated, allocation_cache)
    return usage, weighting, record


def _read_addressing_forward(
    iface: Interface,
    memory: np.ndarray,
    link: np.ndarray,
    read_weightings_prev: np.ndarray,
    out: np.ndarray | None,
) -> tuple[np.ndarray, ReadAddressing]:
    """Read weightings ``w_r`` ``(B, R, N)`` on the memory ``M_t`` and links ``L_t`` just written.

    ``out``: an optional ``(B, R, N)`` buffer for ``w_r``.
    """
    forward, backward = linkage.directional_forward(link, read_weightings_prev)
    content, content_cache = content_forward(memory, iface.read_keys, iface.read_strengths)
    modes = iface.read_modes  # (B, R, 3): backward, content, forward
    weighting: np.ndarray = np.multiply(modes[:, :, 0:1], backward, out=out)
    weighting += modes[:, :, 1:2] * content
    weighting += modes[:, :, 2:3] * forward
    return weighting, ReadAddressing(content, content_cache, forward, backward)


def access_step_forward(
    interface: np.ndarray, state: AccessState, out: AccessState | None = None
) -> tuple[np.ndarray, AccessState, AccessCache]:
    """One step of memory access: write, link, then read.

    ``interface`` is the raw interface vector ``xi`` ``(B, I)`` (squashed here);
    ``state`` is the access state of step ``t - 1`` (never modified). Returns the read
    vectors ``r_t`` ``(B, R, W)``, the state of step ``t`` and the cache for
    :func:`access_step_backward`.

    ``out``: optional buffers for the new state, none of them shared with ``state``
    (e.g. step ``t`` of time-major arrays); the new state is then made of them,
    otherwise of fresh arrays. Writing into a few large arrays instead of many
    per-step ones saves page faults when the memory is large.
    """
    heads, width = state.read_weightings.shape[1], state.memory.shape[2]
    iface = interface_forward(interface, width, heads)
    into = out if out is not None else _NO_BUFFERS
    usage, write_weighting, write = _write_addressing_forward(iface, state, into.usage, into.write_weighting)
    memory = write_forward(state.memory, write_weighting, iface.erase, iface.write_vector, out=into.memory)
    link = linkage.link_forward(state.link, write_weighting, state.precedence, out=into.link)
    precedence = linkage.precedence_forward(state.precedence, write_weighting, out=into.precedence)
    read_weightings, read = _read_addressing_forward(
        iface, memory, link, state.read_weightings, into.read_weightings
    )
    reads = read_forward(memory, read_weightings)
    new_state = AccessState(memory, usage, link, precedence, read_weightings, write_weighting)
    return reads, new_state, AccessCache(iface, state, new_state, write, read)


def _read_backward(
    dreads: np.ndarray, dnext: AccessState, cache: AccessCache, scratch: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Back through ``r = M^T w_r`` and the read weighting.

    Returns the gradients of ``M_t`` ``(B, N, W)`` and ``L_t`` ``(B, N, N)`` (each with
    ``dnext``'s share), the directional reads' share of ``w_r_{t-1}`` ``(B, R, N)``, and
    those of the read keys, strengths and modes. ``scratch``: an optional ``(B, N, N)``
    buffer for the link gradient.
    """
    state, read, modes = cache.state, cache.read, cache.interface.read_modes
    dmemory, dweighting = read_backward(dreads, state.memory, state.read_weightings)
    dmemory += dnext.memory
    dweighting += dnext.read_weightings
    # w_r = pi_b bw + pi_c c_r + pi_f fw
    dmodes = np.stack(
        [
            (dweighting * read.backward).sum(axis=2),
            (dweighting * read.content).sum(axis=2),
            (dweighting * read.forward).sum(axis=2),
        ],
        axis=2,
    )
    dm, dkeys, dstrengths = content_backward(dweighting * modes[:, :, 1:2], read.content_cache)
    dmemory += dm
    dlink, dread_prev = linkage.directional_backward(
        dweighting * modes[:, :, 2:3],
        dweighting * modes[:, :, 0:1],
        state.link,
        cache.previous.read_weightings,
        out=scratch,
    )
    dlink += dnext.link
    parts = {"read_keys": dkeys, "read_strengths": dstrengths, "read_modes": dmodes}
    return dmemory, dlink, dread_prev, parts


def _linkage_backward(
    dlink: np.ndarray, dnext: AccessState, cache: AccessCache, out: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back through ``L`` and ``p``: ``(dL_{t-1}, dp_{t-1}, dw_w)``; ``dw_w`` includes ``dnext``'s share.

    ``dlink`` is used as scratch space; ``out`` is an optional ``(B, N, N)`` buffer for ``dL_{t-1}``.
    """
    previous, write_weighting = cache.previous, cache.state.write_weighting
    dprecedence_prev, dwrite = linkage.precedence_backward(
        dnext.precedence, previous.precedence, write_weighting
    )
    dwrite += dnext.write_weighting
    dlink_prev, dw, dp = linkage.link_backward(
        dlink, previous.link, write_weighting, previous.precedence, overwrite=True, out=out
    )
    dwrite += dw
    dprecedence_prev += dp
    return dlink_prev, dprecedence_prev, dwrite


def _write_addressing_backward(
    dwrite: np.ndarray, dusage_next: np.ndarray, cache: AccessCache
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """Back through ``w_w = g_w (g_a a + (1 - g_a) c_w)``, the allocation, usage and retention.

    ``dwrite`` ``(B, N)`` is the total gradient of ``w_w``, ``dusage_next`` that of ``u``
    from the next step. Returns the content lookup's share of ``dM_{t-1}`` ``(B, N, W)``,
    ``du_{t-1}``, ``dw_w_{t-1}`` ``(B, N)``, the retention's share of ``dw_r_{t-1}``
    ``(B, R, N)``, and the gradients of the write key, strength, gates and free gates.
    """
    iface, write, previous = cache.interface, cache.write, cache.previous
    ga = iface.allocation_gate[:, None]
    gw = iface.write_gate[:, None]
    dwrite_gate = (dwrite * (ga * write.allocation + (1.0 - ga) * write.content)).sum(axis=1)
    dallocation_gate = (dwrite * gw * (write.allocation - write.content)).sum(axis=1)
    dusage = dusage_next + allocation.allocation_backward(dwrite * gw * ga, write.allocation_cache)
    dmemory_prev, dkey, dstrength = content_backward(
        (dwrite * gw * (1.0 - ga))[:, None, :], write.content_cache
    )
    dusage_prev, dwrite_prev, dretention = allocation.usage_backward(
        dusage, previous.usage, previous.write_weighting, write.retention
    )
    dfree, dread_prev = allocation.retention_backward(
        dretention, write.retention_terms, iface.free_gates, previous.read_weightings
    )
    parts = {
        "write_key": dkey[:, 0],
        "write_strength": dstrength[:, 0],
        "free_gates": dfree,
        "allocation_gate": dallocation_gate,
        "write_gate": dwrite_gate,
    }
    return dmemory_prev, dusage_prev, dwrite_prev, dread_prev, parts


def access_step_backward(
    dreads: np.ndarray,
    dnext: AccessState,
    cache: AccessCache,
    work: tuple[np.ndarray, np.ndarray] | None = None,
) -> tuple[np.ndarray, AccessState]:
    """Backward of :func:`access_step_forward`.

    ``dreads`` ``(B, R, W)`` is the gradient of the read vectors ``r_t``; ``dnext`` that of
    the state the step produced (zeros after the last step). Returns the gradient of the
    raw interface ``(B, I)`` and that of the previous state (fresh arrays but the link's).

    ``work``: optional ``(B, N, N)`` buffers ``(scratch, out)``: ``scratch`` is overwritten,
    ``out`` receives the returned link gradient. ``out`` may be ``dnext.link`` (it is read
    before ``out`` is written), so a loop over time needs no fresh ``(B, N, N)`` array per
    step (at ``N = 128`` each is megabytes).
    """
    scratch, out = work if work is not None else (None, None)
    iface, previous = cache.interface, cache.previous
    dmemory, dlink, dread_prev, read_parts = _read_backward(dreads, dnext, cache, scratch)
    dlink_prev, dprecedence_prev, dwrite = _linkage_backward(dlink, dnext, cache, out)
    # M = M_{t-1} (1 - w_w e^T) + w_w v^T
    dmemory_prev, dw, derase, dvector = write_backward(
        dmemory, previous.memory, cache.state.write_weighting, iface.erase, iface.write_vector
    )
    dwrite += dw
    dm, dusage_prev, dwrite_prev, dr, write_parts = _write_addressing_backward(dwrite, dnext.usage, cache)
    dmemory_prev += dm
    dread_prev += dr
    parts = {**read_parts, **write_parts, "erase": derase, "write_vector": dvector}
    heads, width = previous.read_weightings.shape[1], previous.memory.shape[2]
    dinterface = interface_backward(parts, iface, width, heads)
    dprevious = AccessState(dmemory_prev, dusage_prev, dlink_prev, dprecedence_prev, dread_prev, dwrite_prev)
    return dinterface, dprevious
