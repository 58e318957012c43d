"""The main window's shared step cursor: where it is, moving it, and playback.

The cursor itself lives in the step bar (:class:`~.stepper.Stepper`); a move reaches every
panel in view (:class:`~.docking.PanelDocks`), the sequence strip and the unit plot, and is
announced with ``step_changed(step)``. Nothing is re-traced on a step.
"""

from __future__ import annotations

from PyQt6.QtCore import pyqtSignal

from rnnscope.app.window.panel_window import PanelWindow


class SteppingWindow(PanelWindow):
    """A window of panels that all follow one step cursor (the subclass makes the step bar and
    connects its ``step_changed`` to :meth:`_move_cursor`)."""

    step_changed = pyqtSignal(int)

    @property
    def step(self) -> int:
        """The shared cursor (-1 between a new trace and its first step)."""
        return self.stepper.step

    @property
    def steps(self) -> int:
        return self.session.trace.steps if self.session else 0

    @property
    def playing(self) -> bool:
        return self.stepper.playing

    def set_step(self, step: int) -> None:
        """Move the shared cursor: panels move their marker or swap their matrix, nothing is re-traced."""
        self.stepper.set_step(step)

    def next_step(self) -> None:
        self.stepper.next_step()

    def toggle_play(self) -> None:
        self.stepper.toggle_play()

    def _move_cursor(self, step: int) -> None:
        self.docks.set_step(step)
        if self.strip is not None:
            self.strip.set_step(step)
        self.step_changed.emit(step)
