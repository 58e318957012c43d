"""Every engine model through the gradient checker: passes when right, caught when broken.

Mutations break one backward term at a time (wrapping ``backward_core``) and the
matching row -- and for fused tensors the matching gate sub-row -- must fail while
every other row and sub-row does not.
"""

import numpy as np
import pytest

from rnnscope.engine.gradcheck import Status, check_gradients
from rnnscope.engine.models import ModelConfig, build_model

KINDS = ["rnn", "lstm", "gru", "dnc"]
FUSED_KINDS = ["lstm", "gru", "dnc"]  # models with fused gate matrices and gate sub-rows


def _config(kind, loss="softmax_ce", seed=1):
    sizes = {"rnn": 5, "lstm": 3, "gru": 3, "dnc": 4}
    extra = {"memory_slots": 3, "memory_width": 2, "read_heads": 2} if kind == "dnc" else {}
    return ModelConfig(kind, 3, sizes[kind], 3, loss=loss, seed=seed, **extra)


def _problem(kind, loss="softmax_ce", seed=1, T=4, B=2):
    rng = np.random.default_rng(seed)
    model = build_model(_config(kind, loss, seed))
    x = rng.standard_normal((T, B, 3))
    y = rng.integers(0, 3, (T, B)) if loss == "softmax_ce" else rng.standard_normal((T, B, 3))
    return model, x, y


@pytest.mark.parametrize("kind", KINDS)
def test_every_model_passes_in_full_mode(kind):
    model, x, y = _problem(kind)
    result = check_gradients(model, x, y, mode="full")
    assert not result.failed, [(r.name, r.status, r.rel_err_max) for r in result.all_rows()]
    allowed = {Status.OK, Status.TOO_SMALL, Status.KINK}
    assert {row.status for row in result.all_rows()} <= allowed
    for name, array in model.params.items():
        assert result.row(name).checked == array.size
        if model.params.gate_slices(name):
            assert [sub.gate for sub in result.row(name).sub_rows] == list(model.params.gate_slices(name))


@pytest.mark.parametrize("kind", ["rnn", "lstm"])
@pytest.mark.parametrize("loss", ["softmax_ce", "mse"])
def test_fast_path_gives_the_naive_loops_results(kind, loss):
    model, x, y = _problem(kind, loss, T=5, B=3)
    x = np.eye(3)[np.random.default_rng(0).integers(0, 3, (5, 3))]  # one-hot: the skipping path
    x[2, 1] = 0.0  # a step with no input at all
    rng = np.random.default_rng(5)
    mask = (rng.random((5, 3)) > 0.3).astype(float)
    state = {k: 0.3 * rng.standard_normal(v.shape) for k, v in model.initial_state(3).items()}
    state["h"][0, 1] = 0.0  # a zero unit in the carried state delays Wh copies
    for carried, mode in ((None, "full"), (state, "full"), (state, "directional")):
        naive = check_gradients(model, x, y, mask, carried, mode=mode, engine="naive")
        fast = check_gradients(model, x, y, mask, carried, mode=mode, engine="fast")
        assert fast.engine == "fast" and naive.engine == "naive"
        for name, check in naive.tensors.items():
            other = fast.tensors[name]
            assert np.array_equal(check.indices, other.indices)
            assert np.array_equal(check.status_codes, other.status_codes), name
            # both are the same central differences: they differ by rounding of the losses only
            assert np.all(np.abs(check.numeric - other.numeric) <= check.noise + other.noise), name
        assert [r.status for r in naive.all_rows()] == [r.status for r in fast.all_rows()]


def _mutant(model, mutate, readout=False):
    """A copy of ``model`` whose gradients pass through ``mutate(grads, model)``.

    Core parameters are broken inside ``backward_core``; the read-out (``Wy``,
    ``by``, whose gradients the shared ``backward`` adds) after it.
    """

    class Mutant(type(model)):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(
                dfeatures, core, inputs, need_inputs=need_inputs
            )
            if not readout:
                mutate(grads, self)
            return grads, dinputs, dstate, dhidden

        def backward(self, result, input_gradient=True):
            gradients = super().backward(result, input_gradient)
            if readout:
                mutate(gradients.params, self)
            return gradients

    return Mutant(model.config, model.params.copy())


def _assert_only(result, failing):
    for row in result.all_rows():
        if row.name in failing:
            assert row.status is Status.FAIL, (row.name, row.status, row.rel_err_max)
        else:
            assert row.status is not Status.FAIL, (row.name, row.rel_err_max, failing)


