"""A synthetic trace with one probe of every shape, so a panel can be previewed alone."""

from __future__ import annotations

import numpy as np

from rnnscope.engine.trace import ProbeKind, Trace


def synthetic_trace(
    steps: int = 40, units: int = 16, slots: int = 8, width: int = 6, heads: int = 2
) -> Trace:
    """Probes ``(T, 1, units)``, ``(T, 1, slots, width)``, ``(T, 1, slots, slots)``,
    ``(T, 1, heads, slots)`` and ``(T, 1)``."""
    rng = np.random.default_rng(0)
    t = np.arange(steps)[:, None, None]
    phase = np.arange(units)[None, None, :] / units * 2 * np.pi
    trace = Trace(model_kind="synthetic")
    trace.add("demo/gate", 1 / (1 + np.exp(-3 * np.sin(t / 5 + phase))), ProbeKind.GATE, ("unit",), gate="g")
    trace.add("demo/state", np.sin(t / 7 + phase) * 2, ProbeKind.SIGNED, ("unit",))
    trace.add("demo/memory", rng.normal(size=(steps, 1, slots, width)), ProbeKind.SIGNED, ("slot", "width"))
    link = rng.random((steps, 1, slots, slots))
    trace.add("demo/link", link / link.sum(-1, keepdims=True), ProbeKind.WEIGHTING, ("slot", "slot"))
    read = rng.random((steps, 1, heads, slots))
    trace.add(
        "demo/read_weighting", read / read.sum(-1, keepdims=True), ProbeKind.WEIGHTING, ("head", "slot")
    )
    trace.add("loss/step", np.abs(np.sin(t[:, :, 0] / 4)), ProbeKind.SCALAR)
    trace.add("grad/hidden_norm", np.exp(-t[:, :, 0] / 10), ProbeKind.SCALAR)
    return trace
