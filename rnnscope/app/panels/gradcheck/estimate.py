"""What the panel says before a long check starts: how many elements, and roughly how long."""

from __future__ import annotations

from rnnscope.app.gradcheck_worker import GradcheckRequest
from rnnscope.engine import budget
from rnnscope.engine.models.base import RecurrentModel

LONG_CHECK_SECONDS = 60.0  # below this the progress bar says enough


def expected_duration(model: RecurrentModel, request: GradcheckRequest) -> str:
    """``" 2,621,440 elements, about 3.1 h: Cancel stops it."`` for a check expected to take more than
    :data:`LONG_CHECK_SECONDS`, else ``""`` (an order of magnitude from :mod:`rnnscope.engine.budget`)."""
    options = request.options
    steps, batch = request.inputs.shape[:2]
    try:
        elements = budget.gradcheck_elements(
            model.config,
            options.mode,
            steps,
            batch,
            samples=options.samples,
            directions=options.directions,
            with_inputs=options.with_inputs,
            model_class=type(model),
        )
    except ValueError:  # a user's model that does not state its shapes: no estimate, no harm
        return ""
    cost = budget.gradcheck_cost(model.config, steps, batch, elements, type(model))
    if cost.seconds is None or cost.seconds < LONG_CHECK_SECONDS:
        return ""
    return f" {elements:,} elements, about {budget.format_seconds(cost.seconds)}: Cancel stops it."
