"""Tasks: vocabulary, character batches and streams, synthetic tasks, sampling, bad input."""

from __future__ import annotations

import importlib.util
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import (
    CORPORA,
    TASK_NAMES,
    TaskError,
    Vocabulary,
    VocabularyError,
    bits_per_character,
    build_task,
    generate_characters,
    sample_text,
    task_defaults,
    uniform_bits_per_character,
)
from rnnscope.engine.tasks.corpus import data_dir

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
    assert vocab.one_hot(np.array([], dtype=np.int64)).shape == (0, 4)
    with pytest.raises(TaskError, match="0..3"):
        vocab.one_hot(np.array([4]))
    with pytest.raises(TaskError, match="integer"):
        vocab.one_hot(np.array([0.5]))


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
    good.write_bytes("\ufeffhello,\r\nwörld\r\n".encode())
    task = build_task("chars", path=good)
    assert task.text == "hello,\nwörld\n" and "ö" in task.vocab.symbols


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


def test_repeat_copy_layout():
    task = build_task("repeat_copy", bits=3, min_length=1, max_length=3, min_repeats=1, max_repeats=3)
    batch = task.sample(10, np.random.default_rng(5))
    assert batch.inputs.shape[1:] == (10, 5) and batch.targets.shape[1:] == (10, 4)
    for row in range(10):
        length = int(np.flatnonzero(batch.inputs[:, row, 3])[0])
        repeats = round(batch.inputs[length, row, 4] * 3)
        assert 1 <= length <= 3 and 1 <= repeats <= 3
        pattern = batch.inputs[:length, row, :3]
        out_start, end = length + 1, length + 1 + length * repeats
        assert np.array_equal(batch.targets[out_start:end, row, :3], np.tile(pattern, (repeats, 1)))
        assert np.flatnonzero(batch.targets[:, row, 3]).tolist() == [end]
        assert np.flatnonzero(batch.mask[:, row]).tolist() == list(range(out_start, end + 1))
        assert not batch.inputs[length + 1 :, row].any()


def test_recall_layout():
    task = build_task("recall", bits=4, item_length=2, min_items=2, max_items=5)
    batch = task.sample(10, np.random.default_rng(6))
    width = 2
    for row in range(10):
        inputs = batch.inputs[:, row]
        item_starts = np.flatnonzero(inputs[:, 4])
        query_marks = np.flatnonzero(inputs[:, 5])
        count = item_starts.size
        assert 2 <= count <= 5
        assert np.array_equal(item_starts, np.arange(count) * (width + 1))
        first_query = count * (width + 1)
        assert query_marks.tolist() == [first_query, first_query + width + 1]
        items = [inputs[s + 1 : s + 1 + width, :4] for s in item_starts]
        query = inputs[first_query + 1 : first_query + 1 + width, :4]
        matches = [k for k in range(count - 1) if np.array_equal(items[k], query)]
        assert matches, "the query must be one of the items (not the last)"
        answer_steps = np.arange(first_query + width + 2, first_query + 2 * width + 2)
        assert np.flatnonzero(batch.mask[:, row]).tolist() == answer_steps.tolist()
        # Random items could repeat; the answer follows one of the matching items.
        answer = batch.targets[answer_steps, row]
        assert any(np.array_equal(items[k + 1], answer) for k in matches)


def test_sine_targets_are_the_clean_next_values():
    task = build_task("sine", length=30, noise=0.0)
    batch = task.sample(4, np.random.default_rng(2))
    assert batch.inputs.shape == (30, 4, 2) and batch.targets.shape == (30, 4, 2)
    assert np.allclose(batch.inputs[1:], batch.targets[:-1])
    assert np.allclose((batch.targets**2).sum(-1), 1.0)
    noisy = build_task("sine", length=30, noise=0.5).sample(4, np.random.default_rng(2))
    assert np.allclose(noisy.targets, batch.targets)  # same draws for periods and phases
    assert not np.allclose(noisy.inputs, batch.inputs)
    assert np.array_equal(batch.mask, np.ones((30, 4)))


