"""Fixtures for the app tests: windows whose settings live in a temporary file, never the user's."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings

from rnnscope.app.session import model_available

# small sizes keep every window test well under a second
SMALL = {"hidden": 12, "length": 20, "slots": 6, "width": 4, "read_heads": 2}


def require_model(kind: str) -> None:
    """Skip (with the reason) while the engine does not have this model kind yet."""
    if not model_available(kind):
        pytest.skip(f"rnnscope/engine/models/{kind}.py is not in this build yet")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "rnnscope.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """``make_window(**overrides)``: a shown main window, first traced on the GUI thread."""
    from rnnscope.app.window import MainWindow

    windows = []

    def make(**overrides):
        window = MainWindow(settings=settings, overrides={**SMALL, **overrides})
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        window.wait_for_workers()


@pytest.fixture
def retrace(qtbot):
    """``retrace(window, action)``: run ``action`` (which starts a re-trace) and wait for its outcome."""

    def run(window, action=None):
        # the blocker exists before the worker starts, so a fast worker cannot be missed
        with qtbot.waitSignal(window.trace_done, timeout=10_000):
            (action or window.retrace)()
        window.wait_for_workers()

    return run
