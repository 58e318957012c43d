"""Above the docks: a message line (errors, notes, NaN reports) and the sequence strip."""

from __future__ import annotations

from PyQt6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

from rnnscope.app.panels.strip import PredictionStrip
from rnnscope.app.session import Session

MESSAGE_ROOM = 44  # pixels under the strip for a two-line message


class Header(QWidget):
    """The window's central widget, as tall as its rows: every panel is a dock below it.

    ``styled``: the window has the style sheet, which colours the message (``QLabel#message``);
    without it the message gets its red here.
    """

    def __init__(self, styled: bool, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        self.message_label = QLabel()
        self.message_label.setObjectName("message")  # red and bold in style.qss
        self.message_label.setWordWrap(True)
        if not styled:
            self.message_label.setStyleSheet("color: #b71c1c; font-weight: bold;")  # still an error colour
        self.message_label.hide()
        layout.addWidget(self.message_label)
        self.strip_host = QVBoxLayout()
        layout.addLayout(self.strip_host)
        self.strip: PredictionStrip | None = None
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)

    def show_message(self, text: str) -> None:
        """``text`` over the panels; an empty text hides the line."""
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the strip, plus room for a message while one is shown: the docks get the rest."""
        if self.strip is not None:
            room = MESSAGE_ROOM if self.message_label.text() else 0
            self.setMaximumHeight(self.strip.maximumHeight() + room + 6)

    def show_sequence(self, session: Session, in_place: bool) -> None:
        """Inputs, targets and predictions of ``session``: in the same strip (``in_place``, other
        weights on the same kind of sequence) or in a new one."""
        trace = session.trace
        probs = trace["output/probs"].row(0) if "output/probs" in trace else None  # (T, O)
        symbols = list(session.task.output_names) or None
        loss = session.model.config.loss
        labels = session.input_labels, session.target_labels
        if in_place and self.strip is not None:
            self.strip.set_data(*labels, probs, symbols, loss)
            return
        if self.strip is not None:
            self.strip.deleteLater()
            self.strip_host.removeWidget(self.strip)
        self.strip = PredictionStrip(*labels, probs, symbols, loss=loss)
        self.strip_host.addWidget(self.strip)
        # the strip takes the height of its rows, the heatmaps all the rest
        self._fit_height()
