"""ModelConfig refuses every wrong type and absurd size with a message naming the field."""

import json

import numpy as np
import pytest

from rnnscope.engine import limits
from rnnscope.engine.models.config import DEFAULT_HIDDEN_SIZE, ModelConfig


def _config(**changes):
    fields = {"kind": "lstm", "input_size": 5, "hidden_size": 8, "output_size": 5, **changes}
    return ModelConfig(**fields)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("hidden_size", True, "hidden_size: hidden .* must be a whole number, got True"),
        ("hidden_size", 128.0, "must be a whole number, got 128.0"),
        ("hidden_size", 1e300, "must be a whole number"),
        ("hidden_size", float("inf"), "must be a whole number"),
        ("hidden_size", "64", "must be a whole number, got '64'"),
        ("hidden_size", 0, r"must be from 1 to 2,048, got 0"),
        ("hidden_size", 6000, r"must be from 1 to 2,048, got 6,000"),
        ("memory_slots", 10**9, "memory_slots: slots .* got 1,000,000,000"),
        ("read_heads", 100_000, "read_heads: read_heads"),
        ("memory_width", -3, "memory_width"),
        ("input_size", None, "input_size"),
        ("seed", -3, "seed"),
        ("seed", 2**31, "seed"),
        ("seed", "abc", "seed"),
        ("kind", "transformer", "unknown model kind 'transformer'"),
        ("kind", ["lstm"], "unknown model kind"),
        ("loss", "hinge", "unknown loss 'hinge'"),
        ("dtype", "float16", "unknown dtype 'float16'"),
        ("many_to_one", 1, "many_to_one must be true or false, got 1"),
        ("reset_after", "yes", "reset_after must be true or false"),
        ("forget_bias", float("nan"), "forget_bias must be a finite number"),
        ("forget_bias", True, "forget_bias must be a finite number, got True"),
        ("forget_bias", 1e300, r"forget_bias must be within \+-100"),
        ("forget_bias", "1", "forget_bias must be a finite number"),
    ],
)
def test_a_wrong_field_is_named(field, value, message):
    with pytest.raises(ValueError, match=message):
        _config(**{field: value})


def test_numpy_whole_numbers_become_plain_json_data():
    config = _config(hidden_size=np.int64(16), seed=np.uint32(7), forget_bias=np.float32(0.5))
    assert type(config.hidden_size) is int and type(config.seed) is int and type(config.forget_bias) is float
    assert ModelConfig.from_dict(json.loads(json.dumps(config.to_dict()))) == config


def test_from_dict_names_unknown_missing_and_non_mapping_records():
    record = _config().to_dict()
    with pytest.raises(ValueError, match=r"unknown model config fields: \['layers'\]"):
        ModelConfig.from_dict({**record, "layers": 2})
    with pytest.raises(ValueError, match=r"lacks \['hidden_size'\]"):
        ModelConfig.from_dict({k: v for k, v in record.items() if k != "hidden_size"})
    with pytest.raises(ValueError, match="must be a mapping, got list"):
        ModelConfig.from_dict([1])


def test_the_default_hidden_size_is_within_its_bounds():
    assert limits.HIDDEN.check(DEFAULT_HIDDEN_SIZE) == DEFAULT_HIDDEN_SIZE


@pytest.mark.parametrize(
    ("text", "message"),
    [("0", "from 1 to"), ("1e9", "whole number, got '1e9'"), ("abc", "whole number"), ("4097", "4,096")],
)
def test_a_typed_size_is_parsed_or_named(text, message):
    with pytest.raises(limits.SizeError, match=message):
        limits.BATCH.parse(text)


def test_a_typed_size_in_range_is_an_int():
    assert limits.BATCH.parse(" 1_024 ") == 1024
    assert limits.LIMITS["hidden"] is limits.HIDDEN
