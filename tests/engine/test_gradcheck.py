"""The gradient checker: relative error, statuses, kinks, modes, restoration, progress, cancel."""

import numpy as np
import pytest

from rnnscope.engine.gradcheck import (
    GradcheckCancelled,
    PrecisionError,
    Sides,
    Status,
    Thresholds,
    check_function,
    check_gradients,
    classify,
    relative_error,
)
from rnnscope.engine.models import ModelConfig, build_model

RNN_ROWS = ["Wx", "Wh", "b", "Wy", "by", "inputs", "state.h"]


def smooth_sides(numeric):
    """The one-sided differences of a smooth, straight function with derivative ``numeric``."""
    numeric = np.asarray(numeric, dtype=float)
    zero = np.zeros_like(numeric)
    return Sides(numeric, numeric, numeric, 0.0, zero, numeric, numeric, zero)


def _rnn_problem(seed=0, T=5, B=3, D=4, H=5, O=4):
    rng = np.random.default_rng(seed)
    model = build_model(ModelConfig("rnn", D, H, O, seed=seed))
    x = np.eye(D)[rng.integers(0, D, (T, B))]
    y = rng.integers(0, O, (T, B))
    return model, x, y


# ----------------------------------------------------------------------------- relative error
def test_relative_error_both_zero_is_zero_even_without_floor():
    assert relative_error(np.array([0.0]), np.array([0.0]), floor=0.0)[0] == 0.0


def test_relative_error_opposite_signs_is_two():
    rel = relative_error(np.array([0.5, -3.0]), np.array([-0.5, 3.0]), floor=1e-8)
    assert np.allclose(rel, 2.0)


def test_relative_error_uses_the_floor_for_tiny_values():
    # 1e-12 against 2e-12 is a 50% difference, but small against a floor of 1e-6
    rel = relative_error(np.array([1e-12]), np.array([2e-12]), floor=1e-6)
    assert rel[0] == pytest.approx(1e-6)


def test_relative_error_subtracts_the_allowance():
    rel = relative_error(np.array([1.0, 1.0]), np.array([1.0 + 1e-9, 1.0 + 1e-6]), floor=0.0, allowance=1e-8)
    assert rel[0] == 0.0
    assert rel[1] == pytest.approx(1e-6 - 1e-8, rel=1e-6)


def test_relative_error_of_non_finite_values_is_infinite():
    assert np.isinf(relative_error(np.array([np.nan]), np.array([1.0]), floor=1e-8)[0])


def test_classify_statuses():
    t = Thresholds()
    assert (t.ok, t.fail) == (1e-8, 1e-7)
    analytic = np.array([1.0, 1.0, 1.0, 1e-12, 0.0, -1.0, 1.0])
    numeric = np.array([1.0 + 1e-9, 1.0 + 5e-8, 1.0 + 1e-6, 2e-12, 0.0, 1.0, 1.0 + 1e-6])
    allowance = np.array([0, 0, 0, 0, 0, 0, 1e-6])
    _, codes = classify(
        analytic, numeric, smooth_sides(numeric), floor=1e-6, thresholds=t, allowance=allowance
    )
    assert [Status.OK.code, Status.WARN.code, Status.FAIL.code, Status.TOO_SMALL.code] == list(codes[:4])
    assert codes[4] == Status.TOO_SMALL.code  # both zero: nothing to judge
    assert codes[5] == Status.FAIL.code  # opposite signs
    assert codes[6] == Status.OK.code  # the mismatch is within the numerical allowance


def test_thresholds_are_validated():
    with pytest.raises(ValueError, match="must not exceed"):
        Thresholds(ok=1e-3, fail=1e-5)
    with pytest.raises(ValueError, match="finite"):
        Thresholds(fail=float("nan"))


def test_status_colours_and_order():
    assert Status.OK.colour != Status.FAIL.colour
    assert {s.colour for s in Status} == {"#2e9e44", "#e69b00", "#d62728", "#8c8c8c", "#1f6fc4"}
    assert Status.TOO_SMALL.label == "too small"
    assert Status.FAIL.severity > Status.WARN.severity > Status.KINK.severity > Status.OK.severity


# ----------------------------------------------------------------------------- kinks
# the step is refined down to 1e-3 / 10^4 = 1e-7: a kink closer than that stays within the steps


