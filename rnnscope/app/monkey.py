"""Random use of the whole app, for robustness runs (``tests/app/test_monkey.py``, ``scripts/monkey.py``).

A :class:`Monkey` drives an opened main window (the training tools, File > Open's
actions and all) with seeded random user actions through the widgets a user touches:
model kinds and sizes (within the controls' bounds), tasks, typed text (in and out
of the vocabulary, over the length limit), stepping, scrubbing, playing, clicks and
hovers on the heatmaps, docks opened and closed, layouts reset, training started and
stopped, gradient checks started and cancelled, exports to a folder (and to places
that cannot be written), and bad files through every open path. Modal questions
(unsaved weights, the options dialog) are answered at random, as a user would.

Nothing here asserts: the caller counts what the app's :class:`~rnnscope.app.errors.ErrorReporter`
received and watches the memory (:func:`rss_bytes`).
"""

from __future__ import annotations

import os
import string
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PyQt6 import sip
from PyQt6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PyQt6.QtTest import QTest
from PyQt6.QtWidgets import QApplication, QDialog, QGraphicsView, QMessageBox, QWidget

from rnnscope.app.main import OpenedWindow
from rnnscope.engine import limits
from rnnscope.engine.models.config import MODEL_KINDS
from rnnscope.engine.tasks import CORPORA, TASK_NAMES

BUILT_IN_KINDS = tuple(kind for kind in MODEL_KINDS if kind != "custom")
SETTLE_MS = 10_000  # the longest a monkey waits for traces to land before it goes on anyway


def wait_ms(ms: int) -> None:
    """Let the event loop run for ``ms`` milliseconds (signals delivered, timers fired, paints done)."""
    loop = QEventLoop()
    QTimer.singleShot(max(ms, 0), loop.quit)
    loop.exec()


def rss_bytes() -> int:
    """This process's resident memory now (Linux ``/proc``; 0 elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as stream:
            return int(stream.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return 0


def bad_files(folder: Path) -> list[Path]:
    """Files no open path should accept: empty, garbage, truncated zip, a directory, a bad model file,
    a text file that is not UTF-8, a report that is not JSON, and one that does not exist."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {
        "empty.npz": b"",
        "garbage.npz": bytes(range(256)) * 8,
        "truncated.npz": b"PK\x03\x04" + b"\x00" * 40,
        "model.py": b"class Broken(:\n",
        "latin1.txt": "caf\xe9 cr\xe8me".encode("latin-1") * 50,
        "report.json": b'{"rows": [1, 2, {"nested": ',
    }
    paths = []
    for name, data in made.items():
        path = folder / name
        path.write_bytes(data)
        paths.append(path)
    directory = folder / "a-folder.npz"
    directory.mkdir(exist_ok=True)
    return [*paths, directory, folder / "missing.npz"]


@dataclass
class MonkeyLog:
    """What a run did: actions by name, and the peak memory seen."""

    actions: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)  # time spent in each action, by name
    peak_rss: int = 0

    def count(self, name: str, seconds: float) -> None:
        self.actions[name] = self.actions.get(name, 0) + 1
        self.seconds[name] = self.seconds.get(name, 0.0) + seconds
        self.peak_rss = max(self.peak_rss, rss_bytes())


