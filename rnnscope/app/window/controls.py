"""The model bar: what to trace (model kind and sizes, layers, seed, task, corpus, length, typed text).

The sequence's source -- *Text file…*, the typed-sequence field and its Trace button --
belongs to these controls but sits in the step bar (:meth:`ModelControls.sequence_widgets`):
on a 1280-pixel screen the model bar has no room left for them, and a toolbar hides what
does not fit behind its » button. A class name of the user's own in the model picker is
elided to the picker's width (its tooltip has it whole). For the
same reason the other shared model options (embedding, GRU convention, forget bias, loss,
many-to-one, precision) are in the *Options…* dialog (:mod:`.model_options`). Every size
has the bounds of the command line (:mod:`rnnscope.engine.limits`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from PyQt6.QtCore import Qt, pyqtSignal
from PyQt6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QSpinBox,
    QToolBar,
    QWidget,
)

from rnnscope.app.session import TASK_LENGTHS, TEXT_TASKS, SessionSpec
from rnnscope.app.widgets import spin_box
from rnnscope.app.window.model_options import ModelOptions, ModelOptionsDialog
from rnnscope.app.window.trace_size import TEXT_FIELD_LENGTH
from rnnscope.engine import limits
from rnnscope.engine.models.config import CUSTOM_KIND, MODEL_KINDS, STACKED_KINDS
from rnnscope.engine.tasks import CORPORA, TASK_NAMES

FILE_TIP = "trace a sample of a UTF-8 text file (chars task)"
MODEL_TIP = "RNN, LSTM, GRU, DNC, or your own (File > Open model file)"
OPTIONS_TIP = "embedding, GRU convention, forget bias, loss, scored steps, precision"


def spec_numbers(spec: SessionSpec) -> tuple[int, ...]:
    """The numbers of ``spec`` a user edits, in the order of :meth:`ModelControls.number_boxes`."""
    return spec.hidden, spec.seed, spec.length, spec.slots, spec.width, spec.read_heads, spec.layers


def _limited(limit: limits.SizeLimit, value: int) -> QSpinBox:
    """A spin box with ``limit``'s bounds (the command line's) showing ``value``."""
    return spin_box(limit.low, limit.high, min(max(value, limit.low), limit.high))


class ModelControls(QToolBar):
    """Pickers and fields for a :class:`SessionSpec`.

    Emits ``retrace_requested`` when a pick changes (model, task, corpus), Trace is
    clicked or Enter is pressed in the text field; ``numbers_edited`` when a number
    field was left (the window re-traces if a number changed); ``text_file_picked(path)``
    from the *Text file…* dialog.
    """

    retrace_requested = pyqtSignal()
    numbers_edited = pyqtSignal()
    text_file_picked = pyqtSignal(str)

    def __init__(self, spec: SessionSpec, parent: QWidget | None = None) -> None:
        super().__init__("Model", parent)
        self.setObjectName("toolbar:model")
        self.model_box = QComboBox()
        # as wide as ten characters, whatever a user's class is called: the bar fits 1280 pixels
        self.model_box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.model_box.setMinimumContentsLength(10)
        for kind in MODEL_KINDS:
            self.model_box.addItem(kind, kind)
        self.own_class: str | None = None  # the class name of a model of the user's own, in the combo
        self.hidden_box = _limited(limits.HIDDEN, spec.hidden)
        self.layers_box = _limited(limits.LAYERS, spec.layers)
        self.seed_box = _limited(limits.SEED, spec.seed)
        self.slots_box = _limited(limits.SLOTS, spec.slots)
        self.width_box = _limited(limits.WIDTH, spec.width)
        self.heads_box = _limited(limits.READ_HEADS, spec.read_heads)
        self.options = ModelOptions.of(spec)  # what the Options… dialog edits
        self.options_button = QPushButton("Options…")
        self.options_dialog: ModelOptionsDialog | None = None
        # asked before the dialog's options are taken: the commands' error, or None (the window's)
        self.check_options: Callable[[SessionSpec], str | None] = lambda _spec: None
        self.task_box = _combo(TASK_NAMES, spec.task)
        self.corpus_box = _combo(tuple(CORPORA), spec.corpus)
        self.length_box = _limited(limits.LENGTH, spec.length)
        self.file_button = QPushButton("Text file…")
        self.file_button.setToolTip(spec.text_file or FILE_TIP)
        self.text_edit = QLineEdit()
        # Qt cuts a field at 32,767 characters unasked; one past the limit shows a text too long
        self.text_edit.setMaxLength(TEXT_FIELD_LENGTH)
        self.text_edit.setText(spec.text or "")
        self.text_edit.setPlaceholderText("type a sequence (chars, sentiment), Enter to trace")
        self.text_edit.setMinimumWidth(200)
        self.text_edit.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.trace_button = QPushButton("Trace")
        self.trace_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self._pick_model(spec.model)
        self._lay_out()
        self._connect()
        self._show_options(self.options)
        self.enable(spec.text_file)

    def _lay_out(self) -> None:
        for label, widget, tip in (
            ("model", self.model_box, MODEL_TIP),
            ("H", self.hidden_box, "hidden units (the DNC controller's LSTM size)"),
            ("L", self.layers_box, "stacked recurrent layers (RNN, LSTM, GRU)"),
            ("seed", self.seed_box, "seed of the weights and of the sampled sequence"),
            ("N", self.slots_box, "DNC memory slots"),
            ("W", self.width_box, "DNC memory width"),
            ("R", self.heads_box, "DNC read heads"),
            ("task", self.task_box, "what the sequence is"),
            ("corpus", self.corpus_box, "shipped text of the chars task"),
            ("length", self.length_box, "chars: characters; sine: steps; copy: items; recall: stored items"),
        ):
            caption = QLabel(f" {label} ")
            caption.setToolTip(tip)
            widget.setToolTip(tip)
            self.addWidget(caption)
            self.addWidget(widget)
            if widget is self.heads_box:
                self.addWidget(self.options_button)
        # numbers as wide as their largest useful value, not as 2**31: the bar fits 1280 pixels
        for box, digits in ((self.seed_box, 6), (self.length_box, 6), (self.hidden_box, 4)):
            box.setMaximumWidth(box.fontMetrics().horizontalAdvance("0" * digits) + 36)
        for box in (self.slots_box, self.width_box, self.heads_box):
            box.setMaximumWidth(box.fontMetrics().horizontalAdvance("0000") + 36)
        self.layers_box.setMaximumWidth(self.layers_box.fontMetrics().horizontalAdvance("00") + 36)

    def sequence_widgets(self) -> tuple[QPushButton, QLineEdit, QPushButton]:
        """*Text file…*, the typed-sequence field and the Trace button, for the window to place (the
        step bar)."""
        return self.file_button, self.text_edit, self.trace_button

    def _connect(self) -> None:
        self.file_button.clicked.connect(self._pick_text_file)
        self.options_button.clicked.connect(self.edit_options)
        self.trace_button.clicked.connect(lambda: self.retrace_requested.emit())
        self.text_edit.returnPressed.connect(lambda: self.retrace_requested.emit())
        for combo in (self.model_box, self.corpus_box):
            combo.currentTextChanged.connect(lambda _: self.retrace_requested.emit())
        self.task_box.currentTextChanged.connect(self._task_picked)
        for box in self.number_boxes():
            box.editingFinished.connect(lambda: self.numbers_edited.emit())

    def number_boxes(self) -> tuple[QSpinBox, ...]:
        """The number fields, in the order of :func:`spec_numbers`."""
        return (
            self.hidden_box,
            self.seed_box,
            self.length_box,
            self.slots_box,
            self.width_box,
            self.heads_box,
            self.layers_box,
        )

    # ------------------------------------------------------------------ the model kind
    def show_own_class(self, name: str | None) -> None:
        """List a model class of the user's own (``name``; ``None``: none) after the built-in kinds."""
        self.model_box.blockSignals(True)
        current = self.model_box.currentData()
        if self.model_box.count() > len(MODEL_KINDS):
            self.model_box.removeItem(len(MODEL_KINDS))
        if name is not None:
            self.model_box.addItem(name, CUSTOM_KIND)
            self.model_box.setItemData(len(MODEL_KINDS), "your own model class", Qt.ItemDataRole.ToolTipRole)
        self.own_class = name
        self.model_box.setToolTip(f"RNN, LSTM, GRU, DNC or your own class {name}" if name else MODEL_TIP)
        self._pick_model(current if current != CUSTOM_KIND or name is not None else "lstm")
        self.model_box.blockSignals(False)

    def _pick_model(self, kind: str) -> None:
        index = self.model_box.findData(kind)
        self.model_box.setCurrentIndex(max(index, 0))

    def model_kind(self) -> str:
        """The kind picked: a built-in kind, or ``"custom"`` for the user's class."""
        return str(self.model_box.currentData())

    # ------------------------------------------------------------------ the options dialog
    def edit_options(self) -> ModelOptionsDialog:
        """Open *Options…* (window-modal); its OK takes the options and asks for a re-trace."""
        base = replace(self.options.applied(SessionSpec()), model=self.model_kind())
        dialog = ModelOptionsDialog(self.spec_from(base), self.check_options, self)
        dialog.accepted.connect(lambda: self._options_taken(dialog.options()))
        self.options_dialog = dialog
        dialog.open()
        return dialog

    def _options_taken(self, options: ModelOptions) -> None:
        if options != self.options:
            self._show_options(options)
            self.retrace_requested.emit()

    def _show_options(self, options: ModelOptions) -> None:
        self.options = options
        changed = options.changed()
        self.options_button.setText(f"Options ({len(changed)})…" if changed else "Options…")
        self.options_button.setToolTip(OPTIONS_TIP + ("\n" + "\n".join(changed) if changed else ""))

    def spec_from(self, base: SessionSpec) -> SessionSpec:
        """``base`` (the text file, which is no control) with everything the controls show."""
        return replace(
            self.options.applied(base),
            model=self.model_kind(),
            task=self.task_box.currentText(),
            corpus=self.corpus_box.currentText(),
            text=self.text_edit.text() or None,
            hidden=self.hidden_box.value(),
            seed=self.seed_box.value(),
            length=self.length_box.value(),
            slots=self.slots_box.value(),
            width=self.width_box.value(),
            read_heads=self.heads_box.value(),
            layers=self.layers_box.value(),
        )

    def numbers_differ(self, spec: SessionSpec) -> bool:
        """Does some number field show another value than ``spec``'s?"""
        # a re-trace follows an edit only when a number really changed
        return tuple(box.value() for box in self.number_boxes()) != spec_numbers(spec)

    def show_spec(self, spec: SessionSpec) -> None:
        """Show ``spec`` without asking for another re-trace."""
        self.model_box.blockSignals(True)
        self._pick_model(spec.model)
        self.model_box.blockSignals(False)
        self._show_options(ModelOptions.of(spec))
        for combo, text in (
            (self.task_box, spec.task),
            (self.corpus_box, spec.corpus),
        ):
            combo.blockSignals(True)
            combo.setCurrentText(text)
            combo.blockSignals(False)
        for box, value in zip(self.number_boxes(), spec_numbers(spec), strict=True):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self.enable(spec.text_file)

    def show_text_file(self, path: str | None) -> None:
        """``path`` (``None``: the shipped corpus again) is traced next: the chars task, silently."""
        self.file_button.setToolTip(path or FILE_TIP)
        self.task_box.blockSignals(True)
        self.task_box.setCurrentText("chars")
        self.task_box.blockSignals(False)

    def enable(self, text_file: str | None) -> None:
        """Only the controls that mean something for the picked model and task are enabled."""
        kind = self.model_kind()
        for box in (self.slots_box, self.width_box, self.heads_box):
            box.setEnabled(kind == "dnc")
        self.layers_box.setEnabled(kind in (*STACKED_KINDS, CUSTOM_KIND))
        task = self.task_box.currentText()
        chars = task == "chars"
        self.corpus_box.setEnabled(chars and not text_file)
        self.file_button.setEnabled(chars)
        self.text_edit.setEnabled(task in TEXT_TASKS)
        self.length_box.setEnabled(TASK_LENGTHS.get(task, 1) is not None)

    def _task_picked(self, task: str) -> None:
        """A new task starts at its own default length (60 characters are not 60 items to copy)."""
        default = TASK_LENGTHS.get(task)
        if default is not None:
            self.length_box.blockSignals(True)
            self.length_box.setValue(default)
            self.length_box.blockSignals(False)
        self.retrace_requested.emit()

    def _pick_text_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Text file", "", "Text (*.txt);;All files (*)")
        if path:
            self.text_file_picked.emit(path)


def _combo(items: tuple[str, ...], current: str) -> QComboBox:
    combo = QComboBox()
    combo.addItems(items)
    combo.setCurrentText(current)
    return combo
