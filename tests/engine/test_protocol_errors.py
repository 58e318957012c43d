"""Bad user code gets a clear error: wrong shapes or dtypes returned, probes off their axes,
float32 parameters for a check, and exceptions shown as the user's own traceback."""

import re

import numpy as np
import pytest

from rnnscope.engine.gradcheck import PrecisionError, check_gradients
from rnnscope.engine.models.base import CoreOutput
from rnnscope.engine.protocol import (
    Param,
    Probe,
    ProtocolError,
    SequenceModel,
    StepModel,
    UserCodeError,
    check_model,
    user_code,
)


class TinyRNN(StepModel):
    """A correct RNN step pair; the tests below break one thing at a time."""

    PARAMS = [Param("Wx", ("D", "H")), Param("Wh", ("H", "H")), Param("b", ("H",), init="zeros")]
    PROBES = [Probe("tiny/hidden", "signed", source="h")]

    def step_forward(self, x_t, state, params):
        h = np.tanh(x_t @ params["Wx"] + state["h"] @ params["Wh"] + params["b"])
        return h, {"h": h}, {"x": x_t, "h_prev": state["h"], "h": h}

    def step_backward(self, dh_t, dstate, cache):
        da = (dh_t + dstate["h"]) * (1 - cache["h"] ** 2)
        dparams = {"Wx": cache["x"].T @ da, "Wh": cache["h_prev"].T @ da, "b": da.sum(axis=0)}
        return da @ self.params["Wx"].T, {"h": da @ self.params["Wh"].T}, dparams


def _run(cls, dtype="float64"):
    model = cls.build(input_size=3, hidden_size=4, output_size=3, seed=0, dtype=dtype)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 2, 3)).astype(dtype)
    y = rng.integers(0, 3, (5, 2))
    return model, x, y


def _error(cls):
    model, x, y = _run(cls)
    with pytest.raises(ProtocolError) as info:
        model.loss_and_gradients(x, y, record=True)
    return str(info.value)


def test_the_correct_model_runs_and_checks():
    model, x, y = _run(TinyRNN)
    check_model(model, x, y)
    assert not check_gradients(model, x, y, mode="full").failed


def test_a_wrong_hidden_shape_names_the_value_and_the_shape_expected():
    class Wide(TinyRNN):
        def step_forward(self, x_t, state, params):
            h, new_state, cache = super().step_forward(x_t, state, params)
            return np.hstack([h, h[:, :1]]), new_state, cache

    assert _error(Wide) == "step_forward's h_t (step 0) has shape (2, 5), expected (2, 4)"


def test_a_wrong_dtype_is_named():
    class Single(TinyRNN):
        def step_forward(self, x_t, state, params):
            h, new_state, cache = super().step_forward(x_t, state, params)
            return h, {"h": h.astype(np.float32)}, cache

    assert "step_forward's new_state (step 0)['h'] has dtype float32, expected float64" in _error(Single)


def test_a_state_with_other_keys_is_named():
    class Extra(TinyRNN):
        def step_forward(self, x_t, state, params):
            h, new_state, cache = super().step_forward(x_t, state, params)
            return h, {"hidden": h}, cache

    message = _error(Extra)
    assert "step_forward's new_state (step 0) lacks ['h'] and has unexpected ['hidden']" in message


def test_returning_two_values_instead_of_three_is_named():
    class Pair(TinyRNN):
        def step_forward(self, x_t, state, params):
            h, _, cache = super().step_forward(x_t, state, params)
            return h, cache

    assert (
        _error(Pair) == "step_forward must return (h_t, new_state, cache); at step 0 it returned a tuple of 2"
    )


def test_wrong_gradients_are_named():
    class Transposed(TinyRNN):
        def step_backward(self, dh_t, dstate, cache):
            dx, dstate_prev, dparams = super().step_backward(dh_t, dstate, cache)
            return dx, dstate_prev, {**dparams, "Wx": dparams["Wx"].T}

    class Unknown(TinyRNN):
        def step_backward(self, dh_t, dstate, cache):
            dx, dstate_prev, dparams = super().step_backward(dh_t, dstate, cache)
            return dx, dstate_prev, {**dparams, "Wy": dparams["Wh"]}

    class NoDx(TinyRNN):
        def step_backward(self, dh_t, dstate, cache):
            dx, dstate_prev, dparams = super().step_backward(dh_t, dstate, cache)
            return dx[:, :2], dstate_prev, dparams

    assert _error(Transposed) == "step_backward's dparams (step 4)['Wx'] has shape (4, 3), expected (3, 4)"
    assert "step_backward's dparams (step 4) has ['Wy'], which are not parameters" in _error(Unknown)
    assert _error(NoDx) == "step_backward's dx_t (step 4) has shape (2, 2), expected (2, 3)"


def test_a_probe_whose_value_does_not_match_its_axes_is_named():
    class Flat(TinyRNN):
        PROBES = [Probe("tiny/norm", "signed", axes=(), source="h")]

    class Missing(TinyRNN):
        PROBES = [Probe("tiny/forget", "gate", source="f")]

    assert _error(Flat) == (
        "probe 'tiny/norm' declares axes (), so its value 'h' must have shape (B,) with B=2 at every step; "
        "it has shape (2, 4)"
    )
    assert "probe 'tiny/forget' reads cache['f'], but the cache has ['h', 'h_prev', 'x']" in _error(Missing)


