"""Gradient flow through time (NumPy only): where the gradient goes, vanishes or explodes.

* :mod:`.probes`: ``grad/hidden`` ``dLoss/dh_t`` and ``grad/cell`` ``dLoss/dc_t`` ``(T, B, H)``,
  added to a trace (:func:`trace_with_gradient_flow`);
* :mod:`.horizon`: an LSTM's memory horizon, the running product of forget gates;
* :mod:`.jacobian`: ``||dh_t / dh_s||`` for a target step over the earlier ones;
* :mod:`.saliency`: ``|dLoss_t / dx_s|`` as an ``(s, t)`` map.

Everything is computed through the model's own forward and backward passes.
"""

from rnnscope.engine.gradflow.horizon import forget_gate_probes, memory_horizon
from rnnscope.engine.gradflow.jacobian import (
    MAX_EXACT_HIDDEN,
    GradFlowUnavailable,
    JacobianNorms,
    jacobian_norms,
    jacobians,
)
from rnnscope.engine.gradflow.probes import add_gradient_probes, cell_gradients, trace_with_gradient_flow
from rnnscope.engine.gradflow.saliency import input_saliency

__all__ = [
    "MAX_EXACT_HIDDEN",
    "GradFlowUnavailable",
    "JacobianNorms",
    "add_gradient_probes",
    "cell_gradients",
    "forget_gate_probes",
    "input_saliency",
    "jacobian_norms",
    "jacobians",
    "memory_horizon",
    "trace_with_gradient_flow",
]
