"""The trainer: truncated BPTT with carried state for text, fresh sequences otherwise, statistics."""

from __future__ import annotations

import math

import numpy as np
import pytest

from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task, sample_text, uniform_bits_per_character
from rnnscope.engine.training import (
    DivergenceError,
    DivergenceGuard,
    IterationStats,
    Trainer,
    TrainingError,
    build_optimizer,
    evaluate,
)

TEXT = "the cat sat on the mat. the dog sat on the log. " * 6


def _trainer(task, kind="rnn", hidden=8, optimizer="adagrad", lr=0.1, **options) -> Trainer:
    model = build_model(task.model_config(kind, hidden, seed=1))
    options = {"batch_size": 4, "seq_len": 6, "seed": 3, **options}
    return Trainer(model, task, build_optimizer(optimizer, lr=lr), **options)


def test_text_batches_are_the_tasks_stream_and_the_state_is_carried():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    stream = task.stream(4, 6, rng=np.random.default_rng(3))
    for _ in range(5):
        ours, theirs = trainer.next_batch(), next(stream)
        np.testing.assert_array_equal(ours.inputs, theirs.inputs)
        np.testing.assert_array_equal(ours.targets, theirs.targets)
        np.testing.assert_array_equal(ours.mask, theirs.mask)


def test_text_positions_are_restored_only_when_they_fit_the_text():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    trainer.train(2)
    saved = trainer.state_dict()
    other = _trainer(task, seed=9)
    assert other.load_state_dict(saved) == []
    np.testing.assert_array_equal(other.positions, trainer.positions)
    fresh = _trainer(task, seed=9)
    before = fresh.positions.copy()
    for positions, words in [
        (None, "were not saved"),
        (np.array([0, 1, 2, len(TEXT)]), "do not fit this text"),
        (np.array([0, 1]), "do not fit this text"),
    ]:
        assert words in " ".join(fresh.load_state_dict({**saved, "positions": positions}))
        np.testing.assert_array_equal(fresh.positions, before)
    notes = fresh.load_state_dict({**saved, "batch_size": 2})
    assert any("batch size changed (2 -> 4)" in note for note in notes)
    np.testing.assert_array_equal(fresh.positions, before)


def test_carried_state_makes_two_chunks_one_sequence():
    """After one step, the next loss is the loss of chunk 2 started from chunk 1's final state."""
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task, lr=1e-9)  # (almost) no learning: the weights stay put
    model = trainer.model
    first = trainer.next_batch()
    second = trainer.next_batch()
    trainer = _trainer(task, lr=1e-9)
    trainer.step()
    state = model.forward(first.inputs, first.targets, first.mask, record=False).final_state
    expected = model.loss(second.inputs, second.targets, second.mask, state)
    zero_state = model.loss(second.inputs, second.targets, second.mask)
    got = trainer.step().loss
    assert got == pytest.approx(expected, rel=1e-6)
    assert abs(got - zero_state) > 1e-6
    assert set(trainer.carried_state) == set(model.initial_state(4))


def test_synthetic_tasks_get_fresh_sequences_from_zero_state():
    task = build_task("copy", bits=3, min_length=2, max_length=4)
    trainer = _trainer(task, optimizer="rmsprop", lr=1e-3, seq_len=25)
    rng = np.random.default_rng(3)
    expected = task.sample(4, rng)  # copy ignores seq_len: its lengths are the task's own
    assert np.array_equal(trainer.next_batch().inputs, expected.inputs)
    stats = trainer.step()
    assert trainer.carried_state is None
    assert stats.bits_per_char is None and 0.0 <= stats.accuracy <= 1.0
    assert "bit_error_rate" in stats.metrics


def test_sine_uses_seq_len_as_its_length():
    task = build_task("sine")
    trainer = _trainer(task, optimizer="adam", lr=1e-3, seq_len=12)
    stats = trainer.step()
    assert stats.chars == 12 * 4 and stats.accuracy is None and "rmse" in stats.metrics


