"""Before the training panel starts: will one iteration fit in this machine's memory?"""

from __future__ import annotations

from rnnscope.app.panels.training.settings import TrainingSettings
from rnnscope.engine import budget
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.tasks.base import Task
from rnnscope.engine.training.optimizers import OPTIMIZERS


def training_refusal(
    model: RecurrentModel, task: Task, settings: TrainingSettings, available: int | None = None
) -> str | None:
    """Why training ``model`` on ``task`` with ``settings`` cannot start (one iteration at
    ``B x T`` needs more memory than ``available``, this machine's now by default), else ``None``."""
    steps = task.max_steps(settings.length if task.default_length is not None else None)
    optimizer = OPTIMIZERS.get(settings.optimiser)
    slots = len(optimizer.SLOTS) if optimizer is not None else 2
    try:
        cost = budget.training_cost(model.config, steps, settings.batch_size, slots, type(model))
    except ValueError:  # a user's model that does not state its shapes: no estimate
        return None
    verdict = budget.judge(cost, available)
    if not verdict.refused:
        return None
    return f"{verdict.message}; use a smaller batch B or length T"
