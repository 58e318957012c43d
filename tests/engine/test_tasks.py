"""Tasks: vocabulary, character batches and streams, synthetic tasks, sampling, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from rnnscope.engine.tasks import (
    TaskError,
    Vocabulary,
    VocabularyError,
    build_task,
)

TEXT = "the quick brown fox jumps over the lazy dog.\nthe end.\n"


# ---------------------------------------------------------------- vocabulary
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


# ---------------------------------------------------------------- char task
def test_char_targets_are_the_next_character():
    task = build_task("chars", text=TEXT)
    batch = task.sample(4, np.random.default_rng(0), length=10)
    assert batch.inputs.shape == (10, 4, task.vocab.size)
    assert batch.targets.shape == (10, 4) and batch.targets.dtype == np.int64
    assert np.array_equal(batch.mask, np.ones((10, 4)))
    for row in range(4):
        inputs = task.vocab.decode(batch.inputs[:, row].argmax(-1))
        targets = task.vocab.decode(batch.targets[:, row])
        assert inputs[1:] == targets[:-1]
        assert inputs + targets[-1] in TEXT


def test_char_stream_chunks_are_consecutive_and_evenly_spaced():
    task = build_task("chars", text=TEXT)
    n = len(TEXT)
    stream = task.stream(3, 7, np.random.default_rng(1))
    chunks = [next(stream) for _ in range(12)]  # 84 steps > n: also crosses the wrap-around
    assert task.carries_state
    joined = np.concatenate([c.targets for c in chunks])  # (12 * 7, 3)
    data = task.vocab.encode(TEXT)
    for row in range(3):
        read = np.concatenate([chunks[0].inputs.argmax(-1)[:1, row], joined[:, row]])
        # The row reads the text as a loop from some start position.
        matches = [s for s in range(n) if np.array_equal(read, data[(s + np.arange(read.size)) % n])]
        assert matches, f"row {row} does not read consecutive text"
    for before, after in zip(chunks, chunks[1:], strict=False):
        # The next chunk's first input is the previous chunk's last target.
        assert np.array_equal(after.inputs[0].argmax(-1), before.targets[-1])


def test_char_stream_offsets_are_evenly_spaced():
    task = build_task(
        "chars", text="".join(chr(ord("a") + i % 26) + chr(ord("A") + i // 26) for i in range(60))
    )
    data = task.data
    batch = next(task.stream(4, 5, np.random.default_rng(3)))
    first = batch.inputs[0].argmax(-1)
    second = batch.inputs[1].argmax(-1)
    # Pairs of consecutive symbols are unique in this text, so they pin the position down.
    positions = []
    for b in range(4):
        found = [p for p in range(task.length - 1) if data[p] == first[b] and data[p + 1] == second[b]]
        assert len(found) == 1
        positions.append(found[0])
    gaps = np.diff(np.array(positions)) % task.length
    assert set(gaps.tolist()) == {task.length // 4}


def test_encode_text_typed_and_single_character():
    task = build_task("chars", text=TEXT)
    batch = task.encode_text("the fox")
    assert batch.inputs.shape == (6, 1, task.vocab.size)
    assert task.vocab.decode(batch.inputs[:, 0].argmax(-1)) == "the fo"
    assert task.vocab.decode(batch.targets[:, 0]) == "he fox"
    single = task.encode_text("t")
    assert single.inputs.shape == (1, 1, task.vocab.size)
    assert task.vocab.decode(single.targets[:, 0]) == "t"
    with pytest.raises(VocabularyError, match="'Z'.*position 4"):
        task.encode_text("the Zoo")
    with pytest.raises(TaskError, match="empty"):
        task.encode_text("")


def test_char_step_labels_show_whitespace():
    task = build_task("chars", text=TEXT)
    inputs, targets = task.step_labels(task.encode_text("a b\nc"))
    assert inputs == ["a", "␣", "b", "↵"]
    assert targets == ["␣", "b", "↵", "c"]


def test_default_corpus_loads():
    task = build_task("chars")
    assert task.length > 5000
    assert 20 <= task.vocab.size <= 120
    batch = task.sample(2, 0)
    assert batch.inputs.shape == (task.default_length, 2, task.vocab.size)


# ---------------------------------------------------------------- bad files
def test_bad_corpus_files_give_clear_errors(tmp_path):
    with pytest.raises(TaskError, match="does not exist"):
        build_task("chars", path=tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(TaskError, match="not UTF-8.*0xe9.*offset 3"):
        build_task("chars", path=latin1)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(TaskError, match="empty"):
        build_task("chars", path=empty)
    one = tmp_path / "one.txt"
    one.write_text("aaaa", encoding="utf-8")
    with pytest.raises(TaskError, match="at least 2 symbols"):
        build_task("chars", path=one)
    with pytest.raises(TaskError, match="not a file"):
        build_task("chars", path=tmp_path)
    with pytest.raises(TaskError, match="at most one"):
        build_task("chars", text="ab", path=one)
    good = tmp_path / "good.txt"
    good.write_text("\ufeffhello, wörld\n", encoding="utf-8")
    task = build_task("chars", path=good)
    assert "\ufeff" not in task.vocab.symbols and "ö" in task.vocab.symbols


def test_sample_length_longer_than_text_is_refused():
    task = build_task("chars", text="abcdef")
    with pytest.raises(TaskError, match="too long"):
        task.sample(1, 0, length=6)
    assert task.sample(1, 0, length=5).steps == 5


# ---------------------------------------------------------------- synthetic
def test_copy_layout():
    task = build_task("copy", bits=4, min_length=2, max_length=5)
    batch = task.sample(8, np.random.default_rng(0))
    assert batch.inputs.shape[1:] == (8, 5) and batch.targets.shape[1:] == (8, 4)
    for row in range(8):
        delimiter = np.flatnonzero(batch.inputs[:, row, 4])
        assert delimiter.size == 1
        length = int(delimiter[0])
        assert 2 <= length <= 5
        assert np.array_equal(np.flatnonzero(batch.mask[:, row]), np.arange(length + 1, 2 * length + 1))
        assert np.array_equal(batch.targets[length + 1 : 2 * length + 1, row], batch.inputs[:length, row, :4])
        assert not batch.inputs[length + 1 :, row].any()
        assert not batch.targets[2 * length + 1 :, row].any()
