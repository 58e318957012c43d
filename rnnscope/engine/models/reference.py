"""Reference models: the RNN, LSTM and GRU written as plain loops over their readable step pairs.

Each class here is the fast model of the same kind with only its recurrent core
replaced: :meth:`forward_core` calls the cell's ``step_forward`` once per timestep
and keeps the caches; :meth:`backward_core` walks them backwards with
``step_backward``, adding up each step's share of the parameter gradients. Same
parameters, same state, same probes (names, kinds, values) as the fast model; the
tests hold the two equal (loss, every probe, final state, every gradient) to 1e-13.

Read these first; the fast paths (:mod:`~rnnscope.engine.models.rnn`,
:mod:`~rnnscope.engine.models.lstm`, :mod:`~rnnscope.engine.models.gru`) compute the
same numbers in fewer, larger NumPy calls. A model of your own can start here too:
a ``forward_core`` / ``backward_core`` pair over a step pair is a complete model.

    >>> model = reference_model(build_model(config))   # the same weights, stepped plainly
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np

from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State
from rnnscope.engine.models.gru import GRU, record_gru_probes
from rnnscope.engine.models.gru_cell import (
    GRUStepCache,
    gru_reset_after_step_backward,
    gru_reset_after_step_forward,
    gru_step_backward,
    gru_step_forward,
)
from rnnscope.engine.models.lstm import LSTM, record_lstm_probes
from rnnscope.engine.models.lstm_cell import LSTMStepCache, lstm_step_backward, lstm_step_forward
from rnnscope.engine.models.rnn import RNN, record_rnn_probes
from rnnscope.engine.models.rnn_cell import RNNStepCache, rnn_step_backward, rnn_step_forward
from rnnscope.engine.trace import Trace

CoreGradients = tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]


def _stack(caches: list[RNNStepCache] | list[LSTMStepCache] | list[GRUStepCache], field: str) -> np.ndarray:
    """One field of every step's cache as a time-major ``(T, B, ...)`` array."""
    return np.stack([getattr(cache, field) for cache in caches])


def _zeros_like(params: Mapping[str, np.ndarray], names: tuple[str, ...]) -> dict[str, np.ndarray]:
    return {name: np.zeros_like(params[name]) for name in names}


def _add(total: dict[str, np.ndarray], step: dict[str, np.ndarray]) -> None:
    for name, value in step.items():
        total[name] += value


class ReferenceRNN(RNN):
    """The RNN, stepped with :func:`~rnnscope.engine.models.rnn_cell.rnn_step_forward`."""

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        h = state["h"]
        caches: list[RNNStepCache] = []
        for x_t in inputs:
            h, cache = rnn_step_forward(x_t, h, self.params)
            caches.append(cache)
        hidden = _stack(caches, "h")
        if trace is not None:
            record_rnn_probes(trace, _stack(caches, "preact"), hidden)
        return CoreOutput(features=hidden, hidden=hidden, final_state={"h": h.copy()}, cache=caches)

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> CoreGradients:
        grads = _zeros_like(self.params, ("Wx", "Wh", "b"))
        dinputs = np.empty_like(inputs)
        dhidden = np.empty_like(dfeatures)
        dh_next = np.zeros_like(core.final_state["h"])  # gradient reaching h_t from step t + 1
        if dfinal_state is not None:
            dh_next = dh_next + dfinal_state["h"]
        for t in reversed(range(len(inputs))):
            dhidden[t] = dfeatures[t] + dh_next
            dinputs[t], dh_next, dparams = rnn_step_backward(dhidden[t], core.cache[t])
            _add(grads, dparams)
        return grads, dinputs if need_inputs else None, {"h": dh_next}, dhidden