# ---------------------------------------------------------------- sentiment
def test_sentiment_batches_are_left_padded_and_score_the_last_step():
    task = build_task("sentiment")
    assert task.many_to_one and task.output_size == 2 and task.loss == "softmax_ce"
    batch = task.sample(6, np.random.default_rng(0))
    for row in range(6):
        real = np.flatnonzero(batch.mask[:, row])
        assert real[-1] == batch.steps - 1 and np.array_equal(real, np.arange(real[0], batch.steps))
        assert not batch.inputs[: real[0], row].any()
        assert np.array_equal(batch.inputs[real, row].sum(-1), np.ones(real.size))
        sentence = task.vocab.decode(batch.inputs[real, row].argmax(-1))
        assert (sentence, int(batch.targets[-1, row])) in task.examples
    assert batch.mask[:, :].sum(0).max() == batch.steps  # the longest row fills the batch
    fixed = task.sample(3, 0, length=8)
    assert fixed.steps == 8 and np.array_equal(fixed.mask, np.ones((8, 3)))


def test_sentiment_splits_are_disjoint_balanced_and_share_the_vocabulary():
    train, test, every = (build_task("sentiment", split=s) for s in ("train", "test", "all"))
    assert len(train) + len(test) == len(every) and 150 <= len(every) <= 300
    assert not {s for s, _ in train.examples} & {s for s, _ in test.examples}
    assert train.vocab == test.vocab == every.vocab
    for task in (train, test):
        labels = [label for _, label in task.examples]
        assert labels.count(0) == labels.count(1)


def test_sentiment_encode_text_and_labels():
    task = build_task("sentiment")
    batch = task.encode_text("a lovely day.", label="positive")
    assert batch.inputs.shape == (13, 1, task.vocab.size)
    inputs, targets = task.step_labels(batch)
    assert "".join(inputs) == "a␣lovely␣day."
    assert targets[-1] == "positive" and set(targets[:-1]) == {""}
    assert task.encode_text("bad.", label=0).targets[-1, 0] == 0
    with pytest.raises(VocabularyError, match="'!'"):
        task.encode_text("great!")
    with pytest.raises(TaskError, match="unknown label"):
        task.encode_text("fine.", label="neutral")


def test_sentiment_bad_files(tmp_path):
    bad = tmp_path / "bad.tsv"
    bad.write_text("label\tsentence\npositive\tgood.\nnegative no tab here\n", encoding="utf-8")
    with pytest.raises(TaskError, match="line 3 has no tab"):
        build_task("sentiment", path=bad)
    bad.write_text("positive\tgood.\nmeh\tbad.\n", encoding="utf-8")
    with pytest.raises(TaskError, match="line 2 has label 'meh'"):
        build_task("sentiment", path=bad)
    bad.write_text("positive\tgood.\npositive\tfine.\n", encoding="utf-8")
    with pytest.raises(TaskError, match="both classes"):
        build_task("sentiment", path=bad)
    with pytest.raises(TaskError, match="unknown split"):
        build_task("sentiment", split="dev")


# ---------------------------------------------------------------- every task
SMALL_OPTIONS = {
    "chars": {"text": TEXT},
    "copy": {"bits": 3, "max_length": 4},
    "repeat_copy": {"bits": 3, "max_length": 3, "max_repeats": 2},
    "recall": {"bits": 3, "item_length": 2, "max_items": 4},
    "sine": {"length": 12},
    "sentiment": {},
}