def test_kink_of_abs_at_zero():
    x = np.array([3e-9, 0.5, -0.7, 2.0])
    row, check = check_function(lambda: float(np.abs(x).sum()), x, np.sign(x))
    assert check.statuses == [Status.KINK, Status.OK, Status.OK, Status.OK]
    assert row.status is Status.KINK
    assert np.array_equal(x, [3e-9, 0.5, -0.7, 2.0])


def test_a_kink_the_refined_step_can_separate_is_judged():
    # |x| 3e-6 from its kink: the step shrinks until the kink lies outside 4h, and then the
    # derivative (1) is judged like any other
    x = np.array([3e-6, 0.5])
    row, check = check_function(lambda: float(np.abs(x).sum()), x, np.sign(x))
    assert check.statuses == [Status.OK, Status.OK]


def test_kink_of_max_when_two_entries_tie_within_the_step():
    x = np.array([1.0, 1.000000003, 0.2, 0.7])
    row, check = check_function(lambda: float(x.max() * 3.0 + x.sum()), x, 1.0 + 3.0 * (x == x.max()))
    assert check.statuses[:2] == [Status.KINK, Status.KINK]
    assert check.statuses[2:] == [Status.OK, Status.OK]
    assert not row.failed


def test_kink_of_a_sort_whose_order_switches():
    weights = np.array([1.0, 2.0, 3.0, 4.0])
    x = np.array([0.3, 0.300000004, -1.0, 2.0])
    grad = weights[np.argsort(np.argsort(x))]
    _, check = check_function(lambda: float(np.sort(x) @ weights), x, grad)
    assert check.statuses == [Status.KINK, Status.KINK, Status.OK, Status.OK]


def test_a_three_way_tie_is_a_kink_whatever_order_the_backward_holds():
    # three entries tied exactly: moving the middle one either way puts it first or last, never
    # in the middle where the backward's fixed order keeps it: no side's slope is the analytic
    # value, but the point is not differentiable and is not judged
    weights = np.array([1.0, 2.0, 5.0])
    x = np.array([0.5, 0.5, 0.5])
    _, check = check_function(lambda: float(np.sort(x) @ weights), x, weights.copy())
    assert check.statuses == [Status.KINK, Status.KINK, Status.KINK]


def test_a_wrong_derivative_at_a_smooth_point_is_a_failure_not_a_kink():
    x = np.array([0.4, -1.2, 2.0])
    wrong = 3 * x**2
    wrong[1] *= -1
    _, check = check_function(lambda: float((x**3).sum()), x, wrong)
    assert check.statuses == [Status.OK, Status.FAIL, Status.OK]


def test_a_tensor_where_the_loss_is_not_differentiable_says_so():
    # a sort of three tied entries: along the axes each element looks like a kink, but along some
    # directions the function is smooth with a slope no fixed order gives; the directions do not add
    # up, so the check calls the tensor not differentiable and judges no mismatch a failure
    weights = np.array([1.0, 2.0, 5.0])
    x = np.array([0.5, 0.5, 0.5])
    row, check = check_function(lambda: float(np.sort(x) @ weights), x, weights.copy(), mode="directional")
    assert not check.differentiable
    assert row.status is Status.KINK and not row.failed
    # a smooth function is differentiable, and a wrong gradient of it still fails in this mode
    y = np.array([0.3, -0.2, 0.9])
    row, check = check_function(lambda: float((y**3).sum()), y, 3 * y**2 * 1.001, mode="directional")
    assert check.differentiable and row.status is Status.FAIL


def test_a_wrong_derivative_next_to_a_kink_still_fails():
    # the kink lies within 4h at the first step; the refined step separates it and judges
    for analytic in (5.0, 1.3, -1.0):
        x = np.array([3e-6, 1.0])
        _, check = check_function(lambda x=x: float(np.abs(x).sum()), x, np.array([analytic, 1.0]))
        assert check.statuses[0] is Status.FAIL, analytic


# ----------------------------------------------------------------------------- model checks
@pytest.mark.parametrize("mode", ["full", "sampled", "directional"])
def test_rnn_passes_every_mode(mode):
    model, x, y = _rnn_problem()
    result = check_gradients(model, x, y, mode=mode, samples=4, engine="naive")
    assert [row.name for row in result.rows] == RNN_ROWS
    assert [row.group for row in result.rows] == ["parameter"] * 5 + ["input", "state"]
    assert not result.failed
    for row in result.rows:
        assert row.status is Status.OK, row
        assert row.rel_err_max < 1e-8
        # the best judged element of every row could have seen a relative error of 1e-8
        assert row.resolution < 1e-8, row
    assert result.mode == mode
    assert result.numpy_version == np.__version__
    assert result.model_config["kind"] == "rnn"


