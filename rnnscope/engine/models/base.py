"""What every recurrent model in the engine is: config, forward, backward, trace.

A model is a recurrent *core* (RNN, LSTM, GRU, DNC) followed by a shared
linear read-out and loss (:mod:`rnnscope.engine.heads`). Subclasses implement
the core; this module implements the rest once:

* :meth:`RecurrentModel.forward` checks the arrays, runs the core over the
  whole ``(T, B, D)`` input, applies the head and records the trace;
* :meth:`RecurrentModel.backward` runs exact BPTT from the head back through
  the core and returns a :class:`Gradients` for every parameter, the inputs
  and the initial state.

State is a ``dict`` of arrays, e.g. ``{"h": (B, H), "c": (B, H)}`` (one entry per
layer in a stack: ``{"l0.h": ..., "l1.h": ...}``); passing the ``final_state`` of one
call as the ``state`` of the next continues a sequence.

An optional embedding table ``E`` ``(V, D_e)`` (``config.embedding_size = D_e > 0``)
sits in front of the core for every kind: the core reads ``x_t E`` ``(B, D_e)`` --
for one-hot inputs the row of the symbol, as ``nn.Embedding`` / Keras ``Embedding``
look it up -- and ``E`` is a parameter like any other (checked, trained, saved).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from rnnscope.engine.heads import (
    HeadResult,
    head_forward,
    linear_backward,
    linear_forward,
    make_mask,
    sigmoid,
    softmax,
    validate_targets,
)
from rnnscope.engine.models.buffers import BufferPool
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.kernels import input_projection
from rnnscope.engine.params import Params
from rnnscope.engine.trace import ProbeKind, Trace

State = dict[str, np.ndarray]


@dataclass
class Gradients:
    """Exact gradients of the loss from one :meth:`RecurrentModel.backward`.

    ``params`` has an array for every parameter name (same shapes);
    ``inputs`` is ``(T, B, D)`` (None when it was not asked for); ``initial_state`` matches the state dict;
    ``hidden`` ``(T, B, H)`` is the total ``dLoss/dh_t`` at every step -- in a stack of ``L``
    layers ``(T, B, L H)``, layer ``l``'s in columns ``l H : (l + 1) H``.
    """

    params: dict[str, np.ndarray]
    inputs: np.ndarray | None
    initial_state: State
    hidden: np.ndarray


@dataclass
class CoreOutput:
    """What a recurrent core returns from its forward pass.

    ``features`` ``(T, B, F)`` feed the read-out; ``hidden`` ``(T, B, H)`` are the
    hidden states whose gradient norms the views plot (``(T, B, L H)`` for a stack of
    ``L`` layers, layer ``l`` in columns ``l H : (l + 1) H``); ``cache`` is whatever the
    core's backward needs.
    """

    features: np.ndarray
    hidden: np.ndarray
    final_state: State
    cache: Any


@dataclass
class ForwardResult:
    """Loss, trace and final state of one forward pass, plus the backward's cache."""

    loss: float
    trace: Trace | None
    final_state: State
    mask: np.ndarray
    head: HeadResult
    core: CoreOutput
    inputs: np.ndarray
    extras: dict[str, Any] = field(default_factory=dict)
    embedded: np.ndarray | None = None  # x_t E (T, B, D_e), what the core read (None without E)

    @property
    def core_inputs(self) -> np.ndarray:
        """What the recurrent core read: the embedded inputs, or the inputs themselves."""
        return self.inputs if self.embedded is None else self.embedded