def test_stats_have_what_the_panel_plots():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task, clip_norm=0.5)
    seen: list[IterationStats] = []
    trainer.add_callback(seen.append)
    stats = trainer.step()
    assert seen == [stats] and stats.iteration == 1 == trainer.iteration
    assert stats.loss_per_step == pytest.approx(stats.loss / 6)
    assert stats.bits_per_char == pytest.approx(stats.loss_per_step / math.log(2))
    assert 0.0 <= stats.accuracy <= 1.0
    assert stats.grad_norm > 0.5 and stats.clipped
    assert set(stats.update_ratio) == set(trainer.model.params)
    assert all(0 < r < math.inf for r in stats.update_ratio.values())
    assert stats.update_ratio["Wh"] < 1 and stats.update_ratio["by"] == pytest.approx(1.0)  # by starts at 0
    assert stats.chars == 24 and stats.chars_per_s > 0 and stats.lr == 0.1
    # the ratio is |update| / |weight| of the update really applied
    before = trainer.model.params.copy()
    stats = trainer.step()
    for name, ratio in stats.update_ratio.items():
        delta = np.linalg.norm(trainer.model.params[name] - before[name])
        weight = np.linalg.norm(trainer.model.params[name])
        assert ratio == pytest.approx(delta / weight, rel=1e-6, abs=1e-12)


def test_updates_are_in_place_on_the_models_arrays():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    held = trainer.model.params["Wh"]
    before = held.copy()
    trainer.train(2)
    assert trainer.model.params["Wh"] is held and not np.array_equal(held, before)


def test_run_yields_and_train_returns_the_last():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    assert [s.iteration for s in trainer.run(3)] == [1, 2, 3]
    calls = []
    last = trainer.train(2, callback=calls.append)
    assert last.iteration == 5 and [s.iteration for s in calls] == [4, 5]


def test_clipping_settings_are_checked_and_changeable():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task, clip_norm=None, clip_value=0.01)
    stats = trainer.step()
    assert stats.clipped
    trainer.clip_norm = 1.0
    trainer.optimizer.lr = 0.01
    assert trainer.step().lr == 0.01
    with pytest.raises(ValueError, match="clip_norm must be a positive number"):
        trainer.clip_norm = -1.0


def test_a_non_finite_loss_stops_with_a_clear_error_and_keeps_the_weights():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    trainer.step()
    trainer.model.params["by"][0] = np.inf
    weights = trainer.model.params.copy()
    with pytest.raises(TrainingError, match="at iteration 2"), np.errstate(all="ignore"):
        trainer.step()
    assert trainer.iteration == 1
    np.testing.assert_array_equal(trainer.model.params["Wh"], weights["Wh"])


def test_a_model_that_does_not_fit_the_task_is_refused():
    task = build_task("chars", text=TEXT)
    other = build_task("copy")
    model = build_model(other.model_config("rnn", 4))
    with pytest.raises(ValueError, match="cannot train this model on the 'chars' task"):
        Trainer(model, task, build_optimizer("sgd"))
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        Trainer(build_model(task.model_config("rnn", 4)), task, build_optimizer("sgd"), batch_size=0)


def test_state_dict_round_trip_continues_bit_for_bit():
    task = build_task("chars", text=TEXT)
    first = _trainer(task)
    first.train(4)
    second = _trainer(task)
    second.model.params.assign(first.model.params)
    second.optimizer.load_state_dict(first.optimizer.state_dict())
    assert second.load_state_dict(first.state_dict()) == []
    assert [s.loss for s in first.run(3)] == [s.loss for s in second.run(3)]


def test_a_seeded_char_model_beats_the_uniform_baseline():
    """Within a fixed small number of iterations on the shipped corpus."""
    task = build_task("chars", corpus="lighthouse")
    model = build_model(task.model_config("lstm", 64, seed=0))
    trainer = Trainer(
        model, task, build_optimizer("adagrad", lr=0.1), batch_size=16, seq_len=25, clip_norm=5.0, seed=0
    )
    baseline = uniform_bits_per_character(task.vocab.size)
    start = evaluate(model, task, batches=8)["bits_per_char"]
    trainer.train(150)
    after = evaluate(model, task, batches=8)["bits_per_char"]
    assert start > 0.95 * baseline
    assert after < 0.65 * baseline, (start, after, baseline)
    text = sample_text(model, task.vocab, "the ", 40, temperature=0.5, rng=0)
    assert len(text) == 40 and " " in text


