"""Gradient flow through time against finite differences and hand-computed cases (small sizes)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from rnnscope.engine.gradflow import (
    GradFlowUnavailable,
    forget_gate_probes,
    input_saliency,
    jacobian_norms,
    jacobians,
    memory_horizon,
    trace_with_gradient_flow,
)
from rnnscope.engine.heads import softmax
from rnnscope.engine.models import ModelConfig, RecurrentModel, build_model
from rnnscope.engine.models.lstm_cell import lstm_cell_forward
from rnnscope.engine.protocol import SequenceModel, load_model_file
from rnnscope.engine.trace import Trace

D, H, O, T = 4, 3, 4, 6
DNC_SIZES = {"memory_slots": 4, "memory_width": 3, "read_heads": 1}
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def model_of(kind: str, **fields: Any) -> RecurrentModel:
    extra: dict[str, Any] = dict(DNC_SIZES) if kind == "dnc" else {}
    extra.update(fields)
    return build_model(ModelConfig(kind, D, H, O, seed=3, **extra))


def sequence(seed: int = 0, batch: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    inputs = rng.standard_normal((T, batch, D))
    return inputs, rng.integers(0, O, (T, batch))


def hidden_after(
    model: RecurrentModel, inputs: np.ndarray, state: dict[str, np.ndarray], layer: int
) -> np.ndarray:
    """``h_T`` of ``layer`` ``(H,)`` after running ``inputs`` from ``state``."""
    embedded = model.embed(inputs)
    core = model.forward_core(inputs if embedded is None else embedded, state, None)
    return core.hidden[-1, 0, layer * H : (layer + 1) * H]


def numeric_jacobian(model: RecurrentModel, inputs: np.ndarray, s: int, t: int, layer: int = 0) -> np.ndarray:
    """``dh_t / dh_s`` by central differences on the state after step ``s`` (cell / memory held)."""
    key = "h" if model.config.num_layers == 1 else f"l{layer}.h"
    state = model.initial_state(1)
    embedded = model.embed(inputs[: s + 1])
    state = model.forward_core(inputs[: s + 1] if embedded is None else embedded, state, None).final_state
    if s == t:
        return np.eye(H)
    columns = []
    for j in range(H):
        values = []
        for sign in (1, -1):
            moved = {k: v.copy() for k, v in state.items()}
            moved[key][0, j] += sign * 1e-6
            values.append(hidden_after(model, inputs[s + 1 : t + 1], moved, layer))
        columns.append((values[0] - values[1]) / 2e-6)
    return np.stack(columns, axis=1)


class Nudge:
    """The controller's cell, with ``amount`` added to unit ``unit`` of ``h`` at step ``step``."""

    def __init__(self, step: int, unit: int, amount: float) -> None:
        self.step, self.unit, self.amount, self.calls = step, unit, amount, 0

    def __call__(self, *args: Any, **kwargs: Any) -> tuple[np.ndarray, ...]:
        out = lstm_cell_forward(*args, **kwargs)
        if self.calls == self.step:
            out[3][0, self.unit] += self.amount
        self.calls += 1
        return out