class RecurrentModel(ABC):
    """Base of every engine model. Subclasses implement the recurrent core."""

    kind: ClassVar[str]
    stacked: ClassVar[bool] = False  # True where the core is a stack of layers (probes carry ``layer``)

    def __init__(self, config: ModelConfig, params: Params | None = None) -> None:
        if config.kind != self.kind:
            raise ValueError(f"{type(self).__name__} needs kind {self.kind!r}, got {config.kind!r}")
        self.config = config
        self.dtype = np.dtype(config.dtype)
        if params is None:
            params = self.fresh_params(np.random.default_rng(config.seed))
        else:
            expected = self.fresh_params(np.random.default_rng(0))
            for name, array in expected.items():
                if name not in params:
                    raise ValueError(f"parameter {name!r} is missing")
                if params[name].shape != array.shape:
                    raise ValueError(
                        f"parameter {name!r} has shape {params[name].shape}, expected {array.shape}"
                    )
            extra = set(params) - set(expected)
            if extra:
                raise ValueError(f"unexpected parameters {sorted(extra)}")
            params = Params(
                {k: np.asarray(params[k], dtype=self.dtype) for k in expected},
                expected.all_gate_slices,
            )
        self.params = params
        # large work arrays reused from call to call (a copied or unpickled model starts an
        # empty pool of its own)
        self.buffers = BufferPool()

    # ----------------------------------------------------------------- subclass API
    @abstractmethod
    def init_params(self, rng: np.random.Generator) -> Params:
        """Fresh parameters (including the read-out ``Wy`` ``(F, O)`` and ``by`` ``(O,)``)."""

    @abstractmethod
    def initial_state(self, batch: int) -> State:
        """The zero state for a batch of ``batch`` sequences."""

    @classmethod
    def parameter_shapes(cls, config: ModelConfig) -> dict[str, tuple[int, ...]]:
        """The shape of every parameter of a model of ``config``, in the model's order, nothing allocated.

        What a checkpoint of this class must hold, checked before its arrays are read. Every
        built-in model and every protocol model states it; a class that subclasses this
        base directly and does not cannot have its checkpoints opened.
        """
        raise NotImplementedError(f"{cls.__name__} does not state its parameter shapes")

    @classmethod
    def state_shapes_for(cls, config: ModelConfig, batch: int) -> dict[str, tuple[int, ...]]:
        """The shape of every state entry of a model of ``config`` for ``batch`` sequences."""
        raise NotImplementedError(f"{cls.__name__} does not state its state shapes")

    @abstractmethod
    def forward_core(self, inputs: np.ndarray, state: State, trace: Trace | None) -> CoreOutput:
        """Run the recurrence over ``inputs`` ``(T, B, D)``; add probes to ``trace`` if given."""

    @abstractmethod
    def backward_core(
        self, dfeatures: np.ndarray, core: CoreOutput, inputs: np.ndarray, *, need_inputs: bool = True
    ) -> tuple[dict[str, np.ndarray], np.ndarray | None, State, np.ndarray]:
        """BPTT through the core from ``dfeatures`` ``(T, B, F)``.

        Returns ``(param_grads, dinputs (T, B, D), dinitial_state, dhidden (T, B, H))``;
        ``param_grads`` covers every parameter except ``Wy`` and ``by``. With
        ``need_inputs=False`` (what :meth:`backward` passes when the input gradient is
        not wanted, as in training) ``dinputs`` is None: a matmul saved.
        """

    # ----------------------------------------------------------------- shared
    def fresh_params(self, rng: np.random.Generator) -> Params:
        """:meth:`init_params`, with the embedding table ``E`` ``(V, D_e)`` in front when the config has one.

        ``E`` is drawn after the rest (a model without one draws exactly what it always
        did), from N(0, 1) like ``nn.Embedding``'s.
        """
        params = self.init_params(rng)
        size = self.config.embedding_size
        if not size:
            return params
        table = rng.standard_normal((self.config.input_size, size)).astype(self.dtype)
        return Params({"E": table, **params}, params.all_gate_slices)

    def embed(self, inputs: np.ndarray) -> np.ndarray | None:
        """``x_t E`` ``(T, B, D_e)`` for ``inputs`` ``(T, B, V)`` (row picks for one-hot inputs).

        None when the model has no embedding table."""
        if not self.config.embedding_size:
            return None
        table = self.params["E"]
        steps, batch, _ = inputs.shape
        return input_projection(inputs, table).reshape(steps, batch, table.shape[1])

    @property
    def feature_size(self) -> int:
        """Width ``F`` of the features the read-out sees."""
        return int(self.params["Wy"].shape[0])

    def check_inputs(self, inputs: np.ndarray) -> np.ndarray:
        """``inputs`` as a ``(T, B, D)`` array of the model's dtype, or a clear error."""
        inputs = np.asarray(inputs)
        if inputs.ndim != 3:
            raise ValueError(f"inputs must be time-major (T, B, D), got shape {inputs.shape}")
        if inputs.shape[2] != self.config.input_size:
            raise ValueError(
                f"inputs have width {inputs.shape[2]}, but the model expects "
                f"input_size={self.config.input_size}"
            )
        if inputs.shape[0] < 1 or inputs.shape[1] < 1:
            raise ValueError(f"inputs must have at least one step and one sequence, got {inputs.shape}")
        return np.asarray(inputs, dtype=self.dtype)

    def check_state(self, state: State, batch: int) -> State:
        """Validate a carried-over state against :meth:`initial_state`."""
        expected = self.initial_state(batch)
        out: State = {}
        for name, zero in expected.items():
            if name not in state:
                raise ValueError(f"state is missing {name!r}; expected keys {sorted(expected)}")
            value = np.asarray(state[name], dtype=self.dtype)
            if value.shape != zero.shape:
                raise ValueError(f"state {name!r} has shape {value.shape}, expected {zero.shape}")
            out[name] = value
        return out

    def forward(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None = None,
        state: State | None = None,
        record: bool = True,
    ) -> ForwardResult:
        """Loss and (if ``record``) the full trace for ``inputs`` ``(T, B, D)``.

        ``targets``: ``(T, B)`` ints for ``softmax_ce``, ``(T, B, O)`` otherwise.
        ``mask``: optional ``(T, B)`` loss weights. ``state``: carried state or
        ``None`` for zeros.
        """
        inputs = self.check_inputs(inputs)
        steps, batch, _ = inputs.shape
        targets = validate_targets(self.config.loss, targets, steps, batch, self.config.output_size)
        if self.config.loss != "softmax_ce":
            targets = np.asarray(targets, dtype=self.dtype)
        mask_array = make_mask(steps, batch, mask, self.config.many_to_one, self.dtype)
        state = self.initial_state(batch) if state is None else self.check_state(state, batch)
        trace = Trace(model_kind=self.kind) if record else None
        if trace is not None:
            trace.add("data/input", inputs, ProbeKind.SIGNED, ("input",), description="input vector")
        embedded = self.embed(inputs)
        if trace is not None and embedded is not None:
            text = "embedded input x_t E, what the first layer reads"
            trace.add("embedding/vector", embedded, ProbeKind.SIGNED, ("embedding",), description=text)
        core = self.forward_core(inputs if embedded is None else embedded, state, trace)
        logits = linear_forward(core.features, self.params["Wy"], self.params["by"])
        head = head_forward(self.config.loss, logits, targets, mask_array)
        if trace is not None:
            if self.config.loss == "softmax_ce":
                trace.add("data/target", targets, ProbeKind.INDEX, description="target class")
                probs_kind = ProbeKind.PROBABILITY
            else:
                trace.add("data/target", targets, ProbeKind.SIGNED, ("output",), description="target")
                probs_kind = ProbeKind.GATE if self.config.loss == "sigmoid_bce" else ProbeKind.SIGNED
            trace.add("data/mask", mask_array, ProbeKind.SCALAR, description="loss weight of the step")
            trace.add("output/logits", logits, ProbeKind.SIGNED, ("output",), description="logits")
            trace.add("output/probs", head.probs, probs_kind, ("output",), description="prediction")
            trace.add("loss/step", head.step_loss, ProbeKind.SCALAR, description="loss of the step")
        return ForwardResult(
            loss=head.loss,
            trace=trace,
            final_state=core.final_state,
            mask=mask_array,
            head=head,
            core=core,
            inputs=inputs,
            embedded=embedded,
        )

    def backward(self, result: ForwardResult, input_gradient: bool = True) -> Gradients:
        """Exact BPTT gradients of ``result.loss`` for every parameter (and, if
        ``input_gradient``, for the inputs; otherwise ``Gradients.inputs`` is None)."""
        dfeatures, dWy, dby = linear_backward(result.head.dlogits, result.core.features, self.params["Wy"])
        embedded = result.embedded is not None
        grads, dinputs, dstate, dhidden = self.backward_core(
            dfeatures, result.core, result.core_inputs, need_inputs=input_gradient or embedded
        )
        if embedded:
            assert dinputs is not None
            grads["E"], dinputs = embedding_backward(result.inputs, dinputs, self.params["E"], input_gradient)
        grads["Wy"] = dWy
        grads["by"] = dby
        ordered = {name: grads[name] for name in self.params}
        return Gradients(params=ordered, inputs=dinputs, initial_state=dstate, hidden=dhidden)

    def predict(self, inputs: np.ndarray, state: State | None = None) -> tuple[np.ndarray, State]:
        """Outputs ``(T, B, O)`` and the final state, with no targets and no trace.

        Outputs are softmax probabilities (``softmax_ce``), sigmoid probabilities
        (``sigmoid_bce``) or the predictions themselves (``mse``). Used for sampling
        text one step at a time with carried state.
        """
        inputs = self.check_inputs(inputs)
        batch = inputs.shape[1]
        state = self.initial_state(batch) if state is None else self.check_state(state, batch)
        embedded = self.embed(inputs)
        core = self.forward_core(inputs if embedded is None else embedded, state, None)
        logits = linear_forward(core.features, self.params["Wy"], self.params["by"])
        if self.config.loss == "softmax_ce":
            return softmax(logits), core.final_state
        if self.config.loss == "sigmoid_bce":
            return sigmoid(logits), core.final_state
        return logits, core.final_state

    def loss(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None = None,
        state: State | None = None,
    ) -> float:
        """The loss alone (no trace recorded)."""
        return self.forward(inputs, targets, mask, state, record=False).loss

    def loss_and_gradients(
        self,
        inputs: np.ndarray,
        targets: np.ndarray,
        mask: np.ndarray | None = None,
        state: State | None = None,
        record: bool = False,
        input_gradient: bool = True,
    ) -> tuple[float, Gradients, ForwardResult]:
        """Forward and backward in one call; see :meth:`forward` and :meth:`backward`."""
        result = self.forward(inputs, targets, mask, state, record=record)
        grads = self.backward(result) if input_gradient else self.backward(result, input_gradient=False)
        return result.loss, grads, result


