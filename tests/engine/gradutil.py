"""What the engine's model tests share: numerical gradients (a plain element loop), relative
error, and the float32-against-float64 comparison."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np


def numerical_gradient(f: Callable[[], float], array: np.ndarray, step: float = 1e-5) -> np.ndarray:
    """Central differences of ``f()`` with respect to every element of ``array`` (changed in place)."""
    grad = np.zeros_like(array)
    flat = array.reshape(-1)
    out = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        flat[i] = old + step
        plus = f()
        flat[i] = old - step
        minus = f()
        flat[i] = old
        out[i] = (plus - minus) / (2 * step)
    return grad


def relative_error(analytic: np.ndarray, numeric: np.ndarray, floor: float = 1e-4) -> float:
    """Largest ``|a - n| / max(|a|, |n|, floor * max|a|, 1e-12)`` over the elements.

    The floor, relative to the tensor's largest gradient, keeps elements whose
    gradient is too small to judge from dominating the figure.
    """
    absolute_floor = max(floor * float(np.abs(analytic).max(initial=0.0)), 1e-12)
    scale = np.maximum(np.maximum(np.abs(analytic), np.abs(numeric)), absolute_floor)
    return float((np.abs(analytic - numeric) / scale).max())


def assert_float32_matches_float64(model32, x, y, state=None, tolerance=1e-5):
    """``model32`` (a float32 model) against its float64 twin with the same weights.

    Loss, every probe, the final state and every gradient (parameters, inputs, initial
    state) agree to ``tolerance`` of each array's largest element (float32 rounding gives
    about 5e-7 here), and everything ``model32`` returns is float32: a float32 path that
    computes something else, or silently in float64, fails.
    """
    from rnnscope.engine.models import ModelConfig, build_model, trace_with_gradients

    config = ModelConfig.from_dict(dict(model32.config.to_dict(), dtype="float64"))
    model64 = build_model(config, model32.params)
    trace32, result32, grads32 = trace_with_gradients(model32, x, y, state=state)
    trace64, result64, grads64 = trace_with_gradients(model64, x, y, state=state)

    def check(a32, a64, what):
        if not np.issubdtype(a64.dtype, np.floating):
            assert np.array_equal(a32, a64), what
            return
        assert a32.dtype == np.float32, f"{what} is {a32.dtype}"
        scale = max(float(np.abs(a64).max(initial=0.0)), 1e-30)
        difference = float(np.abs(a32.astype(np.float64) - a64).max(initial=0.0)) / scale
        assert difference < tolerance, f"{what}: float32 is {difference:.1e} off float64"

    check(np.float32([result32.loss]), np.float64([result64.loss]), "loss")
    assert list(trace32.probes) == list(trace64.probes)
    for probe in trace32:
        check(probe.data, trace64[probe.name].data, probe.name)
    for key, value in result32.final_state.items():
        check(value, result64.final_state[key], f"final state {key}")
    for key, value in grads32.params.items():
        check(value, grads64.params[key], f"gradient of {key}")
    check(grads32.inputs, grads64.inputs, "input gradient")
    for key, value in grads32.initial_state.items():
        check(value, grads64.initial_state[key], f"initial-state gradient {key}")


def fine_gradient(f: Callable[[], float], array: np.ndarray, step: float = 1e-4) -> np.ndarray:
    """Fourth-order central differences of ``f()`` for every element of ``array`` (changed in place).

    ``(8 (f(x+h) - f(x-h)) - (f(x+2h) - f(x-2h))) / 12h``: truncation error ``O(h^4)``, so a
    step large enough to keep rounding noise far below small gradients (the bottom layers of a
    stack) still gives the derivative to ~1e-10.
    """
    grad = np.zeros_like(array)
    flat = array.reshape(-1)
    out = grad.reshape(-1)
    for i in range(flat.size):
        old = flat[i]
        values = []
        for offset in (step, -step, 2 * step, -2 * step):
            flat[i] = old + offset
            values.append(f())
        flat[i] = old
        out[i] = (8 * (values[0] - values[1]) - (values[2] - values[3])) / (12 * step)
    return grad
