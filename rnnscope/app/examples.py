"""The trained example models shipped in ``data/models/`` (written by ``scripts/train_shipped.py``).

No Qt here: the training script, the tests and the window's File > Open example all read
this list. ``data/models/quality.json`` records how good each model was when it was
trained (bits per character, bit error rate, accuracy), so a test can check the shipped
files still are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.shipped import find_shipped_dir
from rnnscope.engine.tasks import Task, build_task
from rnnscope.engine.tasks.sentiment import SentimentTask
from rnnscope.engine.training import evaluate

MODELS_FOLDER = "models"
QUALITY_FILE = "quality.json"
DEFAULT_EXAMPLE = "lstm"  # what a plain ``rnnscope`` opens


@dataclass(frozen=True)
class Example:
    """One shipped model: ``key`` (``lstm``), its file name and what the File menu calls it."""

    key: str
    file: str
    title: str


EXAMPLES = (
    Example("lstm", "lstm_lighthouse.npz", "Character LSTM on lighthouse.txt"),
    Example("dnc", "dnc_copy.npz", "DNC that solves copy"),
    Example("gru", "gru_sentiment.npz", "GRU sentiment classifier"),
)


def models_dir() -> Path | None:
    """``data/models`` next to the package (or where a wheel installs ``data/``), if it holds the
    quality record; None when the models are not installed."""
    data = find_shipped_dir("data", f"{MODELS_FOLDER}/{QUALITY_FILE}")
    return data / MODELS_FOLDER if data is not None else None


def example(key: str) -> Example:
    for item in EXAMPLES:
        if item.key == key:
            return item
    raise KeyError(f"no shipped example {key!r}; choose one of {[e.key for e in EXAMPLES]}")


def example_path(key: str) -> Path | None:
    """The checkpoint of example ``key``, or None when it is not installed."""
    folder = models_dir()
    if folder is None:
        return None
    path = folder / example(key).file
    return path if path.is_file() else None


def recorded_quality(folder: Path | None = None) -> dict[str, Any]:
    """``quality.json``: ``{key: {"metric": value, ...}}`` as the training script measured it."""
    folder = folder if folder is not None else models_dir()
    if folder is None:
        raise FileNotFoundError("the shipped models (data/models) are not installed")
    with open(folder / QUALITY_FILE, encoding="utf-8") as handle:
        record: dict[str, Any] = json.load(handle)
    return record


# ---------------------------------------------------------------------- measuring quality
EVALUATION_SEED = 20_261_130  # fresh copy sequences: the trainer draws its own from other seeds


def text_task(split: str = "all") -> Task:
    """The lighthouse character task (``split`` ``valid``: the held-out last tenth)."""
    return build_task("chars", corpus="lighthouse", split=split)


def measure(key: str, model: RecurrentModel) -> dict[str, float]:
    """How good ``model`` is at example ``key``'s task, on data it was not trained on.

    ``lstm``: bits per character on the held-out tenth of lighthouse.txt (state carried);
    ``dnc``: bit error rate and fully right sequences on 1,024 fresh copy sequences;
    ``gru``: accuracy on the sentiment test split.
    """
    if key == "lstm":
        scores = evaluate(model, text_task("valid"), batch_size=1, seq_len=100, batches=10_000)
        return {"valid_bits_per_char": scores["bits_per_char"]}
    if key == "dnc":
        scores = evaluate(model, build_task("copy"), batch_size=64, batches=16, seed=EVALUATION_SEED)
        return {"bit_error_rate": scores["bit_error_rate"], "sequences_correct": scores["sequences_correct"]}
    if key == "gru":
        task = build_task("sentiment", split="test")
        if not isinstance(task, SentimentTask):
            raise TypeError(f"the sentiment task is a {type(task).__name__}")
        batch = task.batch_of(np.arange(len(task)))
        result = model.forward(batch.inputs, batch.targets, batch.mask, record=False)
        return {"test_accuracy": task.metrics(result.head.probs, batch)["accuracy"]}
    raise KeyError(f"no shipped example {key!r}")
