"""The check's notes under the summary: what the engine says about the result, and a re-check.

The notes are the result's own sentences (a float32 model checked as a float64
copy, a slice whose gradient is negligible for the loss, with its numbers).
When a larger step would judge the negligible slices, a button offers to check
again with it (:func:`~rnnscope.engine.gradcheck.suggested_step`).
"""

from __future__ import annotations

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QScrollArea, QWidget

from rnnscope.engine.gradcheck import GradcheckResult, negligible_rows, suggested_step

# lines of notes shown before they scroll: a narrow dock keeps its room for the table
VISIBLE_LINES = 3


class CheckNotes(QWidget):
    """The notes of a result, one per line, and "Check again with step h" when that would help.

    Signal: ``retry(float)`` with the suggested step, when the button is pressed.
    """

    retry = pyqtSignal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.text.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        scroll = QScrollArea()
        scroll.setWidget(self.text)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setMaximumHeight(VISIBLE_LINES * self.text.fontMetrics().lineSpacing() + 6)
        self.button = QPushButton()
        self.button.setToolTip(
            "a larger step shrinks the rounding part of the numerical allowance (it falls as 1 / h)"
        )
        self.button.clicked.connect(self._retry)
        self.button.hide()
        self.step: float | None = None
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(scroll, 1)
        layout.addWidget(self.button)
        self.hide()

    def show_result(self, result: GradcheckResult | None) -> None:
        """The notes of ``result`` (hidden when there are none)."""
        notes = [] if result is None else result.notes
        self.text.setText("<br>".join(f"&bull; {_escape(note)}" for note in notes))
        self.step = None if result is None else suggested_step(negligible_rows(result.rows), result.step)
        if self.step is not None and result is not None and self.step > result.step:
            self.button.setText(f"Check again with step {self.step:g}")
            self.button.show()
        else:
            self.step = None
            self.button.hide()
        self.setVisible(bool(notes))

    def _retry(self) -> None:
        if self.step is not None:
            self.retry.emit(self.step)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