def numeric_dnc_jacobian(
    model: RecurrentModel, inputs: np.ndarray, s: int, t: int, monkeypatch: pytest.MonkeyPatch
) -> np.ndarray:
    """The DNC's ``dh_t / dh_s`` by central differences, ``h_s`` nudged where the controller makes it
    (so the memory access of step ``s`` reads the nudged value too, as the backward counts it)."""
    from rnnscope.engine.models import dnc as dnc_module

    columns = []
    for j in range(H):
        values = []
        for sign in (1, -1):
            monkeypatch.setattr(dnc_module, "lstm_cell_forward", Nudge(s, j, sign * 1e-6))
            values.append(hidden_after(model, inputs[: t + 1], model.initial_state(1), 0))
        columns.append((values[0] - values[1]) / 2e-6)
    monkeypatch.setattr(dnc_module, "lstm_cell_forward", lstm_cell_forward)
    return np.stack(columns, axis=1)


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "dnc"])
def test_jacobians_match_finite_differences(kind: str, monkeypatch: pytest.MonkeyPatch) -> None:
    model = model_of(kind)
    inputs, _ = sequence()
    first, matrices = jacobians(model, inputs, T - 1)
    assert first == 0 and matrices.shape == (T, H, H)
    for s in range(T - 1):
        if kind == "dnc":
            numeric = numeric_dnc_jacobian(model, inputs, s, T - 1, monkeypatch)
        else:
            numeric = numeric_jacobian(model, inputs, s, T - 1)
        np.testing.assert_allclose(matrices[s], numeric, atol=1e-7)
    norms = jacobian_norms(model, inputs, T - 1).norms
    np.testing.assert_allclose(norms, [np.linalg.svd(m, compute_uv=False)[0] for m in matrices])
    assert norms[-1] == pytest.approx(1.0)  # dh_t / dh_t is the identity


@pytest.mark.parametrize("layer", [0, 1])
def test_stacked_jacobians_per_layer(layer: int) -> None:
    model = model_of("lstm", num_layers=2, embedding_size=2)
    inputs, _ = sequence(1)
    first, matrices = jacobians(model, inputs, 4, layer=layer)
    for s in range(5):
        np.testing.assert_allclose(matrices[s], numeric_jacobian(model, inputs, s, 4, layer), atol=1e-7)
    assert jacobian_norms(model, inputs, 4).layer == 1  # the top layer by default


def test_rnn_jacobian_is_the_hand_computed_product() -> None:
    model = model_of("rnn")
    inputs, targets = sequence(2)
    trace, _, _ = trace_with_gradient_flow(model, inputs, targets)
    h = trace["rnn/hidden"].data[:, 0]
    Wh = model.params["Wh"]
    expected = np.eye(H)
    for k in range(T - 1, 1, -1):  # dh_k / dh_{k-1} = diag(1 - h_k^2) Wh^T
        expected = expected @ (np.diag(1 - h[k] ** 2) @ Wh.T)
    np.testing.assert_allclose(jacobians(model, inputs, T - 1)[1][1], expected, atol=1e-12)


def test_window_keeps_the_latest_steps() -> None:
    model = model_of("lstm")
    inputs, _ = sequence(3)
    first, windowed = jacobians(model, inputs, 5, window=2)
    assert first == 4
    np.testing.assert_allclose(windowed, jacobians(model, inputs, 5)[1][4:], atol=1e-12)


def test_users_step_model_and_what_is_unavailable() -> None:
    cls = load_model_file(EXAMPLES / "cs231n_lstm.py").model_class
    assert issubclass(cls, SequenceModel)
    model = cls.build(D, H, O, seed=1)
    inputs, _ = sequence(4)
    np.testing.assert_allclose(
        jacobians(model, inputs, 3)[1][1], numeric_jacobian(model, inputs, 1, 3), atol=1e-7
    )
    whole = load_model_file(EXAMPLES / "min_char_rnn.py").model_class  # the whole-sequence form
    assert issubclass(whole, SequenceModel)
    rnn = whole.build(D, H, O, seed=1)
    np.testing.assert_allclose(
        jacobians(rnn, inputs, 3)[1][1], numeric_jacobian(rnn, inputs, 1, 3), atol=1e-9
    )
    no_hidden: type[SequenceModel] = type("NoHidden", (cls,), {"HIDDEN": None})
    with pytest.raises(GradFlowUnavailable, match="HIDDEN"):
        jacobians(no_hidden.build(D, H, O), inputs, 3)
    with pytest.raises(ValueError, match="target step 9"):
        jacobians(model, inputs, 9)


def test_non_finite_weights_give_nan_norms_not_an_error() -> None:
    model = model_of("rnn")
    model.params["Wh"][0, 0] = np.inf
    with np.errstate(all="ignore"):
        norms = jacobian_norms(model, sequence()[0], 3).norms
    assert norms.shape == (4,) and np.isnan(norms[:-1]).all()


