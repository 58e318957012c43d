"""The model protocol: a built-in cell wrapped through it is the built-in model, bit for bit.

The LSTM and RNN step pairs of ``models/lstm_cell.py`` / ``rnn_cell.py``, handed to
rnnscope as a :class:`StepModel`, give the same loss, every probe (name, kind, axes,
gate, values), the same parameter, input and initial-state gradients and the same
``dLoss/dh_t`` as the built-in reference models (exactly) and the fast models (to
1e-12); the min-char-rnn example, a whole-sequence model, equals the built-in RNN.
Declarations (sizes, gate slices, initialisation) are checked where a class is made.
"""

from pathlib import Path

import numpy as np
import pytest

from rnnscope.engine.gradcheck import check_gradients
from rnnscope.engine.models import ModelConfig, build_model, trace_with_gradients
from rnnscope.engine.models.lstm_cell import GATES, lstm_step_backward, lstm_step_forward
from rnnscope.engine.models.reference import reference_model
from rnnscope.engine.models.rnn_cell import rnn_step_backward, rnn_step_forward
from rnnscope.engine.params import GateSlice, Params
from rnnscope.engine.protocol import Param, Probe, ProtocolError, StepModel, load_model_file
from rnnscope.engine.protocol.declarations import resolve_size

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
LSTM_PROBES = [
    *(Probe(f"lstm/{g}_preact", "signed", source=f"{g}_preact", gate=g) for g in GATES),
    Probe("lstm/input_gate", "gate", gate="input"),
    Probe("lstm/forget_gate", "gate", gate="forget"),
    Probe("lstm/output_gate", "gate", gate="output"),
    Probe("lstm/candidate", "signed", gate="candidate"),
    Probe("lstm/cell", "signed", source="state.c"),
    Probe("lstm/tanh_cell", "signed"),
    Probe("lstm/hidden", "signed", source="state.h"),
]


class WrappedLSTM(StepModel):
    """The engine's readable LSTM step pair, through the protocol."""

    PARAMS = [
        Param("Wx", ("D", "4H"), gates=GATES),
        Param("Wh", ("H", "4H"), gates=GATES),
        Param("b", ("4H",), init="zeros", gates=GATES, gate_init={"forget": "forget_bias"}),
    ]
    STATE = {"h": "H", "c": "H"}
    PROBES = LSTM_PROBES

    def step_forward(self, x_t, state, params):
        h, c, step = lstm_step_forward(x_t, state["h"], state["c"], params)
        H = h.shape[1]
        cache = {"step": step, "tanh_cell": step.tanh_c}
        for k, g in enumerate(GATES):
            cache[f"{g}_preact"] = step.preact[:, k * H : (k + 1) * H]
            cache["candidate" if g == "candidate" else f"{g}_gate"] = step.gates[:, k * H : (k + 1) * H]
        return h, {"h": h, "c": c}, cache

    def step_backward(self, dh_t, dstate, cache):
        dx, dh_prev, dc_prev, dparams = lstm_step_backward(dh_t + dstate["h"], dstate["c"], cache["step"])
        return dx, {"h": dh_prev, "c": dc_prev}, dparams


class WrappedRNN(StepModel):
    """The engine's readable RNN step pair, through the protocol."""

    PARAMS = [Param("Wx", ("D", "H")), Param("Wh", ("H", "H")), Param("b", ("H",), init="zeros")]
    PROBES = [Probe("rnn/preact", "signed"), Probe("rnn/hidden", "signed", source="h")]

    def step_forward(self, x_t, state, params):
        h, cache = rnn_step_forward(x_t, state["h"], params)
        return h, {"h": h}, cache

    def step_backward(self, dh_t, dstate, cache):
        dx, dh_prev, dparams = rnn_step_backward(dh_t + dstate["h"], cache)
        return dx, {"h": dh_prev}, dparams


def _problem(config, T=7, B=3, carried=False, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, B, config.input_size))
    y = rng.integers(0, config.output_size, (T, B))
    mask = state = None
    if carried:
        mask = (rng.random((T, B)) > 0.3) * rng.random((T, B))
        state = {"h": 0.8 * rng.standard_normal((B, config.hidden_size))}
        if config.kind == "lstm":
            state["c"] = 0.8 * rng.standard_normal((B, config.hidden_size))
    return x, y, mask, state


def _same(a, b, what, tolerance=0.0):
    assert a.shape == b.shape and a.dtype == b.dtype, what
    scale = max(float(np.abs(a).max(initial=0.0)), 1e-300)
    assert float(np.abs(a - b).max(initial=0.0)) <= tolerance * scale, what


