"""What the training panel looks like: its widgets by name and their layout, with no training logic.

Top to bottom, in rows that wrap to the dock's width: the run buttons, optimiser, learning
rate and clipping (the rest behind *More*); the status line; the divergence warning; the
snapshot slider; the curves above the text samples. The curves are made when the panel is
first painted (or asked for): it opens as a tab behind the output, and the window's first
paint does not wait for them.
"""

from __future__ import annotations

from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QLabel, QVBoxLayout, QWidget

from rnnscope.app.deferred import MadeWhenShown
from rnnscope.app.panels.training.controls import RunButtons, SettingsForm, SnapshotRow, samples_under
from rnnscope.app.panels.training.plots import TrainingPlots, with_key
from rnnscope.app.panels.training.warning import WarningBar
from rnnscope.app.training_worker import WeightSnapshot


class TrainingLayout(QWidget):
    """The training panel's widgets, laid out; :class:`~.panel.TrainingPanel` gives them life."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.buttons = RunButtons()
        buttons = self.buttons
        self.start_button, self.pause_button = buttons.start_button, buttons.pause_button
        self.step_button, self.stop_button = buttons.step_button, buttons.stop_button
        self.reset_button, self.show_button = buttons.reset_button, buttons.show_button
        self.show_when_paused = buttons.show_when_paused
        # the run buttons lead the settings' wrapping rows; "show when paused" waits behind More
        self.form = SettingsForm(buttons.buttons(), [self.show_when_paused])
        # the controls by name, as the panel's own (tests, scripts and the checkpoint actions set them)
        form = self.form
        self.optimiser, self.learning_rate, self.momentum = form.optimiser, form.learning_rate, form.momentum
        self.clip_norm, self.batch_size, self.length = form.clip_norm, form.batch_size, form.length
        self.iterations, self.sample_every = form.iterations, form.sample_every
        self.snapshot_every, self.seed = form.snapshot_every, form.seed

        self.status = QLabel("Not started.")
        self.status.setWordWrap(True)  # a long message takes two lines, never the dock's width
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.warning = WarningBar()  # divergence: stays in view while the status moves on
        self.snapshot_row = SnapshotRow()
        self.snapshot_slider, self.snapshot_label = self.snapshot_row.slider, self.snapshot_row.label
        self._plots: TrainingPlots | None = None
        self._curves = MadeWhenShown(lambda: self.plots)

        layout = QVBoxLayout(self)
        for widget in (self.form, self.status, self.warning):
            layout.addWidget(widget)
        layout.addLayout(self.snapshot_row)
        splitter, self.samples = samples_under(self._curves)
        layout.addWidget(splitter, 1)

    @property
    def plots(self) -> TrainingPlots:
        """The training curves (made when first needed)."""
        if self._plots is None:
            self._plots = TrainingPlots()
            self._curves.hold(with_key(self._plots))
        return self._plots

    @property
    def snapshots(self) -> list[WeightSnapshot]:
        """The weight copies kept every "Snapshot every" iterations (thinned past 200)."""
        return self.snapshot_row.snapshots
