"""The memory-access pieces of the Differentiable Neural Computer, as forward/backward pairs.

Graves et al., "Hybrid computing using a neural network with dynamic external
memory", Nature 538 (2016); the equations we implement are in ``docs/dnc.md``.
Every function works on a batch (leading axis ``B``) and on all heads and slots
at once. :mod:`.access` composes them into one step of memory access over a named
:class:`AccessState`; the model in :mod:`rnnscope.engine.models.dnc` runs that step
and its LSTM controller over time.

========================  ===================================================
module                    what
========================  ===================================================
:mod:`.interface`         layout of the interface vector, its squashing
:mod:`.addressing`        oneplus, stable softmax, cosine content weighting
:mod:`.allocation`        retention, usage, allocation weighting (the sort)
:mod:`.linkage`           temporal link matrix, precedence, forward/backward
:mod:`.memory`            erase-and-add write, read vectors
:mod:`.access`            the whole step: state, forward, backward
========================  ===================================================
"""

from rnnscope.engine.dnc.access import (
    AccessCache,
    AccessState,
    ReadAddressing,
    WriteAddressing,
    access_step_backward,
    access_step_forward,
)
from rnnscope.engine.dnc.addressing import (
    ContentCache,
    content_backward,
    content_forward,
    oneplus,
    sigmoid,
    stable_softmax,
)
from rnnscope.engine.dnc.allocation import (
    AllocationCache,
    allocation_backward,
    allocation_forward,
    retention_backward,
    retention_forward,
    usage_backward,
    usage_forward,
)
from rnnscope.engine.dnc.interface import (
    INTERFACE_PARTS,
    READ_MODES,
    Interface,
    interface_backward,
    interface_forward,
    interface_layout,
    interface_size,
)
from rnnscope.engine.dnc.linkage import (
    directional_backward,
    directional_forward,
    link_backward,
    link_forward,
    precedence_backward,
    precedence_forward,
)
from rnnscope.engine.dnc.memory import read_backward, read_forward, write_backward, write_forward

__all__ = [
    "AccessCache",
    "AccessState",
    "AllocationCache",
    "ContentCache",
    "INTERFACE_PARTS",
    "READ_MODES",
    "Interface",
    "ReadAddressing",
    "WriteAddressing",
    "access_step_backward",
    "access_step_forward",
    "allocation_backward",
    "allocation_forward",
    "content_backward",
    "content_forward",
    "directional_backward",
    "directional_forward",
    "interface_backward",
    "interface_forward",
    "interface_layout",
    "interface_size",
    "link_backward",
    "link_forward",
    "oneplus",
    "precedence_backward",
    "precedence_forward",
    "read_backward",
    "read_forward",
    "retention_backward",
    "retention_forward",
    "sigmoid",
    "stable_softmax",
    "usage_backward",
    "usage_forward",
    "write_backward",
    "write_forward",
]
