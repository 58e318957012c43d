"""The gradient check names the bug: each kind of diagnosis on its planted bug, none without one.

Every bug is planted in a copy of a model's backward (a subclass overriding
``backward_core``); the forward is untouched, so the numerical side stays right.
A correct model (every kind, 20 seeds) and a backward with unrelated noise on it
must get no diagnosis -- the tests run the fits on every row, not only on the
failing ones, so "no diagnosis" is not just "no failure".
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnscope.engine.gradcheck import CheckOptions, GradcheckResult, Status, check_gradients
from rnnscope.engine.gradcheck.diagnosis import Diagnosis, factor_names
from rnnscope.engine.gradcheck.diagnosis_fits import Values, match_count, scale_fit, zero_fit
from rnnscope.engine.gradcheck.diagnosis_steps import shorter_lengths
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.models.base import RecurrentModel
from tests.engine.planted import BUGS, PlantedRNN, problem


def planted(kind: str, change, **extra) -> tuple[RecurrentModel, tuple]:
    """The problem of ``kind`` with ``change(grads, dinputs, dstate, self)`` applied to the
    gradients its backward returns (a subclass overriding ``backward_core``)."""
    model, x, y, mask, state = problem(kind, **extra)
    base = type(model)

    def backward_core(self, *args, **kwargs):
        grads, dinputs, dstate, dhidden = base.backward_core(self, *args, **kwargs)
        grads, dinputs, dstate = change(dict(grads), dinputs, dict(dstate), self)
        return grads, dinputs, dstate, dhidden

    broken = type(base.__name__, (base,), {"backward_core": backward_core})
    return broken(model.config, model.params.copy()), (x, y, mask, state)


def scaled(name: str, factor: float, gate: str | None = None):
    def change(grads, dinputs, dstate, model):
        grad = grads[name].copy()
        where = model.params.gate_slices(name)[gate].index(grad.ndim) if gate else ...
        grad[where] *= factor
        grads[name] = grad
        return grads, dinputs, dstate

    return change


def swapped(name: str, first: str, second: str):
    def change(grads, dinputs, dstate, model):
        slices = model.params.gate_slices(name)
        a, b = slices[first].index(2), slices[second].index(2)
        grad = grads[name].copy()
        grad[a], grad[b] = grads[name][b], grads[name][a]
        grads[name] = grad
        return grads, dinputs, dstate

    return change


def transposed(name: str, gate: str | None = None):
    def change(grads, dinputs, dstate, model):
        grad = grads[name].copy()
        where = model.params.gate_slices(name)[gate].index(2) if gate else ...
        grad[where] = grad[where].T
        grads[name] = grad
        return grads, dinputs, dstate

    return change


def zeroed(name: str):
    def change(grads, dinputs, dstate, model):
        grads[name] = np.zeros_like(grads[name])
        return grads, dinputs, dstate

    return change


def noisy(size: float, seed: int):
    """Unrelated noise: every gradient element times its own ``1 + size * N(0, 1)``."""

    def change(grads, dinputs, dstate, model):
        rng = np.random.default_rng(seed)
        grads = {k: v * (1 + size * rng.standard_normal(v.shape)) for k, v in grads.items()}
        dstate = {k: v * (1 + size * rng.standard_normal(v.shape)) for k, v in dstate.items()}
        return grads, dinputs * (1 + size * rng.standard_normal(dinputs.shape)), dstate

    return change


def run(kind, change, mode="full", **settings) -> GradcheckResult:
    model, batch = planted(kind, change)
    return check_gradients(model, *batch, mode=mode, **settings)


def kinds(result: GradcheckResult, name: str) -> list[str]:
    return [d.kind for d in result.row(name).diagnoses]


def only(result: GradcheckResult, name: str) -> Diagnosis:
    (diagnosis,) = result.row(name).diagnoses
    return diagnosis


# ------------------------------------------------------------------------------ each kind
@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_a_missing_one_over_t_is_named_with_its_fraction_and_t(mode):
    result = run("lstm", scaled("Wx", 1 / 5), mode)  # the problem has T = 5 steps
    diagnosis = only(result, "Wx")
    assert diagnosis.kind == "scaled"
    assert diagnosis.factor == pytest.approx(0.2, rel=1e-6)
    assert "0.2 = 1/5 = 1/T x numeric" in diagnosis.text
    assert "a missing or extra 1/T?" in diagnosis.text
    assert all(
        kinds(result, f"Wx[{gate}]") == ["scaled"] for gate in ("input", "forget", "output", "candidate")
    )
    assert result.row("Wh").diagnoses == [] and result.row("Wh").status is Status.OK


def test_a_flipped_sign_and_a_factor_two_are_named():
    flipped = only(run("rnn", scaled("Wh", -1.0), "sampled"), "Wh")
    assert (flipped.kind, flipped.factor) == ("scaled", pytest.approx(-1.0))
    assert "analytic is -1 x numeric" in flipped.text and "a flipped sign" in flipped.text
    doubled = only(run("gru", scaled("b", 2.0), "sampled"), "b[update]")
    assert doubled.factor == pytest.approx(2.0)
    assert "a missing or extra factor 2" in doubled.text


def test_a_slip_of_a_tenth_of_a_percent_in_one_gate_is_a_constant_factor_of_that_gate_only():
    result = run("lstm", scaled("Wh", 1.001, "output"))
    diagnosis = only(result, "Wh[output]")
    assert diagnosis.factor == pytest.approx(1.001, rel=1e-9)
    assert "(+0.1 %)" in diagnosis.text
    assert result.row("Wh").diagnoses == []  # the whole tensor is not scaled: its other gates are right


@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_swapped_gates_are_named_both_ways(mode):
    result = run("lstm", swapped("Wx", "input", "forget"), mode, samples=4, directions=2)
    diagnosis = only(result, "Wx[input]")
    assert diagnosis.kind == "swapped" and diagnosis.other == "Wx[forget]"
    assert diagnosis.text.startswith("Wx[input] holds the gradient of Wx[forget]")
    assert "the two gates are swapped" in diagnosis.text
    assert only(result, "Wx[forget]").other == "Wx[input]"
    assert result.row("Wx[output]").status is Status.OK


def test_a_swap_in_a_large_slice_is_found_from_probes_when_sampled():
    """Sampled mode compares 3 of the 64 elements of a slice; the swap probes add the rest."""
    config = ModelConfig("lstm", 8, 8, 8, seed=1)
    model = build_model(config)
    base = type(model)
    change = swapped("Wh", "output", "candidate")

    def backward_core(self, *args, **kwargs):
        grads, dinputs, dstate, dhidden = base.backward_core(self, *args, **kwargs)
        grads, dinputs, dstate = change(dict(grads), dinputs, dict(dstate), self)
        return grads, dinputs, dstate, dhidden

    broken = type("LSTM", (base,), {"backward_core": backward_core})(config, model.params.copy())
    rng = np.random.default_rng(1)
    ids = rng.integers(0, 8, (7, 2))
    state = {"h": 0.5 * rng.standard_normal((2, 8)), "c": 0.5 * rng.standard_normal((2, 8))}
    result = check_gradients(
        broken, np.eye(8)[ids[:-1]], ids[1:], state=state, samples=3, parameters=["Wh"], with_inputs=False
    )
    assert result.row("Wh[output]").checked == 3
    assert only(result, "Wh[output]").other == "Wh[candidate]"
    assert only(result, "Wh[candidate]").other == "Wh[output]"


def test_a_transposed_matrix_and_a_transposed_gate_slice_are_named():
    whole = only(run("rnn", transposed("Wh"), "sampled"), "Wh")
    assert whole.kind == "transposed" and "transposed" in whole.text
    gate = only(run("lstm", transposed("Wh", "forget")), "Wh[forget]")
    assert gate.kind == "transposed"


def test_a_gradient_never_accumulated_is_zero():
    result = run("lstm", zeroed("Wh"), "sampled")
    diagnosis = only(result, "Wh")
    assert diagnosis.kind == "zero"
    assert diagnosis.text.startswith("analytic is 0 over all 36 elements where numeric reaches")
    assert kinds(result, "Wh[forget]") == ["zero"]


def test_a_last_step_missing_from_dx_is_zero_there():
    def change(grads, dinputs, dstate, model):
        dinputs = dinputs.copy()
        dinputs[-1] = 0.0
        return grads, dinputs, dstate

    diagnosis = only(run("gru", change), "inputs")
    assert diagnosis.kind == "zero"
    assert "(all at step t = 4, the last)" in diagnosis.text


class CarrylessRNN(PlantedRNN):
    """The RNN's backward with the gradient carried from step t + 1 to step t dropped (except into
    the first step), the classic truncated BPTT-by-accident."""

    def backward_core(self, dfeatures, core, inputs, dfinal_state=None, *, need_inputs=True):
        steps, batch, width = inputs.shape
        Wx, Wh = self.params["Wx"], self.params["Wh"]
        hs = core.cache["hs"]
        size = Wh.shape[0]
        dpreact = 1.0 - hs[1:] * hs[1:]
        dhidden = np.empty_like(hs[1:])
        dh_next = np.zeros((batch, size))
        for t in range(steps - 1, -1, -1):
            dhidden[t] = dfeatures[t] + (dh_next if t == 0 else 0.0)
            dpreact[t] *= dhidden[t]
            dh_next = dpreact[t] @ Wh.T
        flat = dpreact.reshape(steps * batch, size)
        grads = {
            "Wx": inputs.reshape(-1, width).T @ flat,
            "Wh": hs[:-1].reshape(-1, size).T @ flat,
            "b": flat.sum(axis=0),
        }
        return grads, (flat @ Wx.T).reshape(steps, batch, width), {"h": dh_next}, dhidden


@pytest.mark.parametrize("mode", ["full", "sampled"])
def test_a_dropped_carry_is_right_on_short_sequences_only(mode):
    model, x, y, mask, state = problem("rnn")
    result = check_gradients(CarrylessRNN(model.config, model.params.copy()), x, y, mask, state, mode=mode)
    for name in ("Wx", "Wh", "b"):
        diagnosis = only(result, name)
        assert diagnosis.kind == "steps"
        assert diagnosis.lengths == (1, 2, 3, 5)  # the carry into the first step was kept
        assert diagnosis.errors[:2] == (0.0, 0.0) and min(diagnosis.errors[2:]) > 1e-2
        assert diagnosis.text.startswith("right for sequences of up to 2 step(s), wrong from 3")
    inputs = only(result, "inputs")
    assert inputs.kind == "steps" and inputs.text.startswith("right at the last step")
    assert result.row("Wy").status is Status.OK


class FiveStepsOnly(CarrylessRNN):
    """The carryless RNN of a user who only ever runs it on 5 steps."""

    def forward_core(self, inputs, state, trace):
        if inputs.shape[0] != 5:
            raise ValueError("this model runs on 5 steps")
        return super().forward_core(inputs, state, trace)


def test_a_model_that_cannot_run_on_fewer_steps_keeps_its_check_and_says_so():
    model, x, y, mask, state = problem("rnn")
    result = check_gradients(FiveStepsOnly(model.config, model.params.copy()), x, y, mask, state)
    assert result.row("Wh").failed and result.row("Wh").diagnoses == []
    note = "diagnosis: the model could not be run on its first 1 step(s) (ValueError: this model runs on 5"
    assert any(n.startswith(note) for n in result.notes)


def _planted_bug(name: str, monkeypatch) -> GradcheckResult:
    (bug,) = [bug for bug in BUGS if bug.name == name]
    model, x, y, mask, state = problem(bug.kind, bug.loss, **bug.extra)
    bug.install(monkeypatch)
    return check_gradients(model, x, y, mask, state, mode="full")


def test_a_slipped_cell_carry_is_found_on_longer_sequences(monkeypatch):
    result = _planted_bug("lstm cell carry off by 0.1%", monkeypatch)
    for name in ("Wx", "Wh[forget]", "b", "state.h"):
        assert kinds(result, name) == ["steps"], name
    assert only(result, "Wh[forget]").errors[0] == 0.0


def test_a_wrong_gate_derivative_is_not_blamed_on_the_carry(monkeypatch):
    """A slip in one gate's derivative reaches the other gates through the recurrence, and they are
    right on one step; the slipped gate is wrong there, so no row is said to be a carry."""
    result = _planted_bug("lstm input gate derivative", monkeypatch)
    assert result.row("Wx[forget]").failed
    assert [d.text for row in result.all_rows() for d in row.diagnoses] == []


# ------------------------------------------------------------------------------ no false diagnosis
def _forced_fits(result: GradcheckResult, sizes: dict[str, int]) -> list[str]:
    """Every fit run on every row (not only the failing ones): what it would say."""
    said = []
    for name, check in result.tensors.items():
        for gate in dict.fromkeys(check.gates):
            members = np.array([g == gate for g in check.gates])
            values = Values(
                check.analytic_values[members],
                check.numeric[members],
                check.allowance()[members],
                check.status_codes[members] != Status.OK.code,
            )
            for fit in (scale_fit(values, sizes), zero_fit(values, False, int(members.sum()))):
                if fit is not None:
                    said.append(f"{name}[{gate}]: {fit.text}")
    return said


def _tiny(kind: str, seed: int) -> tuple[RecurrentModel, np.ndarray, np.ndarray, int]:
    sizes = {"memory_slots": 3, "memory_width": 2, "read_heads": 1} if kind == "dnc" else {}
    model = build_model(ModelConfig(kind, 2, 2, 2, seed=seed, **sizes))
    rng = np.random.default_rng(seed)
    for name in model.params:
        model.params[name][...] += 0.3 * rng.standard_normal(model.params[name].shape)
    steps = 2 if kind in ("dnc", "gru") else 3
    return model, rng.standard_normal((steps, 1, 2)), rng.integers(0, 2, (steps, 1)), steps


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "dnc"])
def test_a_correct_model_gets_no_diagnosis_on_twenty_seeds(kind):
    for seed in range(20):
        model, x, y, steps = _tiny(kind, seed)
        result = check_gradients(model, x, y, mode="sampled", samples=3, seed=seed)
        assert not result.failed, (kind, seed)
        assert not any(row.diagnoses for row in result.all_rows())
        assert _forced_fits(result, {"T": steps, "B": 1, "H": 2}) == [], (kind, seed)


@pytest.mark.parametrize(("kind", "size"), [("rnn", 1e-2), ("lstm", 1e-2), ("lstm", 1e-5), ("gru", 1e-3)])
def test_unrelated_noise_fails_without_a_diagnosis(kind, size):
    for seed in range(2):
        result = run(kind, noisy(size, seed), "sampled", seed=seed)
        assert result.failed
        assert {row.name: row.diagnoses for row in result.all_rows() if row.diagnoses} == {}


def test_a_swap_is_not_seen_between_the_gates_of_a_correct_model():
    model, batch = planted("lstm", lambda g, dx, ds, m: (g, dx, ds))
    result = check_gradients(model, *batch, mode="full")
    check = result.tensors["Wx"]
    slices = model.params.gate_slices("Wx")
    numeric = check.numeric_full()
    allowance = np.zeros(check.shape)
    allowance.reshape(-1)[check.indices] = check.allowance()
    for first, a in slices.items():
        for second, b in slices.items():
            if first != second:
                pa, pb = a.index(2), b.index(2)
                usable = np.ones(check.analytic[pa].size, dtype=bool)
                args = (check.analytic[pa].ravel(), numeric[pb].ravel(), allowance[pb].ravel(), usable)
                assert match_count(*args) == 0, (first, second)


# ------------------------------------------------------------------------------ bounds and data
def test_the_budget_bounds_the_probes_and_says_what_it_left_out():
    options = CheckOptions(samples=2, diagnosis_budget=0)
    result = run("lstm", swapped("Wx", "input", "forget"), "sampled", options=options)
    assert result.row("Wx[input]").checked == 2
    assert result.row("Wx[input]").diagnoses == []
    assert any("budget of 0 extra numerical derivatives ran out" in note for note in result.notes)
    assert run("lstm", swapped("Wx", "input", "forget"), diagnose=False).row("Wx[input]").diagnoses == []


def test_a_cancel_during_the_diagnoses_stops_them_with_every_row_checked(monkeypatch):
    from rnnscope.engine.gradcheck import GradcheckCancelled, checker

    started = []
    diagnose = checker.diagnose

    def noting(*args, **kwargs):
        started.append(True)
        return diagnose(*args, **kwargs)

    monkeypatch.setattr(checker, "diagnose", noting)
    model, batch = planted("lstm", swapped("Wx", "input", "forget"))
    with pytest.raises(GradcheckCancelled) as stopped:
        check_gradients(model, *batch, samples=2, cancel=lambda: bool(started))
    partial = stopped.value.partial
    assert partial.cancelled and [row.name for row in partial.rows][-1] == "state.c"
    assert partial.row("Wx[input]").failed


def test_a_diagnosis_round_trips_through_the_result_dict():
    result = run("lstm", scaled("Wx", 1 / 5), "sampled")
    back = GradcheckResult.from_dict(result.to_dict())
    assert back.row("Wx").diagnoses == result.row("Wx").diagnoses
    assert back.row("Wx[forget]").diagnoses[0].factor == pytest.approx(0.2)
    with pytest.raises(ValueError, match="unknown diagnosis kind"):
        Diagnosis("wrong", "", 0)


def test_factors_are_named_as_fractions_and_sizes():
    assert factor_names(0.04, {"T": 25, "B": 4, "H": 64}, 1e-6) == ["1/25", "1/T"]
    assert factor_names(-0.25, {"T": 25, "B": 4, "H": 64}, 1e-6) == ["-1/4", "-1/B"]
    assert factor_names(100.0, {"T": 25, "B": 4, "H": 64}, 1e-6) == ["T*B"]
    assert factor_names(1.001, {"T": 25, "B": 4, "H": 64}, 1e-6) == []
    assert shorter_lengths(25) == [1, 2, 3, 6, 12, 18]
    assert shorter_lengths(1) == []
