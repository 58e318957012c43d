"""The memory horizon of an LSTM cell: how much of ``c_s`` still survives at a target step ``t``.

``c_t = f_t * c_{t-1} + i_t * g_t``, so along the cell's own path (the one the forget gates
hold open; the gates' and ``h``'s paths are left out) ``dc_t / dc_s`` is the product of the
forget gates in between::

    survival[s, j] = f_{s+1, j} * f_{s+2, j} * ... * f_{t, j}      (s < t;  survival[t] = 1)

Values near 1 are remembered at ``t``, values near 0 forgotten: a unit whose column stays
bright far to the left of ``t`` carries information across many steps.
"""

from __future__ import annotations

import numpy as np

from rnnscope.engine.trace import ProbeKind, Trace


def memory_horizon(forget: np.ndarray, target: int) -> np.ndarray:
    """``survival`` ``(target + 1, H)``: the products of ``forget`` ``(T, H)`` (one sequence's forget
    gates ``f_t``) from step ``s + 1`` to ``target``, for every ``s <= target``."""
    forget = np.asarray(forget)
    if forget.ndim != 2:
        raise ValueError(f"forget gates must be (T, H), got shape {forget.shape}")
    steps = forget.shape[0]
    if not 0 <= target < steps:
        raise ValueError(f"target step {target} is outside the sequence's 0..{steps - 1}")
    survival = np.ones((target + 1, forget.shape[1]), dtype=forget.dtype)
    # f_t, f_t f_{t-1}, ... f_t ... f_1: survival of c_{t-1}, c_{t-2}, ..., c_0
    running = np.cumprod(forget[target:0:-1], axis=0)
    survival[:target] = running[::-1]
    return survival


def forget_gate_probes(trace: Trace) -> list[str]:
    """The names of the forget-gate probes of ``trace`` (one per LSTM cell: each layer, the DNC's
    controller, a user's model that declares one), bottom layer first.

    Found from the probes' metadata (``gate == "forget"``, a 0..1 gate per unit), never from names.
    """
    found = [
        probe
        for probe in trace
        if probe.gate == "forget" and probe.kind == ProbeKind.GATE and probe.axes == ("unit",)
    ]
    return [probe.name for probe in sorted(found, key=lambda p: -1 if p.layer is None else p.layer)]
