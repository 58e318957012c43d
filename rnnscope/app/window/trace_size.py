"""Before a trace starts: typed text within its limit, and the trace's memory estimated.

Every size control has the command line's bounds (:mod:`rnnscope.engine.limits`), but
their product does not: a DNC of N = 1,024 slots traced over 100,000 steps would need
petabytes. :func:`trace_refusal` says why a trace is not started -- typed text beyond
:data:`~rnnscope.engine.limits.TEXT` (never cut to fit), or an estimate
(:func:`rnnscope.engine.budget.trace_cost`) above the memory this machine has -- and
asks first (:func:`ask_heavy_trace`) when the estimate is above half of it or the trace
would take long. The window says the refusal over the panels and keeps the model shown.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtWidgets import QMessageBox, QWidget

from rnnscope.app.session import TASK_LENGTHS, TEXT_TASKS, OwnClass, SessionSpec, build_task_for, config_for
from rnnscope.engine import budget, limits
from rnnscope.engine.models.config import CUSTOM_KIND
from rnnscope.engine.tasks import Task

ASK_SECONDS = 30.0  # a trace expected to take longer than this is asked about
TEXT_FIELD_LENGTH = limits.TEXT.high + 1  # the field's own cut: one past the limit, so "too long" is seen


def text_refusal(spec: SessionSpec) -> str | None:
    """Typed text longer than :data:`limits.TEXT` (it is refused whole, never cut), else ``None``."""
    if spec.text and spec.task in TEXT_TASKS and len(spec.text) > limits.TEXT.high:
        return (
            f"the typed text is longer than {limits.TEXT.high:,} characters, the limit of typed text; "
            "nothing was traced (shorten it, or use File > Text file for a long text)"
        )
    return None


def trace_estimate(spec: SessionSpec, task: Task, own: OwnClass | None = None) -> budget.Estimate:
    """What tracing ``spec``'s model on one sequence of ``task`` takes (the longest the task draws)."""
    if spec.text and spec.task in TEXT_TASKS:
        steps = len(spec.text)
    else:
        steps = task.max_steps(spec.length if TASK_LENGTHS.get(spec.task, 1) is not None else None)
    config = config_for(spec, task, own)
    model_class = own.model_class if own is not None and spec.model == CUSTOM_KIND else None
    return budget.trace_cost(config, max(steps, 1), 1, model_class)


def trace_refusal(
    spec: SessionSpec,
    task_now: Task | None,
    own: OwnClass | None,
    ask: Callable[[str], bool],
    available: int | None = None,
) -> str | None:
    """Why ``spec`` is not traced (``None``: trace it). A heavy trace is put to ``ask(question)``
    first (False: not traced); ``task_now`` (the task shown) is reused when ``spec`` names it;
    ``available``: the bytes of memory to judge against (default: this machine's now)."""
    refused = text_refusal(spec)
    if refused is not None:
        return refused
    try:
        task = task_now if task_now is not None and task_now.name == spec.task else build_task_for(spec)
        estimate = trace_estimate(spec, task, own)
    except (OSError, ValueError):  # a task or options that cannot be made: the trace itself says why
        return None
    verdict = budget.judge(estimate, available)
    if verdict.refused:
        return f"{verdict.message}; pick a shorter sequence or a smaller model"
    slow = estimate.seconds is not None and estimate.seconds > ASK_SECONDS
    if verdict.level == "warn" or slow:
        if not ask(f"{verdict.message}. Trace it anyway?"):
            return f"not traced: {estimate.describe()}"
    return None


def ask_heavy_trace(parent: QWidget, question: str) -> bool:
    """The modal question of a heavy trace: Yes traces it."""
    buttons = QMessageBox.StandardButton
    answer = QMessageBox.question(parent, "A heavy trace", question, buttons.Yes | buttons.No, buttons.No)
    return answer == buttons.Yes
