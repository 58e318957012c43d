"""Planted backward bugs for the gradient checker's regression suite.

Each :class:`Bug` breaks one backward function of one model -- by wrapping the
function where the model looks it up (``monkeypatch.setattr``), or by a test
subclass whose backward has the slip -- with the kind of small mistake that
is easy to make and hard to see (a derivative off by 0.1 %, a factor missing,
a step off by one). The forward pass is never touched, so the numerical side
of the check stays right and the table must show the mistake: the rows the
bug feeds must fail, the row the table blames first (the largest relative
error among the failing rows, a gate sub-row before its parameter) must be the
one the buggy function computes, and the rows the bug cannot reach must not fail.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rnnscope.engine.dnc import access as dnc_access
from rnnscope.engine.dnc import allocation, interface, linkage
from rnnscope.engine.dnc.addressing import sigmoid as dnc_sigmoid
from rnnscope.engine.gradcheck import GradcheckResult, Status
from rnnscope.engine.models import ModelConfig, base, build_model, dnc, gru, lstm, rnn

SLIP = 1e-3  # the size of a planted slip, relative


@dataclass(frozen=True)
class Bug:
    """One planted bug: ``install(monkeypatch)`` plants it in the model ``kind`` (config ``extra``).

    ``fails``: the rows the buggy function computes, which must fail; ``blamed``: where the table
    must point first (empty where the bug's error spreads evenly through the memory and no one
    row is more to blame); ``clean``: the rows the bug cannot reach, which must stay ok.
    """

    name: str
    kind: str
    install: Callable[[Any], None]
    fails: frozenset[str]
    blamed: frozenset[str] = frozenset()
    clean: frozenset[str] = frozenset()
    extra: dict[str, Any] = field(default_factory=dict)
    loss: str = "softmax_ce"


def bug(
    name: str, kind: str, install: Callable[[Any], None], fails, blamed=(), clean=("Wy", "by"), **options
) -> Bug:
    return Bug(name, kind, install, frozenset(fails), frozenset(blamed), frozenset(clean), **options)


def wrap(module: Any, attribute: str, after: Callable[..., Any]) -> Callable[[Any], None]:
    """An installer replacing ``module.attribute`` by a function returning ``after(result, *args)``."""

    def install(monkeypatch: Any) -> None:
        original = getattr(module, attribute)

        def planted(*args: Any, **kwargs: Any) -> Any:
            return after(original(*args, **kwargs), *args, **kwargs)

        monkeypatch.setattr(module, attribute, planted)

    return install


def blamed_row(result: GradcheckResult) -> str:
    """The row the table points at first: the largest typical (median) relative error among the
    failing rows, a gate sub-row before its parameter on a tie. (The largest error alone often
    sits in another row: an element whose gradient is a small difference of large terms.)"""
    failing = [row for row in result.all_rows() if row.status is Status.FAIL]
    return max(failing, key=lambda row: (row.rel_err_median, row.gate is not None)).name


# ------------------------------------------------------------------------------ problems
def problem(kind: str, loss: str = "softmax_ce", seed: int = 3, **extra: Any):
    """A small model of ``kind`` (weights larger than the initialisation, so every path carries
    signal), a batch ``(T=5, B=2)`` of dense inputs, a mask with some steps unscored and a
    carried state with distinct usages: ``(model, inputs, targets, mask, state)``."""
    sizes = {"memory_slots": 3, "memory_width": 2, "read_heads": 2} if kind == "dnc" else {}
    config = ModelConfig(kind, 3, 3, 3, loss=loss, seed=seed, **sizes, **extra)
    model = build_model(config)
    rng = np.random.default_rng(seed)
    for name in model.params:
        model.params[name][...] += 0.3 * rng.standard_normal(model.params[name].shape)
    x = rng.standard_normal((5, 2, 3))
    if loss == "softmax_ce":
        y = rng.integers(0, 3, (5, 2))
    else:
        y = rng.random((5, 2, 3)) if loss == "sigmoid_bce" else rng.standard_normal((5, 2, 3))
    mask = np.ones((5, 2))
    mask[[0, 2], [1, 0]] = 0.0
    return model, x, y, mask, carried_state(model, 2, rng)


def carried_state(model, batch: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """A valid state as a previous chunk would leave it: weightings summing to less than 1, usages
    in 0..1 and all different (no allocation ties), links with a zero diagonal."""
    out = {}
    for name, zero in model.initial_state(batch).items():
        if name in ("h", "c", "memory", "read_vectors"):
            out[name] = 0.5 * rng.standard_normal(zero.shape)
        elif name == "link":
            slots = zero.shape[-1]
            link = rng.random(zero.shape) / slots
            link[:, np.arange(slots), np.arange(slots)] = 0.0
            out[name] = link
        else:
            out[name] = (0.1 + rng.random(zero.shape)) / (1.2 * zero.shape[-1])
    return out


# ------------------------------------------------------------------------------ the bugs
def _scale_columns(columns: Callable[[int], slice], factor: float = 1 + SLIP):
    """``after`` for a function returning one array: scale ``columns(H)`` of its last axis."""

    def after(value: np.ndarray, /, *args: Any, **kwargs: Any) -> np.ndarray:
        out = np.array(value, copy=True)
        hidden = out.shape[-1] // 4
        out[..., columns(hidden)] *= factor
        return out

    return after


def _gate(k: int) -> Callable[[int], slice]:
    return lambda hidden: slice(k * hidden, (k + 1) * hidden)


PARAMETERS = {
    "rnn": ("Wx", "Wh", "b", "Wy", "by"),
    "lstm": ("Wx", "Wh", "b", "Wy", "by"),
    "gru": ("Wx", "Wh", "b", "Wy", "by"),
    "dnc": ("Wx", "Wh", "b", "Wi", "bi", "Wy", "by"),
}


# ------------------------------------------------------------------------------ RNN
class PlantedRNN(rnn.RNN):
    """The RNN's backward (a copy of ``RNN.backward_core``) with one of four slips (``slip``)."""

    slip = ""

    def backward_core(self, dfeatures, core, inputs, dfinal_state=None, *, need_inputs=True):
        steps, batch, width = inputs.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        hs = core.cache["hs"]
        hidden = hs[1:]
        size = Wh.shape[0]
        # tanh' = 1 - h^2; the planted slip: 1.001 - h^2
        dpreact = (1.0 + (SLIP if self.slip == "tanh'" else 0.0)) - hidden * hidden
        dhidden = np.empty_like(hidden)
        dh_next = np.zeros((batch, size))
        for t in range(steps - 1, -1, -1):
            dhidden[t] = dfeatures[t] + dh_next
            dpreact[t] *= dhidden[t]
            dh_next = dpreact[t] @ Wh.T
        flat = dpreact.reshape(steps * batch, size)
        # the planted slip: the recurrent weights' gradient from h_t instead of h_{t-1}
        previous = hs[1:] if self.slip == "Wh off by one" else hs[:-1]
        grads = {
            "Wx": inputs.reshape(-1, width).T @ flat,
            "Wh": previous.reshape(-1, size).T @ flat,
            "b": flat.sum(axis=0),
        }
        # the planted slip: dx from the gradient reaching h_t, tanh' forgotten
        source = dhidden.reshape(-1, size) if self.slip == "dx without tanh'" else flat
        dinputs = (source @ Wx.T).reshape(steps, batch, width)
        # the planted slip: the initial state's gradient taken before the step back through Wh
        dstate = dhidden[0] if self.slip == "dh0 before Wh" else dh_next
        return grads, dinputs, {"h": dstate}, dhidden


