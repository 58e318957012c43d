"""The training panel's controls: the settings form, the run buttons and the snapshot slider.

They wrap onto as many rows as the dock's width needs (:mod:`rnnscope.app.compact`): a dock of
the window's right column is under 500 pixels wide at 1280 x 720.

They hold no training logic: the panel reads them (:meth:`SettingsForm.settings`),
enables them by state (:meth:`RunButtons.show_state`) and fills them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PyQt6.QtCore import QSize, Qt, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.compact import MoreButton, flow, labelled
from rnnscope.app.panels.training.settings import (
    DEFAULT_LEARNING_RATES,
    OPTIMISERS,
    USES_MOMENTUM,
    TrainingSettings,
    float_in,
    positive_float,
)
from rnnscope.app.training_worker import WeightSnapshot
from rnnscope.engine import limits
from rnnscope.engine.checkpoint import Checkpoint

MAX_SNAPSHOTS = 200


def _spin(low: int, high: int, value: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tooltip)
    spin.setGroupSeparatorShown(True)
    return spin


class _SamplesView(QPlainTextEdit):
    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        # five lines: the curves come first in a short dock (the splitter gives the samples more)
        return QSize(super().sizeHint().width(), 5 * self.fontMetrics().lineSpacing() + 12)


def samples_under(plots: QWidget) -> tuple[QSplitter, QPlainTextEdit]:
    """``plots`` above a box for the text samples of character models (the last 400 lines kept):
    the splitter holding both, and the samples' text view."""
    samples = _SamplesView()
    samples.setReadOnly(True)
    samples.setMaximumBlockCount(400)
    samples.setFont(QFont("DejaVu Sans Mono", 9))
    samples.setPlaceholderText("Text samples of character models appear here while training.")
    box = QGroupBox("Samples")
    QVBoxLayout(box).addWidget(samples)
    splitter = QSplitter(Qt.Orientation.Vertical)
    splitter.addWidget(plots)
    splitter.addWidget(box)
    splitter.setSizes([520, 140])
    return splitter, samples


def _line(text: str, tooltip: str) -> QLineEdit:
    line = QLineEdit(text)
    line.setToolTip(tooltip)
    line.setMaximumWidth(80)
    return line