@pytest.mark.parametrize("name", TASK_NAMES)
def test_every_task_is_reproducible_and_consistent(name):
    task = build_task(name, **SMALL_OPTIONS[name])
    first = task.sample(5, np.random.default_rng(11))
    again = task.sample(5, np.random.default_rng(11))
    other = task.sample(5, np.random.default_rng(12))
    for a, b in ((first.inputs, again.inputs), (first.targets, again.targets), (first.mask, again.mask)):
        assert np.array_equal(a, b)
    assert not (
        first.inputs.shape == other.inputs.shape
        and np.array_equal(first.inputs, other.inputs)
        and np.array_equal(first.targets, other.targets)
    )
    steps = first.steps
    assert first.inputs.shape == (steps, 5, task.input_size) and first.inputs.dtype == np.float64
    assert first.mask.shape == (steps, 5) and first.mask.dtype == np.float64
    assert set(np.unique(first.mask)) <= {0.0, 1.0} and first.mask[:, :].sum(0).min() >= 1
    if task.loss == "softmax_ce":
        assert first.targets.shape == (steps, 5) and first.targets.dtype == np.int64
        assert 0 <= first.targets.min() and first.targets.max() < task.output_size
    else:
        assert first.targets.shape == (steps, 5, task.output_size) and first.targets.dtype == np.float64
    if task.many_to_one:
        assert np.array_equal(first.mask[-1], np.ones(5))
    assert len(task.input_names) == task.input_size and len(task.output_names) == task.output_size
    inputs, targets = task.step_labels(first, row=2)
    assert len(inputs) == len(targets) == steps and all(isinstance(s, str) for s in inputs + targets)
    # The task's own generator (seeded by ``seed``) is reproducible too.
    rebuilt = build_task(name, **task.options)
    assert np.array_equal(build_task(name, **task.options).sample(3).inputs, rebuilt.sample(3).inputs)
    # The model config fits: a model runs forward on the batch and gives a finite loss.
    model = build_model(task.model_config("rnn", 4, seed=3))
    assert model.config.input_size == task.input_size and model.config.loss == task.loss
    assert model.config.many_to_one == task.many_to_one and model.config.seed == 3
    assert np.isfinite(model.loss(first.inputs, first.targets, first.mask))


@pytest.mark.parametrize("name", ["copy", "sine", "sentiment"])
def test_streams_of_fresh_samples_are_reproducible(name):
    task = build_task(name, **SMALL_OPTIONS[name])
    assert not task.carries_state
    a, b = task.stream(2, None, np.random.default_rng(4)), task.stream(2, None, np.random.default_rng(4))
    for _ in range(3):
        x, y = next(a), next(b)
        assert np.array_equal(x.inputs, y.inputs) and np.array_equal(x.targets, y.targets)


def test_build_task_errors_name_the_problem():
    with pytest.raises(TaskError, match="unknown task 'cpoy'"):
        build_task("cpoy")
    with pytest.raises(TaskError, match=r"no option\(s\) \['width'\]"):
        build_task("copy", width=3)
    with pytest.raises(TaskError, match="min_length .* must not exceed max_length"):
        build_task("copy", min_length=5, max_length=2)
    with pytest.raises(TaskError, match="bits must be an integer >= 1"):
        build_task("recall", bits=0)
    with pytest.raises(TaskError, match="batch_size"):
        build_task("copy").sample(0)
    with pytest.raises(TaskError, match="does not take typed text"):
        build_task("copy").encode_text("hello")


# ---------------------------------------------------------------- sampling and bits per char
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


# ---------------------------------------------------------------- shipped data
@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_shipped_corpora_load(corpus):
    task = build_task("chars", corpus=corpus)
    assert 18_000 <= len(task.text.encode("utf-8")) <= 60_000
    assert task.vocab.size <= 100
    batch = next(task.stream(2, 30, 0))
    assert batch.inputs.shape == (30, 2, task.vocab.size)


