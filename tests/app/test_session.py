"""What the window shows, computed without Qt: specs, sessions, and how one follows a shown model."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from rnnscope.app.session import (
    TASK_LENGTHS,
    SessionSpec,
    build_session,
    same_batch,
    spec_for_model,
    with_overrides,
)
from rnnscope.engine.models.config import MODEL_KINDS
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import TASK_NAMES, build_task


def test_every_engine_task_has_a_default_length_and_every_kind_traces():
    assert set(TASK_LENGTHS) == set(TASK_NAMES)
    for kind in MODEL_KINDS:
        spec = SessionSpec(model=kind, hidden=4, length=5, slots=3, width=2, read_heads=1)
        session = build_session(spec)
        assert session.trace.model_kind == kind and session.spec is spec
        assert len(session.input_labels) == session.trace.steps == 5


def test_another_task_on_the_command_line_starts_at_its_own_length():
    spec = SessionSpec(task="chars", length=60)
    assert with_overrides(spec, {"task": "copy"}).length == TASK_LENGTHS["copy"]
    assert with_overrides(spec, {"task": "copy", "length": 9}).length == 9
    assert with_overrides(spec, {"task": "sentiment"}).length == 60  # no length of its own
    assert with_overrides(spec, {"seed": 3}) == replace(spec, seed=3)
    assert spec == SessionSpec(task="chars", length=60)  # the spec given is left as it was


def test_a_shown_model_moves_the_spec_to_its_kind_sizes_and_task():
    spec = SessionSpec(model="lstm", task="chars", hidden=64, text="hello", length=60)
    copy = build_task("copy")
    dnc = build_model(copy.model_config("dnc", 10, memory_slots=5, memory_width=3, read_heads=1))
    moved = spec_for_model(spec, dnc.config, copy)
    assert (moved.model, moved.hidden, moved.slots, moved.width, moved.read_heads) == ("dnc", 10, 5, 3, 1)
    assert (moved.task, moved.text, moved.length) == ("copy", None, TASK_LENGTHS["copy"])
    same_task = spec_for_model(spec, build_model(copy.model_config("rnn", 7)).config)
    assert (same_task.model, same_task.hidden, same_task.task, same_task.text) == ("rnn", 7, "chars", "hello")
    corpus = build_task("chars", corpus="arithmetic")
    from_corpus = spec_for_model(
        replace(spec, task="sine"), build_model(corpus.model_config("gru", 5)).config, corpus
    )
    assert (from_corpus.task, from_corpus.corpus, from_corpus.text_file) == ("chars", "arithmetic", None)


def test_same_batch_compares_the_arrays_nan_included():
    batch = build_task("sine").sample(1, np.random.default_rng(0), 6)
    again = replace(batch, inputs=batch.inputs.copy())
    assert same_batch(batch, batch) and same_batch(batch, again)
    again.inputs[2, 0, 0] = np.nan
    assert not same_batch(batch, again)
    assert same_batch(again, replace(again, inputs=again.inputs.copy()))  # NaN where NaN was
    assert not same_batch(batch, build_task("sine").sample(1, np.random.default_rng(0), 7))
