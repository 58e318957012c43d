"""The gradient-check panel: run the engine's checker in a worker and read its table.

Layout, top to bottom, in rows that wrap to the dock's width: the check settings;
Run / Cancel and the report buttons; a progress bar; the status legend; a summary with the check's notes (a
float32 model checked as a float64 copy, a slice negligible for the loss, and a
button to check again with a step that would judge it); the result table, with
rows for the inputs and the initial state after the parameters; and, for the
selected row, the analytic and numeric gradient side by side with their
difference, plus the worst elements.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
from PyQt6.QtCore import QModelIndex, Qt, QThread, pyqtSignal
from PyQt6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHeaderView,
    QLabel,
    QSplitter,
    QTreeView,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.deferred import MadeWhenShown
from rnnscope.app.gradcheck_worker import GradcheckWorker
from rnnscope.app.host import ModelHost
from rnnscope.app.panels.gradcheck.details import RowDetails
from rnnscope.app.panels.gradcheck.estimate import expected_duration
from rnnscope.app.panels.gradcheck.notes import CheckNotes
from rnnscope.app.panels.gradcheck.settings import CheckButtons, CheckSettings
from rnnscope.app.panels.gradcheck.table import (
    NAME_ROLE,
    SORT_ROLE,
    DiagnosisSortProxy,
    GradcheckTableModel,
    KeepColoursDelegate,
    StatusLegend,
    span_diagnosis_lines,
    worst_row,
)
from rnnscope.app.threads import start_worker, stop_thread
from rnnscope.engine.gradcheck import GradcheckResult, GradRow, Status
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.params import GateSlice
from rnnscope.report import ReportError, load_report, write_report

# what a check runs on: the model and one batch, inputs (T, B, D), targets, mask (T, B)
Source = Callable[[], tuple[RecurrentModel, np.ndarray, np.ndarray, np.ndarray | None]]
_FILTERS = {"html": "HTML (*.html)", "csv": "CSV (*.csv)", "json": "JSON (*.json)", "md": "Markdown (*.md)"}


class GradcheckPanel(QWidget):
    """Settings, Run / Cancel with progress, the status-coloured table, heatmaps and exports.

    Give it something to check with :meth:`set_source` (a model and one batch),
    or :meth:`attach` it to the main window (it then checks the window's current
    model on the current batch). :meth:`run_check` starts a worker;
    :meth:`set_result` shows any result (also one loaded elsewhere).

    Signals: ``check_started()``, ``check_finished(GradcheckResult)`` (also for a
    cancelled, partial result), ``check_failed(str)`` (the check could not run to its end),
    ``message(str)`` for status and errors.
    """

    check_started = pyqtSignal()
    check_finished = pyqtSignal(object)
    check_failed = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.result: GradcheckResult | None = None
        self.slices: dict[str, dict[str, GateSlice]] = {}
        self.worker: GradcheckWorker | None = None
        self.thread_: QThread | None = None
        self._source: Source | None = None
        self._busy = False
        self._pending_description = ""
        self.settings = CheckSettings()
        self.summary = QLabel("No check run yet.")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notes = CheckNotes()
        self.notes.retry.connect(self._retry_with_step)
        self.legend = StatusLegend()
        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self._build_table())
        # made when the panel is first shown (or asked for): it opens as a hidden tab
        self._details: RowDetails | None = None
        self._details_place = MadeWhenShown(lambda: self.details)
        splitter.addWidget(self._details_place)
        splitter.setSizes([220, 420])
        layout = QVBoxLayout(self)
        layout.addWidget(self.settings)
        layout.addLayout(self._build_buttons())
        layout.addWidget(self.legend)
        layout.addWidget(self.summary)
        layout.addWidget(self.notes)
        layout.addWidget(splitter, 1)
        self._set_running(False)

    # ------------------------------------------------------------------ layout
    @property
    def details(self) -> RowDetails:
        """The selected row's heatmaps and worst elements (made when first needed)."""
        if self._details is None:
            self._details = RowDetails()
            self._details.title.setWordWrap(True)  # a long row title wraps rather than widening the dock
            self._details_place.hold(self._details)
        return self._details

    def _build_buttons(self) -> QVBoxLayout:
        buttons = CheckButtons()
        self.run_button, self.cancel_button, self.progress = buttons.run, buttons.cancel, buttons.progress
        self.export_format, self.export_button, self.open_button = (
            buttons.format,
            buttons.export,
            buttons.open,
        )
        for button, slot in (
            (self.run_button, self.run_check),
            (self.cancel_button, self.cancel),
            (self.export_button, self._export_dialog),
            (self.open_button, self._open_dialog),
        ):
            button.clicked.connect(lambda _checked=False, slot=slot: slot())
        return buttons.rows

    def _build_table(self) -> QTreeView:
        self.table_model = GradcheckTableModel(self)
        self.proxy = DiagnosisSortProxy(self)
        self.proxy.setSourceModel(self.table_model)
        self.proxy.setSortRole(SORT_ROLE)
        self.table = QTreeView()
        self.table.setModel(self.proxy)
        span_diagnosis_lines(self.table)
        self.table.setSortingEnabled(True)
        self.table.setItemDelegate(KeepColoursDelegate(self.table))
        self.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.table.setAlternatingRowColors(False)
        self.table.setUniformRowHeights(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.table.header()
        if header is not None:
            header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
            header.setSortIndicatorShown(True)
        selection = self.table.selectionModel()
        if selection is not None:
            selection.currentRowChanged.connect(self._row_selected)
        return self.table

    def _set_running(self, running: bool) -> None:
        self._busy = running
        self.run_button.setEnabled(not running)
        self.cancel_button.setEnabled(running)
        self.export_button.setEnabled(not running and self.result is not None)
        self.open_button.setEnabled(not running)

    # ------------------------------------------------------------------ sources
    def set_source(
        self, model: RecurrentModel, inputs: np.ndarray, targets: np.ndarray, mask: np.ndarray | None = None
    ) -> None:
        """Check ``model`` on this batch: ``inputs`` ``(T, B, D)``, ``targets``, ``mask`` ``(T, B)``."""
        self._source = lambda: (model, inputs, targets, mask)

    def attach(self, window: ModelHost) -> None:
        """Check whatever the main window shows: its current model on its current batch."""

        def source() -> tuple[RecurrentModel, np.ndarray, np.ndarray, np.ndarray | None]:
            model = window.current_model()
            batch = window.current_batch()
            if model is None or batch is None:
                raise ValueError("the main window has no model or sequence to check yet")
            return model, batch.inputs, batch.targets, batch.mask

        self._source = source
        window.model_changed.connect(self._model_changed)

    def _model_changed(self, *_: object) -> None:
        if self.result is not None and not self._busy and "changed since" not in self.summary.text():
            self.summary.setText(
                self.summary.text()
                + " &nbsp; <i>(the shown model has changed since: run the check again)</i>"
            )

    # ------------------------------------------------------------------ running
    @property
    def running(self) -> bool:
        """True from the start of a check until its result (or failure) has arrived."""
        return self._busy

    def run_check(self) -> GradcheckWorker | None:
        """Start a check in a worker thread; returns the worker (``None`` if it could not start)."""
        worker = self.prepare_check()
        if worker is not None:
            self.start_check(worker)
        return worker

    def prepare_check(self) -> GradcheckWorker | None:
        """A connected, not yet started worker for the current settings (``None`` on bad settings).

        :meth:`run_check` is ``prepare_check`` + :meth:`start_check`; tests split them to
        create their signal blockers before the thread starts.
        """
        if self.running:
            return None
        try:
            if self._source is None:
                raise ValueError("nothing to check: no model and batch were given")
            model, inputs, targets, mask = self._source()
            request = self.settings.request(inputs, targets, mask)
        except ValueError as error:
            self._say(f"Cannot run the check: {error}", error=True)
            return None
        self.slices = {name: model.params.gate_slices(name) for name in model.params}
        worker = GradcheckWorker(model, request)
        worker.progress.connect(self._progress)
        worker.finished.connect(self._finished)
        worker.cancelled.connect(self._cancelled)
        worker.failed.connect(self._failed)
        self._pending_description = (
            f"Checking {type(model).__name__} ({request.options.mode})..." + expected_duration(model, request)
        )
        return worker

    def start_check(self, worker: GradcheckWorker) -> None:
        """Run a worker from :meth:`prepare_check` in its own thread."""
        self.worker = worker
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self._set_running(True)
        self._say(self._pending_description)
        self.check_started.emit()
        # a previous check's thread has delivered its result; make sure it is gone
        stop_thread(self.thread_)
        self.thread_ = start_worker(worker, "gradcheck")

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self._say("Cancelling...")

    def shutdown(self) -> None:
        """Cancel any running check and wait for its thread (call before closing)."""
        if self.worker is not None:
            self.worker.cancel()
        stop_thread(self.thread_)

    def _progress(self, done: int, total: int, name: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        self.progress.setToolTip(f"checking {name}")

    def _finished(self, result: GradcheckResult) -> None:
        self._set_running(False)
        self.set_result(result)
        self.check_finished.emit(result)

    def _cancelled(self, partial: GradcheckResult) -> None:
        self._set_running(False)
        self.set_result(partial)
        self._say(f"Cancelled: {len(partial.rows)} tensor(s) were checked before the cancel.")
        self.check_finished.emit(partial)

    def _failed(self, message: str) -> None:
        self._set_running(False)
        self._say(message.split("\n\n")[0], error=True)
        self.check_failed.emit(message)

    # ------------------------------------------------------------------ showing
    def set_result(
        self, result: GradcheckResult | None, slices: dict[str, dict[str, GateSlice]] | None = None
    ) -> None:
        """Show ``result`` in the table (``slices``: gate slices by parameter, for sub-row heatmaps)."""
        if slices is not None:
            self.slices = slices
        self.result = result
        self.table_model.set_result(result)
        self.table.expandAll()
        self.details.clear()
        self._set_running(self._busy)
        self.notes.show_result(result)
        if result is None:
            self.summary.setText("No check run yet.")
            return
        self.summary.setText(_summary(result))
        if result.rows:
            # open on the row that needs looking at: the most severe, largest error (its worst gate)
            self.select_row(worst_row(result.rows).name)

    def _retry_with_step(self, step: float) -> None:
        self.settings.step.setText(f"{step:g}")
        self.run_check()

    def row_index(self, name: str) -> QModelIndex:
        """The proxy index (column 0) of the row or sub-row called ``name``."""
        matches = self.proxy.match(
            self.proxy.index(0, 0),
            NAME_ROLE,
            name,
            1,
            Qt.MatchFlag.MatchExactly | Qt.MatchFlag.MatchRecursive,
        )
        if not matches:
            raise KeyError(f"no row {name!r} in the table")
        return matches[0]

    def select_row(self, name: str) -> None:
        self.table.setCurrentIndex(self.row_index(name))

    def _row_selected(self, current: QModelIndex, previous: QModelIndex) -> None:
        if self.result is None or not current.isValid():
            return
        try:
            row = self.result.row(current.data(NAME_ROLE))
        except KeyError:
            return
        self.show_row(row)

    def show_row(self, row: GradRow) -> None:
        """Heatmaps and worst elements of one row (or gate sub-row) of the shown result."""
        if self.result is not None:
            self.details.show_row(self.result, row, self.slices)

    # ------------------------------------------------------------------ export
    def export(self, path: str | os.PathLike[str], fmt: str | None = None) -> bool:
        """Write the shown result to ``path`` (format from ``fmt`` or the extension). False on error."""
        if self.result is None:
            self._say("Nothing to export: run a check first.", error=True)
            return False
        try:
            used = write_report(self.result, path, fmt)
        except ReportError as error:
            self._say(f"Export failed: {error}", error=True)
            return False
        self._say(f"Wrote the {used.upper()} report to {os.fspath(path)}")
        return True

    def open_report(self, path: str | os.PathLike[str]) -> bool:
        """Show the result saved in a JSON report. False (with a message) if it is not one."""
        try:
            result = load_report(path)
        except ValueError as error:
            self._say(f"Cannot open the report: {error}", error=True)
            return False
        # a report carries no gate geometry: gate rows then show the whole tensor
        self.set_result(result, slices={})
        return True

    def _open_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Open gradient-check report", "", "JSON reports (*.json)")
        if path:
            self.open_report(path)

    def _export_dialog(self) -> None:
        fmt = self.export_format.currentText()
        path, _ = QFileDialog.getSaveFileName(
            self, "Export gradient check", f"gradcheck.{fmt}", _FILTERS[fmt]
        )
        if path:
            self.export(path, fmt)

    def _say(self, text: str, error: bool = False) -> None:
        colour = Status.FAIL.colour if error else "#333333"
        self.summary.setText(f"<span style='color:{colour}'>{_escape(text)}</span>")
        self.message.emit(text)


def _summary(result: GradcheckResult) -> str:
    """The verdict line above the table (rich text)."""
    counts = ", ".join(f"{n} {Status(k).label}" for k, n in result.counts().items() if n)
    verdict = result.status
    return (
        f"<b style='color:{verdict.colour}'>{verdict.label.upper()}</b> &nbsp; {result.mode} check of "
        f"{result.model_config.get('kind', '?')} H={result.model_config.get('hidden_size', '?')}: "
        f"{len(result.rows)} tensors ({counts}); loss {result.loss:.6g}, {result.evaluations} "
        f"evaluations in {result.duration_s:.2f} s{' (cancelled)' if result.cancelled else ''}"
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
