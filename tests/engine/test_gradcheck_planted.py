"""The regression suite of planted bugs: a slip in any backward function of any model is caught.

Every bug of :data:`tests.engine.planted.BUGS` (one or more per backward function of the RNN,
the LSTM, the GRU in both conventions, every piece of the DNC's memory access and its
controller, and the heads; plus input- and initial-state-gradient bugs) is planted in turn:
the rows the buggy function computes must fail, the table must point at the right row where
one is to blame, and every row the bug cannot reach must stay ok. A slip spreads through the
recurrence to the rows upstream of it, which then fail too -- they are wrong -- so "the
others" are the rows the bug cannot reach.
"""

from __future__ import annotations

import pytest

from rnnscope.engine.gradcheck import Status, check_gradients
from tests.engine.planted import BUGS, PlantedRNN, blamed_row, problem


def _planted_check(bug, monkeypatch, **settings):
    model, x, y, mask, state = problem(bug.kind, bug.loss, **bug.extra)
    if bug.kind == "rnn":
        model = PlantedRNN(model.config, model.params.copy())
    bug.install(monkeypatch)
    return check_gradients(model, x, y, mask, state, **settings)


def test_the_catalogue_plants_a_bug_in_every_backward_function():
    kinds = {bug.kind for bug in BUGS}
    assert kinds == {"rnn", "lstm", "gru", "dnc"}
    assert {bug.extra.get("reset_after") for bug in BUGS if bug.kind == "gru"} == {False, True}
    assert {bug.loss for bug in BUGS} == {"softmax_ce", "sigmoid_bce", "mse"}
    rows = set().union(*(bug.fails for bug in BUGS))
    assert {"inputs", "state.h", "state.c", "state.memory", "state.usage", "state.link"} <= rows
    assert {
        "state.precedence",
        "state.read_weightings",
        "state.write_weighting",
        "state.read_vectors",
    } <= rows


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_a_planted_bug_fails_its_rows_and_leaves_the_rest_ok(bug, monkeypatch):
    result = _planted_check(bug, monkeypatch, mode="full")
    statuses = {row.name: row.status for row in result.all_rows()}
    assert result.failed
    for name in bug.fails:
        assert statuses[name] is Status.FAIL, (name, statuses[name])
    if bug.blamed:
        assert blamed_row(result) in bug.blamed
    for name in bug.clean:
        assert statuses[name] is Status.OK, (name, statuses[name], result.row(name).rel_err_max)


@pytest.mark.parametrize("mode", ["sampled", "directional"])
def test_the_write_strength_bug_fails_its_own_rows_in_every_mode(mode, monkeypatch):
    """The issue's case: a wrong oneplus' of the write strength passed in sampled mode and was
    blamed on the controller in full mode; its own slices are judged on their own scale now."""
    (bug,) = [bug for bug in BUGS if bug.name.startswith("dnc write strength")]
    result = _planted_check(bug, monkeypatch, mode=mode, samples=4, directions=2)
    for name in ("Wi[write_strength]", "bi[write_strength]"):
        assert result.row(name).status is Status.FAIL
    assert blamed_row(result) in bug.blamed