class WholeRNN(SequenceModel):
    PARAMS = TinyRNN.PARAMS

    def forward_core(self, inputs, state, trace):
        hs = [state["h"]]
        for x_t in inputs:
            hs.append(np.tanh(x_t @ self.params["Wx"] + hs[-1] @ self.params["Wh"] + self.params["b"]))
        hidden = np.stack(hs[1:])
        return CoreOutput(hidden, hidden, {"h": hs[-1]}, np.stack(hs))

    def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
        hs, dh_next = core.cache, np.zeros_like(core.cache[0])
        grads = {name: np.zeros_like(self.params[name]) for name in ("Wx", "Wh", "b")}
        dinputs, dhidden = np.empty_like(inputs), np.empty_like(dfeatures)
        for t in reversed(range(len(inputs))):
            dhidden[t] = dfeatures[t] + dh_next
            da = dhidden[t] * (1 - hs[t + 1] ** 2)
            grads["Wx"] += inputs[t].T @ da
            grads["Wh"] += hs[t].T @ da
            grads["b"] += da.sum(axis=0)
            dinputs[t], dh_next = da @ self.params["Wx"].T, da @ self.params["Wh"].T
        return grads, dinputs, {"h": dh_next}, dhidden


def _contract_error(cls):
    model, x, y = _run(cls)
    with pytest.raises(ProtocolError) as info:
        check_model(model, x, y)
    return str(info.value)


def test_the_whole_sequence_form_is_held_to_the_protocol_by_a_dry_run():
    model, x, y = _run(WholeRNN)
    check_model(model, x, y)
    assert not check_gradients(model, x, y, mode="full").failed

    class BatchMajor(WholeRNN):
        def forward_core(self, inputs, state, trace):
            core = super().forward_core(inputs, state, trace)
            return CoreOutput(core.features.swapaxes(0, 1), core.hidden, core.final_state, core.cache)

    class Forgetful(WholeRNN):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, dstate, dhidden = super().backward_core(dfeatures, core, inputs)
            del grads["b"]
            return grads, dinputs, dstate, dhidden

    class Stateless(WholeRNN):
        def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
            grads, dinputs, _, dhidden = super().backward_core(dfeatures, core, inputs)
            return grads, dinputs, {}, dhidden

    assert _contract_error(BatchMajor) == "forward_core's features has shape (2, 5, 4), expected (5, 2, 4)"
    assert "backward_core returned no gradient for ['b']" in _contract_error(Forgetful)
    assert "backward_core's initial-state gradient lacks ['h']" in _contract_error(Stateless)


def test_float32_parameters_are_refused_for_a_check():
    model, x, y = _run(TinyRNN, dtype="float32")
    check_model(model, x, y)  # float32 is a valid model ...
    with pytest.raises(PrecisionError, match="central differences in float32 are dominated by rounding"):
        check_gradients(model, x, y, upcast=False)  # ... but not one to check, unless as a float64 copy

    class HalfCast(WholeRNN):
        def init_params(self, rng):
            return super().init_params(rng).astype("float32")

    assert "parameter 'Wx' is float32, but the model computes in float64" in _contract_error(HalfCast)


def test_an_exception_in_the_users_step_shows_the_users_traceback_only():
    class Crashing(TinyRNN):
        def step_backward(self, dh_t, dstate, cache):
            if cache["x"].shape[0] == 2:
                return cache["missing"]  # a KeyError in the user's code
            return super().step_backward(dh_t, dstate, cache)

    model, x, y = _run(Crashing)
    with pytest.raises(UserCodeError) as info, user_code():
        model.loss_and_gradients(x, y)
    text = str(info.value)
    assert text.startswith("your model raised KeyError in step_backward (")
    assert "Traceback (your code only):" in text
    assert 'return cache["missing"]  # a KeyError in the user\'s code' in text
    assert "(in step_backward at step t=4)" in text
    assert "rnnscope/engine" not in text and "numpy" not in text
    assert isinstance(info.value.original, KeyError)


def test_errors_rnnscope_raises_itself_are_not_blamed_on_the_user():
    with pytest.raises(ValueError, match=re.escape("inputs must be time-major")), user_code():
        _run(TinyRNN)[0].loss(np.zeros((2, 3)), np.zeros((2, 1), dtype=int))


def test_an_exception_in_the_users_forward_shows_the_users_traceback_only():
    class StepCrash(TinyRNN):
        def step_forward(self, x_t, state, params):
            return np.tanh(x_t @ params["Wh"]), state, None  # (B, D) @ (H, H): a shape slip

    class SequenceCrash(WholeRNN):
        def forward_core(self, inputs, state, trace):
            raise RuntimeError(f"not written yet for T={len(inputs)}")

    for cls, line, where in (
        (StepCrash, 'return np.tanh(x_t @ params["Wh"]), state, None', "(in step_forward at step t=0)"),
        (SequenceCrash, 'raise RuntimeError(f"not written yet for T={len(inputs)}")', ""),
    ):
        model, x, y = _run(cls)
        with pytest.raises(UserCodeError) as info, user_code():
            check_model(model, x, y)
        text = str(info.value)
        assert line in text and where in text and "rnnscope/engine" not in text, text
        assert text.startswith(f"your model raised {type(info.value.original).__name__} in ")