def _assert_equal_runs(builtin, wrapped, problem, tolerance=0.0):
    trace_a, result_a, grads_a = trace_with_gradients(builtin, *problem)
    trace_b, result_b, grads_b = trace_with_gradients(wrapped, *problem)
    assert abs(result_a.loss - result_b.loss) <= tolerance * abs(result_a.loss)
    assert trace_a.names() == trace_b.names()
    for name in trace_a.names():
        a, b = trace_a[name], trace_b[name]
        assert (a.kind, a.axes, a.gate, a.group) == (b.kind, b.axes, b.gate, b.group), name
        _same(a.data, b.data, name, tolerance)
    assert list(grads_a.params) == list(grads_b.params)
    for name in grads_a.params:
        _same(grads_a.params[name], grads_b.params[name], f"d{name}", tolerance)
    _same(grads_a.inputs, grads_b.inputs, "dinputs", tolerance)
    _same(grads_a.hidden, grads_b.hidden, "dhidden", tolerance)
    for key in grads_a.initial_state:
        _same(grads_a.initial_state[key], grads_b.initial_state[key], f"dstate {key}", tolerance)
    for key in result_a.final_state:
        _same(result_a.final_state[key], result_b.final_state[key], f"final {key}", tolerance)


@pytest.mark.parametrize("carried", [False, True])
@pytest.mark.parametrize(("kind", "wrapper"), [("lstm", WrappedLSTM), ("rnn", WrappedRNN)])
def test_a_builtin_cell_through_the_protocol_is_the_builtin_model(kind, wrapper, carried):
    config = ModelConfig(kind, 5, 6, 4, seed=3, forget_bias=0.5)
    fast = build_model(config)
    wrapped = wrapper(ModelConfig("custom", 5, 6, 4, seed=3, forget_bias=0.5))
    # the declarations draw the built-in's initial weights, forget bias included
    for name in fast.params:
        assert np.array_equal(wrapped.params[name], fast.params[name]), name
        assert wrapped.params.gate_slices(name) == fast.params.gate_slices(name), name
    problem = _problem(config, carried=carried)
    _assert_equal_runs(reference_model(fast), wrapped, problem)  # the same step pair: exactly
    _assert_equal_runs(fast, wrapped, problem, tolerance=1e-12)  # the fast path: to rounding


def test_declared_gate_slices_give_gate_rows_in_the_gradient_check():
    model = WrappedLSTM.build(input_size=3, hidden_size=2, output_size=3, seed=1)
    x, y, _, _ = _problem(model.config, T=4, B=2)
    result = check_gradients(model, x, y, mode="full")
    assert [row.name for row in result.row("Wh").sub_rows] == [f"Wh[{g}]" for g in GATES]
    assert not result.failed
    assert model.params["b[forget]"].tolist() == [1.0, 1.0]  # forget_bias, the config's default


def test_the_whole_sequence_example_equals_the_builtin_rnn():
    MinCharRNN = load_model_file(EXAMPLES / "min_char_rnn.py").model_class
    config = ModelConfig("rnn", 5, 6, 4, seed=2)
    builtin = build_model(config)
    renamed = {"Wxh": "Wx", "Whh": "Wh", "bh": "b", "Wy": "Wy", "by": "by"}
    params = Params({ours: builtin.params[theirs].copy() for ours, theirs in renamed.items()})
    example = MinCharRNN(ModelConfig("custom", 5, 6, 4, seed=2), params)
    problem = _problem(config, carried=True)
    result_a = builtin.loss_and_gradients(*problem)
    result_b = example.loss_and_gradients(*problem)
    assert result_a[0] == pytest.approx(result_b[0], rel=1e-13)
    for ours, theirs in renamed.items():
        _same(result_a[1].params[theirs], result_b[1].params[ours], ours, 1e-12)
    _same(result_a[1].inputs, result_b[1].inputs, "dinputs", 1e-12)


@pytest.mark.parametrize(
    ("size", "value"),
    [(3, 3), ("H", 6), ("4H", 24), ("4*H", 24), ("W*R + 3W + 5R + 3", 2 * 3 + 6 + 15 + 3), ("D+O", 9)],
)
def test_sizes_are_formulas_over_the_config(size, value):
    sizes = {"D": 5, "H": 6, "O": 4, "N": 7, "W": 2, "R": 3}
    assert resolve_size(size, sizes) == value


@pytest.mark.parametrize(
    ("size", "message"),
    [
        ("H**2", "use whole numbers"),
        ("__import__('os')", "use whole numbers"),
        ("4H)", "cannot read"),
        (2.5, "must be a whole number"),
    ],
)
def test_a_size_that_is_not_a_formula_is_refused(size, message):
    with pytest.raises(ProtocolError, match=message):
        resolve_size(size, {"H": 2})


def _declare(**attributes):
    return type("Bad", (StepModel,), {"step_forward": None, "step_backward": None, **attributes})


