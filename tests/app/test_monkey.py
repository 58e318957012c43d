"""The GUI survives random use: a seeded monkey over every model kind raises nothing and stays within
its memory; closing stops whatever runs (a long trace, training) without waiting for it.

``scripts/monkey.py`` is the long version (thousands of actions, close time, peak memory).
"""

from __future__ import annotations

import threading

import pytest
from PyQt6.QtCore import QThread

from rnnscope.app.errors import install_exception_handler
from rnnscope.app.main import open_window, parse_args
from rnnscope.app.monkey import BUILT_IN_KINDS, Monkey, rss_bytes
from rnnscope.app.session import SessionSpec, build_session
from rnnscope.app.unsaved_weights import DISCARD

SMALL_ARGS = ["--hidden", "12"]
ACTIONS = 200
RSS_GROWTH_LIMIT = 400 * 2**20  # the growth of a few hundred actions; a leak of traces is gigabytes


@pytest.fixture
def reporter(qapp, tmp_path):
    """The app's handler, handing every exception on to pytest-qt's capture as well."""
    handler = install_exception_handler(qapp, tmp_path / "logs", dialogs=False)
    yield handler
    handler.uninstall()
    handler.setParent(None)


def _opened(qtbot, settings):
    opened = open_window(parse_args(SMALL_ARGS), settings)
    opened.tools.unsaved.ask = lambda _what: DISCARD  # the quit question about trained weights, answered
    qtbot.addWidget(opened.window)
    opened.window.show()
    return opened


def _trace_threads() -> list[threading.Thread]:
    return [thread for thread in threading.enumerate() if thread.name.startswith("trace ")]


def test_random_use_of_every_model_kind_raises_nothing(reporter, qtbot, settings, tmp_path):
    opened = _opened(qtbot, settings)
    monkey = Monkey(opened, tmp_path, seed=11, max_hidden=24)
    monkey.run(10, every_kind_first=True)
    settled = rss_bytes()
    log = monkey.run(ACTIONS, every_kind_first=False)
    assert reporter.errors == []
    assert log.actions["kind"] >= len(BUILT_IN_KINDS) and len(log.actions) >= 15  # it did do things
    assert rss_bytes() - settled < RSS_GROWTH_LIMIT
    opened.window.close()
    assert not opened.window.isVisible()
    tools = opened.tools
    assert tools is not None and not tools.training.thread_ or tools.training.thread_.wait(10_000)
    qtbot.waitUntil(lambda: not _trace_threads(), timeout=10_000)  # cancelled traces end soon
    assert reporter.errors == []


def test_closing_during_a_long_trace_cancels_it(reporter, qtbot, settings):
    opened = _opened(qtbot, settings)
    window = opened.window
    started = threading.Event()
    spec = SessionSpec(model="dnc", task="copy", hidden=32, length=2_000, slots=64, width=16, read_heads=2)

    def long_trace():
        started.set()
        return build_session(spec)

    window._trace(long_trace, background=True)
    assert started.wait(10)
    assert window.retracer.running == 1
    window.close()
    assert not window.isVisible()
    # the trace was cancelled, not awaited: it ends at its next step, and nothing is shown from it
    qtbot.waitUntil(lambda: not _trace_threads(), timeout=10_000)
    assert window.session.spec.model != "dnc" and reporter.errors == []


def test_closing_during_training_stops_it(reporter, qtbot, settings):
    opened = _opened(qtbot, settings)
    training = opened.tools.training
    training.start_button.click()
    qtbot.waitUntil(lambda: training.trainer is not None and training.trainer.iteration > 2, timeout=10_000)
    assert training.state == "running"
    thread = training.thread_
    assert isinstance(thread, QThread) and thread.isRunning()
    opened.window.close()
    assert not opened.window.isVisible()
    assert thread.isFinished()  # stopped before the window went: no thread outlives it
    assert reporter.errors == []


def test_closing_during_a_gradient_check_cancels_it(reporter, qtbot, settings):
    opened = _opened(qtbot, settings)
    panel = opened.tools.gradcheck
    with qtbot.waitSignal(panel.check_started, timeout=10_000):
        panel.run_button.click()
    thread = panel.thread_
    assert isinstance(thread, QThread)
    opened.window.close()
    assert not opened.window.isVisible() and thread.isFinished()
    assert reporter.errors == []
