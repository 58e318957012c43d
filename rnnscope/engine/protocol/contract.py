"""One dry run of a model against the protocol, before anything relies on what it returns.

:func:`check_model` runs the core forward and backward once and checks every value
the model's own code hands back -- parameters, the core's output, the final state,
every gradient -- for its shape and dtype, naming the value and the shape expected.
A step-pair model checks its steps itself as it runs
(:mod:`~rnnscope.engine.protocol.step`); this covers the whole-sequence form and any
other :class:`~rnnscope.engine.models.base.RecurrentModel`. :func:`user_code` turns an
exception raised in the user's code into a
:class:`~rnnscope.engine.protocol.errors.UserCodeError` carrying the user's frames only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np

from rnnscope.engine.models.base import CoreOutput, RecurrentModel, State
from rnnscope.engine.protocol.declarations import READOUT
from rnnscope.engine.protocol.errors import ProtocolError, UserCodeError, user_code_error
from rnnscope.engine.protocol.values import checked_array, checked_arrays
from rnnscope.engine.trace import Trace


@contextmanager
def user_code(folders: Iterable[str] = ()) -> Iterator[None]:
    """Run the block; an exception raised in the user's code leaves it as a :class:`UserCodeError`.

    ``folders``: where the user's files are (default: any file that is not rnnscope's,
    NumPy's or the standard library's). Other exceptions pass unchanged.
    """
    try:
        yield
    except UserCodeError:
        raise
    except Exception as error:
        user = user_code_error(error, list(folders))
        if user is None:
            raise
        raise user from None


def check_model(
    model: RecurrentModel,
    inputs: np.ndarray,
    targets: np.ndarray,
    mask: np.ndarray | None = None,
    state: State | None = None,
) -> None:
    """Run ``model`` forward and backward once on ``inputs`` ``(T, B, D)``; a
    :class:`ProtocolError` names the first value of the wrong type, shape or dtype."""
    _check_params(model)
    inputs = model.check_inputs(inputs)
    steps, batch, width = inputs.shape
    start = model.initial_state(batch) if state is None else model.check_state(state, batch)
    zero = model.initial_state(batch)
    core = model.forward_core(inputs, start, Trace(model_kind=model.kind))
    features = int(model.params["Wy"].shape[0])
    _check_core(core, (steps, batch, features), zero, model.dtype)
    result = model.forward(inputs, targets, mask, state, record=False)
    dfeatures = np.ones_like(result.core.features)
    grads, dinputs, dstate, dhidden = _four(
        model.backward_core(dfeatures, result.core, result.inputs, need_inputs=True)
    )
    core_params = {name: model.params[name] for name in model.params if name not in READOUT}
    _check_param_gradients(grads, core_params, model.dtype)
    if dinputs is not None:
        checked_array(dinputs, "backward_core's dinputs", (steps, batch, width), model.dtype)
    shapes = {name: value.shape for name, value in zero.items()}
    checked_arrays(dstate, "backward_core's initial-state gradient", shapes, model.dtype)
    checked_array(dhidden, "backward_core's dhidden", result.core.hidden.shape, model.dtype)


def _check_params(model: RecurrentModel) -> None:
    for name, array in model.params.items():
        if not isinstance(array, np.ndarray) or array.dtype != model.dtype:
            dtype = getattr(array, "dtype", type(array).__name__)
            raise ProtocolError(
                f"parameter {name!r} is {dtype}, but the model computes in {model.dtype} "
                f"(config.dtype); make every parameter {model.dtype}"
            )


def _check_core(core: object, features: tuple[int, int, int], zero: State, dtype: np.dtype) -> None:
    """``forward_core``'s result: features ``(T, B, F)``, hidden ``(T, B, ...)``, the state's shapes."""
    if not isinstance(core, CoreOutput):
        raise ProtocolError(f"forward_core must return a CoreOutput, got {type(core).__name__}")
    checked_array(core.features, "forward_core's features", features, dtype)
    hidden = core.hidden
    if not isinstance(hidden, np.ndarray) or hidden.ndim < 3 or hidden.shape[:2] != features[:2]:
        shape = getattr(hidden, "shape", type(hidden).__name__)
        raise ProtocolError(
            f"forward_core's hidden has shape {shape}, expected (T, B, H) with (T, B) = {features[:2]}"
        )
    checked_array(hidden, "forward_core's hidden", hidden.shape, dtype)
    shapes = {name: value.shape for name, value in zero.items()}
    checked_arrays(core.final_state, "forward_core's final_state", shapes, dtype)


def _four(result: object) -> tuple[object, object, object, object]:
    if not isinstance(result, tuple) or len(result) != 4:
        raise ProtocolError(
            "backward_core must return (param_grads, dinputs or None, dinitial_state, dhidden), "
            f"got {type(result).__name__}"
        )
    return result[0], result[1], result[2], result[3]


def _check_param_gradients(grads: object, params: Mapping[str, np.ndarray], dtype: np.dtype) -> None:
    """A gradient for every parameter but the read-out, each of its parameter's shape and the dtype."""
    if not isinstance(grads, Mapping):
        raise ProtocolError(f"backward_core's param_grads must be a dict, got {type(grads).__name__}")
    missing = [name for name in params if name not in grads]
    if missing:
        raise ProtocolError(
            f"backward_core returned no gradient for {missing} (every parameter but Wy, by needs one)"
        )
    unknown = sorted(set(grads) - set(params) - set(READOUT))
    if unknown:
        raise ProtocolError(f"backward_core returned gradients for {unknown}, which are not its parameters")
    for name, array in params.items():
        checked_array(grads[name], f"backward_core's gradient of {name!r}", array.shape, dtype)