def test_large_hidden_is_refused_with_the_reason() -> None:
    model = build_model(ModelConfig("rnn", D, 600, O))
    with pytest.raises(GradFlowUnavailable, match="H = 600"):
        jacobians(model, sequence()[0], 2)


# ---------------------------------------------------------------------- grad/hidden, grad/cell
def oracle_loss(
    model: RecurrentModel, inputs: np.ndarray, targets: np.ndarray, nudge: tuple[str, int, int, float]
) -> float:
    """A one-layer LSTM's loss written out here, with ``nudge`` = (h or c, step, unit, amount) added
    to ``h_t`` or ``c_t`` right where it is computed (before anything reads it)."""
    Wx, Wh, b, Wy, by = (model.params[k] for k in ("Wx", "Wh", "b", "Wy", "by"))
    h, c, loss = np.zeros(H), np.zeros(H), 0.0
    which, step, unit, amount = nudge
    for t in range(T):
        a = inputs[t, 0] @ Wx + h @ Wh + b
        i, f, o = (1 / (1 + np.exp(-a[k * H : (k + 1) * H])) for k in range(3))
        c = f * c + i * np.tanh(a[3 * H :])
        if (which, step) == ("c", t):
            c[unit] += amount
        h = o * np.tanh(c)
        if (which, step) == ("h", t):
            h[unit] += amount
        loss -= np.log(softmax(h @ Wy + by)[targets[t, 0]])
    return float(loss)


def test_hidden_and_cell_gradients_match_finite_differences() -> None:
    model = model_of("lstm")
    inputs, targets = sequence(5)
    trace, result, grads = trace_with_gradient_flow(model, inputs, targets)
    assert oracle_loss(model, inputs, targets, ("h", 0, 0, 0.0)) == pytest.approx(result.loss, rel=1e-12)
    for name, which in (("grad/hidden", "h"), ("grad/cell", "c")):
        numeric = np.empty((T, H))
        for t in range(T):
            for j in range(H):
                up, down = (oracle_loss(model, inputs, targets, (which, t, j, e)) for e in (1e-6, -1e-6))
                numeric[t, j] = (up - down) / 2e-6
        np.testing.assert_allclose(trace[name].data[:, 0], numeric, atol=1e-7)
        assert trace[name].axes == ("unit",) and trace[name].layer == 0


def test_stacked_and_dnc_probes_are_named_per_layer() -> None:
    model = model_of("lstm", num_layers=2)
    inputs, targets = sequence(6, batch=2)
    trace, _, grads = trace_with_gradient_flow(model, inputs, targets)
    np.testing.assert_array_equal(trace["grad/l1/hidden"].data, grads.hidden[..., H:])
    assert trace["grad/l0/cell"].layer == 0 and trace["grad/l1/cell"].layer == 1
    # the cell gradient reaching c_t from the future is what perturbing the carried c_t changes
    assert_future_cell_gradient(model, trace, inputs, targets, "l0.c", "lstm/l0/forget_gate", "grad/l0/cell")
    dnc = model_of("dnc")
    trace, _, _ = trace_with_gradient_flow(dnc, inputs, targets)
    assert "grad/hidden" in trace and trace["grad/cell"].data.shape == (T, 2, H)
    assert_future_cell_gradient(dnc, trace, inputs, targets, "c", "controller/forget_gate", "grad/cell")
    gru = model_of("gru")
    assert "grad/cell" not in trace_with_gradient_flow(gru, inputs, targets)[0]


def assert_future_cell_gradient(
    model: RecurrentModel,
    trace: Trace,
    inputs: np.ndarray,
    targets: np.ndarray,
    key: str,
    forget: str,
    name: str,
) -> None:
    split = 2
    head = model.forward(inputs[:split], targets[:split], record=False)
    for j in range(H):
        losses = []
        for sign in (1, -1):
            state = {k: v.copy() for k, v in head.final_state.items()}
            state[key][1, j] += sign * 1e-6
            losses.append(model.loss(inputs[split:], targets[split:], state=state))
        numeric = (losses[0] - losses[1]) / 2e-6
        analytic = trace[name].data[split, 1, j] * trace[forget].data[split, 1, j]
        assert numeric == pytest.approx(analytic, abs=1e-7)