def _rnn_slip(slip: str) -> Callable[[Any], None]:
    def install(monkeypatch: Any) -> None:
        monkeypatch.setattr(PlantedRNN, "slip", slip)

    return install


# ------------------------------------------------------------------------------ wrappers
def _swap_state(grads_tuple, /, *args, **kwargs):
    grads, dinputs, dstate, dhidden = grads_tuple
    return grads, dinputs, {**dstate, "h": dstate["c"], "c": dstate["h"]}, dhidden


def _drop_last_dx(grads_tuple, /, *args, **kwargs):
    grads, dinputs, dstate, dhidden = grads_tuple
    dinputs = dinputs.copy()
    dinputs[-1] = 0.0  # the backward loop's range stops one step short for dx
    return grads, dinputs, dstate, dhidden


def _forget_read_state(grads_tuple, /, *args, **kwargs):
    grads, dinputs, dstate, dhidden = grads_tuple
    return grads, dinputs, {**dstate, "read_vectors": np.zeros_like(dstate["read_vectors"])}, dhidden


def _core_method(cls, after):
    """An installer wrapping ``cls.backward_core`` with ``after``."""
    return wrap(cls, "backward_core", lambda value, /, *args, **kwargs: after(value))


def _lstm_factor(k: int):
    def after(value, /, *args, **kwargs):
        factors, dcell = value
        return _scale_columns(_gate(k))(factors), dcell

    return wrap(lstm, "lstm_backward_factors", after)


