"""Numerical gradient checking of engine models, per parameter and per gate slice.

``check_gradients(model, inputs, targets, ...) -> GradcheckResult``; see
:mod:`rnnscope.engine.gradcheck.checker` for how a check runs,
:mod:`rnnscope.engine.gradcheck.options` for the modes and
:mod:`rnnscope.engine.gradcheck.relerr` for the relative error and statuses.
"""

from rnnscope.engine.gradcheck.checker import check_function, check_gradients, check_tensor, unstarted_result
from rnnscope.engine.gradcheck.negligible import negligible_rows, suggested_step
from rnnscope.engine.gradcheck.options import ENGINES, MODES, CheckOptions
from rnnscope.engine.gradcheck.relerr import (
    Sides,
    classify,
    extrapolate,
    noise_level,
    relative_error,
    slice_floor,
)
from rnnscope.engine.gradcheck.result import (
    GradcheckCancelled,
    GradcheckResult,
    GradRow,
    PrecisionError,
    TensorCheck,
)
from rnnscope.engine.gradcheck.rows import build_row
from rnnscope.engine.gradcheck.status import STATUS_BY_CODE, Status, Thresholds, summarise_statuses
from rnnscope.engine.gradcheck.tensor_check import GROUPS, group_of

__all__ = [
    "ENGINES",
    "GROUPS",
    "MODES",
    "STATUS_BY_CODE",
    "CheckOptions",
    "GradRow",
    "GradcheckCancelled",
    "GradcheckResult",
    "PrecisionError",
    "Sides",
    "Status",
    "TensorCheck",
    "Thresholds",
    "build_row",
    "check_function",
    "check_gradients",
    "check_tensor",
    "classify",
    "extrapolate",
    "group_of",
    "negligible_rows",
    "noise_level",
    "relative_error",
    "slice_floor",
    "suggested_step",
    "summarise_statuses",
    "unstarted_result",
]
