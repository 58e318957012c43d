"""The per-timestep record a model's forward pass leaves behind.

A :class:`Trace` is a set of named :class:`Probe` objects. Every probe holds a
time-major array ``(T, B, ...)`` plus what a view needs to draw it without
knowing which model produced it:

* ``kind`` decides the colour scale: gates, probabilities and weightings are
  sequential on 0..1, signed states are diverging around 0, scalars are line
  plots, indices are class labels;
* ``axes`` names the axes after ``(T, B)``, e.g. ``("unit",)``,
  ``("slot", "width")`` or ``("head", "slot")``;
* ``tick_labels`` optionally names the entries of an axis (vocabulary symbols
  on a ``"symbol"`` axis, ``("backward", "content", "forward")`` for read
  modes);
* ``group`` and ``gate`` say where the probe belongs (``"lstm"``, ``"forget"``);
* ``layer`` is the recurrent layer the probe belongs to in a stack (0 = the
  bottom layer, fed by the input), ``None`` for probes outside the stack (data,
  output, loss, the DNC's memory). Views group by ``(group, layer)`` from this
  field; they never parse the name for it.

Probe names are ``"<group>/<quantity>"``; a model of more than one layer puts the
layer in the name too, ``"<group>/l<layer>/<quantity>"`` (``lstm/l1/forget_gate``),
while a one-layer model keeps the plain names (its probes still carry ``layer=0``).
The names every model shares:

==================  ==============  ============================================
name                shape           meaning
==================  ==============  ============================================
``data/input``      ``(T, B, D)``   input vectors (one-hot for characters)
``data/target``     ``(T, B)``      class indices (softmax head), or
                    ``(T, B, O)``   target vectors (sigmoid / MSE heads)
``data/mask``       ``(T, B)``      weight of each step in the loss
``output/logits``   ``(T, B, O)``   output pre-activations
``output/probs``    ``(T, B, O)``   softmax / sigmoid probabilities, or the
                                    prediction itself for the MSE head
``loss/step``       ``(T, B)``      loss contributed by each step (mask applied)
``grad/hidden_norm`` ``(T, B)``     ``|dLoss/dh_t|``; added by
                                    :func:`rnnscope.engine.models.base.trace_with_gradients`
                                    (``grad/l<layer>/hidden_norm``, one per
                                    layer, in a model of several layers)
==================  ==============  ============================================

Model-specific probes (``lstm/forget_gate``, ``dnc/usage`` ...) are listed in
each model's module docstring.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np


class ProbeKind(StrEnum):
    """What the values of a probe mean, and therefore how to colour them."""

    GATE = "gate"  # in 0..1, sequential colour map
    PROBABILITY = "probability"  # in 0..1, sums to one over its last axis (softmax)
    WEIGHTING = "weighting"  # in 0..1, an addressing weighting over memory slots
    SIGNED = "signed"  # any real value, diverging colour map centred on 0
    SCALAR = "scalar"  # one value per (t, b): drawn as a line over time
    INDEX = "index"  # integer class labels

    @property
    def bounded(self) -> bool:
        """True where values lie in 0..1 by construction."""
        return self in (ProbeKind.GATE, ProbeKind.PROBABILITY, ProbeKind.WEIGHTING)


@dataclass
class Probe:
    """One named, time-major quantity recorded by a forward pass.

    ``data`` has shape ``(T, B) + shape`` where ``len(shape) == len(axes)``.
    """

    name: str
    data: np.ndarray
    kind: ProbeKind
    axes: tuple[str, ...] = ()
    group: str = ""
    gate: str | None = None
    description: str = ""
    tick_labels: dict[int, tuple[str, ...]] = field(default_factory=dict)
    layer: int | None = None  # the recurrent layer (0 = bottom); None outside the stack

    def __post_init__(self) -> None:
        if self.data.ndim != 2 + len(self.axes):
            raise ValueError(
                f"probe {self.name!r}: data has shape {self.data.shape}, expected (T, B) "
                f"followed by {len(self.axes)} axes {self.axes}"
            )
        if not self.group:
            self.group = self.name.split("/", 1)[0]

    @property
    def steps(self) -> int:
        return int(self.data.shape[0])

    @property
    def batch(self) -> int:
        return int(self.data.shape[1])

    @property
    def item_shape(self) -> tuple[int, ...]:
        """Shape of one step of one batch row, e.g. ``(H,)`` or ``(N, W)``."""
        return tuple(int(s) for s in self.data.shape[2:])

    def at(self, t: int, b: int = 0) -> np.ndarray:
        """The value at timestep ``t`` for batch row ``b``: shape ``item_shape``."""
        value: np.ndarray = self.data[t, b]  # (a NumPy scalar for a (T, B) probe)
        return value

    def row(self, b: int = 0) -> np.ndarray:
        """All timesteps of batch row ``b``: shape ``(T,) + item_shape``."""
        return self.data[:, b]


@dataclass
class NonFinite:
    """Where a non-finite value first appeared in a trace."""

    probe: str
    step: int
    batch: int
    index: tuple[int, ...]
    value: float


@dataclass
class Trace:
    """Every probe of one forward pass over a ``(T, B)`` batch of sequences.

    ``vocab`` is the symbol table of character models (``None`` otherwise);
    ``model_kind`` is ``"rnn"``, ``"lstm"``, ``"gru"`` or ``"dnc"``.
    """

    probes: dict[str, Probe] = field(default_factory=dict)
    model_kind: str = ""
    vocab: tuple[str, ...] | None = None

    def add(
        self,
        name: str,
        data: np.ndarray,
        kind: ProbeKind,
        axes: tuple[str, ...] = (),
        *,
        gate: str | None = None,
        description: str = "",
        tick_labels: dict[int, tuple[str, ...]] | None = None,
        layer: int | None = None,
    ) -> Probe:
        """Record a probe; a name may be recorded only once."""
        if name in self.probes:
            raise ValueError(f"probe {name!r} recorded twice")
        probe = Probe(
            name=name,
            data=data,
            kind=kind,
            axes=axes,
            gate=gate,
            description=description,
            tick_labels=dict(tick_labels or {}),
            layer=layer,
        )
        if self.probes:
            first = next(iter(self.probes.values()))
            if probe.data.shape[:2] != first.data.shape[:2]:
                raise ValueError(
                    f"probe {name!r} has (T, B) = {probe.data.shape[:2]}, "
                    f"but the trace has {first.data.shape[:2]}"
                )
        self.probes[name] = probe
        return probe

    def __getitem__(self, name: str) -> Probe:
        try:
            return self.probes[name]
        except KeyError:
            raise KeyError(f"no probe {name!r}; the trace has {sorted(self.probes)}") from None

    def __contains__(self, name: object) -> bool:
        return name in self.probes

    def __iter__(self) -> Iterator[Probe]:
        return iter(self.probes.values())

    def names(self) -> list[str]:
        return list(self.probes)

    def layers(self) -> dict[int, list[Probe]]:
        """The probes of each recurrent layer, bottom layer first (probes outside the stack left out)."""
        grouped: dict[int, list[Probe]] = {}
        for probe in self.probes.values():
            if probe.layer is not None:
                grouped.setdefault(probe.layer, []).append(probe)
        return dict(sorted(grouped.items()))

    @property
    def steps(self) -> int:
        return next(iter(self.probes.values())).steps if self.probes else 0

    @property
    def batch(self) -> int:
        return next(iter(self.probes.values())).batch if self.probes else 0

    def first_nonfinite(self) -> NonFinite | None:
        """The earliest timestep (then probe order) holding NaN or Inf, if any."""
        best: NonFinite | None = None
        for probe in self.probes.values():
            data = probe.data
            if not np.issubdtype(data.dtype, np.floating):
                continue
            bad = ~np.isfinite(data)
            if not bad.any():
                continue
            where = np.argwhere(bad)[0]
            step = int(where[0])
            if best is None or step < best.step:
                best = NonFinite(
                    probe=probe.name,
                    step=step,
                    batch=int(where[1]),
                    index=tuple(int(i) for i in where[2:]),
                    value=float(data[tuple(where)]),
                )
        return best

    def to_arrays(self) -> dict[str, np.ndarray]:
        """Plain arrays keyed by probe name, for ``np.savez``."""
        return {name: probe.data for name, probe in self.probes.items()}