def _lstm_dcell(value, /, *args, **kwargs):
    factors, dcell = value
    return factors, dcell * (1 + SLIP)  # tanh'(c) off by 0.1 %


def _lstm_carry(value, /, dh, dc, *args, **kwargs):
    dc *= 1 + SLIP  # dc_prev = dc_total * f, off by 0.1 %: the gradient carried by the cell
    return value


def _gru_factor(field_name: str):
    def after(value, /, *args, **kwargs):
        return value._replace(**{field_name: getattr(value, field_name) * (1 + SLIP)})

    return wrap(gru, "backward_factors", after)


def _gru_candidate_weights_from_h(value, /, inputs, dpreact, h_prev, reset_hidden):
    out = dict(value)
    size = h_prev.shape[-1]
    wh = out["Wh"].copy()
    # Wh_n's gradient from h_{t-1} instead of r * h_{t-1}
    wh[:, 2 * size :] = h_prev.reshape(-1, size).T @ dpreact.reshape(-1, 3 * size)[:, 2 * size :]
    out["Wh"] = wh
    return out


def _gru_bh_from_input_side(value, /, inputs, dpreact, h_prev, drec):
    return {**value, "bh": dpreact.reshape(-1, dpreact.shape[-1]).sum(axis=0)}


def _gru_drec_without_reset(value, /, dfeatures, gates, factors, Wh, dh_next, dhidden, dpreact, drec):
    size = dh_next.shape[-1]
    drec[..., 2 * size :] = dpreact[..., 2 * size :]  # d(h Wh_n + bh_n) without the factor r
    return value


def _gru_carry(value, /, dfeatures, gates, factors, Wh, dh_next, *rest):
    dh_next *= 1 + SLIP  # the gradient reaching h_0 off by 0.1 %
    return value


# ------------------------------------------------------------------------------ DNC
def _interface_part(part: str, planted: Callable[[np.ndarray, Any, np.ndarray], np.ndarray]):
    """Replace one part of ``interface_backward``'s result with ``planted(grad, iface, raw_part)``."""

    def after(draw, /, grads, iface, width, heads):
        start, stop = interface.interface_layout(width, heads)[part]
        draw = draw.copy()
        raw = iface.raw[:, start:stop]
        draw[:, start:stop] = planted(grads[part].reshape(raw.shape), iface, raw)
        return draw

    return wrap(dnc_access, "interface_backward", after)


def _oneplus_at_output(grad, iface, raw):
    # oneplus' = sigmoid(x), evaluated at the strength (1 + softplus(x)) instead of at x
    return grad * dnc_sigmoid(1.0 + np.logaddexp(0.0, raw))


def _sigmoid_slip(part: str):
    def planted(grad, iface, raw):
        s = dnc_sigmoid(raw)
        return grad * s * (1.0 - s) * (1 + SLIP)

    return _interface_part(part, planted)


def _nth(index: int, factor: float = 1 + SLIP):
    """``after`` scaling item ``index`` of a returned tuple."""

    def after(value, /, *args, **kwargs):
        items = list(value)
        items[index] = items[index] * factor
        return tuple(items)

    return after


def _scaled(factor: float = 1 + SLIP):
    return lambda value, /, *args, **kwargs: value * factor


