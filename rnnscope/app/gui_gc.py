"""Python's cyclic garbage collector, run on the GUI thread only.

CPython collects cycles in whichever thread happens to allocate when a generation's
threshold is crossed. With worker threads (tracing, training, the gradient check) that
is often a worker, and a collected cycle can hold the last reference to a Qt object
(a panel's plot item, an image, a painter's device) that the GUI thread is painting at
that very moment: Qt then crashes in the middle of a paint. Here the automatic
collector is switched off and a timer on the GUI thread collects instead, generation
by generation, with the interpreter's own thresholds. Reference counting, which frees
almost everything, is untouched.
"""

from __future__ import annotations

import gc

from PyQt6.QtCore import QObject, QTimer

INTERVAL_MS = 500


class GuiThreadCollector(QObject):
    """Collects garbage cycles from a timer on the thread that created it (the GUI thread)."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self.thresholds = gc.get_threshold()
        self.collections = 0  # how many collections this collector ran (for tests and debugging)
        self.timer = QTimer(self)
        self.timer.timeout.connect(self.collect)
        gc.disable()
        self.timer.start(interval_ms)

    def collect(self) -> None:
        """Collect the generations whose counts passed their thresholds, as CPython would."""
        young, middle, old = gc.get_count()
        if young <= self.thresholds[0]:
            return
        generation = 0
        if middle > self.thresholds[1]:
            generation = 2 if old > self.thresholds[2] else 1
        gc.collect(generation)
        self.collections += 1

    def stop(self) -> None:
        """Hand collection back to the interpreter."""
        self.timer.stop()
        gc.enable()


def collect_on_gui_thread(app: QObject, interval_ms: int = INTERVAL_MS) -> GuiThreadCollector:
    """Install (once per ``app``) the GUI-thread collector; returns it."""
    existing = app.findChild(GuiThreadCollector)
    if existing is not None:
        return existing
    return GuiThreadCollector(interval_ms, parent=app)
