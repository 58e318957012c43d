"""The step-pair form: subclass :class:`StepModel`, write one step forward and one step backward.

CS231n's shape of an RNN layer: the user writes ::

    def step_forward(self, x_t, state, params):   # x_t (B, D); state {"h": (B, H), ...}
        ...
        return h_t, new_state, cache              # h_t (B, F); new_state like state

    def step_backward(self, dh_t, dstate, cache):
        ...
        return dx_t, dstate_prev, dparams         # dx_t (B, D) or None; dparams {"Wx": ...}

and rnnscope runs the rest: the loop over time, the read-out and the loss, BPTT's
accumulation (each step's ``dparams`` are summed; a parameter left out of a step's
``dparams`` gets nothing from that step), and the probes, taken from every step's
``cache`` or ``new_state`` as declared.

``dh_t`` is the gradient the read-out sends to ``h_t``; ``dstate`` the gradients
reaching ``new_state`` from step ``t + 1`` (zeros after the last step). When ``h_t``
is also a state entry (``new_state["h"]``, the usual case) the gradient reaching it
is ``dh_t + dstate["h"]``: adding the two is the step's job, as in CS231n's
``dnext_h``. ``HIDDEN`` names that entry (``"h"``; ``None`` when ``h_t`` is not in
the state), so ``grad/hidden_norm`` shows the whole ``|dLoss/dh_t|``.

Every value returned is checked at every step (shape and dtype), so a wrong one is a
:class:`~rnnscope.engine.protocol.errors.ProtocolError` naming it rather than a
broadcast that goes unnoticed.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable, Sequence
from typing import Any, ClassVar

import numpy as np

from rnnscope.engine.models.base import CoreOutput, State
from rnnscope.engine.params import Params
from rnnscope.engine.protocol.declarations import READOUT, Probe
from rnnscope.engine.protocol.errors import ProtocolError
from rnnscope.engine.protocol.sequence import SequenceModel
from rnnscope.engine.protocol.values import (
    checked_array,
    checked_arrays,
    checked_gradients,
    checked_probe_step,
    read_source,
)
from rnnscope.engine.trace import Trace

StepBackward = tuple[np.ndarray | None, State, dict[str, np.ndarray]]


class StepModel(SequenceModel):
    """A model of the user's own written as a step pair (see the module docstring)."""

    HIDDEN: ClassVar[str | None] = "h"

    @abstractmethod
    def step_forward(self, x_t: np.ndarray, state: State, params: Params) -> tuple[np.ndarray, State, Any]:
        """One step: ``x_t`` ``(B, D)``, ``state`` as in ``STATE`` -> ``(h_t (B, F), new_state, cache)``."""

    @abstractmethod
    def step_backward(self, dh_t: np.ndarray, dstate: State, cache: Any) -> StepBackward:
        """Backward of one step -> ``(dx_t (B, D) or None, dstate_prev, dparams)``."""

    # ----------------------------------------------------------------- the loop over time
    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        steps, batch, _ = inputs.shape
        shapes = self.state_shapes(batch)
        width = self.feature_width()
        features = np.empty((steps, batch, width), dtype=self.dtype)
        recorder = None if trace is None else _ProbeRecorder(self.PROBES, batch)
        caches: list[Any] = []
        current = dict(state)
        for t in range(steps):
            h_t, new_state, cache = _three(
                _called(self.step_forward, t, inputs[t], dict(current), self.params), "step_forward", t
            )
            features[t] = checked_array(h_t, f"step_forward's h_t (step {t})", (batch, width), self.dtype)
            current = checked_arrays(new_state, f"step_forward's new_state (step {t})", shapes, self.dtype)
            caches.append(cache)
            if recorder is not None:
                recorder.take(cache, current)
        if recorder is not None and trace is not None:
            recorder.record(trace)
        final_state = {name: value.copy() for name, value in current.items()}
        return CoreOutput(features=features, hidden=features, final_state=final_state, cache=caches)

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]:
        """BPTT over the step pair; ``dfinal_state`` adds a gradient arriving at the final state."""
        steps, batch, input_width = inputs.shape
        shapes = self.state_shapes(batch)
        core_params = {name: self.params[name] for name in self.params if name not in READOUT}
        grads = {name: np.zeros_like(array) for name, array in core_params.items()}
        dstate = {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}
        for name, value in (dfinal_state or {}).items():
            dstate[name] = dstate[name] + value
        hidden = self.HIDDEN if self.HIDDEN in shapes and shapes[self.HIDDEN] == dfeatures.shape[1:] else None
        dhidden = np.empty_like(dfeatures)
        dinputs: list[np.ndarray | None] = []
        for t in range(steps - 1, -1, -1):
            dhidden[t] = dfeatures[t] if hidden is None else dfeatures[t] + dstate[hidden]
            dx, dprev, dparams = _three(
                _called(self.step_backward, t, dfeatures[t].copy(), dict(dstate), core.cache[t]),
                "step_backward",
                t,
            )
            if dx is not None:
                dx = checked_array(dx, f"step_backward's dx_t (step {t})", (batch, input_width), self.dtype)
            dinputs.append(dx)
            dstate = checked_arrays(dprev, f"step_backward's dstate_prev (step {t})", shapes, self.dtype)
            step_grads = checked_gradients(
                dparams, f"step_backward's dparams (step {t})", core_params, self.dtype
            )
            for name, value in step_grads.items():
                grads[name] += value
        return grads, _time_major(dinputs[::-1]) if need_inputs else None, dstate, dhidden


def _called(function: Callable[..., Any], t: int, *args: Any) -> Any:
    """``function(*args)``; an exception it raises gets a note naming the step."""
    try:
        return function(*args)
    except Exception as error:
        error.add_note(f"(in {function.__name__} at step t={t})")
        raise


def _three(result: Any, name: str, t: int) -> tuple[Any, Any, Any]:
    if not isinstance(result, tuple) or len(result) != 3:
        shape = "(h_t, new_state, cache)" if name == "step_forward" else "(dx_t, dstate_prev, dparams)"
        got = f"a tuple of {len(result)}" if isinstance(result, tuple) else type(result).__name__
        raise ProtocolError(f"{name} must return {shape}; at step {t} it returned {got}")
    return result[0], result[1], result[2]


def _time_major(values: list[np.ndarray | None]) -> np.ndarray | None:
    """The per-step ``dx_t`` as ``(T, B, D)``; ``None`` when the model computes none."""
    if all(value is None for value in values):
        return None
    if any(value is None for value in values):
        raise ProtocolError("step_backward returned dx_t = None at some steps and an array at others")
    return np.stack([value for value in values if value is not None])


class _ProbeRecorder:
    """Every declared probe's value at every step, copied as it is made (a step may reuse its buffers)."""

    def __init__(self, probes: Sequence[Probe], batch: int) -> None:
        self.probes = probes
        self.batch = batch
        self.values: dict[str, list[np.ndarray]] = {probe.name: [] for probe in probes}

    def take(self, cache: Any, new_state: State) -> None:
        for probe in self.probes:
            value = read_source(cache, new_state, probe.where, probe.name)
            array = checked_probe_step(value, probe.name, probe.where, probe.axis_names, self.batch)
            self.values[probe.name].append(np.array(array, copy=True))

    def record(self, trace: Trace) -> None:
        for probe in self.probes:
            SequenceModel.add_probe(trace, probe, np.stack(self.values[probe.name]))
