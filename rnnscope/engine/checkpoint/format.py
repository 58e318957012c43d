"""The checkpoint format: its name and version, the archive's entry names, the digest, what a load gives.

An archive holds ``meta`` and ``digest`` plus the arrays named by the prefixes
below (see :mod:`rnnscope.engine.checkpoint` for the whole layout). The digest
covers every entry but itself, so a file edited after saving is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.params import Params
from rnnscope.engine.tasks import Task, Vocabulary, build_task
from rnnscope.engine.training import Optimizer, build_optimizer

FORMAT_NAME = "rnnscope-checkpoint"
FORMAT_VERSION = 1

# Entry names of the archive.
META = "meta"  # UTF-8 JSON in a uint8 array
DIGEST = "digest"  # SHA-256 hex in a uint8 array
PARAM = "param/"  # + parameter name
OPTIMIZER = "optimizer/"  # + "<slot>/<parameter>"
TRAINER = "trainer/"  # every trainer entry starts so
TRAINER_POSITIONS = "trainer/positions"
TRAINER_STATE = "trainer/state/"  # + state name
META_BYTES = 64 * 2**20  # at most this much meta JSON (a task built from a long string carries it)


class CheckpointError(ValueError):
    """A checkpoint cannot be written or read; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = os.fspath(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def archive_digest(arrays: Mapping[str, np.ndarray]) -> str:
    """SHA-256 over ``meta`` and every other array except ``digest`` (name, dtype, shape, bytes)."""
    digest = hashlib.sha256()
    for name in sorted(arrays):
        if name == DIGEST:
            continue
        array = np.ascontiguousarray(arrays[name])
        digest.update(f"{name}\0{array.dtype.str}\0{array.shape}\0".encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


@dataclass(eq=False)
class Checkpoint:
    """What :func:`~rnnscope.engine.checkpoint.load_checkpoint` read.

    ``model`` is rebuilt from ``config`` and the saved parameters.
    ``optimizer_state`` is the flat dict of :meth:`Optimizer.state_dict`
    (hyperparameters, ``t``, arrays ``"<slot>/<parameter>"``), empty when no
    optimiser was saved. ``trainer_state`` is :meth:`Trainer.state_dict` (RNG
    state, text positions, carried state), ``None`` when no trainer was saved.
    ``task`` rebuilds the task from ``task_name`` and ``task_options`` (``None``
    when there is none or it cannot be rebuilt, e.g. a corpus file that moved).
    """

    path: str
    version: int
    config: ModelConfig
    model: RecurrentModel
    iteration: int = 0
    vocab: Vocabulary | None = None
    optimizer_name: str | None = None
    optimizer_state: dict[str, Any] = field(default_factory=dict)
    trainer_state: dict[str, Any] | None = None
    task_name: str | None = None
    task_options: dict[str, Any] = field(default_factory=dict)
    created: str = ""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def params(self) -> Params:
        return self.model.params

    @property
    def rng_state(self) -> dict[str, Any] | None:
        """The trainer's ``bit_generator.state`` when it was saved."""
        if self.trainer_state is None:
            return None
        rng: dict[str, Any] | None = self.trainer_state.get("rng")
        return rng

    @cached_property
    def task(self) -> Task | None:
        if not self.task_name:
            return None
        try:
            return build_task(self.task_name, **self.task_options)
        except Exception:  # the model is still usable without its task
            return None

    def build_optimizer(self) -> Optimizer | None:
        """The saved optimiser with its state (``None`` when none was saved)."""
        if not self.optimizer_name:
            return None
        optimizer = build_optimizer(self.optimizer_name)
        optimizer.load_state_dict(self.optimizer_state)
        return optimizer
