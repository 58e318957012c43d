"""Reference models: the RNN, LSTM and GRU written as plain loops over their readable step pairs.

Each class here is the fast model of the same kind with only its recurrent core
replaced: :meth:`forward_core` calls the cell's ``step_forward`` once per timestep
and layer -- time-major: at step ``t`` layer 0 reads ``x_t``, layer ``l + 1`` reads
layer ``l``'s new ``h_t`` -- and keeps the caches; :meth:`backward_core` walks them
backwards with ``step_backward`` (at step ``t`` from the top layer down, the input
gradient of layer ``l`` joining the gradient reaching ``h_t`` of layer ``l - 1``),
adding up each step's share of the parameter gradients. The fast paths run the
stack the other way round (a whole layer at a time), so the two orders check each
other. Same parameters, same state, same probes (names, kinds, layers, values) as
the fast model; the tests hold the two equal (loss, every probe, final state, every
gradient) to 1e-13.

Read these first; the fast paths (:mod:`~rnnscope.engine.models.rnn`,
:mod:`~rnnscope.engine.models.lstm`, :mod:`~rnnscope.engine.models.gru`) compute the
same numbers in fewer, larger NumPy calls. A model of your own can start here too:
a ``forward_core`` / ``backward_core`` pair over a step pair is a complete model.

    >>> model = reference_model(build_model(config))   # the same weights, stepped plainly
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

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
from rnnscope.engine.models.layers import LayerNames
from rnnscope.engine.models.lstm import LSTM, record_lstm_probes
from rnnscope.engine.models.lstm_cell import LSTMStepCache, lstm_step_backward, lstm_step_forward
from rnnscope.engine.models.rnn import RNN, record_rnn_probes
from rnnscope.engine.models.rnn_cell import RNNStepCache, rnn_step_backward, rnn_step_forward
from rnnscope.engine.models.stack import StackedModel
from rnnscope.engine.trace import Trace

CoreGradients = tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]
Caches = list[RNNStepCache] | list[LSTMStepCache] | list[GRUStepCache]


def _stack(caches: Caches, field: str) -> np.ndarray:
    """One field of every step's cache as a time-major ``(T, B, ...)`` array."""
    return np.stack([getattr(cache, field) for cache in caches])


def _add(total: dict[str, np.ndarray], step: dict[str, np.ndarray]) -> None:
    for name, value in step.items():
        total[name] += value


class ReferenceStack(StackedModel):
    """The loops over time and layers the three references share; each names its step pair.

    A layer's state is the tuple of its entries in :attr:`state_names` order (``(h,)`` or
    ``(h, c)``); :meth:`step` and :meth:`step_back` adapt the cell's step pair to it.
    """

    def step(self, x_t: np.ndarray, state: tuple[np.ndarray, ...], weights: Mapping[str, np.ndarray]) -> Any:
        """``(new state tuple, cache)`` of one step of one layer."""
        raise NotImplementedError

    def step_back(
        self, dh: np.ndarray, dlater: tuple[np.ndarray, ...], cache: Any
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, np.ndarray]]:
        """``(dx_t, d(previous state tuple), dparams)`` of one step of one layer; ``dh`` is the
        whole gradient reaching ``h_t``, ``dlater`` the rest of the state's from step ``t + 1``."""
        raise NotImplementedError

    def record(self, trace: Trace, caches: Any, names: LayerNames) -> None:
        """The layer's probes from its caches."""
        raise NotImplementedError

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        stack = self.layer_names()
        weights = [self.layer_weights(names) for names in stack]
        states = [tuple(state[names.state(key)] for key in self.state_names) for names in stack]
        caches: list[list[Any]] = [[] for _ in stack]
        for x_t in inputs:
            for layer in range(len(stack)):
                states[layer], cache = self.step(x_t, states[layer], weights[layer])
                caches[layer].append(cache)
                x_t = states[layer][0]  # h_t of this layer is the next layer's input
        hidden = [_stack(layer_caches, "h") for layer_caches in caches]
        if trace is not None:
            for names in stack:
                self.record(trace, caches[names.layer], names)
        final_state = {
            names.state(key): value.copy()
            for names in stack
            for key, value in zip(self.state_names, states[names.layer], strict=True)
        }
        everything = hidden[0] if len(stack) == 1 else np.concatenate(hidden, axis=-1)
        return CoreOutput(features=hidden[-1], hidden=everything, final_state=final_state, cache=caches)

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> CoreGradients:
        stack = self.layer_names()
        grads = [
            {key: np.zeros_like(value) for key, value in self.layer_weights(names).items()} for names in stack
        ]
        dinputs = np.empty_like(inputs)
        dhidden = [np.empty_like(dfeatures) for _ in stack]
        # the gradient reaching each layer's state at step t from step t + 1
        dlater = [
            tuple(
                np.zeros_like(core.final_state[names.state(key)])
                + (0.0 if dfinal_state is None else dfinal_state[names.state(key)])
                for key in self.state_names
            )
            for names in stack
        ]
        for t in reversed(range(len(inputs))):
            dabove = dfeatures[t]  # the gradient reaching the top layer's h_t from the read-out
            for layer in reversed(range(len(stack))):
                dhidden[layer][t] = dabove + dlater[layer][0]
                dabove, dlater[layer], dparams = self.step_back(
                    dhidden[layer][t], dlater[layer][1:], core.cache[layer][t]
                )
                _add(grads[layer], dparams)
            dinputs[t] = dabove
        named = {names.param(key): value for names in stack for key, value in grads[names.layer].items()}
        dstate = {
            names.state(key): value
            for names in stack
            for key, value in zip(self.state_names, dlater[names.layer], strict=True)
        }
        everything = dhidden[0] if len(stack) == 1 else np.concatenate(dhidden, axis=-1)
        return named, dinputs if need_inputs else None, dstate, everything