def _controller_forget(value, /, *args, **kwargs):
    dpreact, dc_prev = value
    size = dc_prev.shape[-1]
    dpreact[:, size : 2 * size] *= 1 + SLIP  # sigmoid' of the forget gate off by 0.1 %
    return dpreact, dc_prev


def _wi_from_previous_h(value, /, s, inputs, dpreact, dinterface):
    steps, batch, size = s.hidden.shape
    previous = np.concatenate([s.initial["h"][None], s.hidden[:-1]]).reshape(-1, size)
    return {**value, "Wi": previous.T @ dinterface.reshape(steps * batch, -1)}


# ------------------------------------------------------------------------------ heads
def _dlogits(factor_of: Callable[[Any], Any]):
    """``after`` for ``head_forward``: ``dlogits`` times ``factor_of(result)``."""

    def after(result, /, loss, logits, targets, mask):
        return base.HeadResult(
            result.loss, result.step_loss, result.probs, result.dlogits * factor_of(result)
        )

    return after


def _forgot_the_mask(result, /, loss, logits, targets, mask):
    """The softmax head's dlogits with every step scored, the mask forgotten."""
    batch = logits.shape[1]
    dlogits = base.softmax(logits)
    steps, rows = np.indices(targets.shape)
    dlogits[steps, rows, targets] -= 1.0
    return base.HeadResult(result.loss, result.step_loss, result.probs, dlogits / batch)


def _linear_weight_off_by_one(value, /, dout, features, weight):
    dfeatures, dweight, dbias = value
    shifted = np.concatenate([features[1:], features[:1]])  # features of the next step
    steps, batch, width = features.shape
    return dfeatures, shifted.reshape(-1, width).T @ dout.reshape(steps * batch, -1), dbias


def _parts_slip(part: str, index: int):
    """``after`` for the access step's helpers, which return ``(..., parts)``: scale one part."""

    def after(value, /, *args, **kwargs):
        *rest, parts = value
        return (*rest, {**parts, part: parts[part] * (1 + SLIP)})

    return after


# ------------------------------------------------------------------------------ the catalogue
def _gates(names, *gates) -> set[str]:
    return {f"{name}[{gate}]" for name in names for gate in gates}


def _all_but(kind: str, *rows: str, **extra: Any) -> set[str]:
    """Every row of the planted problem of ``kind`` except ``rows``."""
    model = build_model(ModelConfig(kind, 3, 3, 3, **extra))
    names = [*model.params, "inputs", *(f"state.{key}" for key in model.initial_state(1))]
    return set(names) - set(rows)


_CORE = ("Wx", "Wh", "b")
_IFACE = ("Wi", "bi")
_CHO = {"reset_after": False}
_PYTORCH = {"reset_after": True}
_LSTM_GATES = ("input", "forget", "output", "candidate")


def _gru_bugs(extra: dict[str, Any], tag: str) -> list[Bug]:
    biases = ("b", "bh") if extra["reset_after"] else ("b",)
    weights = ("Wx", "Wh", *biases)
    return [
        bug(
            f"gru ({tag}) candidate derivative",
            "gru",
            _gru_factor("n_factor"),
            _gates(weights, "candidate"),
            extra=extra,
        ),
        bug(
            f"gru ({tag}) update derivative",
            "gru",
            _gru_factor("z_factor"),
            _gates(weights, "update"),
            blamed=_gates(weights, "update"),
            extra=extra,
        ),
        bug(
            f"gru ({tag}) reset derivative",
            "gru",
            _gru_factor("r_factor"),
            _gates(weights, "reset"),
            blamed=_gates(weights, "reset"),
            extra=extra,
        ),
        bug(
            f"gru ({tag}) initial-state gradient off by 0.1%",
            "gru",
            wrap(
                gru,
                "backward_steps_reset_after" if extra["reset_after"] else "backward_steps_cho",
                _gru_carry,
            ),
            {"state.h"},
            blamed={"state.h"},
            clean=_all_but("gru", "state.h", **extra),
            extra=extra,
        ),
        bug(
            f"gru ({tag}) dx misses the last step",
            "gru",
            _core_method(gru.GRU, _drop_last_dx),
            {"inputs"},
            blamed={"inputs"},
            clean=_all_but("gru", "inputs", **extra),
            extra=extra,
        ),
    ]