def test_full_mode_checks_every_element_and_has_whole_tensors():
    model, x, y = _rnn_problem()
    result = check_gradients(model, x, y, mode="full", engine="naive")
    for name, array in model.params.items():
        row = result.row(name)
        assert row.checked == row.total == array.size
        check = result.tensors[name]
        assert check.numeric_full().shape == array.shape
        assert not np.isnan(check.numeric_full()).any()
        assert np.allclose(check.numeric_full(), check.analytic, atol=1e-8)


def test_sampled_mode_is_reproducible_and_includes_the_largest_gradient():
    model, x, y = _rnn_problem(T=6, D=6, H=8)
    first = check_gradients(model, x, y, mode="sampled", samples=5, seed=3)
    again = check_gradients(model, x, y, mode="sampled", samples=5, seed=3)
    other = check_gradients(model, x, y, mode="sampled", samples=5, seed=4)
    check = first.tensors["Wh"]
    assert np.array_equal(check.indices, again.tensors["Wh"].indices)
    assert not np.array_equal(check.indices, other.tensors["Wh"].indices)
    assert len(check.indices) == 5 == len(set(check.indices.tolist()))
    assert int(np.argmax(np.abs(check.analytic))) in check.indices
    mask = check.checked_mask()
    assert mask.sum() == 5 and np.isnan(check.numeric_full()[~mask]).all()


def test_directional_mode_stores_unit_directions():
    model, x, y = _rnn_problem()
    result = check_gradients(model, x, y, mode="directional", directions=2)
    check = result.tensors["Wh"]
    assert check.directions.shape == (2, *model.params["Wh"].shape)
    assert np.allclose(np.linalg.norm(check.directions.reshape(2, -1), axis=1), 1.0)
    assert np.allclose(check.analytic_values, (check.directions * check.analytic).sum(axis=(1, 2)))
    assert result.row("Wh").worst_index is None


def test_parameters_are_restored_bit_exactly():
    model, x, y = _rnn_problem()
    arrays = {name: model.params[name] for name in model.params}
    before = {name: array.tobytes() for name, array in arrays.items()}
    for mode in ("full", "sampled", "directional"):
        for engine in ("naive", "auto"):
            check_gradients(model, x, y, mode=mode, engine=engine)
            for name in arrays:
                assert model.params[name] is arrays[name]
                assert model.params[name].tobytes() == before[name]


def test_parameters_are_restored_when_the_loss_raises():
    model, x, y = _rnn_problem()
    before = {name: model.params[name].copy() for name in model.params}
    calls = {"n": 0}
    original = model.loss

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 7:
            raise RuntimeError("boom")
        return original(*args, **kwargs)

    model.loss = flaky
    with pytest.raises(RuntimeError, match="boom"):
        check_gradients(model, x, y, mode="full", engine="naive")
    for name, values in before.items():
        assert np.array_equal(model.params[name], values)


def test_float32_is_checked_as_a_float64_copy_with_a_note():
    rng = np.random.default_rng(0)
    model = build_model(ModelConfig("rnn", 3, 4, 3, dtype="float32"))
    x = rng.standard_normal((4, 2, 3)).astype(np.float32)
    y = rng.integers(0, 3, (4, 2))
    result = check_gradients(model, x, y, mode="full")
    assert result.upcast and not result.failed
    assert any("float32" in note and "float64 copy" in note for note in result.notes)
    assert model.params["Wh"].dtype == np.float32
    with pytest.raises(PrecisionError, match="float32.*upcast"):
        check_gradients(model, x, y, upcast=False)


def test_progress_counts_every_element_and_names_the_parameter():
    model, x, y = _rnn_problem()
    calls = []
    check_gradients(
        model, x, y, mode="full", engine="naive", progress=lambda d, t, n: calls.append((d, t, n))
    )
    total = model.params.size + x.size + 3 * model.config.hidden_size
    assert calls[-1] == (total, total, "state.h")
    done = [d for d, _, _ in calls]
    assert done == sorted(done) and all(t == total for _, t, _ in calls)
    assert {n for _, _, n in calls} == set(RNN_ROWS)