@pytest.mark.parametrize(
    ("attributes", "message"),
    [
        ({"PARAMS": [Param("Wy", ("H", "O"))]}, "'Wy' is rnnscope's read-out"),
        ({"PARAMS": [Param("W", ("H",)), Param("W", ("H",))]}, "declares the parameter 'W' twice"),
        ({"PARAMS": [Param("W[x]", ("H",))]}, "must be an identifier"),
        ({"PARAMS": [Param("W", ("H",), init="glorot")]}, "init 'glorot' is not one of"),
        ({"PARAMS": [Param("W", ("H",), gates=("a",), gate_init={"b": 1.0})]}, "unknown gates"),
        ({"PARAMS": [Param("W", "H")]}, "shape must be a non-empty tuple"),
        ({"PARAMS": ["W"]}, "must hold Param"),
        ({"PROBES": [Probe("my/x", "colour")]}, "kind 'colour' is not one of"),
        ({"PROBES": [Probe("output/x", "signed")]}, "rnnscope's own"),
        ({"PROBES": [Probe("my/x", "scalar", axes=("unit",))]}, "a scalar probe has no axes"),
        ({"STATE": ["h"]}, "STATE must be a dict"),
    ],
)
def test_a_declaration_that_cannot_work_is_an_error_where_the_class_is_made(attributes, message):
    with pytest.raises(ProtocolError, match=message):
        _declare(**attributes)


def test_gate_slices_split_evenly_or_by_declared_widths():
    even = Param("W", ("H", "3H"), gates=("a", "b", "c"))
    assert even.resolve({"H": 2})[1]["b"] == GateSlice(1, 2, 4)
    widths = Param("Wi", ("H", "W*R + 1"), gates={"keys": "W*R", "gate": 1})
    assert widths.resolve({"H": 2, "W": 3, "R": 2})[1] == {
        "keys": GateSlice(1, 0, 6),
        "gate": GateSlice(1, 6, 7),
    }
    with pytest.raises(ProtocolError, match="does not split evenly into the 3 gates"):
        Param("W", ("H", "4H"), gates=("a", "b", "c")).resolve({"H": 2})
    with pytest.raises(ProtocolError, match="must be positive and add up to its last axis"):
        Param("W", ("H", 5), gates={"a": 2, "b": 2}).resolve({"H": 2})


def test_initialisers_draw_the_declared_values():
    class Inits(WrappedRNN):
        PARAMS = [
            Param("Wx", ("D", "H"), init="normal"),
            Param("Wh", ("H", "H"), init=0.25),
            Param("b", ("H",), init=lambda rng, shape: np.arange(shape[0], dtype=np.float32)),
        ]

    model = Inits.build(input_size=3, hidden_size=4, output_size=2, seed=5)
    expected = 0.01 * np.random.default_rng(5).standard_normal((3, 4))
    assert np.array_equal(model.params["Wx"], expected)
    assert np.all(model.params["Wh"] == 0.25)
    assert model.params["b"].dtype == np.float64 and model.params["b"].tolist() == [0, 1, 2, 3]

    class WrongShape(WrappedRNN):
        PARAMS = [Param("Wx", ("D", "H"), init=lambda rng, shape: np.zeros(3)), *WrappedRNN.PARAMS[1:]]

    with pytest.raises(
        ProtocolError, match=r"parameter 'Wx': its init returned shape \(3,\), expected \(3, 4\)"
    ):
        WrongShape.build(input_size=3, hidden_size=4, output_size=2)


class WideOutput(StepModel):
    """An output that is not the state: h_t = [s_t, s_t^2] (F = 2H) read from the state s_t."""

    PARAMS = [Param("Wx", ("D", "H")), Param("Ws", ("H", "H"))]
    STATE = {"s": "H"}
    FEATURES = "2H"
    HIDDEN = None
    PROBES = [Probe("wide/state", "signed", source="state.s"), Probe("wide/norm", "scalar", source="norm")]

    def step_forward(self, x_t, state, params):
        s = np.tanh(x_t @ params["Wx"] + state["s"] @ params["Ws"])
        return (
            np.hstack([s, s * s]),
            {"s": s},
            {"x": x_t, "s_prev": state["s"], "s": s, "norm": (s * s).sum(1)},
        )

    def step_backward(self, dh_t, dstate, cache):
        s, H = cache["s"], cache["s"].shape[1]
        ds = dh_t[:, :H] + 2 * s * dh_t[:, H:] + dstate["s"]
        da = ds * (1 - s * s)
        dparams = {"Wx": cache["x"].T @ da, "Ws": cache["s_prev"].T @ da}
        return da @ self.params["Wx"].T, {"s": da @ self.params["Ws"].T}, dparams


def test_an_output_wider_than_the_state_and_a_scalar_probe():
    model = WideOutput.build(input_size=3, hidden_size=2, output_size=3, seed=4)
    assert model.params["Wy"].shape == (4, 3)
    x, y, _, _ = _problem(model.config, T=5, B=2)
    trace, _, grads = trace_with_gradients(model, x, y)
    assert trace["wide/norm"].data.shape == (5, 2) and trace["wide/norm"].kind.value == "scalar"
    assert grads.hidden.shape == (5, 2, 4)  # dLoss/dh_t of the read-out's input
    result = check_gradients(model, x, y, mode="full")
    assert [row.name for row in result.rows] == ["Wx", "Ws", "Wy", "by", "inputs", "state.s"]
    assert [row.status.value for row in result.rows] == ["ok"] * 6
