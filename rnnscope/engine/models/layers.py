"""The names of one layer of a stack: its parameters, its state entries and its probes.

A one-layer model keeps the plain names (``Wx``, ``h``, ``lstm/forget_gate``); in a
model of ``L > 1`` layers every name of layer ``l`` carries it: parameters
``l0.Wx``, ``l1.Wh[forget]``, state ``l1.h``, ``l1.c``, probes ``lstm/l1/forget_gate``.
Layers are numbered from 0 (the bottom layer, fed by the input), as PyTorch numbers
``weight_ih_l0``. Probes also carry the layer as metadata (``Probe.layer``), so views
group by layer without reading names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from rnnscope.engine.params import GateSlice


@dataclass(frozen=True)
class LayerNames:
    """How layer ``layer`` of a stack of ``layers`` names things; probes in ``group`` (``"lstm"``)."""

    group: str
    layers: int = 1
    layer: int = 0

    @property
    def prefix(self) -> str:
        """``""`` for a one-layer model, ``"l<layer>."`` otherwise."""
        return "" if self.layers == 1 else f"l{self.layer}."

    def param(self, name: str) -> str:
        """``"Wx"`` or ``"l1.Wx"``."""
        return self.prefix + name

    def state(self, name: str) -> str:
        """``"h"`` or ``"l1.h"``."""
        return self.prefix + name

    def probe(self, quantity: str) -> str:
        """``"lstm/forget_gate"`` or ``"lstm/l1/forget_gate"``."""
        if self.layers == 1:
            return f"{self.group}/{quantity}"
        return f"{self.group}/l{self.layer}/{quantity}"


def stack_names(group: str, layers: int) -> list[LayerNames]:
    """The names of every layer of a stack, bottom first."""
    return [LayerNames(group, layers, layer) for layer in range(layers)]


def prefixed(
    names: LayerNames,
    arrays: Mapping[str, np.ndarray],
    slices: Mapping[str, Mapping[str, GateSlice]],
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, GateSlice]]]:
    """One layer's arrays and gate slices under the layer's parameter names."""
    return (
        {names.param(key): value for key, value in arrays.items()},
        {names.param(key): dict(parts) for key, parts in slices.items()},
    )
