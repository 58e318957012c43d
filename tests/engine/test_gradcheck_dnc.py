"""The README's DNC example: every slice judged on its own scale, the zero state's ties explained.

``rnnscope gradcheck --model dnc --task copy --slots 6 --width 4 --read-heads 2`` (and with
``--hidden 8``): the interface slices of ``Wi`` and ``bi`` are small next to their siblings
(the write strength's gradient is ~1e-7 where the write vector's is ~1e-3), and were "too
small" on most seeds when the floor was per tensor. The validation script runs 20 seeds; the
tests run a few.
"""

from __future__ import annotations

import numpy as np
import pytest

from rnnscope.engine.gradcheck import Status, check_gradients, negligible_rows
from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task


def readme_dnc(hidden: int, seed: int):
    task = build_task("copy", seed=seed)
    model = build_model(
        task.model_config("dnc", hidden, seed=seed, memory_slots=6, memory_width=4, read_heads=2)
    )
    return model, task.sample(2, np.random.default_rng(seed))


@pytest.mark.parametrize("hidden, seeds", [(8, (0, 1)), (16, (2,))])
def test_every_parameter_slice_of_the_readme_dnc_is_judged(hidden, seeds):
    for seed in seeds:
        model, batch = readme_dnc(hidden, seed)
        result = check_gradients(
            model, batch.inputs, batch.targets, batch.mask, mode="full", with_inputs=False
        )
        assert not result.failed
        rows = result.all_rows()
        assert {sub.name for row in result.rows for sub in row.sub_rows} >= {
            "Wi[write_strength]",
            "bi[free_gates]",
        }
        assert [row.name for row in rows if row.status is Status.TOO_SMALL] == []
        # judged to a resolution well below a bug's size: the smallest slice sees errors of 0.1 %
        assert max(row.resolution for row in rows) < 1e-3, [(row.name, row.resolution) for row in rows]


def test_the_zero_states_allocation_ties_are_kinks_with_a_note_and_the_one_unjudged_row_says_why():
    model, batch = readme_dnc(16, 0)
    result = check_gradients(model, batch.inputs, batch.targets, batch.mask, mode="full")
    statuses = {row.name: row.status for row in result.rows}
    assert not result.failed
    # every empty slot ties with every other: the loss is not differentiable in these entries
    for name in ("state.memory", "state.usage", "state.write_weighting"):
        assert statuses[name] is Status.KINK
        assert not result.tensors[name].differentiable
        assert any(note.startswith(f"{name}: not differentiable at this point") for note in result.notes)
    # from the zero state the previous read weightings do not reach the loss at all
    assert [row.name for row in negligible_rows(result.rows)] == ["state.read_weightings"]
    assert "state.read_weightings: its gradient is exactly 0 on this batch" in " ".join(result.notes)
    # the other state entries, the inputs and every parameter are judged and right
    for name in ("inputs", "state.h", "state.c", "state.link", "state.precedence", "state.read_vectors"):
        assert statuses[name] is Status.OK, name


@pytest.mark.parametrize("mode", ["sampled", "directional"])
def test_the_readme_dnc_passes_in_the_other_modes(mode):
    for seed in (3, 4):
        model, batch = readme_dnc(8, seed)
        result = check_gradients(model, batch.inputs, batch.targets, batch.mask, mode=mode, seed=seed)
        assert not result.failed
        assert {row.status for row in result.all_rows()} <= {Status.OK, Status.KINK, Status.TOO_SMALL}
        parameters = [row for row in result.all_rows() if row.group == "parameter"]
        assert all(row.status is not Status.TOO_SMALL for row in parameters)
