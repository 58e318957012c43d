"""*File > Import weights...*: a model trained in PyTorch, Keras 3 or ONNX, opened in the window.

The import is the engine's (:func:`rnnscope.engine.imports.import_weights`, the code of
``rnnscope import``): every framework's gate order mapped onto rnnscope's. The options the
file cannot say come from a small dialog (:mod:`.import_dialog`). When the file holds the
framework's own results on a probe batch, the window says how the imported model compares
(outputs and every layer's hidden states, with the tolerance of the file's precision).
The model opens on its text (with a vocabulary), else on that probe batch, else on the
shown task when its sizes fit. A file that cannot be imported is a message naming it and
the problem; the window keeps what it showed.
"""

from __future__ import annotations

import html
import os

import numpy as np
from PyQt6.QtCore import QObject, QSettings, pyqtSignal
from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QFileDialog, QMenu, QMessageBox

from rnnscope.app.import_dialog import SOURCE_FILTER, ImportDialog, ImportRequest
from rnnscope.app.widgets import status_bar
from rnnscope.app.window import MainWindow
from rnnscope.engine.imports import ComparisonRow, Imported, WeightImportError, compare, import_weights
from rnnscope.engine.imports.compare import probe_inputs
from rnnscope.engine.protocol import ArrayTask
from rnnscope.engine.tasks import Batch, Task, TaskError

LAST_FOLDER_KEY = "imports/folder"


def describe(imported: Imported) -> str:
    """One line: what was imported (framework, kind, layers, sizes)."""
    config, layout = imported.model.config, imported.layout
    layers = f"{config.num_layers} layer{'s' if config.num_layers > 1 else ''} of H={config.hidden_size}"
    parts = [f"{layout.framework} {config.kind.upper()}", layers]
    if config.kind == "gru":
        parts.append("reset after Wh (PyTorch/Keras)" if config.reset_after else "reset before Wh (Cho)")
    if config.embedding_size:
        parts.append(f"embedding ({config.input_size}, {config.embedding_size})")
    parts.append(f"read-out O={config.output_size}")
    return ", ".join(parts) + f" ({imported.model.params.size:,} parameters)"


def comparison_lines(rows: list[ComparisonRow]) -> list[str]:
    """The comparison as ``rnnscope import`` prints it, one row a line."""
    width = max((len(row.what) for row in rows), default=0)
    return [
        f"{'ok  ' if row.ok else 'FAIL'}  {row.what:<{width}}  max |diff| {row.max_difference:.1e}  "
        f"relative {row.relative:.1e} (tolerance {row.tolerance:.0e})"
        for row in rows
    ]


def task_to_show(imported: Imported, shown: Task | None) -> Task:
    """Where the imported model is shown: its text task (a vocabulary was given), else the probe
    batch stored in the file, else ``shown`` when it has the model's sizes."""
    if imported.task is not None:
        return imported.task
    config = imported.model.config
    references = imported.layout.references
    if references is not None:
        inputs = probe_inputs(imported.model, references)
        steps, rows, _ = inputs.shape
        softmax = config.loss == "softmax_ce"
        targets = np.zeros((steps, rows) if softmax else (steps, rows, config.output_size))
        batch = Batch(inputs, targets.astype(np.int64) if softmax else targets, np.ones((steps, rows)))
        return ArrayTask(batch, config.output_size, config.loss, config.many_to_one)
    if shown is not None and (shown.input_size, shown.output_size) == (config.input_size, config.output_size):
        return shown
    raise WeightImportError(
        f"the model reads {config.input_size} inputs and the file holds no probe batch: give its "
        "vocabulary (or a text) so that there is a sequence to show it on"
    )


