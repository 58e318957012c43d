"""The main window: controls, a shared step cursor and dockable panels derived from the trace's probes."""

from __future__ import annotations

import os
import tempfile
from typing import Any

import numpy as np
from PyQt6.QtCore import QSettings, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSlider,
    QSpinBox,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.session import (
    MODEL_KINDS,
    Session,
    SessionSpec,
    build_model_for,
    build_task_for,
    sequence_for,
    trace_session,
)
from rnnscope.app.trace_worker import TraceWorker

TASKS = ("chars", "copy", "repeat_copy", "recall", "sine", "sentiment")
BACKGROUND_WORK = 200_000  # steps x hidden units above which tracing leaves the GUI thread


def _atomic_write(path: str, write) -> None:
    directory = os.path.dirname(os.path.abspath(path))
    handle, temporary = tempfile.mkstemp(dir=directory, suffix=os.path.splitext(path)[1])
    os.close(handle)
    try:
        write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


class MainWindow(QMainWindow):
    """Shows one :class:`Session`; every step moves one cursor shared by all panels.

    Stable API for the training tools: :meth:`add_panel`, :attr:`file_menu`,
    :meth:`show_model`, :meth:`current_model`, :meth:`current_task`,
    :meth:`current_batch` and the :attr:`model_changed` signal.
    """

    model_changed = pyqtSignal(object)
    step_changed = pyqtSignal(int)
    session_changed = pyqtSignal()

    def __init__(
        self,
        settings: QSettings | None = None,
        overrides: dict[str, Any] | None = None,
        trace_now: bool = True,
    ):
        super().__init__()
        self.setWindowTitle("rnnscope")
        self.setDockNestingEnabled(True)
        self.settings = settings if settings is not None else QSettings("rnnscope", "rnnscope")
        self.spec = self._load_spec()
        for key, value in (overrides or {}).items():
            setattr(self.spec, key, value)
        self.session: Session | None = None
        self.step = 0
        self.panels: list[Any] = []
        self.group_docks: dict[str, QDockWidget] = {}
        self.worker: TraceWorker | None = None
        self.last_nonfinite = None
        self.message = ""
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._advance)
        self._build_menus()
        self._build_controls()
        self._build_fixed_panels()
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        size = self.settings.value("window/size")
        self.resize(size if size is not None else QSize(1280, 860))
        if trace_now:
            self.retrace(background=False)
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    # ------------------------------------------------------------------ settings
    def _load_spec(self) -> SessionSpec:
        spec = SessionSpec()
        for key, cast in (("model", str), ("task", str), ("hidden", int), ("seed", int), ("length", int)):
            value = self.settings.value(f"session/{key}")
            if value is not None:
                try:
                    setattr(spec, key, cast(value))
                except (TypeError, ValueError):
                    pass
        return spec

    def save_settings(self) -> None:
        for key in ("model", "task", "hidden", "seed", "length"):
            self.settings.setValue(f"session/{key}", getattr(self.spec, key))
        self.settings.setValue("window/geometry", self.saveGeometry())
        # restoreGeometry clamps to the screen it finds; the size is kept on its own as well
        self.settings.setValue("window/size", self.size())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.play_timer.stop()
        self.save_settings()
        if self.worker is not None:
            self.worker.wait()
        super().closeEvent(event)

    # ------------------------------------------------------------------ layout
    def _build_menus(self) -> None:
        self.file_menu: QMenu = self.menuBar().addMenu("&File")
        export_view = QAction("Export view as PNG…", self)
        export_view.triggered.connect(lambda: self._ask_path("PNG (*.png)", self.export_view_png))
        export_trace = QAction("Export trace as .npz…", self)
        export_trace.triggered.connect(lambda: self._ask_path("NumPy (*.npz)", self.export_trace_npz))
        self.file_menu.addAction(export_view)
        self.file_menu.addAction(export_trace)
        self.panel_export_menu = self.file_menu.addMenu("Export panel as PNG")
        self.view_menu = self.menuBar().addMenu("&View")

    def _ask_path(self, file_filter: str, save) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", file_filter)
        if path:
            save(path)

    def _build_controls(self) -> None:
        bar = QToolBar("Model", self)
        bar.setObjectName("toolbar:model")
        self.model_box = QComboBox()
        self.model_box.addItems(MODEL_KINDS)
        self.model_box.setCurrentText(self.spec.model)
        self.task_box = QComboBox()
        self.task_box.addItems(TASKS)
        self.task_box.setCurrentText(self.spec.task)
        self.hidden_box = QSpinBox(minimum=1, maximum=4096, value=self.spec.hidden)
        self.seed_box = QSpinBox(minimum=0, maximum=2**31 - 1, value=self.spec.seed)
        self.text_edit = QLineEdit()
        self.text_edit.setPlaceholderText("type a sequence (character tasks), Enter to trace")
        self.text_edit.setMinimumWidth(260)
        file_button = QPushButton("Text file…")
        file_button.clicked.connect(self._pick_text_file)
        for label, widget in (
            ("model", self.model_box),
            ("task", self.task_box),
            ("hidden", self.hidden_box),
            ("seed", self.seed_box),
        ):
            bar.addWidget(QLabel(f" {label} "))
            bar.addWidget(widget)
        bar.addWidget(file_button)
        bar.addWidget(self.text_edit)
        self.addToolBar(bar)
        self.model_box.currentTextChanged.connect(lambda _: self.retrace())
        self.task_box.currentTextChanged.connect(lambda _: self.retrace())
        self.hidden_box.editingFinished.connect(self._retrace_if_changed)
        self.seed_box.editingFinished.connect(self._retrace_if_changed)
        self.text_edit.returnPressed.connect(lambda: self.retrace())

        self.addToolBarBreak()
        steps = QToolBar("Steps", self)
        steps.setObjectName("toolbar:steps")
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
            ("first", "|◀ first", self.first_step),
            ("prev", "◀ prev", self.prev_step),
            ("play", "▶ play", self.toggle_play),
            ("next", "next ▶", self.next_step),
            ("last", "last ▶|", self.last_step),
        ):
            button = QPushButton(text)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            button.clicked.connect(slot)
            steps.addWidget(button)
            self.buttons[name] = button
        steps.addWidget(QLabel(" step "))
        self.step_box = QSpinBox(minimum=0, maximum=0)
        self.step_box.valueChanged.connect(self.set_step)
        steps.addWidget(self.step_box)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self.set_step)
        self.slider.setMinimumWidth(400)
        steps.addWidget(self.slider)
        steps.addWidget(QLabel(" steps/s "))
        self.speed_box = QSpinBox(minimum=1, maximum=120, value=8)
        self.speed_box.valueChanged.connect(self._update_speed)
        steps.addWidget(self.speed_box)
        self.addToolBar(steps)
        for keys, slot in (
            ("Right", self.next_step),
            ("Left", self.prev_step),
            ("Home", self.first_step),
            ("End", self.last_step),
            ("Space", self.toggle_play),
        ):
            action = QAction(keys, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(slot)
            self.addAction(action)

    def _build_fixed_panels(self) -> None:
        from rnnscope.app.panels.lines import UnitPlot

        central = QWidget()
        layout = QVBoxLayout(central)
        layout.setContentsMargins(2, 2, 2, 2)
        self.message_label = QLabel()
        self.message_label.setWordWrap(True)
        self.message_label.setStyleSheet("color: #b71c1c; font-weight: bold;")
        layout.addWidget(self.message_label)
        self.strip_host = QVBoxLayout()
        layout.addLayout(self.strip_host)
        self.strip = None
        self.unit_plot = UnitPlot()
        layout.addWidget(self.unit_plot, 1)
        self.setCentralWidget(central)

    def add_panel(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """Dock ``widget`` under ``title`` (listed in the View menu; its layout is remembered)."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"panel:{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.view_menu.addAction(dock.toggleViewAction())
        return dock

    # ------------------------------------------------------------------ session
    def current_model(self) -> Any:
        return self.session.model if self.session else None

    def current_task(self) -> Any:
        return self.session.task if self.session else None

    def current_batch(self) -> Any:
        return self.session.batch if self.session else None

    def _spec_from_controls(self) -> SessionSpec:
        spec = SessionSpec(**vars(self.spec))
        spec.model = self.model_box.currentText()
        spec.task = self.task_box.currentText()
        spec.hidden = self.hidden_box.value()
        spec.seed = self.seed_box.value()
        spec.text = self.text_edit.text() or None
        return spec

    def _retrace_if_changed(self) -> None:
        if (self.hidden_box.value(), self.seed_box.value()) != (self.spec.hidden, self.spec.seed):
            self.retrace()

    def _pick_text_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Text file", "", "Text (*.txt);;All files (*)")
        if path:
            self.spec.text_file = path
            self.task_box.setCurrentText("chars")
            self.retrace()

    def show_message(self, text: str) -> None:
        self.message = text
        self.message_label.setText(text)
        self.statusBar().showMessage(text, 10_000)

    def retrace(self, background: bool | None = None) -> None:
        """Rebuild model, task and sequence from the controls and trace them."""
        spec = self._spec_from_controls()
        if spec.text and spec.task != "chars":
            self.show_message(
                f"typed text needs the 'chars' task, not {spec.task!r}; tracing a sample instead"
            )
            spec.text = None
        self.spec = spec
        self._start(lambda: self._build(spec), spec.length * spec.hidden, background)

    def _build(self, spec: SessionSpec) -> Session:
        task = build_task_for(spec)
        model, notes = build_model_for(spec, task)
        return trace_session(model, task, sequence_for(spec, task), notes)

    def show_model(self, model: Any, task: Any = None) -> None:
        """Display ``model`` (e.g. a copy of training weights) on the current sequence: a re-trace."""
        if task is None or (self.session is not None and task is self.session.task):
            task = self.current_task()
            batch = self.current_batch()
        else:
            batch = sequence_for(self.spec, task)
        self._start(lambda: trace_session(model, task, batch), batch.steps * model.config.hidden_size, None)

    def _start(self, job, work: int, background: bool | None) -> None:
        if background is None:
            background = work > BACKGROUND_WORK
        if not background:
            try:
                session = job()
            except Exception as error:
                self._failed(f"{type(error).__name__}: {error}")
                return
            self.set_session(session)
            return
        if self.worker is not None and self.worker.isRunning():
            self.worker.wait()
        self.statusBar().showMessage("tracing…")
        self.worker = TraceWorker(job, self)
        self.worker.finished_session.connect(self.set_session)
        self.worker.failed.connect(self._failed)
        self.worker.start()

    def _failed(self, message: str) -> None:
        self.show_message(f"Could not trace: {message}")

    def open_checkpoint(self, path: str) -> bool:
        """Show the model saved at ``path``; a bad file gives a message and the window keeps its model."""
        try:
            from rnnscope.engine.checkpoint import load_checkpoint

            checkpoint = load_checkpoint(path)
        except Exception as error:
            self.show_message(f"Could not open checkpoint {path}: {error}")
            return False
        task = getattr(checkpoint, "task", None) or self.current_task()
        self.show_model(checkpoint.model, task)
        return True

    # ------------------------------------------------------------------ panels
    def set_session(self, session: Session) -> None:
        """Replace every probe panel with the ones ``session.trace`` calls for."""
        from rnnscope.app.panels.heatmap import panels_for_probe
        from rnnscope.app.panels.lines import ScalarPanel
        from rnnscope.app.panels.strip import PredictionStrip

        self.play_timer.stop()
        self.session = session
        trace = session.trace
        for panel in self.panels:
            panel.deleteLater()
        self.panels = []
        groups: dict[str, list[Any]] = {}
        for probe in trace:
            for panel in panels_for_probe(probe):
                panel.hovered.connect(lambda text: self.statusBar().showMessage(text))
                panel.unit_clicked.connect(self._show_unit)
                groups.setdefault(probe.name.split("/")[0], []).append(panel)
        scalars = {
            p.name: p.row(0) for p in trace if p.data.ndim == 2 and p.kind == "scalar" and p.group != "data"
        }
        if scalars:
            groups.setdefault("curves", []).append(ScalarPanel(scalars))
        self._fill_docks(groups)
        if self.strip is not None:
            self.strip.deleteLater()
        probs = trace["output/probs"].row(0) if "output/probs" in trace else None
        symbols = list(trace.vocab) if trace.vocab else None
        if symbols is None and session.task is not None and getattr(session.task, "vocab", None) is not None:
            symbols = list(session.task.vocab.labels())
        self.strip = PredictionStrip(session.input_labels, session.target_labels, probs, symbols)
        self.strip_host.addWidget(self.strip)
        steps = trace.steps
        for widget in (self.slider, self.step_box):
            widget.blockSignals(True)
            widget.setMaximum(max(steps - 1, 0))
            widget.blockSignals(False)
        self.step = -1
        self.message = ""
        self.message_label.setText("; ".join(session.notes))
        self.last_nonfinite = trace.first_nonfinite()
        if self.last_nonfinite is not None:
            bad = self.last_nonfinite
            self.show_message(
                f"Non-finite value {bad.value} in {bad.probe} at step {bad.step} "
                f"(index {bad.index}): jumped there"
            )
            self.set_step(bad.step)
        else:
            self.set_step(0)
        self.setWindowTitle(
            f"rnnscope — {trace.model_kind or 'model'} on {getattr(session.task, 'name', '?')}"
        )
        self.session_changed.emit()
        self.model_changed.emit(session.model)

    def _fill_docks(self, groups: dict[str, list[Any]]) -> None:
        for name in list(self.group_docks):
            if name not in groups:
                dock = self.group_docks.pop(name)
                self.removeDockWidget(dock)
                dock.deleteLater()
        self.panel_export_menu.clear()
        for name, panels in groups.items():
            grid_host = QWidget()
            grid = QGridLayout(grid_host)
            grid.setContentsMargins(0, 0, 0, 0)
            columns = 1 if len(panels) < 3 else 2
            for i, panel in enumerate(panels):
                grid.addWidget(panel, i // columns, i % columns)
                self.panels.append(panel)
                title = getattr(panel, "title", name)
                action = self.panel_export_menu.addAction(title)
                action.triggered.connect(
                    lambda _=False, p=panel: self._ask_path(
                        "PNG (*.png)", lambda path: self.export_widget_png(p, path)
                    )
                )
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(grid_host)
            grid_host.setMinimumHeight(200 * ((len(panels) + columns - 1) // columns))
            if name in self.group_docks:
                self.group_docks[name].setWidget(scroll)
            else:
                area = (
                    Qt.DockWidgetArea.BottomDockWidgetArea
                    if name == "curves"
                    else Qt.DockWidgetArea.RightDockWidgetArea
                )
                self.group_docks[name] = self.add_panel(name, scroll, area)
                self.group_docks[name].setObjectName(f"group:{name}")

    def panel(self, title: str) -> Any:
        """The probe panel titled ``title`` (a probe name, or ``name [head h]``)."""
        for panel in self.panels:
            if getattr(panel, "title", None) == title:
                return panel
        raise KeyError(f"no panel {title!r}")

    def _show_unit(self, title: str, unit: int) -> None:
        panel = self.panel(title)
        values = panel.values[:, unit] if panel.values.ndim == 2 else panel.values[:, unit, :].mean(axis=1)
        self.unit_plot.show_unit(f"{title} unit {unit}", values)
        self.unit_plot.set_step(self.step)

    # ------------------------------------------------------------------ stepping
    @property
    def steps(self) -> int:
        return self.session.trace.steps if self.session else 0

    def set_step(self, step: int) -> None:
        """Move the shared cursor: panels move their marker or swap their matrix, nothing is re-traced."""
        step = int(min(max(step, 0), max(self.steps - 1, 0)))
        if step == self.step:
            return
        self.step = step
        for widget in (self.slider, self.step_box):
            widget.blockSignals(True)
            widget.setValue(step)
            widget.blockSignals(False)
        for panel in self.panels:
            panel.set_step(step)
        if self.strip is not None:
            self.strip.set_step(step)
        self.unit_plot.set_step(step)
        self.step_changed.emit(step)

    def next_step(self) -> None:
        self.set_step(self.step + 1)

    def prev_step(self) -> None:
        self.set_step(self.step - 1)

    def first_step(self) -> None:
        self.set_step(0)

    def last_step(self) -> None:
        self.set_step(self.steps - 1)

    def toggle_play(self) -> None:
        if self.play_timer.isActive():
            self.play_timer.stop()
            self.buttons["play"].setText("▶ play")
        else:
            if self.step >= self.steps - 1:
                self.set_step(0)
            self._update_speed()
            self.play_timer.start()
            self.buttons["play"].setText("⏸ pause")

    @property
    def playing(self) -> bool:
        return self.play_timer.isActive()

    def _update_speed(self) -> None:
        self.play_timer.setInterval(int(1000 / self.speed_box.value()))

    def _advance(self) -> None:
        if self.step >= self.steps - 1:
            self.toggle_play()
        else:
            self.next_step()

    # ------------------------------------------------------------------ export
    def export_widget_png(self, widget: QWidget, path: str) -> None:
        _atomic_write(path, lambda temporary: widget.grab().save(temporary, "PNG"))

    def export_view_png(self, path: str) -> None:
        self.export_widget_png(self, path)

    def export_trace_npz(self, path: str) -> None:
        """Every probe as a plain array keyed by probe name (``np.load(path)`` reads it, no pickles)."""
        if self.session is None:
            return
        arrays = self.session.trace.to_arrays()
        _atomic_write(path, lambda temporary: np.savez_compressed(temporary, **arrays))
