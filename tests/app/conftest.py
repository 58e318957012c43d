"""Fixtures for the app tests: a window whose settings live in a temporary file, never the user's."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import QSettings


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "rnnscope.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def make_window(qtbot, settings):
    """``make_window(**overrides)``: a shown main window traced on the GUI thread."""
    from rnnscope.app.window import MainWindow

    windows = []

    def make(**overrides):
        window = MainWindow(settings=settings, overrides={"hidden": 12, "length": 20, **overrides})
        qtbot.addWidget(window)
        window.show()
        windows.append(window)
        return window

    yield make
    for window in windows:
        if window.worker is not None:
            window.worker.quit()
            window.worker.wait()