# ---------------------------------------------------------------------- saliency
def numeric_saliency(model: RecurrentModel, inputs: np.ndarray, targets: np.ndarray) -> np.ndarray:
    out = np.zeros((T, T))
    for s in range(T):
        for d in range(D):
            losses = []
            for sign in (1, -1):
                moved = inputs.copy()
                moved[s, 0, d] += sign * 1e-6
                losses.append(model.forward(moved, targets, record=False).head.step_loss[:, 0])
            out[s] += np.abs((losses[0] - losses[1]) / 2e-6)
    return out


@pytest.mark.parametrize("kind", ["lstm", "dnc"])
def test_saliency_matches_finite_differences(kind: str) -> None:
    model = model_of(kind, embedding_size=2) if kind == "lstm" else model_of(kind)
    inputs, targets = sequence(7)
    saliency = input_saliency(model, inputs, targets)
    np.testing.assert_allclose(saliency, numeric_saliency(model, inputs, targets), atol=1e-6)
    assert np.all(np.tril(saliency, -1) == 0) and np.all(np.diag(saliency) > 0)


def test_saliency_follows_the_mask_and_many_to_one() -> None:
    model = model_of("gru")
    inputs, targets = sequence(8)
    mask = np.ones((T, 1))
    mask[2] = 0.0
    saliency = input_saliency(model, inputs, targets, mask)
    assert not saliency[:, 2].any() and saliency[:, 3].any()
    last = build_model(ModelConfig("gru", D, H, O, seed=3, many_to_one=True))
    scored = input_saliency(last, inputs, targets)
    assert not scored[:, :-1].any()
    np.testing.assert_allclose(scored[:, -1], numeric_saliency(last, inputs, targets)[:, -1], atol=1e-6)


# ---------------------------------------------------------------------- memory horizon
def test_memory_horizon_by_hand() -> None:
    forget = np.array([[0.9, 0.1], [0.5, 1.0], [0.5, 0.5], [0.2, 1.0]])
    survival = memory_horizon(forget, 3)
    np.testing.assert_allclose(survival, [[0.05, 0.5], [0.1, 0.5], [0.2, 1.0], [1.0, 1.0]])
    np.testing.assert_allclose(memory_horizon(forget, 0), [[1.0, 1.0]])
    with pytest.raises(ValueError, match="target step 4"):
        memory_horizon(forget, 4)


def test_forget_gate_probes_from_metadata() -> None:
    inputs, targets = sequence(9)
    stacked = trace_with_gradient_flow(model_of("lstm", num_layers=2), inputs, targets)[0]
    assert forget_gate_probes(stacked) == ["lstm/l0/forget_gate", "lstm/l1/forget_gate"]
    assert forget_gate_probes(trace_with_gradient_flow(model_of("dnc"), inputs, targets)[0]) == [
        "controller/forget_gate"
    ]
    assert forget_gate_probes(trace_with_gradient_flow(model_of("rnn"), inputs, targets)[0]) == []


def test_new_probes_export_like_any_probe(tmp_path: Path) -> None:
    from rnnscope.report.trace_export import read_trace_npz, write_trace_npz

    inputs, targets = sequence(10)
    trace = trace_with_gradient_flow(model_of("lstm"), inputs, targets)[0]
    write_trace_npz(trace, tmp_path / "trace.npz")
    back = read_trace_npz(tmp_path / "trace.npz")
    for name in ("grad/hidden", "grad/cell"):
        np.testing.assert_array_equal(back[name].data, trace[name].data)
        assert back[name].axes == ("unit",) and back[name].description == trace[name].description