def test_cancel_raises_with_a_partial_result_and_restores_parameters():
    model, x, y = _rnn_problem()
    before = {name: model.params[name].copy() for name in model.params}
    seen = []

    def cancel():
        return bool(seen) and seen[-1][2] == "Wh"

    with pytest.raises(GradcheckCancelled) as info:
        check_gradients(
            model, x, y, mode="full", engine="naive", progress=lambda *a: seen.append(a), cancel=cancel
        )
    partial = info.value.partial
    assert partial.cancelled
    assert [row.name for row in partial.rows] == ["Wx"]
    for name, values in before.items():
        assert np.array_equal(model.params[name], values)


def test_bad_arguments_are_clear_errors():
    model, x, y = _rnn_problem()
    with pytest.raises(ValueError, match="unknown mode"):
        check_gradients(model, x, y, mode="everything")
    with pytest.raises(ValueError, match="no parameter 'W'"):
        check_gradients(model, x, y, parameters=["W"])
    with pytest.raises(ValueError, match="step"):
        check_gradients(model, x, y, step=0.0)


def test_result_to_dict_has_rows_and_metadata():
    model, x, y = _rnn_problem()
    result = check_gradients(model, x, y, mode="sampled", samples=3)
    data = result.to_dict()
    assert data["mode"] == "sampled" and data["seed"] == 0
    assert data["thresholds"]["ok"] == 1e-8
    assert [row["name"] for row in data["rows"]] == RNN_ROWS
    assert data["rows"][5]["group"] == "input" and data["loss_scale"] > data["loss"] > 0
    assert data["tensors"]["Wh"]["status"][0] in {s.value for s in Status}


def test_each_perturbation_changes_one_element_and_is_undone_before_the_next():
    model, x, y = _rnn_problem()
    original = {name: model.params[name].copy() for name in model.params}
    seen = []
    loss = model.loss

    def watching_loss(*args, **kwargs):
        changed = {n: int((model.params[n] != original[n]).sum()) for n in original}
        seen.append({n: count for n, count in changed.items() if count})
        return loss(*args, **kwargs)

    model.loss = watching_loss
    check_gradients(model, x, y, mode="full", engine="naive", with_inputs=False)
    assert seen[0] == {}  # the base loss
    # every other call sees one perturbed element, or (the differentiability probe: three
    # directions, six losses each) the whole of one tensor moved
    single = [changes for changes in seen[1:] if sum(changes.values()) == 1]
    probes = [changes for changes in seen[1:] if sum(changes.values()) > 1]
    # six losses per element (+-h, +-2h, +-4h); this smooth model needs no smaller step
    assert len(single) == 6 * model.params.size
    assert all(len(changes) == 1 for changes in probes)
    assert len(probes) == 18 * len(model.params)


def test_sampling_covers_elements_outside_the_gate_slices():
    from rnnscope.engine.models.rnn import RNN
    from rnnscope.engine.params import GateSlice, Params

    class HalfSliced(RNN):
        def init_params(self, rng):
            params = super().init_params(rng)
            return Params(dict(params.items()), {"Wh": {"first": GateSlice(1, 0, 2)}})

    rng = np.random.default_rng(0)
    model = HalfSliced(ModelConfig("rnn", 3, 5, 3))
    x = rng.standard_normal((4, 2, 3))
    y = rng.integers(0, 3, (4, 2))
    result = check_gradients(model, x, y, mode="sampled", samples=3)
    check = result.tensors["Wh"]
    assert list(check.gates) == ["first"] * 3 + [None] * 3
    columns = np.unravel_index(check.indices, (5, 5))[1]
    assert set(columns[:3]) <= {0, 1} and set(columns[3:]) <= {2, 3, 4}
    assert [sub.name for sub in result.row("Wh").sub_rows] == ["Wh[first]"]
    assert result.row("Wh").checked == 6


def test_too_small_follows_the_analytic_value_when_both_agree_within_the_allowance():
    t = Thresholds()
    analytic = np.array([0.999e-6, 0.999e-6])
    numeric = np.array([1.0001e-6, 5e-6])  # the first agrees within the allowance, the second does not
    sides = smooth_sides(numeric)
    _, codes = classify(analytic, numeric, sides, floor=1e-6, thresholds=t, allowance=1e-8)
    assert codes[0] == Status.TOO_SMALL.code
    assert codes[1] == Status.FAIL.code


