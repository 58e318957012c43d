"""Numerical gradient checking of engine models, per parameter and per gate slice.

``check_gradients(model, inputs, targets, ...) -> GradcheckResult``; see
:mod:`rnnscope.engine.gradcheck.checker` for the modes and
:mod:`rnnscope.engine.gradcheck.relerr` for the relative error and statuses.
"""

from rnnscope.engine.gradcheck.checker import MODES, build_row, check_function, check_gradients
from rnnscope.engine.gradcheck.relerr import classify, noise_level, relative_error, tensor_floor
from rnnscope.engine.gradcheck.result import (
    STATUS_BY_CODE,
    GradcheckCancelled,
    GradcheckResult,
    GradRow,
    PrecisionError,
    Status,
    TensorCheck,
    Thresholds,
    summarise_statuses,
)

__all__ = [
    "MODES",
    "STATUS_BY_CODE",
    "GradRow",
    "GradcheckCancelled",
    "GradcheckResult",
    "PrecisionError",
    "Status",
    "TensorCheck",
    "Thresholds",
    "build_row",
    "check_function",
    "check_gradients",
    "classify",
    "noise_level",
    "relative_error",
    "summarise_statuses",
    "tensor_floor",
]
