"""Fixtures for the app tests: windows whose settings live in a temporary file, never the user's."""

from __future__ import annotations

import gc

import pytest
from PyQt6.QtCore import QCoreApplication, QEvent, QSettings

# small sizes keep every window test well under a second
SMALL = {"hidden": 12, "length": 20, "slots": 6, "width": 4, "read_heads": 2}


@pytest.fixture(scope="session", autouse=True)
def gui_thread_garbage_collection(qapp):
    """As in the app (``configure_app``): cycles are collected on the GUI thread only."""
    from rnnscope.app.gui_gc import collect_on_gui_thread

    collector = collect_on_gui_thread(qapp)
    yield collector
    collector.stop()


@pytest.fixture(autouse=True)
def delete_closed_widgets(qapp):
    """Destroy the widgets a test closed before the next test starts.

    pytest-qt closes them and calls ``deleteLater`` after each test; outside a running event
    loop Qt defers that deletion until some later nested loop (a ``waitSignal`` in another
    test), where half-destroyed plots of the old window met the new one's events and, one run
    in a few, crashed the process. Flushing the deferred deletions here, then collecting
    Python's side, ends every window inside its own test.
    """
    yield
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)
    gc.collect()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete.value)


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
