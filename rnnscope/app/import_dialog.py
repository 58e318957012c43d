"""The options of *File > Import weights...* that the file cannot say, in a small dialog.

The vocabulary of a text model (a file, a sidecar found beside the source, or the symbols
typed in), a corpus to trace, the loss and scored steps, the outputs of a fresh read-out,
and, only when a file's names are ambiguous, where its modules are: the options of
``rnnscope import`` (:mod:`rnnscope.commands.import_weights`) under the same meaning.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.widgets import spin_box
from rnnscope.engine import limits
from rnnscope.engine.heads import LOSSES
from rnnscope.engine.imports import ImportOptions, Prefixes
from rnnscope.engine.imports.vocab import SOURCE_SUFFIXES, sidecar_for, vocabulary_for

SOURCE_FILTER = "Trained weights (*.safetensors *.npz *.weights.h5 *.h5 *.onnx);;All files (*)"


@dataclass(frozen=True)
class ImportRequest:
    """What the dialog asks for (``None``: not given); :meth:`options` resolves the vocabulary."""

    vocab: str | None = None  # a vocabulary file
    symbols: str | None = None  # the vocabulary typed in, in index order
    text: str | None = None  # a corpus for the chars task
    loss: str = "softmax_ce"
    many_to_one: bool = False
    outputs: int | None = None  # O of a fresh read-out
    prefixes: Prefixes = Prefixes()
    layer_order: tuple[str, ...] | None = None  # Keras: the recurrent layers, bottom first

    def options(self, source: str) -> ImportOptions:
        """The import's options for ``source`` (a ``WeightImportError`` names an unreadable vocabulary)."""
        return ImportOptions(
            loss=self.loss,
            many_to_one=self.many_to_one,
            outputs=self.outputs,
            vocab=vocabulary_for(source, self.vocab, self.symbols, self.text),
            text=self.text,
        )


def corpus_beside(source: str) -> str | None:
    """``<name>.txt`` beside ``source`` (a corpus exported with the model), if there is one."""
    stem = source
    for suffix in SOURCE_SUFFIXES:
        if stem.lower().endswith(suffix):
            stem = stem[: -len(suffix)]
            break
    return stem + ".txt" if os.path.isfile(stem + ".txt") else None


class ImportDialog(QDialog):
    """The import options of ``source``, prefilled with what lies beside it (a vocabulary sidecar,
    a ``.txt`` corpus of the same name)."""

    def __init__(self, source: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Import {os.path.basename(source)}")
        self.setObjectName("dialog:import")
        self.source = source
        self.vocab_edit = _path_edit(sidecar_for(source), "a sidecar <name>.vocab.json / .txt is found")
        self.symbols_edit = QLineEdit()
        self.symbols_edit.setPlaceholderText("or type the symbols in index order")
        self.text_edit = _path_edit(
            corpus_beside(source), "a corpus to trace (its characters, without a vocabulary)"
        )
        self.loss_box = QComboBox()
        self.loss_box.addItems(LOSSES)
        self.many_to_one_box = QCheckBox("score only the last step (many-to-one)")
        self.outputs_box = spin_box(0, limits.OUTPUT.high, 0)
        self.outputs_box.setSpecialValueText("the file's read-out")
        self.prefix_edits = [_named(placeholder) for placeholder in ("rnn.", "embed.", "fc.")]
        self.order_edit = _named("lstm,lstm_1")
        self._lay_out()

    def _lay_out(self) -> None:
        form = QFormLayout()
        form.addRow(QLabel(self.source))
        form.addRow("vocabulary", _with_browse(self.vocab_edit, "Vocabulary", "Vocabulary (*.json *.txt)"))
        form.addRow("", self.symbols_edit)
        form.addRow("text", _with_browse(self.text_edit, "Text", "Text (*.txt);;All files (*)"))
        form.addRow("loss", self.loss_box)
        form.addRow("", self.many_to_one_box)
        form.addRow("outputs", self.outputs_box)
        form.addRow(QLabel("Only when the file's names are ambiguous:"))
        labels = ("PyTorch rnn prefix", "embedding prefix", "read-out prefix")
        for label, edit in zip(labels, self.prefix_edits, strict=True):
            form.addRow(label, edit)
        form.addRow("Keras layer order", self.order_edit)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        self.buttons = buttons
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def request(self) -> ImportRequest:
        """The options as the dialog shows them."""
        rnn, embedding, readout = (_text(edit) for edit in self.prefix_edits)
        order = _text(self.order_edit)
        return ImportRequest(
            vocab=_text(self.vocab_edit),
            symbols=self.symbols_edit.text() or None,  # a space is a symbol: not stripped
            text=_text(self.text_edit),
            loss=self.loss_box.currentText(),
            many_to_one=self.many_to_one_box.isChecked(),
            outputs=self.outputs_box.value() or None,
            prefixes=Prefixes(rnn, embedding, readout),
            layer_order=tuple(order.split(",")) if order else None,
        )


def _text(edit: QLineEdit) -> str | None:
    return edit.text().strip() or None


def _named(placeholder: str) -> QLineEdit:
    edit = QLineEdit()
    edit.setPlaceholderText(f"found by name, e.g. {placeholder}")
    return edit


def _path_edit(path: str | None, placeholder: str) -> QLineEdit:
    edit = QLineEdit(path or "")
    edit.setPlaceholderText(placeholder)
    edit.setMinimumWidth(360)
    return edit


def _with_browse(edit: QLineEdit, title: str, filter_: str) -> QWidget:
    """``edit`` with a *…* button that fills it from a file dialog."""
    button = QPushButton("…")
    button.setMaximumWidth(32)

    def browse() -> None:
        path, _ = QFileDialog.getOpenFileName(edit, title, os.path.dirname(edit.text()), filter_)
        if path:
            edit.setText(path)

    button.clicked.connect(browse)
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit)
    layout.addWidget(button)
    return row
