"""Generating text from a character model (temperature, carried state) and bits per character."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import (
    TaskError,
    VocabularyError,
    bits_per_character,
    build_task,
    generate_characters,
    sample_text,
    uniform_bits_per_character,
)

TEXT = "the quick brown fox jumps over the lazy dog.\nthe end.\n"


def _char_model(task, seed=0):
    return build_model(task.model_config("rnn", 8, seed=seed))


def test_sample_text_is_reproducible_and_only_emits_vocabulary_symbols():
    task = build_task("chars", text=TEXT)
    model = _char_model(task)
    first = sample_text(model, task.vocab, "the ", 60, 1.0, np.random.default_rng(7))
    again = sample_text(model, task.vocab, "the ", 60, 1.0, np.random.default_rng(7))
    other = sample_text(model, task.vocab, "the ", 60, 1.0, np.random.default_rng(8))
    assert first == again and first != other
    assert len(first) == 60 and set(first) <= set(task.vocab.symbols)
    assert len(sample_text(model, task.vocab, "", 5, 1.0, 0)) == 5
    assert sample_text(model, task.vocab, "the", 0, 1.0, 0) == ""


def test_sample_text_carries_state_like_one_long_sequence():
    task = build_task("chars", text=TEXT)
    model = _char_model(task, seed=1)
    prime = "the lazy "
    # Near-zero temperature is greedy: each step takes the most likely character.
    greedy = sample_text(model, task.vocab, prime, 12, 1e-9, 0)
    text = prime
    for _ in range(12):
        probs, _ = model.predict(task.vocab.one_hot(task.vocab.encode(text))[:, None, :])
        text += task.vocab.symbols[int(probs[-1, 0].argmax())]
    assert greedy == text[len(prime) :]
    # Any generator gives the greedy text at a tiny temperature.
    assert sample_text(model, task.vocab, prime, 12, 1e-300, 99) == greedy


def test_sample_text_temperature_and_argument_errors():
    task = build_task("chars", text=TEXT)
    model = _char_model(task)
    for bad in (0, 0.0, -1.0, float("nan"), float("inf"), "hot", True):
        with pytest.raises(TaskError, match="temperature"):
            sample_text(model, task.vocab, "the", 5, bad, 0)
    hot = sample_text(model, task.vocab, "the", 40, 1e6, 0)  # nearly uniform, still valid symbols
    assert set(hot) <= set(task.vocab.symbols)
    with pytest.raises(VocabularyError, match="'Q'"):
        sample_text(model, task.vocab, "Quick", 5, 1.0, 0)
    with pytest.raises(TaskError, match="length"):
        sample_text(model, task.vocab, "the", -1, 1.0, 0)
    other = build_model(build_task("copy").model_config("rnn", 4))
    with pytest.raises(TaskError, match="character model"):
        sample_text(other, task.vocab, "the", 5, 1.0, 0)
    smaller = build_model(build_task("chars", text="abc").model_config("rnn", 4))
    with pytest.raises(TaskError, match="do not match"):
        sample_text(smaller, task.vocab, "the", 5, 1.0, 0)


def test_generate_characters_matches_sample_text_and_continues_a_state():
    task = build_task("chars", text=TEXT)
    model = _char_model(task, seed=2)
    characters = generate_characters(model, task.vocab, "the ", 0.9, np.random.default_rng(5))
    streamed = "".join(next(characters) for _ in range(30))
    assert streamed == sample_text(model, task.vocab, "the ", 30, 0.9, np.random.default_rng(5))
    # Priming "fox" from the state after "the " equals priming "the fox" from zeros.
    _, after_the = model.predict(task.vocab.one_hot(task.vocab.encode("the "))[:, None, :])
    continued = sample_text(model, task.vocab, "fox", 20, 1.0, 3, state=after_the)
    assert continued == sample_text(model, task.vocab, "the fox", 20, 1.0, 3)
    with pytest.raises(TaskError, match="temperature"):
        generate_characters(model, task.vocab, "the", 0.0)  # checked at once, not on next()


def test_bits_per_character_of_a_uniform_model_is_log2_v():
    task = build_task("chars", text=TEXT)
    model = _char_model(task)
    model.params["Wy"][...] = 0.0
    model.params["by"][...] = 0.0
    batch = task.sample(3, 0, length=9)
    loss = model.loss(batch.inputs, batch.targets, batch.mask)
    assert bits_per_character(loss, batch.mask) == pytest.approx(uniform_bits_per_character(task.vocab.size))
    assert uniform_bits_per_character(task.vocab.size) == pytest.approx(math.log2(task.vocab.size))
    half = batch.mask.copy()
    half[::2] = 0.0
    loss_half = model.loss(batch.inputs, batch.targets, half)
    assert bits_per_character(loss_half, half) == pytest.approx(math.log2(task.vocab.size))