def _fused(model):
    return [name for name in model.params if model.params.gate_slices(name)]


@pytest.mark.parametrize("kind", FUSED_KINDS)
def test_flipping_one_gate_slice_fails_that_sub_row_only(kind):
    model, x, y = _problem(kind)
    fused = _fused(model)
    assert fused, f"the {kind} should have fused gate matrices"
    for name in fused:
        gates = list(model.params.gate_slices(name))
        gate = gates[len(gates) // 2]
        piece = model.params.gate_slices(name)[gate]

        def flip(grads, _model, name=name, piece=piece):
            grads[name][piece.index(grads[name].ndim)] *= -1.0

        result = check_gradients(_mutant(model, flip), x, y, mode="sampled", samples=4)
        _assert_only(result, {name, f"{name}[{gate}]"})


@pytest.mark.parametrize("kind", FUSED_KINDS)
def test_dropping_one_gates_term_fails_that_sub_row_only(kind):
    model, x, y = _problem(kind)
    fused = _fused(model)
    assert fused, f"the {kind} should have fused gate matrices"
    name = fused[0]
    gate = list(model.params.gate_slices(name))[0]
    piece = model.params.gate_slices(name)[gate]

    def drop(grads, _model):
        grads[name][piece.index(grads[name].ndim)] *= 0.5  # half of the term missing

    result = check_gradients(_mutant(model, drop), x, y, mode="sampled", samples=4)
    _assert_only(result, {name, f"{name}[{gate}]"})


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("target", ["Wy", "by"])
def test_a_wrong_read_out_gradient_fails_its_row_only(kind, target):
    model, x, y = _problem(kind)

    def scale(grads, _model):
        grads[target] = grads[target] * 1.01

    result = check_gradients(_mutant(model, scale, readout=True), x, y, mode="sampled", samples=4)
    _assert_only(result, {target})


def test_rnn_mutations():
    model, x, y = _problem("rnn")

    def transpose(grads, _model):
        grads["Wh"] = grads["Wh"].T.copy()

    def flip_bias(grads, _model):
        grads["b"] = -grads["b"]

    for mutate, failing in ((transpose, {"Wh"}), (flip_bias, {"b"})):
        result = check_gradients(_mutant(model, mutate), x, y, mode="full")
        _assert_only(result, failing)


def test_rnn_off_by_one_in_the_recurrent_weight_gradient():
    """Wh's gradient built from h_t instead of h_{t-1}: a classic BPTT slip."""
    from rnnscope.engine.models.rnn import RNN

    class OffByOne(RNN):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(
                dfeatures, core, inputs, need_inputs=need_inputs
            )
            dpre = dhidden * (1.0 - core.hidden**2)
            grads["Wh"] = np.einsum("tbi,tbj->ij", core.hidden, dpre)
            return grads, dinputs, dstate, dhidden

    model, x, y = _problem("rnn")
    result = check_gradients(OffByOne(model.config, model.params.copy()), x, y, mode="full")
    _assert_only(result, {"Wh"})


def test_lstm_forget_gate_mutations():
    model, x, y = _problem("lstm")
    H = model.config.hidden_size

    def flip_forget_bias(grads, _model):
        grads["b"][H : 2 * H] *= -1.0

    def drop_forget_recurrent(grads, _model):
        grads["Wh"][:, H : 2 * H] = 0.0

    result = check_gradients(_mutant(model, flip_forget_bias), x, y, mode="full")
    _assert_only(result, {"b", "b[forget]"})
    result = check_gradients(_mutant(model, drop_forget_recurrent), x, y, mode="full")
    _assert_only(result, {"Wh", "Wh[forget]"})


@pytest.mark.parametrize("kind", FUSED_KINDS)
def test_directional_mode_also_points_at_the_broken_gate(kind):
    model, x, y = _problem(kind)
    fused = _fused(model)
    assert fused, f"the {kind} should have fused gate matrices"
    name = fused[-1]
    gate = list(model.params.gate_slices(name))[-1]
    piece = model.params.gate_slices(name)[gate]

    def flip(grads, _model):
        grads[name][piece.index(grads[name].ndim)] *= -1.0

    result = check_gradients(_mutant(model, flip), x, y, mode="directional", directions=2)
    _assert_only(result, {name, f"{name}[{gate}]"})


@pytest.mark.parametrize("loss, carried", [("softmax_ce", False), ("sigmoid_bce", True), ("mse", True)])
def test_dnc_copies_give_the_naive_loops_results(loss, carried):
    """The DNC's parameters run as perturbed copies through its own controller cell, access step and
    head: the naive loop's central differences and statuses, from the zero or a carried state."""
    model, x, y = _problem("dnc", "mse" if loss == "mse" else "softmax_ce", T=4, B=3)
    if loss != "softmax_ce":
        model = build_model(_config("dnc", loss))
        y = (np.random.default_rng(4).random((4, 3, 3)) > 0.5).astype(float) if loss == "sigmoid_bce" else y
    rng = np.random.default_rng(6)
    mask = (rng.random((4, 3)) > 0.3).astype(float)
    state = None
    if carried:
        state = {k: 0.2 * np.abs(rng.standard_normal(v.shape)) for k, v in model.initial_state(3).items()}
    settings = {"mode": "sampled", "samples": 3, "with_inputs": False}
    naive = check_gradients(model, x, y, mask, state, engine="naive", **settings)
    fast = check_gradients(model, x, y, mask, state, engine="fast", **settings)
    assert fast.engine == "fast"
    for name, check in naive.tensors.items():
        other = fast.tensors[name]
        assert np.array_equal(check.indices, other.indices)
        assert np.array_equal(check.status_codes, other.status_codes), name
        assert np.all(np.abs(check.numeric - other.numeric) <= check.allowance() + other.allowance()), name


@pytest.mark.parametrize("kind", ["gru", "dnc"])
def test_inputs_and_state_rows_of_any_model_run_as_rows_of_one_batch(kind):
    """The GRU's and DNC's input and initial-state checks perturb copies of one sequence run as the
    rows of one batch: the naive loop's central differences and statuses."""
    model, x, y = _problem(kind, T=5, B=3)
    rng = np.random.default_rng(3)
    mask = (rng.random((5, 3)) > 0.3).astype(float)
    state = {k: 0.2 * np.abs(rng.standard_normal(v.shape)) for k, v in model.initial_state(3).items()}
    names = ["inputs", *(f"state.{key}" for key in state)]
    for mode in ("full", "directional"):
        naive = check_gradients(model, x, y, mask, state, mode=mode, engine="naive", parameters=names)
        fast = check_gradients(model, x, y, mask, state, mode=mode, engine="auto", parameters=names)
        for name in names:
            check, other = naive.tensors[name], fast.tensors[name]
            assert np.array_equal(check.status_codes, other.status_codes), name
            assert np.all(np.abs(check.numeric - other.numeric) <= check.allowance() + other.allowance()), (
                name
            )


def test_other_cores_get_the_closed_form_read_out_with_the_naive_loops_results():
    from rnnscope.engine.models.rnn import RNN

    class CustomCore(RNN):
        def forward_core(self, inputs, state, trace):
            return super().forward_core(inputs, state, trace)

    model, x, y = _problem("rnn", T=5, B=3)
    custom = CustomCore(model.config, model.params.copy())
    for mode in ("full", "directional"):
        naive = check_gradients(custom, x, y, mode=mode, engine="naive")
        fast = check_gradients(custom, x, y, mode=mode, engine="auto")
        assert fast.engine == "fast read-out"
        for name, check in naive.tensors.items():
            other = fast.tensors[name]
            assert np.array_equal(check.status_codes, other.status_codes), name
            assert np.all(np.abs(check.numeric - other.numeric) <= check.noise + other.noise), name
            if check.group == "parameter" and name not in ("Wy", "by"):
                # the core's parameters still run the naive loop
                assert np.array_equal(check.numeric, other.numeric), name


def test_read_out_blocks_give_the_same_numbers(monkeypatch):
    from rnnscope.engine.gradcheck import fast, fast_readout

    model, x, y = _problem("rnn", T=5, B=3)
    whole = check_gradients(model, x, y, mode="full", parameters=["Wy", "by"])
    monkeypatch.setattr(fast_readout, "READOUT_NUMBERS", 40)  # blocks of 2 perturbations
    blocked = check_gradients(model, x, y, mode="full", parameters=["Wy", "by"])
    for name in ("Wy", "by"):
        assert np.array_equal(whole.tensors[name].numeric, blocked.tensors[name].numeric)
    whole = check_gradients(model, x, y, mode="directional", directions=3)
    monkeypatch.setattr(fast, "DENSE_NUMBERS", 1)  # one direction at a time
    blocked = check_gradients(model, x, y, mode="directional", directions=3)
    for name in model.params:
        assert np.allclose(whole.tensors[name].numeric, blocked.tensors[name].numeric, rtol=0, atol=1e-12)
