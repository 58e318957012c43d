"""A planted non-finite value is jumped to, marked on its panel (curve or heatmap) and named in words."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np

from rnnscope.app.panels.lines import ScalarPanel


def _planted(session, changes):
    """``session`` with a copy of its trace in which ``changes(name -> data copy)`` were made."""
    trace = type(session.trace)(dict(session.trace.probes), session.trace.model_kind, session.trace.vocab)
    for name, change in changes.items():
        data = session.trace[name].data.copy()
        change(data)
        trace.probes[name] = replace(session.trace[name], data=data)
    return replace(session, trace=trace)


def _set(index, value):
    def change(data):
        data[index] = value

    return change


def test_a_curve_going_infinite_is_jumped_to_marked_and_its_overflow_named(make_window, tmp_path):
    window = make_window(model="dnc", task="copy")
    window.set_step(1)
    # the logits of step 3 reach 800: exp overflows and the step's loss (a curve) is +Inf
    session = _planted(
        window.session, {"output/logits": _set((3, 0, 1), 800.0), "loss/step": _set((3, 0), np.inf)}
    )
    window.set_session(session)
    assert window.step == 3 and window.stepper.slider.value() == 3
    status = window.statusBar().currentMessage()
    assert "+Inf first in loss/step at step 3 (batch 0)" in status
    assert "exp overflow: output/logits reaches 800 at step 3" in status
    curves = window.panel("curves")
    assert isinstance(curves, ScalarPanel) and curves.isVisible()
    line = curves.marks["loss/step"]  # the mark the user sees: a labelled line at the step
    assert line.value() == 3 and line.label.textItem.toPlainText() == "+Inf"
    assert "⚠ loss/step: +Inf at step 3" in curves.plots["loss/step"].titleLabel.text
    window.export_trace_npz(str(tmp_path / "trace.npz"))
    with np.load(tmp_path / "trace.npz", allow_pickle=False) as archive:
        meta = json.loads(str(archive["__trace__"]))["nonfinite"]
    assert (meta["probe"], meta["step"], meta["cause"]) == ("loss/step", 3, "exp_overflow")


def test_a_heatmap_nan_is_jumped_to_its_cell_crossed_and_its_zero_key_named(make_window):
    window = make_window(model="dnc", task="copy")
    name = "dnc/read_content_weighting"
    changes = {name: _set((4, 0, 1, 2), np.nan), "dnc/read_keys": _set((4, 0, 1), 0.0)}
    window.set_session(_planted(window.session, changes))
    assert window.step == 4
    status = window.statusBar().currentMessage()
    assert f"NaN first in {name} at step 4 (batch 0, head 1, slot 2)" in status
    assert "zero-norm key in a cosine: dnc/read_keys (head 1)" in status
    panel = window.panel(f"{name} [head 1]")  # hidden by default: shown now
    assert panel.isVisible() and f"{name} [head 1]" in window.probe_browser.shown_titles()
    assert "NaN at step 4" in panel.plot.titleLabel.text
    xs, ys = panel.mark.item.getData()
    assert panel.mark.item.isVisible() and (xs[0], ys[0]) == (4.5, 2.5)  # a cross on (step 4, slot 2)
    assert np.isnan(panel.values[4, 2])
    other = window.panel(f"{name} [head 0]")
    assert not other.mark.item.isVisible()  # only the head that went non-finite


def test_a_matrix_mark_shows_at_its_step_only_and_finite_weights_clear_every_mark(make_window):
    window = make_window(model="dnc", task="copy")
    clean = window.session
    changes = {"dnc/memory": _set((5, 0, 3, 1), -np.inf), "loss/step": _set((7, 0), np.nan)}
    window.set_session(_planted(clean, changes))
    memory = window.panel("dnc/memory")
    assert window.step == 5 and memory.mark.item.isVisible()
    assert memory.mark.cell == (1, 3) and "-Inf at step 5" in memory.plot.titleLabel.text
    window.set_step(6)
    assert not memory.mark.item.isVisible() and "-Inf at step 5" in memory.plot.titleLabel.text
    curves = window.panel("curves")
    assert curves.marks["loss/step"].value() == 7  # a curve going non-finite later says from which step
    assert curves.plots["loss/step"].titleLabel.text == "loss/step: NaN from step 7"
    window.set_session(clean)
    assert window.last_nonfinite is None and not curves.marks
    assert not memory.mark.item.isVisible() and "Inf" not in memory.plot.titleLabel.text
