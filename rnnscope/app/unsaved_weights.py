"""Save / Discard / Cancel before trained weights that no checkpoint holds are thrown away.

Trained weights live only in the training panel's trainer until File > Save checkpoint
writes them. Quitting, the training panel's Reset, opening a checkpoint or an example,
and (when training is stopped) picking another model in the controls would drop them:
:class:`UnsavedWeightsGuard` asks first. *Save* pauses a running training, asks for a
file and saves the trainer (weights, optimiser, iteration), and goes on only if that
worked; *Discard* goes on; *Cancel* keeps everything as it is.
"""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QEvent, QEventLoop, QObject, QTimer
from PyQt6.QtWidgets import QMainWindow, QMessageBox

from rnnscope.app.panels.training import TrainingPanel

SAVE, DISCARD, CANCEL = "save", "discard", "cancel"
PAUSE_WAIT_MS = 10_000  # a training iteration is far shorter; a hung worker must not hang the prompt
# only these lose the weights while training runs or is paused (a new model shown then keeps the trainer)
ALWAYS_LOST = ("quit", "reset training", "open another model")


def ask_with_dialog(window: QMainWindow, what: str) -> str:
    """The modal question: :data:`SAVE`, :data:`DISCARD` or :data:`CANCEL`."""
    buttons = QMessageBox.StandardButton
    box = QMessageBox(
        QMessageBox.Icon.Question,
        "Unsaved trained weights",
        f"The trained weights have not been saved. Save them before you {what}?",
        buttons.Save | buttons.Discard | buttons.Cancel,
        window,
    )
    box.setDefaultButton(buttons.Save)
    answer = box.exec()
    return {buttons.Save.value: SAVE, buttons.Discard.value: DISCARD}.get(answer, CANCEL)


class UnsavedWeightsGuard(QObject):
    """Asks before ``training``'s unsaved weights are lost; ``confirm(what)`` says whether to go on.

    *Save* takes a path from ``ask_save_path()`` (None: cancelled) and writes with
    ``save_to(path)`` (True when written): File > Save checkpoint's own dialog and writer.
    ``ask(what)`` puts the question: a modal dialog, or with ``dialogs=False`` (windows that must
    never block, as the checkpoint actions' own flag) no question and the weights discarded, as
    before there was a prompt; tests set ``ask`` to answer it themselves.
    """

    def __init__(
        self,
        window: QMainWindow,
        training: TrainingPanel,
        ask_save_path: Callable[[], str | None],
        save_to: Callable[[str], bool],
        dialogs: bool = True,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.training = training
        self.ask_save_path = ask_save_path
        self.save_to = save_to
        self.ask: Callable[[str], str] = (lambda what: ask_with_dialog(window, what)) if dialogs else _discard
        self.asked: list[str] = []  # what the user was asked about, in order
        self._asking = False
        # installed last, this filter sees a close before the panels' shutdown filter and the window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject | None, event: QEvent | None) -> bool:  # noqa: N802 - Qt API
        """A close (File > Quit, Ctrl+Q, the title bar, Ctrl-C in the terminal) that the user
        cancels goes no further: training, settings and window stay as they are."""
        if watched is self.window and event is not None and event.type() == QEvent.Type.Close:
            if not self.confirm("quit"):
                event.ignore()
                return True
        return False

    def would_lose(self, what: str) -> bool:
        if not self.training.has_unsaved_weights():
            return False
        return what in ALWAYS_LOST or self.training.state in ("idle", "stopped")

    def confirm(self, what: str) -> bool:
        """Go on with ``what``? True at once when nothing would be lost."""
        if not self.would_lose(what):
            return True
        if self._asking:  # a second close (Ctrl-C again) while the question is open: it answers
            return False
        self.asked.append(what)
        self._asking = True
        try:
            answer = self.ask(what)
        finally:
            self._asking = False
        if answer == DISCARD:
            return True
        if answer == SAVE:
            return self._save()
        return False

    def _save(self) -> bool:
        """Pause a running training (its trainer is read only between iterations), then save it."""
        if self.training.state == "running":
            loop = QEventLoop()
            self.training.state_changed.connect(loop.quit)
            QTimer.singleShot(PAUSE_WAIT_MS, loop.quit)
            self.training.pause()
            if self.training.state == "running":
                loop.exec()
            self.training.state_changed.disconnect(loop.quit)
        path = self.ask_save_path()
        return path is not None and self.save_to(path)


def _discard(_what: str) -> str:
    return DISCARD