def trace_with_gradients(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
) -> tuple[Trace, ForwardResult, Gradients]:
    """Forward with the trace, backward, and the ``grad/hidden_norm`` probe ``(T, B)`` added
    (one per layer in a stack of several: ``grad/l0/hidden_norm``, ``grad/l1/hidden_norm`` ...)."""
    result = model.forward(inputs, targets, mask, state, record=True)
    grads = model.backward(result)
    assert result.trace is not None
    layers = model.config.num_layers
    per_layer = grads.hidden.reshape(grads.hidden.shape[:2] + (layers, -1))
    norms = np.sqrt((per_layer * per_layer).sum(axis=-1))  # (T, B, L)
    for layer in range(layers):
        where = "" if layers == 1 else f"l{layer}/"
        text = "|dLoss/dh_t|, the gradient reaching h_t" + ("" if layers == 1 else f" of layer {layer}")
        result.trace.add(
            f"grad/{where}hidden_norm",
            np.ascontiguousarray(norms[..., layer]),
            ProbeKind.SCALAR,
            description=text,
            layer=layer if model.stacked else None,
        )
    return result.trace, result, grads


def embedding_backward(
    inputs: np.ndarray, dembedded: np.ndarray, table: np.ndarray, input_gradient: bool
) -> tuple[np.ndarray, np.ndarray | None]:
    """Gradients of ``x_t E``: ``dE`` ``(V, D_e)`` and (if ``input_gradient``) ``dinputs`` ``(T, B, V)``.

    ``inputs`` ``(T, B, V)``; ``dembedded`` ``(T, B, D_e)`` is the gradient reaching ``x_t E``.
    """
    steps, batch, width = inputs.shape
    flat = dembedded.reshape(steps * batch, -1)
    dtable = inputs.reshape(steps * batch, width).T @ flat
    dinputs = (flat @ table.T).reshape(steps, batch, width) if input_gradient else None
    return dtable, dinputs


def init_uniform(
    rng: np.random.Generator, shape: tuple[int, ...], fan_in: int, dtype: np.dtype
) -> np.ndarray:
    """Uniform in ``+-1/sqrt(fan_in)``, the default initialisation of the engine's matrices."""
    bound = 1.0 / np.sqrt(max(fan_in, 1))
    return rng.uniform(-bound, bound, size=shape).astype(dtype)