def test_an_element_below_its_own_allowance_is_too_small_whatever_the_floor():
    t = Thresholds()
    analytic = np.array([3e-9, 3e-9])
    numeric = np.array([2e-9, 3e-9])
    _, codes = classify(analytic, numeric, smooth_sides(numeric), floor=0.0, thresholds=t, allowance=5e-9)
    assert list(codes) == [Status.TOO_SMALL.code] * 2


def test_a_backward_pass_returning_zeros_fails_instead_of_being_too_small():
    from rnnscope.engine.models.rnn import RNN

    class ZeroRecurrent(RNN):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(
                dfeatures, core, inputs, need_inputs=need_inputs
            )
            grads["Wh"] = np.zeros_like(grads["Wh"])
            return grads, dinputs, dstate, dhidden

    model, x, y = _rnn_problem()
    result = check_gradients(ZeroRecurrent(model.config, model.params.copy()), x, y, mode="sampled")
    assert result.row("Wh").status is Status.FAIL
    assert {row.status for row in result.rows if row.name != "Wh"} <= {Status.OK, Status.TOO_SMALL}


# ----------------------------------------------------------------------------- options and plan
def test_options_are_validated_when_made():
    from rnnscope.engine.gradcheck import CheckOptions

    with pytest.raises(ValueError, match="unknown engine"):
        CheckOptions(engine="quick")
    with pytest.raises(ValueError, match="samples must be a positive integer"):
        CheckOptions(samples=0)
    with pytest.raises(ValueError, match="directions must be a positive integer"):
        CheckOptions(directions=1.5)
    assert CheckOptions(parameters=["Wh", "Wx", "Wh"]).parameters == ("Wh", "Wx")
    assert CheckOptions(thresholds=None).thresholds == Thresholds()


def test_options_and_keywords_give_the_same_check():
    from rnnscope.engine.gradcheck import CheckOptions

    model, x, y = _rnn_problem()
    options = CheckOptions(mode="sampled", samples=3, seed=5, thresholds=Thresholds(fail=1e-3))
    by_options = check_gradients(model, x, y, options=options)
    by_keywords = check_gradients(
        model, x, y, mode="sampled", samples=3, seed=5, thresholds=Thresholds(fail=1e-3)
    )
    # keywords on top of options replace those fields
    mixed = check_gradients(
        model, x, y, options=CheckOptions(samples=3, seed=1), seed=5, thresholds=Thresholds(fail=1e-3)
    )
    for other in (by_keywords, mixed):
        assert other.metadata()["thresholds"] == by_options.metadata()["thresholds"]
        for name, check in by_options.tensors.items():
            assert np.array_equal(check.indices, other.tensors[name].indices)
            assert np.array_equal(check.numeric, other.tensors[name].numeric)
    with pytest.raises(TypeError):
        check_gradients(model, x, y, sampels=3)


def test_a_subset_of_tensors_samples_the_same_elements():
    model, x, y = _rnn_problem(T=6, D=6, H=8)
    every = check_gradients(model, x, y, mode="sampled", samples=4, seed=2)
    some = check_gradients(model, x, y, mode="sampled", samples=4, seed=2, parameters=["Wh", "by"])
    assert [row.name for row in some.rows] == ["Wh", "by"]
    for name in ("Wh", "by"):
        assert np.array_equal(every.tensors[name].indices, some.tensors[name].indices)


def test_check_function_defaults_to_every_element():
    x = np.array([0.4, -1.2, 2.0, 0.1])
    row, check = check_function(lambda: float((x**3).sum()), x, 3 * x**2)
    assert row.checked == row.total == 4 and row.status is Status.OK
    row, check = check_function(lambda: float((x**3).sum()), x, 3 * x**2, mode="sampled", samples=2)
    assert row.checked == 2


def test_a_check_cancelled_before_it_starts_has_no_rows():
    from rnnscope.engine.gradcheck import CheckOptions, unstarted_result

    model, _, _ = _rnn_problem()
    partial = unstarted_result(model.config, CheckOptions(mode="full", seed=4))
    assert partial.cancelled and partial.rows == [] and partial.evaluations == 0
    assert partial.mode == "full" and partial.seed == 4 and np.isnan(partial.loss)
    assert partial.engine == "none" and partial.duration_s == 0.0


