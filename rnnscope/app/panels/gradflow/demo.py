"""The gradient-flow panel alone, on a small stacked LSTM over a random character sequence, with a
step slider standing in for the window's cursor (``python -m rnnscope.app.panels.gradflow``)."""

from __future__ import annotations

import sys

import numpy as np
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QSlider, QVBoxLayout, QWidget

from rnnscope.app.panels.gradflow.panel import GradFlowPanel, GradFlowSource
from rnnscope.engine.gradflow import trace_with_gradient_flow
from rnnscope.engine.models import ModelConfig, build_model


def demo_source(steps: int = 40, symbols: int = 12, hidden: int = 16) -> GradFlowSource:
    """A two-layer LSTM (seeded) traced on ``steps`` random symbols."""
    model = build_model(ModelConfig("lstm", symbols, hidden, symbols, num_layers=2, seed=0))
    rng = np.random.default_rng(0)
    inputs = np.eye(symbols)[rng.integers(0, symbols, (steps, 1))]
    targets = rng.integers(0, symbols, (steps, 1))
    trace = trace_with_gradient_flow(model, inputs, targets)[0]
    return GradFlowSource(model, inputs, targets, None, trace)


def main() -> int:
    app = QApplication(sys.argv[:1])
    window = QWidget()
    window.setWindowTitle("gradient flow (demo)")
    panel = GradFlowPanel()
    source = demo_source()
    slider = QSlider(Qt.Orientation.Horizontal)
    slider.setRange(0, source.trace.steps - 1)
    slider.valueChanged.connect(panel.set_step)
    layout = QVBoxLayout(window)
    layout.addWidget(slider)
    layout.addWidget(panel)
    window.resize(720, 480)
    window.show()
    panel.set_source(source)
    slider.setValue(source.trace.steps - 1)
    code = app.exec()
    panel.shutdown()
    return code
