"""The trained models shipped in data/models still are what scripts/train_shipped.py recorded.

Each is loaded as the app loads it and measured again on data it was not trained on;
the numbers must match the record (same weights, same evaluation) and meet the bar the
record claims: the LSTM far below the untrained model's bits per character, the DNC
solving copy (bit error rate under 1 %), the GRU well above chance. The measures
themselves are shown to fail an untrained model.
"""

from __future__ import annotations

import os

import pytest

from rnnscope.app.examples import EXAMPLES, example_path, measure, models_dir, recorded_quality
from rnnscope.engine.checkpoint import load_checkpoint
from rnnscope.engine.models.registry import build_model

RECORD_TOLERANCE = 1e-4  # the record is rounded to 6 decimals; the evaluation is deterministic


@pytest.fixture(scope="module")
def record():
    return recorded_quality()


@pytest.mark.parametrize("key", [e.key for e in EXAMPLES])
def test_each_shipped_model_loads_is_small_and_still_measures_as_recorded(record, key):
    path = example_path(key)
    assert path is not None, f"{key} is not shipped"
    assert os.path.getsize(path) < 500_000  # well under 1 MB
    checkpoint = load_checkpoint(path)
    assert checkpoint.config.kind == key and checkpoint.task is not None
    measured = measure(key, checkpoint.model)
    for name, value in measured.items():
        assert value == pytest.approx(record[key][name], abs=RECORD_TOLERANCE), name


def test_the_recorded_quality_meets_the_bar(record):
    lstm, dnc, gru = record["lstm"], record["dnc"], record["gru"]
    assert lstm["valid_bits_per_char"] < 0.5 * lstm["untrained_valid_bits_per_char"]
    assert lstm["valid_bits_per_char"] < 3.0
    assert dnc["bit_error_rate"] < 0.01 and dnc["sequences_correct"] > 0.95
    assert gru["test_accuracy"] >= 0.65 > gru["chance_accuracy"]


@pytest.mark.parametrize("key", [e.key for e in EXAMPLES])
def test_the_measures_fail_an_untrained_model(record, key):
    """Same configuration, initial weights: every bar above is missed (the checks can fail)."""
    untrained = build_model(load_checkpoint(example_path(key)).config)
    measured = measure(key, untrained)
    if key == "lstm":
        assert measured["valid_bits_per_char"] > 5.5
    elif key == "dnc":
        assert measured["bit_error_rate"] > 0.2
    else:
        assert measured["test_accuracy"] < 0.65


def test_the_models_folder_is_found_next_to_the_package():
    folder = models_dir()
    assert folder is not None and folder.name == "models" and (folder / "quality.json").is_file()
