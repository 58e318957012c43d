"""What a trainer resumes from: the parts of a saved run that :meth:`Trainer.restore` reads.

:class:`rnnscope.engine.checkpoint.Checkpoint` is one. It is described here as a
Protocol because the checkpoint module itself uses the optimisers, so the
training package must not import it back.
"""

from __future__ import annotations

from typing import Any, Protocol

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig


class SavedRun(Protocol):
    """A model with its optimiser's and trainer's state at one iteration.

    ``optimizer_state`` is :meth:`Optimizer.state_dict` output (empty when none
    was saved), ``trainer_state`` :meth:`Trainer.state_dict` output (``None``
    when none was saved).
    """

    @property
    def config(self) -> ModelConfig: ...

    @property
    def model(self) -> RecurrentModel: ...

    @property
    def iteration(self) -> int: ...

    @property
    def optimizer_name(self) -> str | None: ...

    @property
    def optimizer_state(self) -> dict[str, Any]: ...

    @property
    def trainer_state(self) -> dict[str, Any] | None: ...
