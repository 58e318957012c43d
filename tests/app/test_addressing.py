"""The DNC's addressing panels: the terms the user sees sum to the weightings, follow the cursor, and
the link matrix reads in write order."""

from __future__ import annotations

import re

import numpy as np
import pytest

from rnnscope.app.panels.dnc import AddressingPanel, LinkOrderPanel
from rnnscope.app.panels.dnc.parts import PART_COLOURS, WRITE_HEAD
from rnnscope.engine.dnc.decomposition import Normalisation
from rnnscope.engine.tasks import build_task
from tests.engine.test_dnc import _copy_machine


@pytest.fixture(scope="module")
def copy_run():
    """The hand-set copy machine on one sequence: writes by allocation, reads by content then forward."""
    bits = 4
    batch = build_task("copy", bits=bits, min_length=4, max_length=4, seed=0).sample(1, 3)
    trace = _copy_machine(bits, 8).forward(batch.inputs, batch.targets, batch.mask).trace
    length = int((batch.inputs[:, 0, bits] == 0).argmin())
    order = list(trace["dnc/write_weighting"].data[:length, 0].argmax(axis=1))
    return trace, length, order


def test_the_window_tabs_the_addressing_panel_behind_the_controller_and_it_follows_the_cursor(make_window):
    window = make_window(model="dnc", task="copy")
    dock = window.group_docks["dnc · addressing"]
    assert dock in window.tabifiedDockWidgets(window.group_docks["controller"])
    assert not dock.isHidden() and "dnc/link · write order" in window.probe_browser.shown_titles()
    dock.raise_()
    window.set_step(3)
    panel = window.panel("dnc/addressing")
    trace = window.session.trace
    assert panel.isVisible() and panel.step == 3
    heights = panel.bar_heights()  # (3, N): one row of bars per mode, stacked
    np.testing.assert_allclose(heights, trace["dnc/read_mode_parts"].row(0)[3, 0])
    np.testing.assert_allclose(heights.sum(axis=0), trace["dnc/read_weighting"].row(0)[3, 0], atol=1e-12)
    panel.set_head(WRITE_HEAD)
    np.testing.assert_allclose(
        panel.bar_heights().sum(axis=0), trace["dnc/write_weighting"].row(0)[3], atol=1e-12
    )
    assert "allocation" in panel.summary.text() and "backward" not in panel.summary.text()
    window.set_step(5)
    np.testing.assert_allclose(panel.bar_heights(), trace["dnc/write_parts"].row(0)[5])


def test_bars_and_image_show_the_copy_machine_reading_by_content_then_forward(qtbot, copy_run):
    trace, length, order = copy_run
    panel = AddressingPanel(trace)
    qtbot.addWidget(panel)
    first = length + 1  # the step after the delimiter: a content read of the first row written
    panel.set_step(first)
    content = panel.bar_heights()[1]
    assert content.argmax() == order[0] and content.max() > 0.99
    shown = re.sub("<[^>]+>", "", panel.summary.text())  # the label's text as it reads
    assert shown.startswith(f"step {first}: ■ content 1.00  ■ forward 0.00")
    image = panel.image.image  # (N, T, 3): the term that makes the weighting, in its colour
    np.testing.assert_allclose(image[order[0], first], PART_COLOURS["content"], atol=3)
    np.testing.assert_allclose(image[order[1], first + 1], PART_COLOURS["forward"], atol=3)
    assert (image[:, 0] == 255).all()  # nothing read at step 0: white
    panel.set_head(WRITE_HEAD)
    np.testing.assert_allclose(image.shape, panel.image.image.shape)
    np.testing.assert_allclose(panel.image.image[order[0], 0], PART_COLOURS["allocation"], atol=3)


def test_normalisations_rescale_what_is_drawn(qtbot, copy_run):
    trace, length, _ = copy_run
    panel = AddressingPanel(trace)
    qtbot.addWidget(panel)
    step = length + 2
    panel.set_step(step)
    raw = panel.bar_heights().sum(axis=0)
    panel.set_normalisation(Normalisation.STEP_MAX)
    assert panel.bar_heights().sum(axis=0).max() == pytest.approx(1.0)
    np.testing.assert_allclose(panel.bar_heights().sum(axis=0), raw / raw.max())
    panel.set_normalisation(Normalisation.UNIFORM)
    slots = trace["dnc/read_weighting"].data.shape[-1]
    bottoms = np.array([bar.opts["y0"] for bar in panel.bars])
    assert bottoms[0] == pytest.approx(np.full(slots, -1 / slots))  # bars stand on -1/N: tops at w - 1/N
    assert "w − 1/N" in panel.norm_box.currentText()


def test_link_order_panel_numbers_the_write_order(qtbot, copy_run):
    trace, length, order = copy_run
    panel = LinkOrderPanel(trace)
    qtbot.addWidget(panel)
    panel.set_step(length)
    assert panel.path == order
    assert panel.path_cells() == [(after, before) for before, after in zip(order, order[1:], strict=False)]
    assert panel.shown_labels() == [str(k) for k in range(1, len(order))]
    assert "write order " + "→".join(map(str, order)) in panel.plot.titleLabel.text
    np.testing.assert_array_equal(panel.image.image, trace["dnc/link"].row(0)[length])
    panel.set_step(0)
    assert panel.path == [] and "no link yet" in panel.plot.titleLabel.text and not panel.shown_labels()