# ----------------------------------------------------------------------------- per-slice scale
def test_a_small_slice_is_judged_on_its_own_scale_not_its_siblings():
    from rnnscope.engine.gradcheck.differences import Differences
    from rnnscope.engine.gradcheck.judge import judge
    from rnnscope.engine.gradcheck.plan import TensorPlan
    from rnnscope.engine.gradcheck.relerr import Extrapolated

    values = np.array([1.0, 0.5, 2e-7, 1e-7])
    plan = TensorPlan(np.arange(4), ("big", "big", "small", "small"), scales={"big": 1.0, "small": 2e-7})
    tiny = np.full(4, 1e-16)
    numeric = Extrapolated(values.copy(), values.copy(), tiny, np.zeros(4))
    differences = Differences(values, numeric, smooth_sides(values), np.full(4, 1e-3), np.zeros(4, bool))
    check = judge("W", values, plan, differences, Thresholds())
    # a floor of 1e-4 x the tensor's largest (1e-4) would have called the small slice too small
    assert check.statuses == [Status.OK] * 4
    assert list(check.floor) == [1e-4, 1e-4, 2e-11, 2e-11]
    wrong = Differences(
        values * np.array([1, 1, 1.01, 1]), numeric, smooth_sides(values), np.full(4, 1e-3), np.zeros(4, bool)
    )
    assert judge("W", values, plan, wrong, Thresholds()).statuses[2] is Status.FAIL


def test_a_negligible_row_says_so_with_its_numbers_and_a_step_that_would_judge_it():
    from rnnscope.engine.gradcheck import negligible_rows, suggested_step
    from rnnscope.engine.gradcheck.negligible import notes_for

    x = np.array([0.2, -0.4])

    def loss():
        return 1.0 + 6e-13 * float(x.sum())

    # the loss is 1: each evaluation is rounded to about 2e-16, and a gradient of 6e-13 is below
    # the allowance of a step of 1e-3 (~7e-13)
    row, _ = check_function(loss, x, np.full(2, 6e-13))
    assert row.status is Status.TOO_SMALL and negligible_rows([row]) == [row]
    assert 6e-13 < row.allowance_min < 1e-12
    # 10 times above the allowance (a 10 % resolution) wants a step of 0.011: 0.02
    step = suggested_step([row], 1e-3)
    assert step == 0.02
    notes = notes_for([row], 1e-3)
    assert notes[0].startswith("x: negligible for this loss: its largest |gradient| 6.00e-13")
    assert "with step 0.02 instead of 0.001" in notes[1]
    row, _ = check_function(loss, x, np.full(2, 6e-13), step=step)
    assert row.status is Status.OK
    # a gradient that is exactly zero says so, and no step helps it
    row, _ = check_function(lambda: 1.0, x, np.zeros(2))
    assert notes_for([row], 1e-3) == [
        "x: its gradient is exactly 0 on this batch (it does not reach the loss here)"
    ]


def test_the_extrapolation_and_its_error_bar_on_a_known_function():
    # f = exp(x): D(h) = f'(1 + h^2 / 6 + ...); R12 removes the h^2 term, |R12 - R24| / 15 bounds the rest
    x = np.array([0.0, 1.0, -2.0])
    for step in (1e-3, 3e-2):
        _, check = check_function(lambda: float(np.exp(x).sum()), x, np.exp(x), step=step)
        true = np.exp(x)
        assert np.all(np.abs(check.numeric - true) <= check.allowance())
        assert np.all(np.abs(check.central - true) > np.abs(check.numeric - true))
    assert check.statuses == [Status.OK] * 3


def test_a_feature_on_the_scale_of_the_step_gets_a_smaller_step():
    # sqrt(x^2 + 1e-6) at 0 curves on a scale of 1e-3, the first step: the differences do not
    # behave as c h^2 there, and the check refines the step until they do
    x = np.array([1e-4, 2e-4, 0.5])

    def f():
        return float(np.sqrt(x * x + 1e-6).sum())

    _, check = check_function(f, x, x / np.sqrt(x * x + 1e-6))
    assert check.statuses == [Status.OK] * 3
    assert check.step[0] < 1e-4 and check.step[2] == 1e-3
    _, check = check_function(f, x, x / np.sqrt(x * x + 1e-6) * (1 + 1e-6))
    assert check.statuses == [Status.FAIL] * 3
