"""The vocabulary: sorted symbols, encoding and decoding any text, one-hot vectors, unknown characters."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnscope.engine.tasks import TaskError, Vocabulary, VocabularyError, build_task

TEXT = "the quick brown fox jumps over the lazy dog.\nthe end.\n"


def test_vocabulary_is_sorted_unique_and_round_trips():
    vocab = Vocabulary(TEXT)
    assert vocab.symbols == tuple(sorted(set(TEXT)))
    assert vocab.size == len(set(TEXT))
    ids = vocab.encode(TEXT)
    assert ids.dtype == np.int64 and ids.shape == (len(TEXT),)
    assert vocab.decode(ids) == TEXT
    assert [vocab.symbols[i] for i in ids] == list(TEXT)


def test_vocabulary_from_symbols_keeps_order_and_encodes_by_it():
    vocab = Vocabulary.from_symbols(["z", "a", "é", "\n"])
    assert vocab.encode("aé\nz").tolist() == [1, 2, 3, 0]
    assert vocab.decode([0, 1]) == "za"
    with pytest.raises(TaskError, match="repeat"):
        Vocabulary.from_symbols(["a", "a"])
    with pytest.raises(TaskError, match="single characters"):
        Vocabulary.from_symbols(["ab"])


def test_out_of_vocabulary_error_names_character_and_position():
    vocab = Vocabulary("abc ")
    with pytest.raises(VocabularyError) as info:
        vocab.encode("abc cab!a")
    assert info.value.character == "!"
    assert info.value.position == 7
    assert "'!'" in str(info.value) and "position 7" in str(info.value)
    assert isinstance(info.value, ValueError)
    # A character beyond every code point in the vocabulary, and one before it.
    with pytest.raises(VocabularyError, match="position 1"):
        vocab.encode("a\u4e2d")
    with pytest.raises(VocabularyError, match="position 0"):
        vocab.encode("\tabc")


def test_one_hot_shape_and_values():
    vocab = Vocabulary("abcd")
    ids = np.array([[0, 3], [2, 1]])
    hot = vocab.one_hot(ids)
    assert hot.shape == (2, 2, 4)
    assert np.array_equal(hot.argmax(-1), ids)
    assert np.array_equal(hot.sum(-1), np.ones((2, 2)))
    assert vocab.one_hot(np.array([], dtype=np.int64)).shape == (0, 4)
    with pytest.raises(TaskError, match="0..3"):
        vocab.one_hot(np.array([4]))
    with pytest.raises(TaskError, match="integer"):
        vocab.one_hot(np.array([0.5]))


@settings(max_examples=60, deadline=None)
@given(st.text(min_size=1, max_size=40), st.text(max_size=20))
def test_vocabulary_round_trips_any_text_and_finds_the_first_unknown(text, extra):
    vocab = Vocabulary(text)
    ids = vocab.encode(text)
    assert vocab.decode(ids) == text
    assert np.array_equal(vocab.one_hot(ids).argmax(-1), ids)
    probe = text + extra
    unknown = [i for i, ch in enumerate(probe) if ch not in vocab]
    if unknown:
        with pytest.raises(VocabularyError) as info:
            vocab.encode(probe)
        assert info.value.position == unknown[0] and info.value.character == probe[unknown[0]]
    else:
        assert vocab.decode(vocab.encode(probe)) == probe


def test_vocabulary_handles_characters_outside_the_basic_plane():
    text = "rain 🌧 then sun ☀ and 𝄞"
    task = build_task("chars", text=text)
    assert "🌧" in task.vocab.symbols and "𝄞" in task.vocab.symbols
    assert task.vocab.decode(task.vocab.encode(text)) == text
    assert task.vocab.decode(task.encode_text("sun 𝄞").targets[:, 0]) == "un 𝄞"
