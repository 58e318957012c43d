"""``--model-file`` in ``rnnscope gradcheck`` and ``rnnscope train``: a user's own model, fresh or saved.

The model the options choose is a built-in kind or the class ``--model-file`` names,
built for the task; a checkpoint of a user's model opens with the class of
``--model-file`` or of the file it records (warnings when the file changed since).
A user's model is run once against the protocol (:func:`check_users_model`) before the
command relies on it, so a wrong shape is named before a long check or run starts.
"""

from __future__ import annotations

import os
import sys

from rnnscope.commands.argtypes import UsageError
from rnnscope.engine.checkpoint import CheckpointError
from rnnscope.engine.checkpoint.model_file import source_of
from rnnscope.engine.models import build_model
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import CUSTOM_KIND, ModelConfig
from rnnscope.engine.protocol import (
    ModelFile,
    OpenedCheckpoint,
    check_model,
    load_model_file,
    open_model_checkpoint,
    user_code,
)
from rnnscope.engine.tasks import Task
from rnnscope.options import ModelChoice


def chosen_config(choice: ModelChoice, task: Task) -> tuple[ModelConfig, ModelFile | None]:
    """The config of the model the options choose for ``task``, and the model file whose class builds
    it (``None``: a built-in kind). Nothing is allocated yet."""
    if choice.model_file is None:
        return choice.config_for(task), None
    loaded = load_model_file(choice.model_file)
    return choice.config_for(task, kind=loaded.model_class.kind), loaded


def build_chosen(config: ModelConfig, loaded: ModelFile | None, task: Task) -> RecurrentModel:
    """The model of :func:`chosen_config`, built (a user's model: run once against the protocol)."""
    if loaded is None:
        return build_model(config)
    with user_code([loaded.folder]):
        model = loaded.model_class(config)
    check_users_model(model, task)
    return model


def chosen_model(choice: ModelChoice, task: Task) -> RecurrentModel:
    """A fresh model of the options for ``task``: a built-in kind, or the class of ``--model-file``."""
    config, loaded = chosen_config(choice, task)
    return build_chosen(config, loaded, task)


def is_users_model(model: RecurrentModel) -> bool:
    """A model whose class is the user's own (loaded from a file, or of kind ``"custom"``)."""
    return model.kind == CUSTOM_KIND or source_of(model) is not None


def check_users_model(model: RecurrentModel, task: Task, seed: int = 0) -> None:
    """Run a user's model once on a small batch of ``task`` against the protocol (nothing for built-ins)."""
    if not is_users_model(model):
        return
    batch = task.sample(2, seed)
    with user_code():
        check_model(model, batch.inputs, batch.targets, batch.mask)


def opened_checkpoint(path: str, model_file: str | None, command: str, failure: str) -> OpenedCheckpoint:
    """The checkpoint at ``path`` (a user's model: with the class of ``model_file`` or of the file it
    records); warnings go to stderr as ``command: warning: ...``; a :class:`UsageError` starting
    with ``failure`` names what is wrong with the file."""
    if not os.path.exists(path):
        raise UsageError(f"{failure}: checkpoint {path!r} does not exist")
    try:
        opened = open_model_checkpoint(path, model_file)
    except CheckpointError as error:
        # the error names the file; say only what is wrong with it
        raise UsageError(f"{failure} {path!r}: {error.problem}") from error
    for warning in opened.warnings:
        print(f"{command}: warning: {warning}", file=sys.stderr)
    return opened
