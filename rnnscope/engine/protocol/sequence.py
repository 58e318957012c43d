"""The whole-sequence form: subclass :class:`SequenceModel`, write ``forward_core`` / ``backward_core``.

A :class:`SequenceModel` is a :class:`~rnnscope.engine.models.base.RecurrentModel` (the
base of the built-in models) of kind ``"custom"`` that makes its parameters and zero
state from declarations, so a user writes only the recurrence::

    class MinCharRNN(SequenceModel):
        PARAMS = [Param("Wxh", ("D", "H"), init="normal"), Param("Whh", ("H", "H"), init="normal"),
                  Param("bh", ("H",), init="zeros")]
        STATE = {"h": "H"}
        PROBES = [Probe("rnn/hidden", "signed")]

        def forward_core(self, inputs, state, trace):        # inputs (T, B, D)
            ...                                              # -> CoreOutput(features (T, B, H), ...)
            self.record_probes(trace, {"hidden": hs})        # (T, B, H) per declared probe
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            ...                                              # -> (dparams, dinputs, dstate, dhidden)

rnnscope adds the read-out ``Wy`` ``(F, O)``, ``by`` ``(O,)`` (``F`` is ``FEATURES``,
``"H"`` unless set), the loss and the trace. ``MinCharRNN.build(input_size=V,
hidden_size=64, output_size=V)`` makes one from sizes; ``MinCharRNN(config, params)``
is what every rnnscope tool calls.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import numpy as np

from rnnscope.engine.models.base import RecurrentModel, State
from rnnscope.engine.models.config import CUSTOM_KIND, ModelConfig
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.protocol.declarations import (
    Param,
    Probe,
    Shape,
    Size,
    check_declarations,
    resolve_shape,
    resolve_size,
    sizes_of,
)
from rnnscope.engine.protocol.errors import ProtocolError
from rnnscope.engine.protocol.values import checked_probe_step, read_source
from rnnscope.engine.trace import Trace


class SequenceModel(RecurrentModel):
    """A model of the user's own over whole ``(T, B, D)`` sequences (see the module docstring).

    Class attributes a subclass sets:

    * ``PARAMS``: the :class:`Param` declarations (not the read-out);
    * ``STATE``: ``{name: size or shape per row}``, e.g. ``{"h": "H", "c": "H"}``; the zero
      state of a batch of ``B`` is ``(B, H)`` per entry;
    * ``PROBES``: the :class:`Probe` declarations recorded by :meth:`record_probes`;
    * ``FEATURES``: the width ``F`` of what the read-out sees (default ``"H"``).
    """

    kind = CUSTOM_KIND
    PARAMS: ClassVar[Sequence[Param]] = ()
    STATE: ClassVar[Mapping[str, Size | Shape]] = {"h": "H"}
    PROBES: ClassVar[Sequence[Probe]] = ()
    FEATURES: ClassVar[Size] = "H"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # a declaration that cannot work is an error where the class is defined, not at first use
        check_declarations(cls.__name__, cls.PARAMS, cls.PROBES)
        if not isinstance(cls.STATE, Mapping) or not all(isinstance(k, str) for k in cls.STATE):
            raise ProtocolError(
                f"{cls.__name__}.STATE must be a dict such as {{'h': 'H'}}, got {cls.STATE!r}"
            )

    @classmethod
    def build(
        cls, input_size: int, hidden_size: int, output_size: int, params: Params | None = None, **fields: Any
    ) -> SequenceModel:
        """A model from its sizes (``fields``: any other :class:`ModelConfig` field, e.g. ``seed=3``)."""
        config = ModelConfig(cls.kind, input_size, hidden_size, output_size, **fields)
        return cls(config, params)

    # ----------------------------------------------------------------- declared parts
    def init_params(self, rng: np.random.Generator) -> Params:
        """The declared parameters, drawn in declaration order, then the read-out ``Wy``, ``by``."""
        sizes = sizes_of(self.config)
        arrays: dict[str, np.ndarray] = {}
        slices: dict[str, dict[str, GateSlice]] = {}
        for param in self.PARAMS:
            shape, gates = param.resolve(sizes)
            arrays[param.name] = param.initial_value(rng, shape, self.config, self.dtype)
            if gates:
                slices[param.name] = gates
        features = self.feature_width()
        output = self.config.output_size
        bound = 1.0 / np.sqrt(features)
        arrays["Wy"] = rng.uniform(-bound, bound, size=(features, output)).astype(self.dtype)
        arrays["by"] = np.zeros(output, dtype=self.dtype)
        return Params(arrays, slices)

    def feature_width(self) -> int:
        """``F``: the width of ``h_t``, which the read-out sees."""
        return self.feature_width_for(self.config)

    @classmethod
    def feature_width_for(cls, config: ModelConfig) -> int:
        """``F`` of a model of ``config``."""
        width = resolve_size(cls.FEATURES, sizes_of(config))
        if width < 1:
            raise ProtocolError(f"{cls.__name__}.FEATURES = {cls.FEATURES!r} gives {width}")
        return width

    @classmethod
    def parameter_shapes(cls, config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter (the declared ones, then ``Wy``, ``by``), nothing allocated:
        what a checkpoint of this class must hold."""
        sizes = sizes_of(config)
        shapes = {param.name: param.resolve(sizes)[0] for param in cls.PARAMS}
        shapes["Wy"] = (cls.feature_width_for(config), config.output_size)
        shapes["by"] = (config.output_size,)
        return shapes

    @classmethod
    def state_shapes_for(cls, config: ModelConfig, batch: int) -> dict[str, tuple[int, ...]]:
        """The shape of every state entry of a model of ``config`` for a batch of ``batch``."""
        sizes = sizes_of(config)
        shapes = {}
        for name, size in cls.STATE.items():
            per_row = size if isinstance(size, tuple) else (size,)
            shapes[name] = (batch, *resolve_shape(per_row, sizes, f"state {name!r}"))
        return shapes

    def state_shapes(self, batch: int) -> dict[str, tuple[int, ...]]:
        """The shape of every state entry for a batch of ``batch``: ``(B,) + shape``."""
        return self.state_shapes_for(self.config, batch)

    def initial_state(self, batch: int) -> State:
        return {name: np.zeros(shape, dtype=self.dtype) for name, shape in self.state_shapes(batch).items()}

    # ----------------------------------------------------------------- probes
    def record_probes(self, trace: Trace | None, values: Any) -> None:
        """Add every declared probe to ``trace`` (nothing when it is ``None``).

        ``values``: a dict or object holding each probe's ``(T, B, ...)`` array under its
        source name (``"state.c"`` reads ``values["c"]`` here: there is no step state).
        """
        if trace is None:
            return
        for probe in self.PROBES:
            where = probe.where.removeprefix("state.")
            data = np.asarray(read_source(values, {}, where, probe.name))
            if data.ndim < 2:
                raise ProtocolError(
                    f"probe {probe.name!r}: {where!r} has shape {data.shape}; "
                    "it must be time-major (T, B, ...)"
                )
            checked_probe_step(data[0], probe.name, where, probe.axis_names, data.shape[1])
            self.add_probe(trace, probe, data)

    @staticmethod
    def add_probe(trace: Trace, probe: Probe, data: np.ndarray) -> None:
        """Record ``data`` ``(T, B, ...)`` under the probe's declaration."""
        trace.add(
            probe.name,
            data,
            probe.probe_kind,
            probe.axis_names,
            gate=probe.gate,
            description=probe.description or f"{probe.where} of the user's model",
        )
