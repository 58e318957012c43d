"""Which panels a trace calls for and which dock each goes to, decided from the probes' metadata
alone (kind, axes, group, layer): a new probe finds its panel and its dock with no new view code.

A stacked model's layers have a dock each (``lstm · layer 0``, ``lstm · layer 1``), from
``Probe.layer`` (:meth:`~rnnscope.engine.trace.Trace.layers`), never from the probe's name.

A panel is a :class:`Slot` until it is first shown (:mod:`.docking` makes it then).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rnnscope.app.panels.dnc import AddressingPanel, LinkOrderPanel
from rnnscope.app.panels.heatmap import ImagePanel, PanelSpec, panel_specs
from rnnscope.app.panels.lines import ScalarPanel
from rnnscope.app.session import Session
from rnnscope.engine.trace import Probe, ProbeKind, Trace

SPLIT_ABOVE = 12  # a group with more probes is split into docks by axes (matrices, per head, ...)

Panel = ImagePanel | ScalarPanel | AddressingPanel | LinkOrderPanel
TracePanel = AddressingPanel | LinkOrderPanel  # drawn from several probes: made from the whole trace
ADDRESSING_DOCK = "dnc · addressing"
MATRICES_DOCK = "dnc · matrices"
LINK_ORDER = "dnc/link · write order"


def panel_order(probe: Probe) -> int:
    """Within a dock: 0..1 quantities (gates, weightings) first, then states, pre-activations last."""
    if probe.kind.bounded:
        return 0
    return 2 if "preact" in probe.name else 1


def dock_key(probe: Probe, split: bool, stacked: bool = False) -> str:
    """The dock a probe's panels go to: its group; in a model of several layers (``stacked``) the
    group of its layer; for a group of many probes (``split``, the DNC's) also what the panel shows.

    Decided from the metadata alone (layer, axes), so a new probe finds its dock with no new code.
    """
    if stacked and probe.layer is not None:
        return layer_dock(probe.group, probe.layer)
    axes = tuple(probe.axes)
    if not split or not axes:
        return probe.group
    if axes[0] == "head":
        return f"{probe.group} · per head"
    if len(axes) == 2:
        return f"{probe.group} · matrices"  # one matrix per step
    if axes == ("slot",):
        return f"{probe.group} · slots"
    return f"{probe.group} · vectors"


def layer_dock(group: str, layer: int) -> str:
    """The dock of layer ``layer``'s probes of ``group`` in a stacked model."""
    return f"{group} · layer {layer}"


def layout_signature(session: Session) -> tuple[object, ...]:
    """What the panels and docks are built from: probe names, shapes, kinds, axes, groups and names
    of entries, the task's axis names and the loss. Equal signatures: same panels, other numbers."""
    task = session.task
    probes = tuple(
        (p.name, p.data.shape, p.kind, tuple(p.axes), p.group, repr(sorted(dict(p.tick_labels).items())))
        for p in session.trace
    )
    return probes, (tuple(task.output_names), tuple(task.input_names)), session.model.config.loss


def _drawn(probe: Probe) -> bool:
    """Probes with a panel of their own; inputs and targets are in the sequence strip."""
    return probe.group != "data" and probe.kind != ProbeKind.INDEX


def curves(trace: Trace) -> dict[str, np.ndarray]:
    """``{name: (T,)}`` of every one-value-per-step probe, in panel order: the curves."""
    return {p.name: p.row(0) for p in sorted(trace, key=panel_order) if _drawn(p) and p.data.ndim == 2}


@dataclass(frozen=True)
class TracePanelSpec:
    """A panel drawn from several probes of a trace (the DNC's addressing views). ``probe_name`` is the
    name the designed layout and the non-finite marks know it by: the probe it stands for
    (``dnc/read_mode_parts``), or its own title where a plain panel of that probe exists too."""

    title: str
    probe_name: str
    make: Callable[[Trace], TracePanel]


def addressing_slots(trace: Trace) -> dict[str, list[Slot]]:
    """A DNC's addressing decomposition (a dock of its own) and its link matrix in write order (beside
    the memory), by dock; nothing for other traces."""
    if "dnc/read_mode_parts" not in trace or "dnc/write_parts" not in trace:
        return {}
    addressing = TracePanelSpec("dnc/addressing", "dnc/read_mode_parts", AddressingPanel)
    order = TracePanelSpec(LINK_ORDER, LINK_ORDER, LinkOrderPanel)
    return {ADDRESSING_DOCK: [Slot(addressing.title, addressing)], MATRICES_DOCK: [Slot(order.title, order)]}


@dataclass
class Slot:
    """A panel's place in a dock: its title, what it shows (``spec``; None: the curves) and the panel
    once made (a panel nobody has shown is never made)."""

    title: str
    spec: PanelSpec | TracePanelSpec | None
    panel: Panel | None = None
    layer: int | None = None  # the recurrent layer of a stacked model's probe (None: one layer, or none)

    @property
    def probe_name(self) -> str | None:
        return self.spec.probe_name if self.spec is not None else None


def panels_by_dock(session: Session) -> dict[str, list[Slot]]:
    """A slot for every panel the probes of ``session.trace`` call for, by the dock they go to
    (``"curves"``: one panel of every one-value-per-step probe)."""
    trace = session.trace
    axis_names = {"output": tuple(session.task.output_names), "input": tuple(session.task.input_names)}
    # a group with many probes (the DNC's) is split into docks by what its panels show
    sizes = Counter(p.group for p in trace if _drawn(p) and p.data.ndim > 2)
    stacked = len(trace.layers()) > 1
    groups: dict[str, list[Slot]] = {}
    for probe in sorted(trace, key=panel_order):
        specs = panel_specs(probe, axis_names) if _drawn(probe) and probe.data.ndim > 2 else []
        if specs:
            layer = probe.layer if stacked else None
            slots = [Slot(spec.title, spec, layer=layer) for spec in specs]
            groups.setdefault(dock_key(probe, sizes[probe.group] > SPLIT_ABOVE, stacked), []).extend(slots)
    for dock, slots in addressing_slots(trace).items():
        groups.setdefault(dock, []).extend(slots)
    if curves(trace):
        groups.setdefault("curves", []).append(Slot("curves", None))
    return groups