class ReferenceLSTM(LSTM):
    """The LSTM, stepped with :func:`~rnnscope.engine.models.lstm_cell.lstm_step_forward`."""

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        h, c = state["h"], state["c"]
        caches: list[LSTMStepCache] = []
        for x_t in inputs:
            h, c, cache = lstm_step_forward(x_t, h, c, self.params)
            caches.append(cache)
        hidden = _stack(caches, "h")
        if trace is not None:
            gates, preact = _stack(caches, "gates"), _stack(caches, "preact")
            record_lstm_probes(trace, preact, gates, _stack(caches, "c"), _stack(caches, "tanh_c"), hidden)
        final_state = {"h": h.copy(), "c": c.copy()}
        return CoreOutput(features=hidden, hidden=hidden, final_state=final_state, cache=caches)

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> CoreGradients:
        grads = _zeros_like(self.params, ("Wx", "Wh", "b"))
        dinputs = np.empty_like(inputs)
        dhidden = np.empty_like(dfeatures)
        # gradients reaching h_t and c_t from step t + 1
        dh_next = np.zeros_like(core.final_state["h"])
        dc_next = np.zeros_like(core.final_state["c"])
        if dfinal_state is not None:
            dh_next = dh_next + dfinal_state["h"]
            dc_next = dc_next + dfinal_state["c"]
        for t in reversed(range(len(inputs))):
            dhidden[t] = dfeatures[t] + dh_next
            dinputs[t], dh_next, dc_next, dparams = lstm_step_backward(dhidden[t], dc_next, core.cache[t])
            _add(grads, dparams)
        return grads, dinputs if need_inputs else None, {"h": dh_next, "c": dc_next}, dhidden


GRUStepForward = Callable[[np.ndarray, np.ndarray, Mapping[str, np.ndarray]], tuple[np.ndarray, GRUStepCache]]
GRUStepBackward = Callable[[np.ndarray, GRUStepCache], tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


class ReferenceGRU(GRU):
    """The GRU, stepped with :func:`~rnnscope.engine.models.gru_cell.gru_step_forward` (Cho et al.)
    or :func:`~rnnscope.engine.models.gru_cell.gru_reset_after_step_forward` (``reset_after``)."""

    def step_pair(self) -> tuple[GRUStepForward, GRUStepBackward]:
        """The step pair of this model's convention."""
        if self.config.reset_after:
            return gru_reset_after_step_forward, gru_reset_after_step_backward
        return gru_step_forward, gru_step_backward

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        step_forward, _ = self.step_pair()
        h = state["h"]
        caches: list[GRUStepCache] = []
        for x_t in inputs:
            h, cache = step_forward(x_t, h, self.params)
            caches.append(cache)
        hidden = _stack(caches, "h")
        if trace is not None:
            preact, gates, extra = (_stack(caches, field) for field in ("preact", "gates", "extra"))
            record_gru_probes(trace, preact, gates, extra, hidden, self.config.reset_after)
        return CoreOutput(features=hidden, hidden=hidden, final_state={"h": h.copy()}, cache=caches)

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> CoreGradients:
        _, step_backward = self.step_pair()
        names = ("Wx", "Wh", "b", "bh") if self.config.reset_after else ("Wx", "Wh", "b")
        grads = _zeros_like(self.params, names)
        dinputs = np.empty_like(inputs)
        dhidden = np.empty_like(dfeatures)
        dh_next = np.zeros_like(core.final_state["h"])  # gradient reaching h_t from step t + 1
        if dfinal_state is not None:
            dh_next = dh_next + dfinal_state["h"]
        for t in reversed(range(len(inputs))):
            dhidden[t] = dfeatures[t] + dh_next
            dinputs[t], dh_next, dparams = step_backward(dhidden[t], core.cache[t])
            _add(grads, dparams)
        return grads, dinputs if need_inputs else None, {"h": dh_next}, dhidden


REFERENCE_CLASSES: dict[str, type[RecurrentModel]] = {
    "rnn": ReferenceRNN,
    "lstm": ReferenceLSTM,
    "gru": ReferenceGRU,
}


def reference_model(model: RecurrentModel) -> RecurrentModel:
    """The reference twin of ``model`` (an RNN, LSTM or GRU): same config, a copy of its parameters."""
    if model.kind not in REFERENCE_CLASSES:
        raise ValueError(
            f"no reference model for kind {model.kind!r}; there is one for {sorted(REFERENCE_CLASSES)}"
        )
    return REFERENCE_CLASSES[model.kind](model.config, model.params.copy())