class SettingsForm(QWidget):
    """The optimiser and its settings, the batch layout, limits and seed, in rows that wrap to the
    dock's width: the run buttons (``leading``), optimiser, learning rate and clipping, then the
    rest behind *More* (``extra`` first: what is rarely changed)."""

    def __init__(
        self, leading: Sequence[QWidget] = (), extra: Sequence[QWidget] = (), parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.optimiser = QComboBox()
        self.optimiser.addItems(OPTIMISERS)
        self.optimiser.setToolTip("adagrad: the from-scratch char-RNN default; rmsprop: the DNC default")
        self.learning_rate = _line("0.1", "learning rate")
        self.momentum = _line("0.9", "momentum (SGD, RMSProp); 0 = none")
        self.clip_norm = _line("5", "clip the global gradient norm to this; 0 = no clipping")
        # the command line's bounds (rnnscope train --batch / --seq-len)
        self.batch_size = _spin(limits.BATCH.low, limits.BATCH.high, 16, "sequences per batch B")
        self.length = _spin(
            limits.LENGTH.low, limits.LENGTH.high, 25, "steps per chunk T (truncated BPTT length for text)"
        )
        self.iterations = _spin(0, 10_000_000, 0, "stop after this many iterations; 0 = until stopped")
        self.sample_every = _spin(
            0, 1_000_000, 200, "char models: a text sample every N iterations; 0 = never"
        )
        self.snapshot_every = _spin(
            0, 1_000_000, 0, "keep a copy of the weights every K iterations; 0 = never"
        )
        self.seed = _spin(0, 2**31 - 1, 0, "seeds the batches")
        self.optimiser.currentTextChanged.connect(self._optimiser_changed)
        self._lay_out(leading, extra)
        self._optimiser_changed(self.optimiser.currentText())

    def _lay_out(self, leading: Sequence[QWidget], extra: Sequence[QWidget]) -> None:
        self.more = QWidget()
        rare = (
            ("Momentum", self.momentum),
            ("Batch B", self.batch_size),
            ("Length T", self.length),
            ("Iterations", self.iterations),
            ("Sample every", self.sample_every),
            ("Snapshot every", self.snapshot_every),
            ("Seed", self.seed),
        )
        self.more.setLayout(flow(*extra, *(labelled(text, widget) for text, widget in rare)))
        self.more_button = MoreButton(
            self.more, "More", "momentum, batch layout, iterations, samples, snapshots and seed"
        )
        main = flow(
            *leading,
            labelled("Optimiser", self.optimiser),
            labelled("LR", self.learning_rate),
            labelled("Clip", self.clip_norm),
            self.more_button,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(main)
        layout.addWidget(self.more)

    def _optimiser_changed(self, name: str) -> None:
        self.learning_rate.setText(f"{DEFAULT_LEARNING_RATES.get(name, 0.01):g}")
        self.momentum.setEnabled(USES_MOMENTUM.get(name, False))

    def settings(self) -> TrainingSettings:
        """The settings in the controls (``ValueError`` naming a bad field)."""
        momentum = self.momentum.isEnabled()
        return TrainingSettings(
            optimiser=self.optimiser.currentText(),
            learning_rate=positive_float(self.learning_rate.text(), "the learning rate"),
            momentum=float_in(self.momentum.text(), "the momentum", 0.0, 1.0) if momentum else 0.0,
            clip_norm=float_in(self.clip_norm.text(), "the clip norm", 0.0, math.inf),
            batch_size=self.batch_size.value(),
            length=self.length.value(),
            iterations=self.iterations.value(),
            sample_every=self.sample_every.value(),
            snapshot_every=self.snapshot_every.value(),
            seed=self.seed.value(),
        )

    def lock_run_layout(self, locked: bool) -> None:
        """Grey out what a trainer fixes once made (optimiser, batch layout, seed)."""
        for widget in (self.optimiser, self.batch_size, self.length, self.seed):
            widget.setEnabled(not locked)

    def show_checkpoint(self, checkpoint: Checkpoint) -> None:
        """The optimiser, batch layout, clipping and seed of a saved run, so Start continues it exactly."""
        if checkpoint.optimizer_name in OPTIMISERS:
            self.optimiser.setCurrentText(checkpoint.optimizer_name)
            rate = checkpoint.optimizer_state
            if "lr" in rate:
                self.learning_rate.setText(repr(float(rate["lr"])))
            if "momentum" in rate:
                self.momentum.setText(repr(float(rate["momentum"])))
        saved = checkpoint.trainer_state or {}
        for spin, key in ((self.batch_size, "batch_size"), (self.length, "seq_len"), (self.seed, "seed")):
            if isinstance(saved.get(key), int):
                spin.setValue(saved[key])
        if "clip_norm" in saved:
            self.clip_norm.setText(repr(float(saved["clip_norm"] or 0)))


class RunButtons:
    """Start / Pause-Resume / Step / Stop / Reset / Show now (compact buttons: they wrap with the
    settings), and "Show in stepping view when paused"."""

    def __init__(self) -> None:
        self.start_button = _button("Start", "start training (or continue after Stop)")
        self.pause_button = _button("Pause", "pause training (Resume goes on with the settings shown)")
        self.step_button = _button("Step", "run exactly one iteration, then stay paused")
        self.stop_button = _button("Stop", "stop training (Continue starts a new run of the same weights)")
        self.reset_button = _button(
            "Reset", "forget the trained weights and curves; start again from the shown model"
        )
        self.show_button = _button("Show now", "show a copy of the current weights in the stepping view")
        self.show_when_paused = QCheckBox("Show when paused")
        self.show_when_paused.setToolTip("show a copy of the weights in the stepping view on every pause")
        self.show_when_paused.setChecked(True)

    def buttons(self) -> list[QToolButton]:
        return [
            self.start_button,
            self.pause_button,
            self.step_button,
            self.stop_button,
            self.reset_button,
            self.show_button,
        ]

    def show_state(self, state: str, has_trainer: bool) -> None:
        """Enable and name the buttons for ``state`` (idle, running, paused, stopped)."""
        active = state in ("running", "paused")
        self.start_button.setEnabled(not active)
        self.start_button.setText("Continue" if has_trainer and not active else "Start")
        self.pause_button.setEnabled(active)
        self.pause_button.setText("Resume" if state == "paused" else "Pause")
        self.step_button.setEnabled(state != "running")
        self.stop_button.setEnabled(active)
        self.reset_button.setEnabled(not active and has_trainer)
        self.show_button.setEnabled(has_trainer)


def _button(text: str, tooltip: str) -> QToolButton:
    """A push button no wider than its text (a ``QPushButton`` is at least ~80 pixels)."""
    button = QToolButton()
    button.setText(text)
    button.setToolTip(tooltip)
    button.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # reached with Tab, pressed with Space
    button.setSizePolicy(QSizePolicy.Policy.Minimum, QSizePolicy.Policy.Fixed)
    return button


class SnapshotRow(QHBoxLayout):
    """The weight copies kept while training and a slider over them; ``chosen`` emits the one picked."""

    chosen = pyqtSignal(object)

    def __init__(self) -> None:
        super().__init__()
        self.snapshots: list[WeightSnapshot] = []
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setEnabled(False)
        self.slider.setToolTip("weights kept every K iterations: drag to show the model at that iteration")
        self.slider.valueChanged.connect(self._slider_moved)
        self.label = QLabel("no snapshots")
        self.addWidget(QLabel("Snapshot:"))
        self.addWidget(self.slider, 1)
        self.addWidget(self.label)

    def add(self, snapshot: WeightSnapshot) -> None:
        self.snapshots.append(snapshot)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            # keep the first, then every other one: the slider still spans the whole run
            self.snapshots = self.snapshots[:1] + self.snapshots[2::2]
        self._update_slider()

    def clear(self) -> None:
        self.snapshots.clear()
        self._update_slider()

    def _update_slider(self) -> None:
        count = len(self.snapshots)
        self.slider.blockSignals(True)
        self.slider.setRange(0, max(count - 1, 0))
        self.slider.setValue(max(count - 1, 0))
        self.slider.blockSignals(False)
        self.slider.setEnabled(count > 0)
        self.label.setText(
            f"iteration {self.snapshots[-1].iteration} ({count} kept)" if count else "no snapshots"
        )

    def _slider_moved(self, index: int) -> None:
        if 0 <= index < len(self.snapshots):
            snapshot = self.snapshots[index]
            self.label.setText(f"iteration {snapshot.iteration} ({len(self.snapshots)} kept)")
            self.chosen.emit(snapshot)

    def choose_nearest(self, iteration: int) -> WeightSnapshot:
        """Move the slider to the kept snapshot nearest ``iteration`` (``chosen`` emits it)."""
        if not self.snapshots:
            raise ValueError("no snapshots were kept: set 'Snapshot every' before training")
        index = int(np.argmin([abs(s.iteration - iteration) for s in self.snapshots]))
        if index == self.slider.value():
            self._slider_moved(index)
        else:
            self.slider.setValue(index)
        return self.snapshots[index]
