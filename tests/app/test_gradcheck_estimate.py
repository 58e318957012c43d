"""Before a long check, the panel says how many elements it checks and roughly how long it takes."""

from __future__ import annotations

import numpy as np
import pytest

from rnnscope.app.panels.gradcheck import GradcheckPanel
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model


@pytest.fixture
def panel(qtbot):
    widget = GradcheckPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    yield widget
    widget.shutdown()


def _source(panel, hidden: int, steps: int = 60):
    model = build_model(ModelConfig("lstm", 65, hidden, 65, seed=0))
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 65, size=(steps + 1, 2))
    panel.set_source(model, np.eye(65)[ids[:-1]], ids[1:])
    return model


def test_a_long_full_check_names_its_elements_and_time_and_can_be_cancelled(qtbot, panel):
    model = _source(panel, hidden=128)
    panel.settings.mode.setCurrentText("full")
    worker = panel.prepare_check()
    with qtbot.waitSignal(worker.cancelled, timeout=20_000):
        panel.start_check(worker)
        # what the user reads while it runs: the count (parameters + the inputs T x B x D) and a time
        elements = sum(array.size for array in model.params.values()) + 60 * 2 * 65
        assert f"{elements:,} elements, about" in panel.summary.text()
        assert "Cancel stops it" in panel.summary.text()
        worker.cancel()
    qtbot.waitUntil(lambda: panel.thread_.isFinished(), timeout=10_000)


def test_a_quick_check_says_nothing_about_time(qtbot, panel):
    _source(panel, hidden=4, steps=5)
    panel.settings.mode.setCurrentText("full")
    worker = panel.prepare_check()
    with qtbot.waitSignal(panel.check_finished, timeout=30_000):
        panel.start_check(worker)
        assert "elements, about" not in panel.summary.text()
