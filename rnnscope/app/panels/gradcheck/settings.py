"""The check's settings as the user types them: mode, samples / directions, seed, step, thresholds,
and whether to check the inputs and the initial state too.

They wrap onto as many rows as the dock's width needs (:mod:`rnnscope.app.compact`): a dock of
the window's right column is under 500 pixels wide at 1280 x 720."""

from __future__ import annotations

import math

import numpy as np
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.compact import MoreButton, flow, labelled
from rnnscope.app.gradcheck_worker import GradcheckRequest
from rnnscope.engine.gradcheck import MODES, CheckOptions, Thresholds
from rnnscope.report import FORMATS


def _float_edit(value: float, tooltip: str) -> QLineEdit:
    edit = QLineEdit(f"{value:g}")
    edit.setToolTip(tooltip)
    edit.setMaximumWidth(90)
    return edit


def parse_float(text: str, what: str) -> float:
    """``text`` as a finite number, or a ``ValueError`` naming ``what``."""
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not math.isfinite(value):
        raise ValueError(f"{what} must be finite, got {text!r}")
    return value


class CheckSettings(QWidget):
    """Every setting of the check, in rows that wrap to the dock's width: mode, the chosen mode's
    samples or directions, step and the inputs box; the seed and thresholds behind *More*.

    :meth:`options` reads them as :class:`CheckOptions` (a ``ValueError`` naming
    a bad field); only the field of the chosen mode (samples or directions) is shown.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        defaults = CheckOptions()
        self.mode = QComboBox()
        self.mode.addItems(MODES)
        self.mode.setToolTip(
            "sampled: a few elements per tensor / gate slice (always the largest gradient)\n"
            "full: every element\ndirectional: random unit directions, two forwards each"
        )
        self.samples = _spin_box(
            1, 100_000, defaults.samples, "elements per tensor or gate slice (sampled mode)"
        )
        self.directions = _spin_box(
            1, 1000, defaults.directions, "random directions per tensor or gate slice (directional mode)"
        )
        self.seed = _spin_box(0, 2**31 - 1, defaults.seed, "chooses the sampled elements and directions")
        limits = defaults.thresholds
        self.step = _float_edit(
            defaults.step,
            "finite-difference step h (scaled by max(1, |x|)); the differences at h, 2h and 4h are "
            "extrapolated, and h is divided by 10 where they do not behave",
        )
        self.ok_threshold = _float_edit(limits.ok, "relative error below this is ok")
        self.fail_threshold = _float_edit(limits.fail, "relative error above this fails")
        self.floor_threshold = _float_edit(
            limits.floor, "'too small' below floor x the gate slice's largest |gradient|"
        )
        self.kink_threshold = _float_edit(
            limits.kink, "one-sided differences disagreeing by more mark a kink"
        )
        self.inputs = QCheckBox("Inputs and state")
        self.inputs.setChecked(defaults.with_inputs)
        self.inputs.setToolTip(
            "also check the gradients of the inputs and of the initial state (h, c, memory...)"
        )
        self.mode.currentTextChanged.connect(self._mode_changed)
        self._lay_out()
        self._mode_changed(self.mode.currentText())

    def _lay_out(self) -> None:
        self.more = QWidget()
        self.more.setLayout(
            flow(
                labelled("Seed", self.seed),
                labelled("OK <", self.ok_threshold),
                labelled("Fail >", self.fail_threshold),
                labelled("Floor", self.floor_threshold),
                labelled("Kink", self.kink_threshold),
            )
        )
        self.more_button = MoreButton(self.more, "More", "the seed and the status thresholds")
        self._samples_pair = labelled("Samples", self.samples)
        self._directions_pair = labelled("Directions", self.directions)
        main = flow(
            labelled("Mode", self.mode),
            self._samples_pair,
            self._directions_pair,
            labelled("Step h", self.step),
            self.inputs,
            self.more_button,
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(main)
        layout.addWidget(self.more)

    def _mode_changed(self, mode: str) -> None:
        # only the chosen mode's count is shown (full mode has none)
        self.samples.setEnabled(mode == "sampled")
        self.directions.setEnabled(mode == "directional")
        self._samples_pair.setHidden(mode != "sampled")
        self._directions_pair.setHidden(mode != "directional")

    def thresholds(self) -> Thresholds:
        """The thresholds typed in (``ValueError`` naming a bad field)."""
        values = {}
        for name, edit in (
            ("ok", self.ok_threshold),
            ("fail", self.fail_threshold),
            ("floor", self.floor_threshold),
            ("kink", self.kink_threshold),
        ):
            values[name] = parse_float(edit.text(), f"the {name} threshold")
        return Thresholds(**values)

    def options(self) -> CheckOptions:
        """Every setting as :class:`CheckOptions` (``ValueError`` naming a bad field).

        A float32 model is checked as a float64 copy (the engine's default).
        """
        step = parse_float(self.step.text(), "the step h")
        if not step > 0:
            raise ValueError(f"the step h must be positive, got {step}")
        return CheckOptions(
            mode=self.mode.currentText(),
            samples=self.samples.value(),
            directions=self.directions.value(),
            seed=self.seed.value(),
            step=step,
            thresholds=self.thresholds(),
            with_inputs=self.inputs.isChecked(),
        )

    def request(self, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None) -> GradcheckRequest:
        """A request to check the batch ``inputs`` ``(T, B, D)``, ``targets``, ``mask`` ``(T, B)``."""
        return GradcheckRequest(inputs=inputs, targets=targets, mask=mask, options=self.options())


class CheckButtons:
    """Run / Cancel and the report buttons (format, Export..., Open report...) in a row that wraps
    to the dock's width, and the progress bar under them as wide as the dock: ``rows``."""

    def __init__(self) -> None:
        self.run = QPushButton("Run check")
        self.cancel = QPushButton("Cancel")
        self.progress = QProgressBar()
        self.progress.setFormat("%v / %m")
        self.format = QComboBox()
        self.format.addItems(list(FORMATS))
        self.format.setCurrentText("html")
        self.format.setToolTip("report format")
        self.export = QPushButton("Export...")
        self.open = QPushButton("Open report...")
        self.open.setToolTip("show a JSON report written earlier (by this panel or rnnscope gradcheck)")
        self.rows = QVBoxLayout()
        self.rows.addLayout(flow(self.run, self.cancel, self.format, self.export, self.open))
        self.rows.addWidget(self.progress)


def _spin_box(low: int, high: int, value: int, tooltip: str) -> QSpinBox:
    box = QSpinBox()
    box.setRange(low, high)
    box.setValue(value)
    box.setToolTip(tooltip)
    return box
