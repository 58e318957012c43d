"""The gradient-flow panel follows the cursor and shows what the engine computes."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
from pytestqt.qtbot import QtBot

from rnnscope.app.panels.gradflow import GradFlowPanel, GradFlowSource, install_gradient_flow
from rnnscope.engine.gradflow import input_saliency, jacobian_norms, memory_horizon, trace_with_gradient_flow
from rnnscope.engine.models import ModelConfig, build_model


def source() -> GradFlowSource:
    model = build_model(ModelConfig("lstm", 4, 3, 4, seed=1))
    rng = np.random.default_rng(0)
    inputs, targets = rng.standard_normal((8, 1, 4)), rng.integers(0, 4, (8, 1))
    trace = trace_with_gradient_flow(model, inputs, targets)[0]
    return GradFlowSource(model, inputs, targets, None, trace)


def test_views_follow_the_cursor(qtbot: QtBot) -> None:
    panel = GradFlowPanel()
    qtbot.addWidget(panel)
    panel.show()
    data = source()
    panel.set_source(data)
    panel.set_step(5)
    expected = memory_horizon(data.trace["lstm/forget_gate"].data[:, 0], 5)
    np.testing.assert_allclose(panel.horizon.image.image, expected.T)
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.jacobian.sources.size == 6, timeout=10_000)
    assert panel.jacobian.norms[-1] == 1.0 and "t = 5" in panel.status.text()
    panel.tabs.setCurrentIndex(2)
    qtbot.waitUntil(lambda: panel.saliency.values.shape == (8, 8), timeout=10_000)
    np.testing.assert_allclose(panel.saliency.values, input_saliency(data.model, data.inputs, data.targets))
    assert panel.saliency.cursor_line.value() == 5
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
    panel.shutdown()


def test_a_model_without_forget_gates_says_so(qtbot: QtBot) -> None:
    panel = GradFlowPanel()
    qtbot.addWidget(panel)
    panel.show()
    model = build_model(ModelConfig("gru", 4, 3, 4))
    inputs, targets = np.ones((3, 1, 4)), np.zeros((3, 1), dtype=int)
    panel.set_source(
        GradFlowSource(model, inputs, targets, None, trace_with_gradient_flow(model, inputs, targets)[0])
    )
    assert "no forget gates" in panel.status.text()


def test_window_docks_the_panel_and_hands_it_the_cursor(make_window, qtbot, retrace):
    window = make_window(model="lstm", task="chars", hidden=6, length=12)
    panel, dock = install_gradient_flow(window)
    assert dock.toggleViewAction() in window.view_menu.actions() and dock.windowTitle() == "Gradient flow"
    assert "grad/hidden" in window.session.trace and "grad/cell" in window.session.trace
    assert window.docks.panel("grad/hidden").isHidden()  # in the probe browser, not the first view
    dock.show()
    dock.raise_()
    qtbot.waitUntil(panel.isVisible, timeout=10_000)
    window.set_step(7)
    forget = window.session.trace["lstm/forget_gate"].data[:, 0]
    np.testing.assert_allclose(panel.horizon.image.image, memory_horizon(forget, 7).T)
    other = build_model(replace(window.current_model().config, seed=5))
    retrace(window, lambda: window.show_model(other))
    assert window.current_model() is other
    forget = window.session.trace["lstm/forget_gate"].data[:, 0]
    np.testing.assert_allclose(panel.horizon.image.image, memory_horizon(forget, panel.step).T)
    # behind another dock's tab it draws nothing as the cursor moves, and catches up when brought back
    output = next(d for d in window.tabifiedDockWidgets(dock) if d.windowTitle() == "output")
    output.raise_()
    qtbot.waitUntil(lambda: panel.visibleRegion().isEmpty(), timeout=10_000)
    shown = panel.horizon.image.image.copy()
    window.set_step(3)
    np.testing.assert_array_equal(panel.horizon.image.image, shown)
    dock.raise_()
    qtbot.waitUntil(lambda: panel.horizon.image.image.shape[1] == 4, timeout=10_000)
    np.testing.assert_allclose(panel.horizon.image.image, memory_horizon(forget, 3).T)
    window.close()
    assert not panel.busy


def test_stacked_layers_and_the_dnc(qtbot: QtBot) -> None:
    from rnnscope.app.panels.gradflow.demo import demo_source

    panel = GradFlowPanel()
    qtbot.addWidget(panel)
    panel.show()
    data = demo_source(steps=10, hidden=4)
    panel.set_source(data)
    assert panel.layer.count() == 2 and panel.layer.currentIndex() == 1  # the top layer first
    panel.set_step(9)
    forget = data.trace["lstm/l1/forget_gate"].data[:, 0]
    np.testing.assert_allclose(panel.horizon.image.image, memory_horizon(forget, 9).T)
    panel.layer.setCurrentIndex(0)
    forget = data.trace["lstm/l0/forget_gate"].data[:, 0]
    np.testing.assert_allclose(panel.horizon.image.image, memory_horizon(forget, 9).T)
    panel.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: panel.jacobian.sources.size == 10, timeout=10_000)
    expected = jacobian_norms(data.model, data.inputs, 9, layer=0).norms
    np.testing.assert_allclose(panel.jacobian.norms, expected)
    dnc = build_model(ModelConfig("dnc", 4, 3, 4, memory_slots=4, memory_width=3, read_heads=1))
    inputs, targets = np.ones((5, 1, 4)), np.zeros((5, 1), dtype=int)
    panel.set_source(
        GradFlowSource(dnc, inputs, targets, None, trace_with_gradient_flow(dnc, inputs, targets)[0])
    )
    assert not panel.layer.isVisible()
    qtbot.waitUntil(lambda: panel.jacobian.sources.size == 5, timeout=10_000)
    panel.tabs.setCurrentIndex(0)
    assert "controller/forget_gate" in panel.status.text()
    qtbot.waitUntil(lambda: not panel.busy, timeout=10_000)