def test_evaluate_scores_synthetic_tasks_on_fixed_batches():
    task = build_task("copy", bits=3)
    model = build_model(task.model_config("rnn", 6))
    first, second = evaluate(model, task, batches=3), evaluate(model, task, batches=3)
    assert first == second and "bit_error_rate" in first and first["loss_per_step"] > 0


def test_evaluate_copes_with_a_text_shorter_than_the_batch():
    task = build_task("chars", text="abcab")
    model = build_model(task.model_config("rnn", 4))
    scores = evaluate(model, task, batch_size=16, seq_len=25)
    assert scores["bits_per_char"] > 0 and 0 <= scores["accuracy"] <= 1


@pytest.mark.parametrize(
    "optimizer, lr", [("sgd", 0.05), ("adagrad", 0.1), ("rmsprop", 3e-3), ("adam", 5e-3)]
)
def test_every_optimiser_trains_a_char_model_through_the_trainer(optimizer, lr):
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task, hidden=16, optimizer=optimizer, lr=lr, batch_size=8, seq_len=10)
    before = evaluate(trainer.model, task, batch_size=8, seq_len=10)["loss_per_step"]
    trainer.train(60)
    after = evaluate(trainer.model, task, batch_size=8, seq_len=10)["loss_per_step"]
    assert after < 0.8 * before, (optimizer, before, after)


# ---------------------------------------------------------------------- divergence
def test_the_guard_judges_against_the_lowest_running_median_above_a_floor():
    guard = DivergenceGuard(factor=100.0, window=3)
    assert guard.judge(1, 1e6) is None  # nothing to compare with yet: only finiteness is judged
    for loss in (2.0, 2.0, 2.0):
        guard.accept(loss)
    assert guard.judge(4, 150.0) is None
    exploding = guard.judge(4, 250.0)
    assert exploding.reason == "exploding loss" and exploding.reference == 2.0
    assert "exploded to 250 at iteration 4, 125 times the running median's lowest 2 (limit 100x)" in (
        exploding.message
    )
    assert "the weights are those of iteration 3" in exploding.message
    for loss in (190.0, 190.0, 190.0):  # a run that climbed and stays up is still judged by its best
        guard.accept(loss)
    assert guard.judge(8, 250.0) is not None
    tiny = DivergenceGuard(factor=100.0)
    tiny.accept(1e-4)  # an almost perfect model may still meet a bad batch of a few nats
    assert tiny.judge(2, 5.0) is None and tiny.judge(2, 101.0) is not None
    assert guard.judge(12, float("nan")).reason == "non-finite loss"
    off = DivergenceGuard(factor=None)
    off.accept(1.0)
    assert off.judge(3, 1e300) is None
    with pytest.raises(ValueError, match="divergence factor must be a finite number > 1"):
        DivergenceGuard(factor=1.0)


def test_an_exploding_run_stops_before_the_update_and_tells_its_callbacks():
    task = build_task("chars", text=TEXT)
    trainer = _trainer(task)
    heard = []
    trainer.add_divergence_callback(heard.append)
    trainer.train(12)
    trainer.optimizer.lr = 1e4  # far too large: the loss climbs by orders of magnitude
    with np.errstate(all="ignore"), pytest.raises(DivergenceError) as caught:
        for _ in range(50):
            weights, iteration = trainer.model.params.copy(), trainer.iteration
            trainer.step()
    divergence = caught.value.divergence
    assert heard == [divergence] and divergence.iteration == iteration + 1
    assert divergence.reason in ("exploding loss", "non-finite loss", "non-finite gradient")
    assert trainer.iteration == iteration
    for name in weights:
        np.testing.assert_array_equal(trainer.model.params[name], weights[name])


def test_with_the_factor_off_an_exploding_loss_goes_on():
    task = build_task("sine")
    model = build_model(task.model_config("rnn", 4, seed=0))
    trainer = Trainer(model, task, build_optimizer("sgd", lr=0.01), batch_size=2, seq_len=5, clip_norm=None)
    trainer.train(12)
    trainer.model.params["Wy"][...] *= 1e3  # outputs, and the loss, a million times larger
    with pytest.raises(DivergenceError, match="exploded"):
        trainer.step()
    trainer.divergence_factor = None
    assert trainer.step().loss_per_step > 1e3
