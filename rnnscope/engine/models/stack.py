"""A stack of recurrent layers of one kind: what the RNN, LSTM and GRU share.

Layer 0 reads the inputs (or their embedding), layer ``l + 1`` reads the hidden states
``h^l_t`` ``(T, B, H)`` of layer ``l``, and the read-out reads the top layer. Every
layer has the hidden size ``H`` (as in ``torch.nn.LSTM(num_layers=L)``); layer 0's
``Wx`` is ``(D, G H)``, the others' ``(H, G H)``. Names follow
:class:`~rnnscope.engine.models.layers.LayerNames`: a one-layer model is exactly the
model it always was (``Wx``, state ``h``, probes ``lstm/...``); with ``L > 1`` every
name carries its layer (``l1.Wx[forget]``, ``l1.h``, ``lstm/l1/forget_gate``).

A subclass implements one layer (:meth:`StackedModel.init_layer`,
:meth:`~StackedModel.forward_layer`, :meth:`~StackedModel.backward_layer`); this
class runs the stack layer by layer, forward bottom-up and backward top-down, where
the gradient reaching layer ``l``'s inputs is the gradient from above for layer
``l - 1``'s hidden states. A one-layer model runs its layer directly, so it is as fast
as before stacking existed.
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State, init_uniform
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.layers import LayerNames, prefixed, stack_names
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.trace import Trace

LayerGradients = tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]


@dataclass
class LayerOutput:
    """One layer's forward over the whole sequence: ``hidden`` ``(T, B, H)``, the layer's final
    state (plain names: ``{"h": ...}``) and what its backward needs."""

    hidden: np.ndarray
    final_state: State
    cache: Any


class StackedModel(RecurrentModel):
    """A recurrent model whose core is ``config.num_layers`` layers of one cell."""

    stacked = True
    group: ClassVar[str]  # the probe group, "lstm"
    state_names: ClassVar[tuple[str, ...]] = ("h",)  # one layer's state entries

    # ----------------------------------------------------------------- one layer
    @classmethod
    @abstractmethod
    def layer_shapes(cls, config: ModelConfig, input_size: int) -> dict[str, tuple[int, ...]]:
        """The shape of each of one layer's arrays (plain names) when it reads ``input_size`` wide inputs."""

    @abstractmethod
    def init_layer(
        self, rng: np.random.Generator, input_size: int
    ) -> tuple[dict[str, np.ndarray], dict[str, dict[str, GateSlice]]]:
        """Fresh arrays of one layer reading ``input_size`` wide inputs, and their gate slices."""

    @abstractmethod
    def forward_layer(
        self,
        weights: Mapping[str, np.ndarray],
        inputs: np.ndarray,
        state: State,
        trace: Trace | None,
        names: LayerNames,
    ) -> LayerOutput:
        """One layer over ``inputs`` ``(T, B, D)`` from ``state`` (plain names); its probes into ``trace``."""

    @abstractmethod
    def backward_layer(
        self,
        weights: Mapping[str, np.ndarray],
        dhidden_in: np.ndarray,
        output: LayerOutput,
        inputs: np.ndarray,
        dfinal_state: State | None,
        need_inputs: bool,
    ) -> LayerGradients:
        """BPTT through one layer from ``dhidden_in`` ``(T, B, H)``, the gradient reaching its
        hidden states from above. Returns ``(grads, dinputs, dinitial_state, dhidden)`` with
        plain names; ``dhidden`` ``(T, B, H)`` is the total gradient reaching ``h_t``."""

    # ----------------------------------------------------------------- the stack
    def layer_names(self) -> list[LayerNames]:
        """The names of every layer, bottom first (made once: the config does not change)."""
        stack: list[LayerNames] | None = self.__dict__.get("_stack")
        if stack is None:
            stack = self.__dict__["_stack"] = stack_names(self.group, self.config.num_layers)
        return stack

    def layer_weights(self, names: LayerNames) -> dict[str, np.ndarray]:
        """Layer ``names.layer``'s parameters under their plain names (``{"Wx": ..., "Wh": ...}``)."""
        prefix, params = names.prefix, self.params
        if not prefix:
            return {key: params[key] for key in params if key not in ("E", "Wy", "by")}
        return {key[len(prefix) :]: params[key] for key in params if key.startswith(prefix)}

    @classmethod
    def parameter_shapes(cls, config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter of a model of ``config``, in the model's order (nothing allocated):
        ``E`` when the config has an embedding, each layer's arrays, then ``Wy``, ``by``."""
        shapes: dict[str, tuple[int, ...]] = {}
        if config.embedding_size:
            shapes["E"] = (config.input_size, config.embedding_size)
        width = config.core_input_size
        for names in stack_names(cls.group, config.num_layers):
            shapes.update({names.param(key): shape for key, shape in cls.layer_shapes(config, width).items()})
            width = config.hidden_size
        shapes["Wy"] = (config.hidden_size, config.output_size)
        shapes["by"] = (config.output_size,)
        return shapes

    @classmethod
    def state_shapes_for(cls, config: ModelConfig, batch: int) -> dict[str, tuple[int, ...]]:
        """The shape of every state entry of a model of ``config`` for ``batch`` sequences."""
        return {
            names.state(key): (batch, config.hidden_size)
            for names in stack_names(cls.group, config.num_layers)
            for key in cls.state_names
        }

    def init_params(self, rng: np.random.Generator) -> Params:
        cfg = self.config
        arrays: dict[str, np.ndarray] = {}
        slices: dict[str, dict[str, GateSlice]] = {}
        width = cfg.core_input_size
        for names in self.layer_names():
            layer_arrays, layer_slices = prefixed(names, *self.init_layer(rng, width))
            arrays.update(layer_arrays)
            slices.update(layer_slices)
            width = cfg.hidden_size
        H, O = cfg.hidden_size, cfg.output_size
        arrays["Wy"] = init_uniform(rng, (H, O), H, self.dtype)
        arrays["by"] = np.zeros(O, dtype=self.dtype)
        return Params(arrays, slices)

    def initial_state(self, batch: int) -> State:
        shapes = self.state_shapes_for(self.config, batch)
        return {name: np.zeros(shape, dtype=self.dtype) for name, shape in shapes.items()}

    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        outputs: list[LayerOutput] = []
        layer_inputs = [inputs]
        final_state: State = {}
        for names in self.layer_names():
            own = {key: state[names.state(key)] for key in self.state_names}
            output = self.forward_layer(self.layer_weights(names), layer_inputs[-1], own, trace, names)
            outputs.append(output)
            layer_inputs.append(output.hidden)
            final_state.update({names.state(key): value for key, value in output.final_state.items()})
        top = outputs[-1].hidden
        if len(outputs) == 1:
            return CoreOutput(features=top, hidden=top, final_state=final_state, cache=outputs[0].cache)
        hidden = np.concatenate([output.hidden for output in outputs], axis=-1)
        return CoreOutput(
            features=top, hidden=hidden, final_state=final_state, cache=(outputs, layer_inputs[:-1])
        )

    def backward_core(
        self,
        dfeatures: np.ndarray,
        core: CoreOutput,
        inputs: np.ndarray,
        dfinal_state: State | None = None,
        *,
        need_inputs: bool = True,
    ) -> LayerGradients:
        """BPTT from ``dfeatures`` ``(T, B, H)`` down the stack; ``dfinal_state`` optionally adds a
        gradient arriving at the final state (from a later chunk of the same sequence)."""
        stack = self.layer_names()
        if len(stack) == 1:
            output = LayerOutput(core.features, core.final_state, core.cache)
            return self.backward_layer(
                self.layer_weights(stack[0]), dfeatures, output, inputs, dfinal_state, need_inputs
            )
        outputs, layer_inputs = core.cache
        grads: dict[str, np.ndarray] = {}
        dstates: list[State] = []
        dhidden: list[np.ndarray] = []
        dabove: np.ndarray | None = dfeatures
        for names in reversed(stack):
            final = None
            if dfinal_state is not None:
                final = {key: dfinal_state[names.state(key)] for key in self.state_names}
            assert dabove is not None
            layer_grads, dabove, layer_dstate, layer_dhidden = self.backward_layer(
                self.layer_weights(names),
                dabove,
                outputs[names.layer],
                layer_inputs[names.layer],
                final,
                need_inputs or names.layer > 0,
            )
            grads.update({names.param(key): value for key, value in layer_grads.items()})
            dstates.insert(0, {names.state(key): value for key, value in layer_dstate.items()})
            dhidden.insert(0, layer_dhidden)
        dstate = {key: value for layer_dstate in dstates for key, value in layer_dstate.items()}
        return grads, dabove, dstate, np.concatenate(dhidden, axis=-1)
