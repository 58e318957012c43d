"""Reading a gradient-check report back: any bad file is a ValueError naming it, never a crash or a hang."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from rnnscope.engine.gradcheck import check_gradients
from rnnscope.engine.models import ModelConfig, build_model
from rnnscope.report import load_report, write_report

_NASTY = [True, None, 1e300, -1, 2**200, "x", [], {}, [1], {"a": 1}, 0.5]


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    rng = np.random.default_rng(0)
    model = build_model(ModelConfig("lstm", 3, 2, 3, seed=1))
    result = check_gradients(model, np.eye(3)[rng.integers(0, 3, (3, 1))], rng.integers(0, 3, (3, 1)))
    path = tmp_path_factory.mktemp("report") / "report.json"
    write_report(result, path, "json")
    return json.loads(path.read_text())


def _nodes(value, path=()):
    yield path, value
    children = (
        value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    )
    for key, child in children:
        yield from _nodes(child, (*path, key))


def _mutated(data, rng):
    copy = json.loads(json.dumps(data))
    nodes = [path for path, _ in _nodes(copy) if path]
    path = nodes[rng.integers(len(nodes))]
    parent = copy
    for key in path[:-1]:
        parent = parent[key]
    if rng.random() < 0.3 and isinstance(parent, dict):
        del parent[path[-1]]
    else:
        parent[path[-1]] = _NASTY[rng.integers(len(_NASTY))]
    return copy


def test_a_seeded_storm_of_mutated_reports_gives_only_clear_errors(report, tmp_path):
    path = tmp_path / "mutated.json"
    rng = np.random.default_rng(8)
    failures = []
    for _ in range(400):
        path.write_text(json.dumps(_mutated(report, rng)))
        try:
            load_report(path)
        except ValueError as error:
            assert str(path) in str(error)
        except Exception as error:  # the panel would show nothing, or crash
            failures.append(f"{type(error).__name__}: {error}")
    assert not failures, failures[:5]


def test_special_files_and_junk_are_named(report, tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    cases = [(fifo, "FIFO"), (tmp_path, "directory"), (tmp_path / "missing.json", "does not exist")]
    junk = tmp_path / "junk.json"
    for content, words in [
        (b"\xff\xfe", "utf-8"),
        (b"[" * 100_000, "recursion depth"),
        (b"{}", "not an rnnscope"),
    ]:
        junk.write_bytes(content)
        with pytest.raises(ValueError, match=words):
            load_report(junk)
    for path, words in cases:
        with pytest.raises(ValueError, match=words):
            load_report(path)  # a FIFO is refused at once, never read
