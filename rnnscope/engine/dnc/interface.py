"""The interface vector: what the controller emits to drive the memory each step.

``xi = h_t Wi + bi`` ``(B, I)`` is cut into named parts, in this order:

===================  ==========  ===========  =====================================
part                 size        squashing    meaning
===================  ==========  ===========  =====================================
``read_keys``        ``R * W``   none         content keys of the read heads
``read_strengths``   ``R``       oneplus      sharpness of each read key
``write_key``        ``W``       none         content key of the write head
``write_strength``   ``1``       oneplus      sharpness of the write key
``erase``            ``W``       sigmoid      erase vector ``e``
``write_vector``     ``W``       none         vector ``v`` added to memory
``free_gates``       ``R``       sigmoid      may each read head's slots be freed
``allocation_gate``  ``1``       sigmoid      allocate (1) or write by content (0)
``write_gate``       ``1``       sigmoid      write at all
``read_modes``       ``3 R``     softmax/3    per head: backward, content, forward
===================  ==========  ===========  =====================================

``I = R W + 3 W + 5 R + 3``. The same names are the gate slices of the interface
weights (``Wi[erase]``), so a gradient table can point at one part.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from rnnscope.engine.dnc.addressing import oneplus, sigmoid, softmax_backward, stable_softmax

INTERFACE_PARTS = (
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
)
READ_MODES = ("backward", "content", "forward")


def _sizes(width: int, heads: int) -> dict[str, int]:
    return {
        "read_keys": heads * width,
        "read_strengths": heads,
        "write_key": width,
        "write_strength": 1,
        "erase": width,
        "write_vector": width,
        "free_gates": heads,
        "allocation_gate": 1,
        "write_gate": 1,
        "read_modes": 3 * heads,
    }


def interface_layout(width: int, heads: int) -> dict[str, tuple[int, int]]:
    """``{part: (start, stop)}`` columns of each part in the interface vector."""
    layout: dict[str, tuple[int, int]] = {}
    start = 0
    for name, size in _sizes(width, heads).items():
        layout[name] = (start, start + size)
        start += size
    return layout


def interface_size(width: int, heads: int) -> int:
    """``I = R W + 3 W + 5 R + 3`` for memory width ``W`` and ``R`` read heads."""
    return sum(_sizes(width, heads).values())


@dataclass
class Interface:
    """The squashed interface of one step for a batch of ``B`` rows."""

    read_keys: np.ndarray  # (B, R, W)
    read_strengths: np.ndarray  # (B, R), >= 1
    write_key: np.ndarray  # (B, W)
    write_strength: np.ndarray  # (B,), >= 1
    erase: np.ndarray  # (B, W) in 0..1
    write_vector: np.ndarray  # (B, W)
    free_gates: np.ndarray  # (B, R) in 0..1
    allocation_gate: np.ndarray  # (B,) in 0..1
    write_gate: np.ndarray  # (B,) in 0..1
    read_modes: np.ndarray  # (B, R, 3), each row sums to 1 (backward, content, forward)
    raw: np.ndarray  # (B, I): the unsquashed vector (the backward needs it)


def interface_forward(raw: np.ndarray, width: int, heads: int) -> Interface:
    """Cut and squash the raw interface ``(B, I)``."""
    batch = raw.shape[0]
    cols = interface_layout(width, heads)

    def part(name: str) -> np.ndarray:
        start, stop = cols[name]
        return raw[:, start:stop]

    return Interface(
        read_keys=part("read_keys").reshape(batch, heads, width),
        read_strengths=oneplus(part("read_strengths")),
        write_key=part("write_key"),
        write_strength=oneplus(part("write_strength"))[:, 0],
        erase=sigmoid(part("erase")),
        write_vector=part("write_vector"),
        free_gates=sigmoid(part("free_gates")),
        allocation_gate=sigmoid(part("allocation_gate"))[:, 0],
        write_gate=sigmoid(part("write_gate"))[:, 0],
        read_modes=stable_softmax(part("read_modes").reshape(batch, heads, 3)),
        raw=raw,
    )


def interface_backward(grads: dict[str, np.ndarray], iface: Interface, width: int, heads: int) -> np.ndarray:
    """Gradient of the raw interface ``(B, I)`` from the gradients of the squashed parts.

    ``grads`` maps every name of :data:`INTERFACE_PARTS` to an array shaped like
    the matching :class:`Interface` field.
    """
    batch = iface.raw.shape[0]
    cols = interface_layout(width, heads)
    draw = np.empty_like(iface.raw)

    def put(name: str, value: np.ndarray) -> None:
        start, stop = cols[name]
        draw[:, start:stop] = value.reshape(batch, stop - start)

    def raw_part(name: str) -> np.ndarray:
        start, stop = cols[name]
        return iface.raw[:, start:stop]

    put("read_keys", grads["read_keys"])
    put("write_key", grads["write_key"])
    put("write_vector", grads["write_vector"])
    # oneplus' = sigmoid of the raw value
    put("read_strengths", grads["read_strengths"] * sigmoid(raw_part("read_strengths")))
    put("write_strength", grads["write_strength"][:, None] * sigmoid(raw_part("write_strength")))
    # sigmoid' = s (1 - s)
    put("erase", grads["erase"] * iface.erase * (1.0 - iface.erase))
    put("free_gates", grads["free_gates"] * iface.free_gates * (1.0 - iface.free_gates))
    ga, gw = iface.allocation_gate, iface.write_gate
    put("allocation_gate", grads["allocation_gate"] * ga * (1.0 - ga))
    put("write_gate", grads["write_gate"] * gw * (1.0 - gw))
    put("read_modes", softmax_backward(grads["read_modes"], iface.read_modes))
    return draw
