"""*Options…* of the model bar: the shared model options the bar has no room for.

The embedding width, the GRU's convention, the LSTM's forget bias, the loss head,
many-to-one and the precision: the options ``rnnscope``, ``rnnscope gradcheck`` and
``rnnscope train`` share (:mod:`rnnscope.options`), with the same bounds
(:mod:`rnnscope.engine.limits`). *OK* asks ``check`` first, which answers with the
commands' own error (``--loss mse does not fit the chars task's targets...``) or
``None``; a problem is shown in the dialog, which stays open.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.session import SessionSpec
from rnnscope.app.widgets import spin_box
from rnnscope.engine import limits
from rnnscope.engine.heads import LOSSES
from rnnscope.engine.models.config import CUSTOM_KIND, DTYPES, FORGET_BIAS_BOUND

TASKS_OWN = "the task's"
SCORING = ((TASKS_OWN, None), ("every step", False), ("the last step only", True))
CONVENTIONS = {
    "cho": "cho: reset before the recurrent matmul",
    "pytorch": "pytorch: reset after it, with bh (Keras reset_after)",
}


@dataclass(frozen=True)
class ModelOptions:
    """The options of a :class:`SessionSpec` that live in this dialog."""

    embedding: int
    gru_convention: str
    forget_bias: float
    loss: str | None
    many_to_one: bool | None
    dtype: str

    @classmethod
    def of(cls, spec: SessionSpec) -> ModelOptions:
        return cls(
            spec.embedding, spec.gru_convention, spec.forget_bias, spec.loss, spec.many_to_one, spec.dtype
        )

    def applied(self, spec: SessionSpec) -> SessionSpec:
        """``spec`` with these options."""
        return replace(
            spec,
            embedding=self.embedding,
            gru_convention=self.gru_convention,
            forget_bias=self.forget_bias,
            loss=self.loss,
            many_to_one=self.many_to_one,
            dtype=self.dtype,
        )

    def changed(self) -> list[str]:
        """The options that differ from their defaults, as the command line spells them."""
        default = ModelOptions.of(SessionSpec())
        flags = []
        for name in ("embedding", "gru_convention", "forget_bias", "loss", "many_to_one", "dtype"):
            value = getattr(self, name)
            if value != getattr(default, name):
                flags.append(f"--{name.replace('_', '-')} {_spelled(value)}")
        return flags


def _spelled(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    return f"{value:g}" if isinstance(value, float) else str(value)


class ModelOptionsDialog(QDialog):
    """The options of ``spec`` (a model of kind ``spec.model``), checked by ``check`` on *OK*."""

    def __init__(
        self,
        spec: SessionSpec,
        check: Callable[[SessionSpec], str | None],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Model options")
        self.setObjectName("dialog:model-options")
        self.base = spec
        self.check = check
        self.embedding_box = spin_box(limits.EMBEDDING.low, limits.EMBEDDING.high, spec.embedding)
        self.embedding_box.setSpecialValueText("none (one-hot inputs)")
        conventions = [(text, name) for name, text in CONVENTIONS.items()]
        self.convention_box = _combo(conventions, spec.gru_convention)
        self.forget_bias_box = QDoubleSpinBox()
        self.forget_bias_box.setRange(-FORGET_BIAS_BOUND, FORGET_BIAS_BOUND)
        self.forget_bias_box.setDecimals(2)
        self.forget_bias_box.setSingleStep(0.5)
        self.forget_bias_box.setValue(spec.forget_bias)
        self.loss_box = _combo([(TASKS_OWN, None), *((loss, loss) for loss in LOSSES)], spec.loss)
        self.scoring_box = _combo(list(SCORING), spec.many_to_one)
        self.dtype_box = _combo([(dtype, dtype) for dtype in DTYPES], spec.dtype)
        self.problem = QLabel("")
        self.problem.setObjectName("problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #b00020;")
        self.problem.hide()
        self._lay_out(spec.model)

    def _lay_out(self, kind: str) -> None:
        form = QFormLayout()
        for label, widget, tip, kinds in (
            ("embedding", self.embedding_box, "an embedding table E (V, width) before layer 0", None),
            ("GRU convention", self.convention_box, "where the GRU's reset gate acts", ("gru",)),
            ("forget bias", self.forget_bias_box, "the forget gate's initial bias", ("lstm", "dnc")),
            ("loss", self.loss_box, "the loss head (the task's fits its targets)", None),
            ("scored steps", self.scoring_box, "many-to-one: only the last step is scored", None),
            ("precision", self.dtype_box, "float32 models are checked as a float64 copy", None),
        ):
            widget.setToolTip(tip)
            # an option the kind does not have stays visible, greyed, as the DNC sizes in the bar
            widget.setEnabled(kinds is None or kind == CUSTOM_KIND or kind in kinds)
            form.addRow(label, widget)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        defaults = buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults)
        if defaults is not None:
            defaults.clicked.connect(lambda: self.show_options(ModelOptions.of(SessionSpec())))
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.problem)
        layout.addWidget(buttons)

    def options(self) -> ModelOptions:
        """The options as the dialog shows them."""
        return ModelOptions(
            embedding=self.embedding_box.value(),
            gru_convention=str(self.convention_box.currentData()),
            forget_bias=float(self.forget_bias_box.value()),
            loss=self.loss_box.currentData(),
            many_to_one=self.scoring_box.currentData(),
            dtype=str(self.dtype_box.currentData()),
        )

    def show_options(self, options: ModelOptions) -> None:
        self.embedding_box.setValue(options.embedding)
        _pick(self.convention_box, options.gru_convention)
        self.forget_bias_box.setValue(options.forget_bias)
        _pick(self.loss_box, options.loss)
        _pick(self.scoring_box, options.many_to_one)
        _pick(self.dtype_box, options.dtype)

    def spec(self) -> SessionSpec:
        """The spec the dialog was opened on, with the options it shows."""
        return self.options().applied(self.base)

    def accept(self) -> None:
        """Close with these options, unless ``check`` finds a problem (shown; the dialog stays)."""
        problem = self.check(self.spec())
        if problem:
            self.problem.setText(problem)
            self.problem.show()
            return
        super().accept()


def _combo(items: Sequence[tuple[str, object]], current: object) -> QComboBox:
    combo = QComboBox()
    for text, data in items:
        combo.addItem(text, data)
    _pick(combo, current)
    return combo


def _pick(combo: QComboBox, data: object) -> None:
    for index in range(combo.count()):
        if combo.itemData(index) == data:
            combo.setCurrentIndex(index)
            return
