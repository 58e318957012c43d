"""Garbage cycles are collected on the GUI thread only, never in a worker thread."""

from __future__ import annotations

import gc
import threading
import weakref

from rnnscope.app.gui_gc import GuiThreadCollector, collect_on_gui_thread


class Node:
    def __init__(self) -> None:
        self.partner: Node | None = None


def _cycle_reporting_to(threads: list[str]) -> None:
    """A garbage cycle whose collection records the name of the thread that collected it."""
    first, second = Node(), Node()
    first.partner, second.partner = second, first
    weakref.finalize(first, lambda: threads.append(threading.current_thread().name))


def test_a_worker_that_allocates_never_collects_and_the_gui_timer_does(qapp, qtbot):
    collector = collect_on_gui_thread(qapp)
    assert collect_on_gui_thread(qapp) is collector  # one per application
    assert not gc.isenabled()
    collected_by: list[str] = []
    _cycle_reporting_to(collected_by)

    def allocate() -> None:  # cycles far past the young threshold: CPython would collect in here
        for _ in range(5 * gc.get_threshold()[0]):
            first, second = Node(), Node()
            first.partner, second.partner = second, first

    worker = threading.Thread(target=allocate, name="worker")
    worker.start()
    worker.join()
    assert collected_by == []  # the cycle is still there: nobody collected in the worker
    qtbot.waitUntil(lambda: collected_by != [], timeout=10_000)
    assert collected_by == [threading.main_thread().name]


def test_stopping_hands_collection_back_to_python(qapp):
    collector = GuiThreadCollector(interval_ms=10_000)
    try:
        assert not gc.isenabled()
        gc.collect()  # counts back to zero: below every threshold, so nothing to do
        before = collector.collections
        collector.collect()
        assert collector.collections == before
        for _ in range(2 * gc.get_threshold()[0]):  # young cycles past the threshold: collected
            first, second = Node(), Node()
            first.partner, second.partner = second, first
        collector.collect()
        assert collector.collections == before + 1 and gc.get_count()[0] < gc.get_threshold()[0]
    finally:
        collector.stop()
        collector.deleteLater()
    assert gc.isenabled()
    gc.disable()  # the session's collector is still installed for the other tests
