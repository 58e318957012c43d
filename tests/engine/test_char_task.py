"""The character task: next-character batches, streams for truncated BPTT, typed text, splits, evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from rnnscope.engine.tasks import TaskError, Vocabulary, VocabularyError, build_task

TEXT = "the quick brown fox jumps over the lazy dog.\nthe end.\n"


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


def test_sample_length_longer_than_text_is_refused():
    task = build_task("chars", text="abcdef")
    with pytest.raises(TaskError, match="too long"):
        task.sample(1, 0, length=6)
    assert task.sample(1, 0, length=5).steps == 5


def test_char_splits_share_the_vocabulary_and_partition_the_text():
    text = "abcdefghij" * 10 + "xyz"
    train = build_task("chars", text=text, split="train", valid_fraction=0.2)
    valid = build_task("chars", text=text, split="valid", valid_fraction=0.2)
    assert train.text + valid.text == text and len(valid.text) == round(len(text) * 0.2)
    assert train.vocab == valid.vocab == Vocabulary(text)
    assert "x" not in train.text and train.vocab.size == 13
    with pytest.raises(TaskError, match="unknown split"):
        build_task("chars", text=text, split="test")
    with pytest.raises(TaskError, match="valid_fraction"):
        build_task("chars", text=text, split="train", valid_fraction=1.0)
    with pytest.raises(TaskError, match="at least 2"):
        build_task("chars", text="abcde", split="valid", valid_fraction=0.1)


def test_char_spec_pins_the_vocabulary():
    task = build_task("chars", text="abc abc")
    with pytest.raises(VocabularyError, match="'d'"):
        build_task(**{**task.spec(), "text": "abcd"})


def test_evaluation_stream_reads_each_segment_once_in_order():
    text = "".join(chr(ord("a") + i % 26) for i in range(103))
    task = build_task("chars", text=text)
    chunks = list(task.evaluation_stream(4, 7))
    segment = (len(text) - 1) // 4  # 25 predictions per row
    assert [c.steps for c in chunks] == [7, 7, 7, 4]
    targets = np.concatenate([c.targets for c in chunks])  # (25, 4)
    inputs = np.concatenate([c.inputs.argmax(-1) for c in chunks])
    for row in range(4):
        assert np.array_equal(inputs[:, row], task.data[row * segment : (row + 1) * segment])
        assert np.array_equal(targets[:, row], task.data[row * segment + 1 : (row + 1) * segment + 1])
    with pytest.raises(TaskError, match="segments"):
        list(build_task("chars", text="abc").evaluation_stream(5))