class Monkey:
    """Seeded random actions on ``opened`` (from :func:`rnnscope.app.main.open_window`); files go to
    ``folder``. :meth:`run` does ``count`` actions."""

    def __init__(self, opened: OpenedWindow, folder: Path, seed: int, max_hidden: int = 48) -> None:
        self.opened = opened
        self.window = opened.window
        self.folder = folder
        self.rng = np.random.default_rng(seed)
        self.max_hidden = max_hidden
        self.log = MonkeyLog()
        self.bad = bad_files(folder / "bad")
        self.dismisser = QTimer()
        self.dismisser.timeout.connect(self._answer_modal)
        # name -> (action, weight): the cheap actions of a user at work more often than the costly ones
        self.actions: dict[str, tuple[Callable[[], None], float]] = {
            "kind": (self.pick_kind, 2),
            "task": (self.pick_task, 2),
            "corpus": (self.pick_corpus, 1),
            "sizes": (self.edit_sizes, 4),
            "step": (self.step, 8),
            "scrub": (self.scrub, 6),
            "play": (self.play, 3),
            "type": (self.type_text, 3),
            "trace": (self.trace, 2),
            "click": (self.click_panel, 6),
            "dock": (self.toggle_dock, 3),
            "reset layout": (self.reset_layout, 0.5),
            "train": (self.train, 2),
            "gradcheck": (self.gradcheck, 2),
            "export": (self.export, 1.5),
            "bad file": (self.open_bad_file, 2),
            "options": (self.options_dialog, 1),
            "settle": (self.settle, 2),
        }

    # ------------------------------------------------------------------ running
    def run(self, count: int, every_kind_first: bool = True) -> MonkeyLog:
        """``count`` random actions (the first ones show every built-in model kind once)."""
        names = list(self.actions)
        weights = np.array([weight for _, weight in self.actions.values()])
        self.dismisser.start(20)
        try:
            if every_kind_first:
                for kind in BUILT_IN_KINDS:
                    started = time.perf_counter()
                    self._pick_combo_data(self.window.controls.model_box, kind)
                    self._done("kind", started)
            for _ in range(count):
                name = names[int(self.rng.choice(len(names), p=weights / weights.sum()))]
                started = time.perf_counter()
                self.actions[name][0]()
                self._done(name, started)
        finally:
            self.dismisser.stop()
        return self.log

    def _done(self, name: str, started: float) -> None:
        wait_ms(int(self.rng.integers(0, 15)))
        self.log.count(name, time.perf_counter() - started)

    def _answer_modal(self) -> None:
        """A modal question is answered as a user might: any of its buttons, or Escape."""
        modal = QApplication.activeModalWidget()
        if isinstance(modal, QMessageBox) and modal.buttons() and self.rng.random() < 0.7:
            buttons = modal.buttons()
            buttons[int(self.rng.integers(len(buttons)))].click()
        elif isinstance(modal, QDialog):
            try:  # a dialog of the app's own: OK or Cancel
                modal.accept() if self.rng.random() < 0.5 else modal.reject()
            except RuntimeError:  # one Qt made (a file dialog) grants Python no accept(): closed
                modal.close()

    def _int(self, low: int, high: int) -> int:
        return int(self.rng.integers(low, high + 1))

    def _pick_combo_data(self, combo: object, data: str) -> None:
        from PyQt6.QtWidgets import QComboBox

        assert isinstance(combo, QComboBox)
        index = combo.findData(data)
        if index < 0:
            index = combo.findText(data)
        combo.setCurrentIndex(max(index, 0))

    # ------------------------------------------------------------------ the model bar
    def pick_kind(self) -> None:
        kind = BUILT_IN_KINDS[self._int(0, len(BUILT_IN_KINDS) - 1)]
        self._pick_combo_data(self.window.controls.model_box, kind)

    def pick_task(self) -> None:
        self.window.controls.task_box.setCurrentText(TASK_NAMES[self._int(0, len(TASK_NAMES) - 1)])

    def pick_corpus(self) -> None:
        corpora = tuple(CORPORA)
        self.window.controls.corpus_box.setCurrentText(corpora[self._int(0, len(corpora) - 1)])

    def edit_sizes(self) -> None:
        """One to three number fields edited, then left (as Tab does), within sizes a run can afford."""
        controls = self.window.controls
        choices = (
            (controls.hidden_box, 1, self.max_hidden),
            (controls.layers_box, 1, 3),
            (controls.seed_box, 0, 1000),
            (controls.slots_box, 1, 24),
            (controls.width_box, 1, 12),
            (controls.heads_box, 1, 4),
            (controls.length_box, 1, 80),
        )
        for _ in range(self._int(1, 3)):
            box, low, high = choices[self._int(0, len(choices) - 1)]
            if box.isEnabled():
                box.setValue(self._int(low, high))
                box.editingFinished.emit()

    def type_text(self) -> None:
        """A typed sequence: letters, odd characters, or more than the field's limit; then Enter."""
        edit = self.window.controls.text_edit
        choice = self._int(0, 4)
        if choice == 0:
            text = ""
        elif choice == 1:
            text = "".join(self.rng.choice(list(string.ascii_lowercase + " .,"), self._int(1, 60)))
        elif choice == 2:
            text = "".join(chr(self._int(32, 0x2FFF)) for _ in range(self._int(1, 20)))
        elif choice == 3:
            text = "ab " * self._int(1, 30)
        else:
            text = "x" * (limits.TEXT.high + self._int(1, 50))
        if edit.isEnabled():
            edit.setText(text)
            edit.returnPressed.emit()

    def trace(self) -> None:
        self.window.controls.trace_button.click()

    def options_dialog(self) -> None:
        """*Options…*: the dialog is answered by the modal answerer (OK or Cancel)."""
        self.window.controls.edit_options()

    # ------------------------------------------------------------------ stepping and panels
    def step(self) -> None:
        moves = (self.window.next_step, self.window.stepper.prev_step, self.window.stepper.first_step)
        moves[self._int(0, len(moves) - 1)]()

    def scrub(self) -> None:
        slider = self.window.stepper.slider
        for _ in range(self._int(1, 8)):
            slider.setValue(self._int(0, max(slider.maximum(), 0)))

    def play(self) -> None:
        self.window.toggle_play()
        wait_ms(self._int(0, 80))
        if self.rng.random() < 0.7 and self.window.playing:
            self.window.toggle_play()

    def click_panel(self) -> None:
        """A hover and maybe a click somewhere on a heatmap or curve panel shown now."""
        views = [
            view
            for dock in self.window.docks.group_docks.values()
            if dock.isVisible()
            for view in dock.findChildren(QGraphicsView)
            if view.isVisible() and view.width() > 2 and view.height() > 2
        ]
        if not views:
            return
        view = views[self._int(0, len(views) - 1)]
        viewport = view.viewport()
        assert viewport is not None
        point = QPoint(self._int(0, view.width() - 1), self._int(0, view.height() - 1))
        QTest.mouseMove(viewport, point)  # type: ignore[call-overload]  # stub: static methods typed as instance ones
        # the move ran the event loop: a trace that landed meanwhile may have replaced the panel
        if self.rng.random() < 0.6 and not sip.isdeleted(viewport):
            QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=point)  # type: ignore[call-overload]  # as above

    def toggle_dock(self) -> None:
        actions = [action for action in self.window.view_menu.actions() if action.isCheckable()]
        if actions:
            actions[self._int(0, len(actions) - 1)].trigger()

    def reset_layout(self) -> None:
        self.window.reset_layout_action.trigger()

    # ------------------------------------------------------------------ training tools
    def train(self) -> None:
        """Start training, let it run a moment, pause, show or stop it."""
        tools = self.opened.tools
        if tools is None:
            return
        panel = tools.training
        if panel.state in ("idle", "stopped"):
            panel.start_button.click()
        wait_ms(self._int(5, 60))
        ending = (panel.stop_button, panel.pause_button, panel.show_button, panel.step_button)
        button = ending[self._int(0, len(ending) - 1)]
        if button.isEnabled():
            button.click()
        if self.rng.random() < 0.6 and panel.stop_button.isEnabled():
            panel.stop_button.click()

    def gradcheck(self) -> None:
        tools = self.opened.tools
        if tools is None:
            return
        panel = tools.gradcheck
        if panel.run_button.isEnabled():
            panel.run_button.click()
        wait_ms(self._int(0, 60))
        if panel.cancel_button.isEnabled() and self.rng.random() < 0.8:
            panel.cancel_button.click()

    # ------------------------------------------------------------------ files
    def export(self) -> None:
        """A panel as PNG or SVG, the trace as .npz, or the gradient check's report, into the folder
        (or into a path that is a folder, which must be refused with a message)."""
        window = self.window
        name = f"export-{self._int(0, 5)}"
        target = str(self.folder / name) if self.rng.random() < 0.85 else str(self.bad[-2])
        choice = self._int(0, 3)
        slots = window.docks.slots()
        if choice == 0 and slots:
            title = slots[self._int(0, len(slots) - 1)].title
            window.exporter.widget_png(window.docks.panel(title), target, float(self._int(1, 2)))
        elif choice == 1 and slots:
            window.exporter.widget_svg(window.docks.panel(slots[0].title), target)
        elif choice == 2:
            window.export_trace_npz(target)
        elif self.opened.tools is not None:
            self.opened.tools.gradcheck.export(target + ".json")

    def open_bad_file(self) -> None:
        """A bad file through one of the open paths: checkpoint, model file, weights import, text
        file, gradient-check report; or the examples' model again (a good file now and then)."""
        path = str(self.bad[self._int(0, len(self.bad) - 1)])
        background = bool(self.rng.random() < 0.5)
        route = self._int(0, 4)
        opened = self.opened
        if route == 0:
            opened.checkpoints.open_path(path, background=background, remember=False)
        elif route == 1:
            opened.model_files.open_model_file(path + ":Broken", background=background)
        elif route == 2:
            opened.imports.import_path(path, background=background)
        elif route == 3:
            self.window.use_text_file(path, background=background)
        elif opened.tools is not None:
            opened.tools.gradcheck.open_report(path)

    def settle(self) -> None:
        """Wait for the traces under way to land (a user who watches the result)."""
        deadline = time.monotonic() + SETTLE_MS / 1000
        while self.window.retracer.busy and time.monotonic() < deadline:
            wait_ms(10)


def visible_top_levels() -> list[QWidget]:
    """The top-level widgets shown now (a closed window is not among them)."""
    return [widget for widget in QApplication.topLevelWidgets() if widget.isVisible()]
