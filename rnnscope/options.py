"""The model options every entry point shares: ``rnnscope``, ``rnnscope gradcheck``, ``rnnscope train``.

One set of flags, one set of defaults (:class:`~rnnscope.engine.models.config.ModelConfig`'s
and :data:`~rnnscope.engine.models.config.DEFAULT_HIDDEN_SIZE`) and one set of bounds
(:mod:`rnnscope.engine.limits`), so a model reachable from one command is reachable from
every other with the same meaning. Every option defaults to "not given" (``None``): a
command that resumes a checkpoint can tell an option the user typed from a default.

Sizes are checked while parsing: a bad value is argparse's usage error (exit status 2)
naming the option and its bounds, before anything is allocated. Combinations that no
single option can judge (a DNC size given for an LSTM, a loss that does not fit the
task's targets) are :class:`OptionError`\\ s from :meth:`ModelChoice.config_for`.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from dataclasses import dataclass, fields, replace
from typing import Any

from rnnscope.engine import limits
from rnnscope.engine.heads import LOSSES
from rnnscope.engine.models.config import (
    CUSTOM_KIND,
    DEFAULT_HIDDEN_SIZE,
    DTYPES,
    FORGET_BIAS_BOUND,
    MODEL_KINDS,
    STACKED_KINDS,
    ModelConfig,
)
from rnnscope.engine.tasks.base import Task

# the GRU's two conventions by the name users know them by (ModelConfig.reset_after)
GRU_CONVENTIONS = {"cho": False, "pytorch": True}
DEFAULT_KIND = "lstm"
_DEFAULT = ModelConfig(DEFAULT_KIND, 1, DEFAULT_HIDDEN_SIZE, 1)  # the defaults of every other field


# each option's ModelConfig field
CONFIG_FIELDS = {
    "model": "kind",
    "hidden": "hidden_size",
    "seed": "seed",
    "loss": "loss",
    "many_to_one": "many_to_one",
    "forget_bias": "forget_bias",
    "gru_convention": "reset_after",
    "dtype": "dtype",
    "slots": "memory_slots",
    "width": "memory_width",
    "read_heads": "read_heads",
    "layers": "num_layers",
    "embedding": "embedding_size",
}


class OptionError(ValueError):
    """Model options that do not go together, or do not fit the task; the message names the option."""


def size_type(limit: limits.SizeLimit) -> Callable[[str], int]:
    """An argparse ``type`` that parses a size and checks it against ``limit``."""

    def parse(text: str) -> int:
        try:
            return limit.parse(text)
        except limits.SizeError as error:
            raise argparse.ArgumentTypeError(str(error)) from None

    parse.__name__ = limit.name  # argparse names the type in some messages
    return parse


def _forget_bias(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not math.isfinite(value) or abs(value) > FORGET_BIAS_BOUND:
        raise argparse.ArgumentTypeError(f"must be a number within +-{FORGET_BIAS_BOUND:g}, got {text}")
    return value


def add_model_arguments(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, model_file: bool = False
) -> None:
    """Add the shared model options to ``parser`` (or an argument group of it); with
    ``model_file``, ``--model-file`` too (for the entry points that can load one)."""
    add = parser.add_argument
    add("--model", choices=MODEL_KINDS, help=f"model kind (default: {DEFAULT_KIND})")
    if model_file:
        add(
            "--model-file",
            metavar="PATH[:CLASS]",
            help="a model of your own: the .py file and class that define it, e.g. my_rnn.py:MyLSTM "
            "(see docs/own-model.md); instead of --model",
        )
    add("--hidden", type=size_type(limits.HIDDEN), help=f"hidden units H (default: {DEFAULT_HIDDEN_SIZE})")
    add("--seed", type=size_type(limits.SEED), help="seeds the weights and the data (default: 0)")
    add("--loss", choices=LOSSES, help="loss head (default: the task's)")
    add(
        "--many-to-one",
        action=argparse.BooleanOptionalAction,
        help="score only the last step (default: the task's)",
    )
    add(
        "--forget-bias",
        type=_forget_bias,
        help=f"LSTM and DNC controller: initial forget-gate bias (default: {_DEFAULT.forget_bias:g})",
    )
    add(
        "--gru-convention",
        choices=tuple(GRU_CONVENTIONS),
        help="GRU: cho (reset before the recurrent matmul) or pytorch (after it, with bh) (default: cho)",
    )
    add("--dtype", choices=DTYPES, help=f"parameter and state precision (default: {_DEFAULT.dtype})")
    add(
        "--slots",
        type=size_type(limits.SLOTS),
        help=f"DNC: memory slots N (default: {_DEFAULT.memory_slots})",
    )
    add(
        "--width",
        type=size_type(limits.WIDTH),
        help=f"DNC: memory width W (default: {_DEFAULT.memory_width})",
    )
    add(
        "--read-heads",
        type=size_type(limits.READ_HEADS),
        help=f"DNC: read heads R (default: {_DEFAULT.read_heads})",
    )
    add(
        "--layers",
        type=size_type(limits.LAYERS),
        help=f"RNN, LSTM, GRU: stacked recurrent layers L (default: {_DEFAULT.num_layers})",
    )
    add(
        "--embedding",
        type=size_type(limits.EMBEDDING),
        help="width of an embedding table in front of the first layer (default: 0, none)",
    )


@dataclass(frozen=True)
class ModelChoice:
    """The model options a user gave; ``None`` means not given (the shared default applies)."""

    model: str | None = None
    model_file: str | None = None  # "path.py[:Class]", a model class of the user's own
    hidden: int | None = None
    seed: int | None = None
    loss: str | None = None
    many_to_one: bool | None = None
    forget_bias: float | None = None
    gru_convention: str | None = None
    dtype: str | None = None
    slots: int | None = None
    width: int | None = None
    read_heads: int | None = None
    layers: int | None = None
    embedding: int | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ModelChoice:
        """The choice parsed by a parser that has :func:`add_model_arguments`."""
        return cls(**{field.name: getattr(args, field.name, None) for field in fields(cls)})

    @property
    def kind(self) -> str:
        """The kind chosen: ``--model``, ``"custom"`` for ``--model-file``, else the default."""
        return self.model or (CUSTOM_KIND if self.model_file else DEFAULT_KIND)

    def given(self) -> dict[str, Any]:
        """Every option given, by its flag (``{"--hidden": 32}``)."""
        return {
            "--" + field.name.replace("_", "-"): getattr(self, field.name)
            for field in fields(self)
            if getattr(self, field.name) is not None
        }

    def config_fields(self) -> dict[str, Any]:
        """The :class:`ModelConfig` fields these options set (only those given)."""
        values = {}
        for option, field_name in CONFIG_FIELDS.items():
            value = getattr(self, option)
            if value is not None:
                values[field_name] = GRU_CONVENTIONS[value] if option == "gru_convention" else value
        return values

    def check_kind(self) -> None:
        """:class:`OptionError` for an option that the chosen kind does not have."""
        kind = self.kind
        if self.model is not None and self.model_file is not None:
            raise OptionError("give --model or --model-file, not both")
        if kind == CUSTOM_KIND:
            return  # a model of the user's own reads any config field it wants
        dnc_only = [flag for flag in ("--slots", "--width", "--read-heads") if flag in self.given()]
        if dnc_only and kind != "dnc":
            raise OptionError(f"{'/'.join(dnc_only)} apply to --model dnc only, not {kind}")
        if self.gru_convention is not None and kind != "gru":
            raise OptionError(f"--gru-convention applies to --model gru only, not {kind}")
        if self.layers is not None and self.layers > 1 and kind not in STACKED_KINDS:
            raise OptionError(f"--layers applies to --model {'/'.join(STACKED_KINDS)} only, not {kind}")
        if self.forget_bias is not None and kind not in ("lstm", "dnc"):
            raise OptionError(f"--forget-bias applies to --model lstm and dnc only, not {kind}")

    def config_for(self, task: Task, kind: str | None = None) -> ModelConfig:
        """A fresh model's config for ``task``: the options given, the shared defaults otherwise.

        ``kind`` overrides the kind chosen (a model file's class says its own kind).
        """
        self.check_kind()
        if kind is not None and kind != self.kind:
            return replace(self, model=kind, model_file=None).config_for(task)
        if self.loss is not None:
            check_loss_fits(self.loss, task)
        overrides = self.config_fields()
        overrides.pop("kind", None)
        hidden = overrides.pop("hidden_size", DEFAULT_HIDDEN_SIZE)
        overrides.setdefault("seed", 0)
        return task.model_config(self.kind, hidden, **overrides)

    def conflicts_with(self, config: ModelConfig) -> list[str]:
        """What the options given say differently from a saved model's ``config`` (one line each).

        The seed is left out: for a saved model it seeds only the data.
        """
        saved = config.to_dict()
        wanted = self.config_fields()
        lines = []
        for option, name in CONFIG_FIELDS.items():
            if name in wanted and name != "seed" and wanted[name] != saved[name]:
                typed = f"--{option.replace('_', '-')} {getattr(self, option)}"
                lines.append(f"{typed} does not match the saved model's {name}={saved[name]}")
        return lines


def check_loss_fits(loss: str, task: Task) -> None:
    """:class:`OptionError` when ``loss`` cannot score ``task``'s targets.

    Class indices (``softmax_ce``) and target vectors (the others) do not mix, and
    ``sigmoid_bce`` needs targets in 0..1, which only the tasks scored by it have.
    """
    native = task.loss
    if loss == native:
        return
    if "softmax_ce" in (loss, native):
        raise OptionError(f"--loss {loss} does not fit the {task.name} task's targets, which need {native}")
    if loss == "sigmoid_bce":
        raise OptionError(f"--loss sigmoid_bce needs targets in 0..1; the {task.name} task's are not")
