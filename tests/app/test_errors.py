"""The app's exception handler: an uncaught exception is logged and shown, never looped, never hidden
from the tests."""

from __future__ import annotations

import sys
import threading

import pytest
from PyQt6.QtCore import QTimer
from PyQt6.QtWidgets import QApplication

from rnnscope.app import errors
from rnnscope.app.errors import ErrorDialog, install_exception_handler


def _raise_in_slot(qtbot, error: BaseException) -> None:
    """``error`` raised by a slot the event loop runs, as a panel's would be."""

    def slot() -> None:
        raise error

    QTimer.singleShot(0, slot)
    qtbot.wait(20)


@pytest.fixture
def reporter(qtbot, qapp, tmp_path):
    """A reporter installed over pytest-qt's own capture (as it would be over its hook in a test run)."""
    with qtbot.captureExceptions() as captured:
        handler = install_exception_handler(qapp, tmp_path / "logs")
        handler.captured = captured
        yield handler
        handler.uninstall()
        if handler.dialog is not None:
            handler.dialog.close()
        handler.setParent(None)


def test_slot_exception_is_shown_logged_and_still_fails_the_test(reporter, qtbot, capsys):
    _raise_in_slot(qtbot, ValueError("the unit plot is out of range"))
    assert reporter.errors == ["ValueError: the unit plot is out of range"]
    dialog = reporter.dialog
    assert isinstance(dialog, ErrorDialog) and dialog.isVisible() and not dialog.isModal()
    assert "the unit plot is out of range" in dialog.summary.text()
    assert "Traceback" in dialog.details.toPlainText() and "slot" in dialog.details.toPlainText()
    dialog.copy_details()
    assert "ValueError: the unit plot is out of range" in QApplication.clipboard().text()
    assert "ValueError: the unit plot is out of range" in (reporter.log_path).read_text()
    assert "ValueError" in capsys.readouterr().err
    # handed on to pytest-qt's capture: a slot that raises in a test still fails it
    assert [type(error) for _, error, _ in reporter.captured] == [ValueError]


def test_an_error_while_reporting_is_printed_once_not_looped(reporter, qtbot, monkeypatch, capsys):
    calls = []

    def broken_add(self, *args):
        calls.append(args)
        raise RuntimeError("the dialog itself is broken")

    monkeypatch.setattr(ErrorDialog, "add", broken_add)
    _raise_in_slot(qtbot, KeyError("first"))
    _raise_in_slot(qtbot, KeyError("second"))
    assert len(calls) == 2  # one attempt per error: no error about the error
    assert reporter.errors == ["KeyError: 'first'", "KeyError: 'second'"]
    assert capsys.readouterr().err.count("error while reporting an error") == 2
    # and the reporter still works once the dialog does
    monkeypatch.undo()
    _raise_in_slot(qtbot, KeyError("third"))
    assert reporter.dialog is not None and "third" in reporter.dialog.details.toPlainText()


def test_a_reentrant_error_is_printed_not_reported(reporter, qtbot, capsys, monkeypatch):
    """An exception raised while an error is being shown (the dialog's own paint, say) gets no dialog."""
    inner = []

    def add_raising_again(self, *args):
        try:
            raise OSError("inside the report")
        except OSError:
            inner.append(True)
            reporter.handle(*sys.exc_info())

    monkeypatch.setattr(ErrorDialog, "add", add_raising_again)
    _raise_in_slot(qtbot, ZeroDivisionError("outer"))
    assert inner == [True]
    assert reporter.errors == ["ZeroDivisionError: outer"]  # the inner one was only printed
    assert "OSError: inside the report" in capsys.readouterr().err


def test_errors_beyond_the_rate_only_count(reporter, qtbot, monkeypatch):
    shown = []
    monkeypatch.setattr(ErrorDialog, "add", lambda self, *args: shown.append(args))
    for number in range(errors.SHOWN_PER_MINUTE + 5):
        _raise_in_slot(qtbot, IndexError(number))
    assert len(reporter.errors) == errors.SHOWN_PER_MINUTE + 5
    assert len(shown) == errors.SHOWN_PER_MINUTE


def test_log_is_rotated_and_bounded(qapp, qtbot, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(errors, "LOG_BYTES", 2_000)
    with qtbot.captureExceptions():  # the errors handed on to pytest-qt are this test's own
        handler = install_exception_handler(qapp, tmp_path, dialogs=False)
    try:
        for number in range(200):
            try:
                raise ValueError(f"error {number} " + "x" * 100)
            except ValueError:
                with qtbot.captureExceptions():
                    handler.handle(*sys.exc_info())
    finally:
        handler.uninstall()
        handler.setParent(None)
    capsys.readouterr()
    files = sorted(path.name for path in tmp_path.iterdir())
    assert files == ["rnnscope.log", "rnnscope.log.1", "rnnscope.log.2"]
    assert all((tmp_path / name).stat().st_size <= 2_000 for name in files)
    assert "error 199" in (tmp_path / "rnnscope.log").read_text()


def test_thread_exception_reaches_the_gui_thread(reporter, qtbot, capsys):
    def work():
        raise MemoryError("a worker ran out")

    thread = threading.Thread(target=work, name="helper")
    thread.start()
    thread.join()
    qtbot.waitUntil(lambda: bool(reporter.errors), timeout=10_000)
    assert reporter.errors == ["MemoryError in helper: a worker ran out"]
    assert "a worker ran out" in reporter.dialog.details.toPlainText()
    capsys.readouterr()


def test_uninstall_puts_the_previous_hooks_back(qapp, tmp_path):
    before, thread_before = sys.excepthook, threading.excepthook
    handler = install_exception_handler(qapp, tmp_path)
    assert sys.excepthook == handler.handle
    handler.uninstall()
    handler.setParent(None)
    assert sys.excepthook is before and threading.excepthook is thread_before