class ImportActions(QObject):
    """*Import weights...* in ``menu`` (the File menu) of ``window``.

    Signals: ``imported(str, object)`` (path, :class:`~rnnscope.engine.imports.Imported`) and
    ``message(str)``. With ``dialogs`` False (tests) nothing pops up; :attr:`last_report` and
    :attr:`last_error` hold what would have.
    """

    imported = pyqtSignal(str, object)
    message = pyqtSignal(str)

    def __init__(
        self,
        window: MainWindow,
        settings: QSettings | None = None,
        dialogs: bool = True,
        menu: QMenu | None = None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.settings = settings if settings is not None else QSettings()
        self.dialogs = dialogs
        self.last_report = ""
        self.last_error: str | None = None
        self.options_dialog: ImportDialog | None = None
        self._box: QMessageBox | None = None
        self.action = QAction("&Import weights...", self)
        self.action.setStatusTip("Open an LSTM / GRU / RNN trained in PyTorch, Keras 3 or ONNX")
        self.action.triggered.connect(self.import_dialog)
        if menu is not None:
            menu.addAction(self.action)

    def install(self, menu: QMenu, before: QAction | None) -> None:
        """Put the action in ``menu`` before ``before`` (the end with None)."""
        menu.insertAction(before, self.action)

    def import_dialog(self) -> None:
        """Pick a file, then its options (:meth:`ask_options`)."""
        folder = str(self.settings.value(LAST_FOLDER_KEY, "") or "")
        path, _ = QFileDialog.getOpenFileName(self.window, "Import weights", folder, SOURCE_FILTER)
        if path:
            self.settings.setValue(LAST_FOLDER_KEY, os.path.dirname(path))
            self.ask_options(path)

    def ask_options(self, path: str) -> ImportDialog:
        """The options dialog of ``path`` (window-modal); its OK imports."""
        dialog = ImportDialog(path, self.window)
        dialog.accepted.connect(lambda: self.import_path(path, dialog.request()))
        self.options_dialog = dialog
        dialog.open()
        return dialog

    def import_path(self, path: str, request: ImportRequest | None = None, background: bool = True) -> bool:
        """Import ``path`` and show its model (traced on a worker thread, or now); False after a
        message when it cannot be imported, or when the user keeps unsaved trained weights."""
        request = request or ImportRequest()
        if not self.window.may_discard("open another model"):
            return False
        try:
            imported = import_weights(path, request.options(path), request.prefixes, request.layer_order)
            rows = self._compare(imported)
            task = task_to_show(imported, self.window.current_task())
        except (WeightImportError, TaskError, OSError, ValueError) as error:
            self._error(f"Cannot import {path}:\n{error}")
            return False
        self.window.show_model(imported.model, task, background=background)
        if isinstance(task, ArrayTask):
            imported.notes.append(
                "shown on the probe batch the file holds; the file has no targets for it, so the loss "
                "is against zeros (class 0)"
            )
        self._report(path, imported, rows)
        self.imported.emit(path, imported)
        return True

    @staticmethod
    def _compare(imported: Imported) -> list[ComparisonRow]:
        references = imported.layout.references
        return [] if references is None else compare(imported.model, references, imported.layout.source_dtype)

    def _report(self, path: str, imported: Imported, rows: list[ComparisonRow]) -> None:
        name = os.path.basename(path)
        lines = [f"Imported {describe(imported)}", *(f"note: {note}" for note in imported.notes)]
        if rows:
            lines.append(f"Against {imported.layout.framework}'s own results on the probe batch in {name}:")
            lines += comparison_lines(rows)
        equal = all(row.ok for row in rows)
        self.last_report = "\n".join(lines)
        verdict = "" if not rows else " — equal to the framework's outputs" if equal else " — NOT EQUAL"
        config = imported.model.config
        status = f"Imported {name}: {config.kind}, {config.num_layers} layer(s){verdict}"
        self.message.emit(status)
        status_bar(self.window).showMessage(status, 10_000)
        icon = QMessageBox.Icon.Information if equal else QMessageBox.Icon.Warning
        self._show_box(icon, "<pre>" + html.escape(self.last_report) + "</pre>")

    def _error(self, text: str) -> None:
        self.last_error = text
        self.message.emit(text)
        status_bar(self.window).showMessage(text.replace("\n", " "), 10_000)
        self._show_box(QMessageBox.Icon.Warning, text)

    def _show_box(self, icon: QMessageBox.Icon, text: str) -> None:
        if self.dialogs:  # non-blocking: the window keeps running (and tests never wait on a box)
            self._box = QMessageBox(icon, "rnnscope — import", text, parent=self.window)
            self._box.open()