class ReferenceRNN(ReferenceStack, RNN):
    """The RNN, stepped with :func:`~rnnscope.engine.models.rnn_cell.rnn_step_forward`."""

    def step(self, x_t: np.ndarray, state: tuple[np.ndarray, ...], weights: Mapping[str, np.ndarray]) -> Any:
        h, cache = rnn_step_forward(x_t, state[0], weights)
        return (h,), cache

    def step_back(
        self, dh: np.ndarray, dlater: tuple[np.ndarray, ...], cache: Any
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, np.ndarray]]:
        dx, dh_prev, dparams = rnn_step_backward(dh, cache)
        return dx, (dh_prev,), dparams

    def record(self, trace: Trace, caches: Any, names: LayerNames) -> None:
        record_rnn_probes(trace, _stack(caches, "preact"), _stack(caches, "h"), names)


class ReferenceLSTM(ReferenceStack, LSTM):
    """The LSTM, stepped with :func:`~rnnscope.engine.models.lstm_cell.lstm_step_forward`."""

    def step(self, x_t: np.ndarray, state: tuple[np.ndarray, ...], weights: Mapping[str, np.ndarray]) -> Any:
        h, c, cache = lstm_step_forward(x_t, state[0], state[1], weights)
        return (h, c), cache

    def step_back(
        self, dh: np.ndarray, dlater: tuple[np.ndarray, ...], cache: Any
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, np.ndarray]]:
        dx, dh_prev, dc_prev, dparams = lstm_step_backward(dh, dlater[0], cache)
        return dx, (dh_prev, dc_prev), dparams

    def record(self, trace: Trace, caches: Any, names: LayerNames) -> None:
        gates, preact = _stack(caches, "gates"), _stack(caches, "preact")
        cells, tanh_cells, hidden = (_stack(caches, field) for field in ("c", "tanh_c", "h"))
        record_lstm_probes(trace, preact, gates, cells, tanh_cells, hidden, names)


GRUStepForward = Callable[[np.ndarray, np.ndarray, Mapping[str, np.ndarray]], tuple[np.ndarray, GRUStepCache]]
GRUStepBackward = Callable[[np.ndarray, GRUStepCache], tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]]


class ReferenceGRU(ReferenceStack, GRU):
    """The GRU, stepped with :func:`~rnnscope.engine.models.gru_cell.gru_step_forward` (Cho et al.)
    or :func:`~rnnscope.engine.models.gru_cell.gru_reset_after_step_forward` (``reset_after``)."""

    def step_pair(self) -> tuple[GRUStepForward, GRUStepBackward]:
        """The step pair of this model's convention."""
        if self.config.reset_after:
            return gru_reset_after_step_forward, gru_reset_after_step_backward
        return gru_step_forward, gru_step_backward

    def step(self, x_t: np.ndarray, state: tuple[np.ndarray, ...], weights: Mapping[str, np.ndarray]) -> Any:
        h, cache = self.step_pair()[0](x_t, state[0], weights)
        return (h,), cache

    def step_back(
        self, dh: np.ndarray, dlater: tuple[np.ndarray, ...], cache: Any
    ) -> tuple[np.ndarray, tuple[np.ndarray, ...], dict[str, np.ndarray]]:
        dx, dh_prev, dparams = self.step_pair()[1](dh, cache)
        return dx, (dh_prev,), dparams

    def record(self, trace: Trace, caches: Any, names: LayerNames) -> None:
        preact, gates, extra, hidden = (_stack(caches, field) for field in ("preact", "gates", "extra", "h"))
        record_gru_probes(trace, preact, gates, extra, hidden, self.config.reset_after, names)


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
