"""Tasks: the synthetic tasks, sentiment, and what every task does (reproducible batches, specs, metrics)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnscope.engine.models.registry import build_model
from rnnscope.engine.tasks import TASK_NAMES, TaskError, VocabularyError, build_task, task_defaults

TEXT = "the quick brown fox jumps over the lazy dog.\nthe end.\n"


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


@pytest.mark.parametrize("name", TASK_NAMES)
def test_max_steps_bounds_every_batch_and_is_reached(name):
    task = build_task(name)
    rng = np.random.default_rng(0)
    longest = max(task.sample(16, rng).inputs.shape[0] for _ in range(100))
    assert longest == task.max_steps()


@pytest.mark.parametrize(
    ("name", "options", "words"),
    [
        ("copy", {"bits": 10**9}, "bits must be at most 100,000"),
        ("copy", {"max_length": 10**7}, "max_length must be at most 100,000"),
        ("recall", {"item_length": 2**40}, "item_length must be at most"),
        ("sine", {"length": 10**8}, "length must be at most"),
        ("chars", {"seed": 2**31}, "seed must be at most 2,147,483,647"),
    ],
)
def test_task_sizes_have_bounds(name, options, words):
    with pytest.raises(TaskError, match=words):
        build_task(name, **options)
    with pytest.raises(TaskError, match="batch_size must be at most 4,096"):
        build_task("copy").sample(10**6)