BUGS: tuple[Bug, ...] = (
    # RNN: the tanh' slip of the issue, an off-by-one weight gradient, an input- and a state-gradient bug
    bug("rnn tanh' = 1.001 - h^2", "rnn", _rnn_slip("tanh'"), {"Wx", "Wh", "b", "inputs", "state.h"}),
    bug("rnn dWh from h_t", "rnn", _rnn_slip("Wh off by one"), {"Wh"}, {"Wh"}, _all_but("rnn", "Wh")),
    bug(
        "rnn dx without tanh'",
        "rnn",
        _rnn_slip("dx without tanh'"),
        {"inputs"},
        {"inputs"},
        _all_but("rnn", "inputs"),
    ),
    bug(
        "rnn dh0 before the step back",
        "rnn",
        _rnn_slip("dh0 before Wh"),
        {"state.h"},
        {"state.h"},
        _all_but("rnn", "state.h"),
    ),
    # LSTM: each gate's derivative (lstm_backward_factors), tanh'(c), the cell's carry, dx, the state
    *(
        bug(
            f"lstm {gate} gate derivative",
            "lstm",
            _lstm_factor(k),
            _gates(_CORE, gate),
            blamed=_gates(_CORE, gate) | ({"inputs"} if gate == "candidate" else set()),
        )
        for k, gate in enumerate(_LSTM_GATES)
    ),
    bug(
        "lstm tanh'(c) off by 0.1%",
        "lstm",
        wrap(lstm, "lstm_backward_factors", _lstm_dcell),
        {*_gates(_CORE, "input", "forget", "candidate"), "state.c"},
    ),
    bug(
        "lstm cell carry off by 0.1%",
        "lstm",
        wrap(lstm, "lstm_cell_backward_factored", _lstm_carry),
        {"state.c", *_gates(_CORE, "input", "forget", "candidate")},
        blamed={"state.c"},
    ),
    bug(
        "lstm dx misses the last step",
        "lstm",
        _core_method(lstm.LSTM, _drop_last_dx),
        {"inputs"},
        {"inputs"},
        _all_but("lstm", "inputs"),
    ),
    bug(
        "lstm initial h and c gradients swapped",
        "lstm",
        _core_method(lstm.LSTM, _swap_state),
        {"state.h", "state.c"},
        {"state.h", "state.c"},
        _all_but("lstm", "state.h", "state.c"),
    ),
    # GRU, both conventions: each gate's derivative (backward_factors), the steps, dx; the weight
    # gradients of each convention
    *_gru_bugs(_CHO, "cho"),
    *_gru_bugs(_PYTORCH, "pytorch"),
    bug(
        "gru (cho) Wh_n's gradient from h instead of r * h",
        "gru",
        wrap(gru, "weight_gradients_cho", _gru_candidate_weights_from_h),
        {"Wh", "Wh[candidate]"},
        {"Wh[candidate]"},
        _all_but("gru", "Wh", **_CHO),
        extra=_CHO,
    ),
    bug(
        "gru (pytorch) bh's gradient from the input side",
        "gru",
        wrap(gru, "weight_gradients_reset_after", _gru_bh_from_input_side),
        {"bh", "bh[candidate]"},
        {"bh[candidate]"},
        _all_but("gru", "bh", **_PYTORCH),
        extra=_PYTORCH,
    ),
    bug(
        "gru (pytorch) d(h Wh_n + bh_n) without r",
        "gru",
        wrap(gru, "backward_steps_reset_after", _gru_drec_without_reset),
        {"Wh[candidate]", "bh[candidate]"},
        {"Wh[candidate]", "bh[candidate]"},
        _all_but("gru", "Wh", "bh", **_PYTORCH),
        extra=_PYTORCH,
    ),
    # DNC: the interface's squashing derivatives, every memory-access piece, the controller
    bug(
        "dnc write strength: oneplus' at the strength",
        "dnc",
        _interface_part("write_strength", _oneplus_at_output),
        _gates(_IFACE, "write_strength"),
        _gates(_IFACE, "write_strength"),
    ),
    bug(
        "dnc read strengths: oneplus' at the strength",
        "dnc",
        _interface_part("read_strengths", _oneplus_at_output),
        _gates(_IFACE, "read_strengths"),
        _gates(_IFACE, "read_strengths"),
    ),
    *(
        bug(
            f"dnc {part} sigmoid' off by 0.1%",
            "dnc",
            _sigmoid_slip(part),
            _gates(_IFACE, part),
            _gates(_IFACE, part),
        )
        for part in ("erase", "free_gates", "allocation_gate", "write_gate")
    ),
    bug(
        "dnc read modes: softmax backward off by 0.1%",
        "dnc",
        wrap(interface, "softmax_backward", _scaled()),
        _gates(_IFACE, "read_modes"),
        _gates(_IFACE, "read_modes"),
    ),
    bug(
        "dnc content: strength gradient",
        "dnc",
        wrap(dnc_access, "content_backward", _nth(2)),
        _gates(_IFACE, "write_strength", "read_strengths"),
        _gates(_IFACE, "write_strength", "read_strengths"),
    ),
    bug(
        "dnc content: key gradient",
        "dnc",
        wrap(dnc_access, "content_backward", _nth(1)),
        _gates(_IFACE, "write_key", "read_keys"),
        _gates(_IFACE, "write_key", "read_keys"),
    ),
    bug(
        "dnc content: memory gradient", "dnc", wrap(dnc_access, "content_backward", _nth(0)), {"state.memory"}
    ),
    bug(
        "dnc allocation backward",
        "dnc",
        wrap(allocation, "allocation_backward", _scaled()),
        {"state.usage", "state.write_weighting", *_gates(_IFACE, "free_gates")},
    ),
    bug(
        "dnc usage: previous usage",
        "dnc",
        wrap(allocation, "usage_backward", _nth(0)),
        {"state.usage", "state.write_weighting"},
        {"state.usage"},
    ),
    bug(
        "dnc usage: previous write weighting",
        "dnc",
        wrap(allocation, "usage_backward", _nth(1)),
        {"state.write_weighting"},
        {"state.write_weighting"},
    ),
    bug(
        "dnc usage: retention",
        "dnc",
        wrap(allocation, "usage_backward", _nth(2)),
        _gates(_IFACE, "free_gates"),
        _gates(_IFACE, "free_gates"),
    ),
    bug(
        "dnc retention: free gates",
        "dnc",
        wrap(allocation, "retention_backward", _nth(0)),
        _gates(_IFACE, "free_gates"),
        _gates(_IFACE, "free_gates"),
    ),
    bug(
        "dnc retention: previous read weightings",
        "dnc",
        wrap(allocation, "retention_backward", _nth(1)),
        {"state.read_weightings"},
    ),
    bug("dnc link: previous links", "dnc", wrap(linkage, "link_backward", _nth(0)), {"state.link"}),
    bug(
        "dnc link: write weighting",
        "dnc",
        wrap(linkage, "link_backward", _nth(1)),
        _gates(_IFACE, "write_gate"),
    ),
    bug(
        "dnc link: previous precedence",
        "dnc",
        wrap(linkage, "link_backward", _nth(2)),
        {"state.precedence"},
        {"state.precedence"},
    ),
    bug(
        "dnc precedence: previous precedence",
        "dnc",
        wrap(linkage, "precedence_backward", _nth(0)),
        {"state.precedence"},
    ),
    bug(
        "dnc precedence: write weighting",
        "dnc",
        wrap(linkage, "precedence_backward", _nth(1)),
        _gates(_IFACE, "write_gate"),
    ),
    bug(
        "dnc directional reads: links",
        "dnc",
        wrap(linkage, "directional_backward", _nth(0)),
        {"state.link", "state.precedence"},
    ),
    bug(
        "dnc directional reads: previous read weightings",
        "dnc",
        wrap(linkage, "directional_backward", _nth(1)),
        {"state.read_weightings"},
        {"state.read_weightings"},
    ),
    bug("dnc write: previous memory", "dnc", wrap(dnc_access, "write_backward", _nth(0)), {"state.memory"}),
    bug(
        "dnc write: write weighting",
        "dnc",
        wrap(dnc_access, "write_backward", _nth(1)),
        {"state.write_weighting", *_gates(_IFACE, "write_gate")},
    ),
    bug(
        "dnc write: erase vector",
        "dnc",
        wrap(dnc_access, "write_backward", _nth(2)),
        _gates(_IFACE, "erase"),
        _gates(_IFACE, "erase"),
    ),
    bug(
        "dnc write: write vector",
        "dnc",
        wrap(dnc_access, "write_backward", _nth(3)),
        _gates(_IFACE, "write_vector"),
        _gates(_IFACE, "write_vector"),
    ),
    bug("dnc read: memory", "dnc", wrap(dnc_access, "read_backward", _nth(0)), {"state.memory"}),
    bug(
        "dnc read: read weightings",
        "dnc",
        wrap(dnc_access, "read_backward", _nth(1)),
        {*_gates(_IFACE, "read_modes"), "state.read_weightings"},
    ),
    bug(
        "dnc read step: read-mode part",
        "dnc",
        wrap(dnc_access, "_read_backward", _parts_slip("read_modes", 3)),
        _gates(_IFACE, "read_modes"),
        _gates(_IFACE, "read_modes"),
    ),
    bug(
        "dnc write addressing: write-gate part",
        "dnc",
        wrap(dnc_access, "_write_addressing_backward", _parts_slip("write_gate", 4)),
        _gates(_IFACE, "write_gate"),
        _gates(_IFACE, "write_gate"),
    ),
    bug(
        "dnc linkage step: write weighting",
        "dnc",
        wrap(dnc_access, "_linkage_backward", _nth(2)),
        _gates(_IFACE, "write_gate"),
    ),
    bug(
        "dnc controller forget gate derivative",
        "dnc",
        wrap(dnc, "lstm_cell_backward", _controller_forget),
        _gates(_CORE, "forget"),
        _gates(_CORE, "forget"),
    ),
    bug(
        "dnc Wi's gradient from h_{t-1}",
        "dnc",
        wrap(dnc, "_controller_weight_gradients", _wi_from_previous_h),
        {"Wi"},
        clean=_all_but("dnc", "Wi", **{}),
    ),
    bug(
        "dnc dx misses the last step",
        "dnc",
        _core_method(dnc.DNC, _drop_last_dx),
        {"inputs"},
        {"inputs"},
        _all_but("dnc", "inputs"),
    ),
    bug(
        "dnc initial read vectors' gradient dropped",
        "dnc",
        _core_method(dnc.DNC, _forget_read_state),
        {"state.read_vectors"},
        {"state.read_vectors"},
        _all_but("dnc", "state.read_vectors"),
    ),
    # the heads: the mask forgotten, a factor of the loss, sigmoid' where it cancels, the read-out
    bug(
        "softmax_ce head forgets the mask",
        "rnn",
        wrap(base, "head_forward", _forgot_the_mask),
        {"Wy", "by"},
        clean=(),
    ),
    bug(
        "mse head without the 1/2",
        "rnn",
        wrap(base, "head_forward", _dlogits(lambda result: 2.0)),
        {"Wy", "by"},
        clean=(),
        loss="mse",
    ),
    bug(
        "sigmoid_bce head with an extra sigmoid'",
        "rnn",
        wrap(base, "head_forward", _dlogits(lambda result: result.probs * (1 - result.probs))),
        {"Wy", "by"},
        clean=(),
        loss="sigmoid_bce",
    ),
    bug(
        "read-out weights from the next step's features",
        "rnn",
        wrap(base, "linear_backward", _linear_weight_off_by_one),
        {"Wy"},
        {"Wy"},
        _all_but("rnn", "Wy"),
    ),
    bug(
        "read-out's feature gradient off by 0.1%",
        "rnn",
        wrap(base, "linear_backward", _nth(0)),
        {"Wx", "Wh", "b", "inputs", "state.h"},
    ),
)