@pytest.mark.parametrize("generator", ["arithmetic", "toycode"])
def test_generated_corpora_match_their_generator(generator):
    path = data_dir() / "generators" / f"{generator}.py"
    spec = importlib.util.spec_from_file_location(f"corpus_generator_{generator}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (data_dir() / f"{generator}.txt").read_text(encoding="utf-8")
    assert module.generate() == shipped


# ---------------------------------------------------------------- splits, specs, evaluation
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


@pytest.mark.parametrize("name", TASK_NAMES)
def test_spec_rebuilds_the_same_task(name):
    task = build_task(name, **SMALL_OPTIONS[name], seed=5)
    spec = task.spec()
    assert spec["name"] == name and spec["seed"] == 5
    rebuilt = build_task(**spec)
    assert (rebuilt.input_size, rebuilt.output_size, rebuilt.loss) == (
        task.input_size,
        task.output_size,
        task.loss,
    )
    a, b = task.sample(2, 3), rebuilt.sample(2, 3)
    assert np.array_equal(a.inputs, b.inputs) and np.array_equal(a.targets, b.targets)


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


def test_task_defaults_list_every_option():
    assert task_defaults("copy") == {"bits": 6, "min_length": 2, "max_length": 6, "seed": 0}
    assert task_defaults("chars")["corpus"] is None and task_defaults("sentiment")["split"] == "train"
    for name in TASK_NAMES:
        assert "seed" in task_defaults(name)
    with pytest.raises(TaskError, match="unknown task"):
        task_defaults("nope")


def test_fixed_lengths_may_exceed_the_training_range():
    assert build_task("copy", max_length=4).sample(2, 0, length=10).steps == 21
    repeat = build_task("repeat_copy", min_repeats=2, max_repeats=2).sample(2, 0, length=5)
    assert repeat.steps == 5 + 1 + 10 + 1
    recall = build_task("recall", item_length=3, max_items=4).sample(2, 0, length=8)
    assert recall.steps == 8 * 4 + 2 * 3 + 2
    with pytest.raises(TaskError, match="number of items"):
        build_task("recall").sample(2, 0, length=1)
    with pytest.raises(TaskError, match="length"):
        build_task("copy").sample(2, 0, length=0)


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


def test_metrics_score_only_the_scored_steps():
    copy = build_task("copy", bits=2, min_length=2, max_length=2)
    batch = copy.sample(2, 0)
    perfect = batch.targets.copy()
    perfect[batch.mask == 0] = 1 - perfect[batch.mask == 0]  # wrong, but on unscored steps only
    assert copy.metrics(perfect, batch) == {"bit_error_rate": 0.0, "sequences_correct": 1.0}
    one_wrong = batch.targets.copy()
    scored_step = int(np.flatnonzero(batch.mask[:, 1])[0])
    one_wrong[scored_step, 1, 0] = 1 - one_wrong[scored_step, 1, 0]
    assert copy.metrics(one_wrong, batch) == {"bit_error_rate": 1 / 8, "sequences_correct": 0.5}
    sine = build_task("sine", length=4)
    batch = sine.sample(1, 0)
    assert sine.metrics(batch.targets + 0.5, batch)["rmse"] == pytest.approx(0.5)
    sentiment = build_task("sentiment")
    batch = sentiment.batch_of([0, 1])  # a positive and a negative sentence
    guesses = np.zeros((batch.steps, 2, 2))
    guesses[..., 1] = 1.0  # "positive" everywhere: right on row 0, wrong on row 1
    guesses[:-1, 1] = [1.0, 0.0]  # unscored steps do not count
    assert sentiment.metrics(guesses, batch) == {"accuracy": 0.5}
    chars = build_task("chars", text=TEXT)
    batch = chars.encode_text("the end")
    right = chars.vocab.one_hot(batch.targets)
    scores = chars.metrics(right, batch, loss=6 * math.log(2.0))
    assert scores == {"accuracy": 1.0, "bits_per_char": pytest.approx(1.0)}
    with pytest.raises(TaskError, match="expected"):
        chars.metrics(right[:, :, :3], batch)


def test_shipped_data_is_found_beside_the_package_or_where_a_wheel_installs_it(tmp_path, monkeypatch):
    from rnnscope.engine import shipped
    from rnnscope.engine.tasks import corpus

    assert (corpus.data_dir() / "lighthouse.txt").is_file()
    # an installed wheel: no data/ next to the package, the files under <prefix>/share/rnnscope/data
    installed = tmp_path / "prefix" / "share" / "rnnscope" / "data"
    installed.mkdir(parents=True)
    (installed / "lighthouse.txt").write_text("the keeper\n", encoding="utf-8")
    monkeypatch.setattr(shipped, "PACKAGE", tmp_path / "site-packages" / "rnnscope")
    monkeypatch.setattr(shipped.sys, "prefix", str(tmp_path / "prefix"))
    assert corpus.data_dir() == installed
