"""From a :class:`~rnnscope.engine.imports.layout.RecurrentLayout` to an rnnscope model (and its task).

The model is float64 (float32 weights convert exactly) with the layout's layers, embedding
and read-out under rnnscope's names. A file without a read-out gives the recurrent part with
a fresh read-out (initialised from ``seed``), said in the notes. A vocabulary (from
:mod:`~rnnscope.engine.imports.vocab`) makes the task a ``chars`` task with exactly those
symbols in the model's index order, on the ``text`` given or, without one, on the symbols
themselves.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

import numpy as np

from rnnscope.engine.heads import LOSSES
from rnnscope.engine.imports.layout import RecurrentLayout, WeightImportError
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.layers import stack_names
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.params import Params
from rnnscope.engine.tasks import Task, TaskError, Vocabulary, build_task


@dataclass(frozen=True)
class ImportOptions:
    """What the file does not say: the loss, the output width without a read-out, the vocabulary."""

    loss: str = "softmax_ce"
    many_to_one: bool = False
    outputs: int | None = None  # O for a fresh read-out (default: the vocabulary's size)
    vocab: tuple[str, ...] | None = None  # the symbols in the model's index order
    text: str | None = None  # a corpus file for the chars task
    seed: int = 0  # seeds a fresh read-out


@dataclass
class Imported:
    """An imported model, the task to show it on (None without a vocabulary) and what to tell the user."""

    model: RecurrentModel
    task: Task | None
    layout: RecurrentLayout
    notes: list[str] = field(default_factory=list)


def model_config(layout: RecurrentLayout, options: ImportOptions) -> ModelConfig:
    """The config of the model in ``layout`` (a ``ValueError`` names an option or size that does not fit)."""
    if options.loss not in LOSSES:
        raise WeightImportError(f"unknown loss {options.loss!r}; choose one of {LOSSES}")
    if layout.readout is not None:
        outputs = int(layout.readout[0].shape[1])
        if options.outputs is not None and options.outputs != outputs:
            raise WeightImportError(
                f"--outputs {options.outputs} does not match the read-out's {outputs} outputs"
            )
    elif options.outputs is not None:
        outputs = options.outputs
    elif options.vocab is not None:
        outputs = len(options.vocab)
    else:
        raise WeightImportError(
            "the file has no read-out: give --outputs N (or a vocabulary) for a fresh one"
        )
    embedding = layout.embedding
    try:
        return ModelConfig(
            layout.kind,
            layout.input_size,
            layout.hidden_size,
            outputs,
            loss=options.loss,
            many_to_one=options.many_to_one,
            seed=options.seed,
            reset_after=layout.reset_after,
            num_layers=len(layout.layers),
            embedding_size=0 if embedding is None else int(embedding.shape[1]),
        )
    except ValueError as error:
        raise WeightImportError(f"the imported model does not fit rnnscope: {error}") from None


def build_imported(layout: RecurrentLayout, options: ImportOptions) -> Imported:
    """The rnnscope model (and task) of ``layout``."""
    config = model_config(layout, options)
    model = build_model(config)  # fresh weights: the read-out stays so when the file has none
    arrays: dict[str, np.ndarray] = {}
    group = config.kind
    for names, layer in zip(stack_names(group, config.num_layers), layout.layers, strict=True):
        arrays.update({names.param("Wx"): layer.Wx, names.param("Wh"): layer.Wh, names.param("b"): layer.b})
        if layer.bh is not None:
            arrays[names.param("bh")] = layer.bh
    if layout.embedding is not None:
        arrays["E"] = layout.embedding
    notes = list(layout.notes)
    if layout.readout is not None:
        arrays["Wy"], arrays["by"] = layout.readout
    else:
        notes.append(
            f"the file has no read-out: the recurrent part is imported and the read-out Wy "
            f"({config.hidden_size}, {config.output_size}), by is fresh (seed {options.seed}); "
            "train it before use"
        )
    try:
        model.params.assign(arrays)
    except ValueError as error:
        raise WeightImportError(f"a weight does not fit the {config.kind} model: {error}") from None
    if layout.source_dtype == "float32":
        notes.append("the file stores float32 weights: they are imported exactly, into a float64 model")
    task = _task(config, options, notes)
    return Imported(model=_rebuilt(model), task=task, layout=layout, notes=notes)


def _rebuilt(model: RecurrentModel) -> RecurrentModel:
    """The model rebuilt from its own parameters (checks every name and shape once more)."""
    return build_model(model.config, Params(dict(model.params), model.params.all_gate_slices))


def _task(config: ModelConfig, options: ImportOptions, notes: list[str]) -> Task | None:
    """A ``chars`` task with the vocabulary, or None without one."""
    if options.vocab is None:
        if options.text is not None:
            raise WeightImportError(
                "--text needs a vocabulary (--vocab or --symbols), or none to take the text's"
            )
        return None
    symbols = options.vocab
    if len(symbols) != config.input_size:
        raise WeightImportError(
            f"the vocabulary has {len(symbols)} symbols, but the model reads {config.input_size} inputs"
        )
    if config.output_size != len(symbols) or config.loss != "softmax_ce":
        notes.append("the vocabulary is kept, but the outputs are not next-symbol scores: no task is saved")
        return None
    try:
        vocab = Vocabulary.from_symbols(symbols)
        if options.text is not None:
            # an absolute path: the checkpoint's task must find its text from any directory
            return build_task("chars", path=os.path.abspath(options.text), vocab=vocab)
        notes.append(
            "no --text: the task's text is the vocabulary itself; give --text CORPUS to trace real text"
        )
        return build_task("chars", text="".join(symbols), vocab=vocab)
    except TaskError as error:
        raise WeightImportError(f"the vocabulary does not make a chars task: {error}") from None
