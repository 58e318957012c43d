"""Estimates before work: shapes without allocating, memory within a band of the measured peak."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from rnnscope.engine import budget
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.engine.training import build_optimizer

CONFIGS = [
    ModelConfig("rnn", 7, 5, 3),
    ModelConfig("lstm", 7, 5, 3, dtype="float32"),
    ModelConfig("gru", 7, 5, 3),
    ModelConfig("gru", 7, 5, 3, reset_after=True),
    ModelConfig("dnc", 7, 5, 3, memory_slots=4, memory_width=3, read_heads=2),
    ModelConfig("rnn", 7, 5, 3, num_layers=3),
    ModelConfig("lstm", 7, 5, 3, num_layers=2, embedding_size=4),
    ModelConfig("gru", 7, 5, 3, num_layers=2, reset_after=True, embedding_size=2),
    ModelConfig("dnc", 7, 5, 3, memory_slots=4, memory_width=3, read_heads=2, embedding_size=3),
]


def _name(config):
    after = "-after" if config.reset_after else ""
    return f"{config.kind}{after}-L{config.num_layers}-E{config.embedding_size}"


@pytest.mark.parametrize("config", CONFIGS, ids=_name)
def test_shapes_are_the_models_own(config):
    model = build_model(config)
    assert budget.parameter_shapes(config) == {name: array.shape for name, array in model.params.items()}
    assert list(budget.parameter_shapes(config)) == list(model.params)
    assert budget.parameter_count(config) == model.params.size
    assert budget.state_shapes(config, 3) == {k: v.shape for k, v in model.initial_state(3).items()}


def test_the_largest_configs_are_counted_without_allocating():
    huge = ModelConfig("dnc", 100_000, 2048, 100_000, memory_slots=1024, memory_width=1024, read_heads=64)
    tracemalloc.start()
    count = budget.parameter_count(huge)
    cost = budget.trace_cost(huge, 100_000, 4096)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert count > 10**9 and peak < 2**20
    assert cost.bytes > 10**16 and "PB" in cost.describe()


def _peak(work):
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _batch(config, steps, batch, rng):
    inputs = rng.standard_normal((steps, batch, config.input_size))
    return inputs, rng.integers(0, config.output_size, (steps, batch))


MEASURED = [
    (ModelConfig("rnn", 40, 150, 60), 120, 8),
    (ModelConfig("lstm", 65, 128, 65), 60, 8),
    (ModelConfig("gru", 20, 200, 30, dtype="float32"), 80, 6),
    (ModelConfig("dnc", 12, 48, 12, memory_slots=24, memory_width=10, read_heads=3), 40, 4),
]


@pytest.mark.parametrize(("config", "steps", "batch"), MEASURED, ids=lambda v: getattr(v, "kind", str(v)))
def test_memory_estimates_lie_between_the_measured_peak_and_three_times_it(config, steps, batch):
    rng = np.random.default_rng(0)

    def trace():
        model = build_model(config)
        model.forward(*_batch(config, steps, batch, rng), record=True)

    def train():
        model = build_model(config)
        result = model.forward(*_batch(config, steps, batch, rng), record=False)
        build_optimizer("adam").step(model.params, model.backward(result, input_gradient=False).params)

    for estimate, work in ((budget.trace_cost, trace), (budget.training_cost, train)):
        measured = _peak(work)
        estimated = estimate(config, steps, batch).bytes
        assert measured <= estimated <= 3 * measured, (estimate.__name__, measured, estimated)


def test_estimates_grow_with_the_work():
    config = ModelConfig("lstm", 65, 64, 65)
    small, long, wide = (budget.training_cost(config, t, b) for t, b in ((25, 16), (250, 16), (25, 160)))
    assert small.bytes < long.bytes and small.bytes < wide.bytes
    full = budget.gradcheck_cost(config, 25, 1, budget.parameter_count(config))
    sampled = budget.gradcheck_cost(config, 25, 1, 100)
    assert full.seconds > 100 * sampled.seconds > 0
    assert "gradient check of 37,505 elements" in full.describe()


def test_the_verdict_names_the_numbers():
    estimate = budget.Estimate("a trace", 3 * 10**9)
    assert budget.judge(estimate, available=10**10).level == "ok"
    warned = budget.judge(estimate, available=5 * 10**9)
    assert warned.level == "warn" and "3.0 GB" in warned.message and "5.0 GB" in warned.message
    refused = budget.judge(estimate, available=2 * 10**9)
    assert refused.refused and "a trace needs about 3.0 GB of memory, more than the 2.0 GB available" in (
        refused.message
    )
    assert budget.available_memory() is None or budget.available_memory() > 0


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0.01, "under a second"),
        (12, "12 s"),
        (600, "10 min"),
        (7200, "2.0 h"),
        (86400 * 3, "3.0 days"),
        (1e12, "years"),
    ],
)
def test_durations_read_naturally(seconds, text):
    assert text in budget.format_seconds(seconds)
