"""The main window: controls, a shared step cursor and dockable panels derived from the trace's probes."""

from __future__ import annotations

import os
import tempfile
from collections import Counter
from typing import Any

import numpy as np
from PyQt6.QtCore import QSettings, QSize, Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSlider,
    QSpinBox,
    QStyle,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app import resources
from rnnscope.app.session import (
    CORPORA,
    MODEL_KINDS,
    TASK_LENGTHS,
    TASKS,
    TEXT_TASKS,
    Session,
    SessionSpec,
    build_session,
    sequence_for,
    trace_session,
)
from rnnscope.app.trace_worker import TraceWorker
from rnnscope.engine.trace import Probe, ProbeKind, Trace

# SessionSpec fields remembered in QSettings, with how to read them back
SPEC_SETTINGS = {
    "model": str,
    "task": str,
    "hidden": int,
    "seed": int,
    "length": int,
    "slots": int,
    "width": int,
    "read_heads": int,
    "corpus": str,
    "text_file": str,
    "text": str,
}
FIRST_TRACE_IN_BACKGROUND = 1_000_000  # steps x hidden units above which even the first trace is threaded
PANEL_HEIGHT = 170  # minimum height of one heatmap row in a dock; docks scroll beyond
MODEL_GROUPS_LAST = ("output", "curves")  # docks on the right; model groups go on the left
SPLIT_ABOVE = 12  # a group with more probes is split into docks by axes (matrices, per head, ...)
# the step keys: (key, what it does, MainWindow method); the actions and the Help list both come from here
STEP_KEYS = (
    ("Right", "next step", "next_step"),
    ("Left", "previous step", "prev_step"),
    ("Home", "first step", "first_step"),
    ("End", "last step", "last_step"),
    ("Space", "play / pause", "toggle_play"),
)
HELP_KEY = "F1"
# step bar buttons: (name, text, icon in resources/icons, standard icon if that is missing, method, key)
STEP_BUTTONS = (
    ("first", "first", "step-first", QStyle.StandardPixmap.SP_MediaSkipBackward, "first_step", "Home"),
    ("prev", "prev", "step-prev", QStyle.StandardPixmap.SP_MediaSeekBackward, "prev_step", "Left"),
    ("play", "play", "play", QStyle.StandardPixmap.SP_MediaPlay, "toggle_play", "Space"),
    ("next", "next", "step-next", QStyle.StandardPixmap.SP_MediaSeekForward, "next_step", "Right"),
    ("last", "last", "step-last", QStyle.StandardPixmap.SP_MediaSkipForward, "last_step", "End"),
)


def first_nonfinite_forward(trace: Trace):
    """Where NaN / Inf first appeared, looking at the forward pass before the gradients.

    Gradients run backward in time: one NaN at step t makes ``grad/hidden_norm``
    NaN at every earlier step, which is not where the problem started.
    """
    forward = Trace({n: p for n, p in trace.probes.items() if p.group != "grad"}, trace.model_kind)
    return forward.first_nonfinite() or trace.first_nonfinite()


def panel_order(probe: Probe) -> int:
    """Within a dock: 0..1 quantities (gates, weightings) first, then states, pre-activations last."""
    if probe.kind.bounded:
        return 0
    return 2 if "preact" in probe.name else 1


def dock_key(probe: Probe, split: bool) -> str:
    """The dock a probe's panels go to: its group, and for a group of many probes (``split``,
    the DNC's) also what the panel shows.

    Decided from the metadata alone (axes), so a new probe finds its dock with no new code.
    """
    axes = tuple(probe.axes)
    if not split or not axes:
        return probe.group
    if axes[0] == "head":
        return f"{probe.group} · per head"
    if len(axes) == 2:
        return f"{probe.group} · matrices"  # one matrix per step
    if axes == ("slot",):
        return f"{probe.group} · slots"
    return f"{probe.group} · vectors"


def layout_signature(session: Session) -> tuple:
    """What the panels and docks are built from: probe names, shapes, kinds, axes, groups and names
    of entries, the task's axis names and the loss. Equal signatures: same panels, other numbers."""
    task = session.task
    probes = tuple(
        (p.name, p.data.shape, p.kind, tuple(p.axes), p.group, repr(sorted(dict(p.tick_labels).items())))
        for p in session.trace
    )
    names = tuple(tuple(getattr(task, key, None) or ()) for key in ("output_names", "input_names"))
    return probes, names, getattr(session.model.config, "loss", None)


def same_batch(a: Any, b: Any) -> bool:
    """The same sequence: the same batch, or one with equal inputs, targets and mask."""
    if a is b:
        return True
    try:
        return all(
            np.array_equal(getattr(a, key), getattr(b, key), equal_nan=True)
            for key in ("inputs", "targets", "mask")
        )
    except (AttributeError, TypeError, ValueError):
        return False


def _with_suffix(path: str, suffix: str) -> str:
    return path if path.lower().endswith(suffix) else path + suffix


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
    session_failed = pyqtSignal(str)
    trace_done = pyqtSignal()  # after every re-trace that was not superseded, shown or failed

    def __init__(
        self,
        settings: QSettings | None = None,
        overrides: dict[str, Any] | None = None,
        trace_now: bool = True,
    ):
        super().__init__()
        self.setWindowTitle("rnnscope")
        self.setWindowIcon(resources.app_icon())
        # the style sheet is the window's (docks, dialogs and labels inherit it), so every window
        # looks the same whether it came from ``main`` or elsewhere (tests, screenshots)
        self.style_sheet = resources.load_style()
        self.setStyleSheet(self.style_sheet)
        self.setDockNestingEnabled(True)
        self.settings = settings if settings is not None else QSettings("rnnscope", "rnnscope")
        self.spec = self._load_spec()
        overrides = dict(overrides or {})
        if "task" in overrides and "length" not in overrides and overrides["task"] != self.spec.task:
            overrides["length"] = TASK_LENGTHS.get(overrides["task"]) or self.spec.length
        for key, value in overrides.items():
            setattr(self.spec, key, value)
        self.session: Session | None = None
        self.step = 0
        self.panels: list[Any] = []
        self.group_docks: dict[str, QDockWidget] = {}
        self._signature: tuple | None = None  # layout_signature of the session the panels were built for
        self.panels_rebuilt = False  # did the last session rebuild the panels (or update them in place)
        self.shown_unit: tuple[str, int, int] | None = None  # (panel title, row, column) in the unit plot
        self.worker: TraceWorker | None = None  # the newest re-trace; older ones finish unseen
        self._workers: list[TraceWorker] = []
        self._generation = 0
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
        self._falling_back = False
        if trace_now:
            # the first trace runs here, so the window opens with something on screen; a long
            # remembered sequence is traced on the worker instead, so the window still opens at once
            heavy = self.spec.length * self.spec.hidden > FIRST_TRACE_IN_BACKGROUND
            self.retrace(background=heavy)
        self.restore_layout()

    def _fall_back(self) -> None:
        """Nothing shown yet and the picked model cannot be traced (a remembered file has gone,
        settings from an older version): show the default model, and say why."""
        problem = self.message
        self._falling_back = True
        try:
            self.spec = SessionSpec()
            self.text_edit.setText("")
            self._sync_controls(self.spec)
            self.retrace(background=False)
        finally:
            self._falling_back = False
        self.show_message(f"{problem} (showing the default model instead)")

    # ------------------------------------------------------------------ settings
    def _load_spec(self) -> SessionSpec:
        spec = SessionSpec()
        for key, cast in SPEC_SETTINGS.items():
            value = self.settings.value(f"session/{key}")
            if value is None or value == "":
                continue
            try:
                setattr(spec, key, cast(value))
            except (TypeError, ValueError):
                pass  # a hand-edited or old settings file: keep the default
        if spec.model not in MODEL_KINDS:
            spec.model = "lstm"
        if spec.task not in TASKS:
            spec.task = "chars"
        return spec

    def save_settings(self) -> None:
        for key in SPEC_SETTINGS:
            value = getattr(self.spec, key)
            self.settings.setValue(f"session/{key}", "" if value is None else value)
        self.settings.setValue("ui/speed", self.speed_box.value())
        self.settings.setValue("window/geometry", self.saveGeometry())
        # restoreGeometry clamps to the screen it finds; the size is kept on its own as well
        self.settings.setValue("window/size", self.size())
        self.settings.setValue("window/state", self.saveState())
        self.settings.sync()

    def closeEvent(self, event) -> None:  # noqa: N802 - Qt override
        self.play_timer.stop()
        self.save_settings()
        self.wait_for_workers()
        super().closeEvent(event)

    def wait_for_workers(self) -> None:
        """Block until every re-trace thread has ended (on close, and in tests)."""
        for worker in list(self._workers):
            worker.quit()
            worker.wait()

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
        self.help_menu: QMenu = self.menuBar().addMenu("&Help")
        self.shortcuts_action = QAction("Keyboard shortcuts", self)
        self.shortcuts_action.setShortcut(QKeySequence(HELP_KEY))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = QAction("About rnnscope", self)
        self.about_action.triggered.connect(self.show_about)
        self.help_menu.addAction(self.shortcuts_action)
        self.help_menu.addAction(self.about_action)
        self.help_dialogs: dict[str, QDialog] = {}

    # ------------------------------------------------------------------ help
    @staticmethod
    def shortcuts() -> list[tuple[str, str]]:
        """``(keys, what they do)`` for every shortcut of the window, as the Help dialog lists them."""
        rows = [(keys, what) for keys, what, _ in STEP_KEYS]
        rows.append(("Enter", "in the text field: trace the typed sequence"))
        rows.append((HELP_KEY, "this list"))
        return rows

    def shortcuts_html(self) -> str:
        rows = "".join(
            f"<tr><td><b>{QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys}</b>"
            f"&nbsp;&nbsp;</td><td>{what}</td></tr>"
            for keys, what in self.shortcuts()
        )
        mouse = (
            "<p>Mouse: hover a heatmap cell for its probe, step, unit and value; click it to plot "
            "that unit over time. Docks can be dragged, tabbed and floated (View menu to show them).</p>"
        )
        return f"<table>{rows}</table>{mouse}"

    @staticmethod
    def about_html() -> str:
        """Name, version and the versions of the libraries it runs on."""
        import platform

        import pyqtgraph
        from PyQt6.QtCore import PYQT_VERSION_STR, qVersion

        import rnnscope

        return (
            f"<h3>rnnscope {rnnscope.__version__}</h3>"
            "<p>A visual debugger for recurrent networks (RNN, LSTM, GRU, DNC) written in NumPy: "
            "step a model through a sequence and look at every gate, state and memory.</p>"
            f"<p>Python {platform.python_version()}<br>"
            f"NumPy {np.__version__}<br>Qt {qVersion()} (PyQt {PYQT_VERSION_STR})<br>"
            f"pyqtgraph {pyqtgraph.__version__}</p>"
            f"<p>Icons and style: {resources.resources_dir() or 'not found (standard icons, no style)'}</p>"
        )

    def _help_dialog(self, key: str, title: str, html: str) -> QDialog:
        """A non-modal dialog (shown, never ``exec()``-ed: the window keeps working beside it)."""
        dialog = self.help_dialogs.get(key)
        if dialog is None:
            dialog = QDialog(self)
            dialog.setWindowTitle(title)
            dialog.setWindowIcon(self.windowIcon())
            layout = QVBoxLayout(dialog)
            label = QLabel()
            label.setObjectName("helpText")
            label.setTextFormat(Qt.TextFormat.RichText)
            label.setWordWrap(True)
            label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(label)
            buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
            buttons.rejected.connect(dialog.close)
            layout.addWidget(buttons)
            dialog.label = label
            dialog.setMinimumWidth(380)
            self.help_dialogs[key] = dialog
        dialog.label.setText(html)
        if dialog.isVisible():
            dialog.raise_()  # already open, perhaps behind the window
        dialog.show()
        return dialog

    def show_shortcuts(self) -> QDialog:
        return self._help_dialog("shortcuts", "Keyboard shortcuts", self.shortcuts_html())

    def show_about(self) -> QDialog:
        return self._help_dialog("about", "About rnnscope", self.about_html())

    def _ask_path(self, file_filter: str, save) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Export", "", file_filter)
        if path:
            save(path)

    def _build_controls(self) -> None:
        bar = QToolBar("Model", self)
        bar.setObjectName("toolbar:model")
        spec = self.spec
        self.model_box = QComboBox()
        self.model_box.addItems(MODEL_KINDS)
        self.model_box.setCurrentText(spec.model)
        self.hidden_box = QSpinBox(minimum=1, maximum=4096, value=spec.hidden)
        self.seed_box = QSpinBox(minimum=0, maximum=2**31 - 1, value=spec.seed)
        self.slots_box = QSpinBox(minimum=1, maximum=1024, value=spec.slots)
        self.width_box = QSpinBox(minimum=1, maximum=1024, value=spec.width)
        self.heads_box = QSpinBox(minimum=1, maximum=64, value=spec.read_heads)
        self.task_box = QComboBox()
        self.task_box.addItems(TASKS)
        self.task_box.setCurrentText(spec.task)
        self.corpus_box = QComboBox()
        self.corpus_box.addItems(CORPORA)
        self.corpus_box.setCurrentText(spec.corpus)
        self.length_box = QSpinBox(minimum=1, maximum=100_000, value=spec.length)
        self.file_button = QPushButton("Text file…")
        self.file_button.setToolTip(spec.text_file or "trace a sample of a UTF-8 text file (chars task)")
        self.file_button.clicked.connect(self._pick_text_file)
        self.text_edit = QLineEdit(spec.text or "")
        self.text_edit.setPlaceholderText("type a sequence (chars, sentiment), Enter to trace")
        self.text_edit.setMinimumWidth(220)
        self.trace_button = QPushButton("Trace")
        self.trace_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.trace_button.clicked.connect(lambda: self.retrace())
        for label, widget, tip in (
            ("model", self.model_box, "RNN, LSTM, GRU or DNC"),
            ("H", self.hidden_box, "hidden units (the DNC controller's LSTM size)"),
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
            bar.addWidget(caption)
            bar.addWidget(widget)
        bar.addWidget(self.file_button)
        bar.addWidget(self.text_edit)
        bar.addWidget(self.trace_button)
        self.addToolBar(bar)
        for box in (self.model_box, self.corpus_box):
            box.currentTextChanged.connect(lambda _: self.retrace())
        self.task_box.currentTextChanged.connect(self._task_picked)
        for box in (
            self.hidden_box,
            self.seed_box,
            self.slots_box,
            self.width_box,
            self.heads_box,
            self.length_box,
        ):
            box.editingFinished.connect(self._retrace_if_changed)
        self.text_edit.returnPressed.connect(lambda: self.retrace())
        self._enable_controls()

        self.addToolBarBreak()
        steps = QToolBar("Steps", self)
        steps.setObjectName("toolbar:steps")
        self.buttons: dict[str, QPushButton] = {}
        self.step_icons = {
            name: resources.icon(icon, fallback) for name, _, icon, fallback, _, _ in STEP_BUTTONS
        }
        self.step_icons["pause"] = resources.icon("pause", QStyle.StandardPixmap.SP_MediaPause)
        for name, text, _, _, method, key in STEP_BUTTONS:
            button = QPushButton(self.step_icons[name], text)
            button.setToolTip(f"{text} ({key})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys stay with the window
            button.clicked.connect(getattr(self, method))
            steps.addWidget(button)
            self.buttons[name] = button
        steps.addWidget(QLabel(" step "))
        self.step_box = QSpinBox(minimum=0, maximum=0)
        self.step_box.setToolTip("jump to a timestep")
        self.step_box.setKeyboardTracking(False)
        self.step_box.valueChanged.connect(self.set_step)
        steps.addWidget(self.step_box)
        self.steps_label = QLabel(" / 0 ")
        steps.addWidget(self.steps_label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self.set_step)
        self.slider.setMinimumWidth(400)
        steps.addWidget(self.slider)
        steps.addWidget(QLabel(" steps/s "))
        speed = self.settings.value("ui/speed")
        self.speed_box = QSpinBox(minimum=1, maximum=120, value=int(speed) if speed is not None else 8)
        self.speed_box.setToolTip("play speed")
        self.speed_box.valueChanged.connect(self._update_speed)
        steps.addWidget(self.speed_box)
        self.addToolBar(steps)
        self.step_actions: dict[str, QAction] = {}
        for keys, what, method in STEP_KEYS:
            action = QAction(what, self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(getattr(self, method))
            self.addAction(action)
            self.step_actions[keys] = action

    def _task_picked(self, task: str) -> None:
        """A new task starts at its own default length (60 characters are not 60 items to copy)."""
        default = TASK_LENGTHS.get(task)
        if default is not None:
            self.length_box.blockSignals(True)
            self.length_box.setValue(default)
            self.length_box.blockSignals(False)
        self.retrace()

    def _enable_controls(self) -> None:
        """Only the controls that mean something for the picked model and task are enabled."""
        dnc = self.model_box.currentText() == "dnc"
        for box in (self.slots_box, self.width_box, self.heads_box):
            box.setEnabled(dnc)
        chars = self.task_box.currentText() == "chars"
        self.corpus_box.setEnabled(chars and not self.spec.text_file)
        self.file_button.setEnabled(chars)
        self.text_edit.setEnabled(self.task_box.currentText() in TEXT_TASKS)
        self.length_box.setEnabled(TASK_LENGTHS.get(self.task_box.currentText(), 1) is not None)

    def _build_fixed_panels(self) -> None:
        from rnnscope.app.panels.lines import UnitPlot

        # the sequence strip is the central widget, as tall as its rows; every panel is a dock below it
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.BottomDockWidgetArea)
        top = QWidget()
        layout = QVBoxLayout(top)
        layout.setContentsMargins(4, 2, 4, 2)
        self.message_label = QLabel()
        self.message_label.setObjectName("message")  # red and bold in style.qss
        self.message_label.setWordWrap(True)
        if not self.style_sheet:
            self.message_label.setStyleSheet("color: #b71c1c; font-weight: bold;")  # still an error colour
        self.message_label.hide()
        layout.addWidget(self.message_label)
        self.strip_host = QVBoxLayout()
        layout.addLayout(self.strip_host)
        self.strip = None
        top.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.setCentralWidget(top)
        self.unit_plot = UnitPlot()
        bottom = Qt.DockWidgetArea.BottomDockWidgetArea
        self.unit_dock = self._dock("unit over time", self.unit_plot, bottom)

    def add_panel(
        self, title: str, widget: QWidget, area: Qt.DockWidgetArea = Qt.DockWidgetArea.RightDockWidgetArea
    ) -> QDockWidget:
        """Dock ``widget`` under ``title`` (listed in the View menu; its layout is remembered).

        Panels from elsewhere (training, gradient check) open as tabs behind the model's
        first dock, which stays in front: beside it they would squeeze every heatmap.
        ``dock.widget()`` is a scroll area holding ``widget``.
        """
        # in a scroll area: a wide panel's minimum size must not force the whole layout wider
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(widget)
        dock = self._dock(title, scroll, area)
        model_docks = [d for n, d in self.group_docks.items() if n.split(" ")[0] not in MODEL_GROUPS_LAST]
        if model_docks:  # a remembered layout, restored after, still wins
            front = model_docks[0]
            self.tabifyDockWidget(front, dock)
            QTimer.singleShot(0, front.raise_)
        return dock

    def restore_layout(self) -> None:
        """Put every dock where the settings remember it (again, once late panels are docked)."""
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)

    def _dock(self, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
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
        spec.corpus = self.corpus_box.currentText()
        spec.hidden = self.hidden_box.value()
        spec.seed = self.seed_box.value()
        spec.length = self.length_box.value()
        spec.slots = self.slots_box.value()
        spec.width = self.width_box.value()
        spec.read_heads = self.heads_box.value()
        spec.text = self.text_edit.text() or None
        return spec

    def _retrace_if_changed(self) -> None:
        spec = self._spec_from_controls()
        keys = ("hidden", "seed", "length", "slots", "width", "read_heads")
        if any(getattr(spec, key) != getattr(self.spec, key) for key in keys):
            self.retrace()

    def _pick_text_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Text file", "", "Text (*.txt);;All files (*)")
        if path:
            self.use_text_file(path)

    def use_text_file(self, path: str | None, background: bool = True) -> None:
        """Trace a sample of the UTF-8 file ``path`` (chars task); ``None`` goes back to the corpus."""
        self.spec.text_file = path
        self.file_button.setToolTip(path or "trace a sample of a UTF-8 text file (chars task)")
        self.task_box.blockSignals(True)
        self.task_box.setCurrentText("chars")
        self.task_box.blockSignals(False)
        self.retrace(background=background)

    def show_message(self, text: str) -> None:
        """A message over the panels and in the status bar (errors, notes, NaN reports)."""
        self.message = text
        self.message_label.setText(text)
        self.message_label.setVisible(bool(text))
        if text:
            self.statusBar().showMessage(text, 10_000)

    def retrace(self, background: bool = True) -> None:
        """Rebuild model, task and sequence from the controls and trace them (on a worker thread)."""
        self._enable_controls()
        spec = self._spec_from_controls()
        if spec.text and spec.task not in TEXT_TASKS:
            spec.text = None  # the field is disabled for these tasks; its text waits for a text task
        self._start(lambda: build_session(spec), background)

    def show_model(self, model: Any, task: Any = None, background: bool = True) -> None:
        """Display ``model`` (e.g. a copy of training weights) on the current sequence: a re-trace.

        With another ``task`` (a checkpoint's), a sequence of that task is drawn and the
        controls follow the model and the task.
        """
        config = model.config
        spec = SessionSpec(**vars(self.spec))
        spec.model, spec.hidden = config.kind, config.hidden_size
        if config.kind == "dnc":
            spec.slots, spec.width = config.memory_slots, config.memory_width
            spec.read_heads = config.read_heads
        same_task = task is None or (self.session is not None and task is self.session.task)
        if same_task:
            task, batch = self.current_task(), self.current_batch()
        else:
            batch = None
            name = getattr(task, "name", spec.task)
            if name != spec.task and name in TASKS:
                spec.task, spec.text = name, None
                spec.length = TASK_LENGTHS.get(name) or spec.length
            options = getattr(task, "options", {}) or {}
            if spec.task == "chars" and ("path" in options or "corpus" in options):
                spec.text_file = options.get("path")
                spec.corpus = options.get("corpus", spec.corpus)

        def job() -> Session:
            session = trace_session(model, task, batch if batch is not None else sequence_for(spec, task))
            session.spec = spec
            return session

        self._start(job, background)

    def _start(self, job, background: bool) -> None:
        self._generation += 1
        generation = self._generation
        if not background:
            try:
                session = job()
            except Exception as error:
                self._failed(f"{type(error).__name__}: {error}", generation)
                return
            self.set_session(session)
            return
        self.statusBar().showMessage("tracing…")
        worker = TraceWorker(job, self)
        # a newer re-trace makes this one's result stale: it is dropped, never shown
        worker.finished_session.connect(lambda session: self._finished(session, generation))
        worker.failed.connect(lambda message: self._failed(message, generation))
        worker.finished.connect(lambda: self._workers.remove(worker) if worker in self._workers else None)
        self._workers.append(worker)
        self.worker = worker
        worker.start()

    def _finished(self, session: Session, generation: int) -> None:
        if generation == self._generation:
            self.statusBar().clearMessage()
            self.set_session(session)

    def _failed(self, message: str, generation: int | None = None) -> None:
        if generation is not None and generation != self._generation:
            return
        self.show_message(f"Could not trace: {message}")
        if self.session is None and not self._falling_back:
            self._fall_back()
        self.session_failed.emit(message)
        self.trace_done.emit()

    def open_checkpoint(self, path: str) -> bool:
        """Show the model saved at ``path``; a bad file gives a message and the window keeps its model."""
        try:
            from rnnscope.engine.checkpoint import load_checkpoint

            checkpoint = load_checkpoint(path)
            task = checkpoint.task or self.current_task()
        except Exception as error:
            self.show_message(f"Could not open checkpoint {path}: {error}")
            return False
        self.show_model(checkpoint.model, task, background=False)
        return self.session is not None and self.session.model is checkpoint.model

    # ------------------------------------------------------------------ panels
    def set_session(self, session: Session) -> None:
        """Show ``session``: its trace's probes get the panels their metadata call for.

        When only the numbers changed (other weights on the same task, probes of the same names
        and shapes: the training panel's paused weights, another seed) every panel keeps its
        place and gets the new data; otherwise panels and docks are rebuilt.
        """
        from rnnscope.app.panels.heatmap import panel_values
        from rnnscope.app.panels.lines import ScalarPanel
        from rnnscope.app.panels.strip import PredictionStrip

        # the same sequence shown with other weights (training, checkpoints) keeps its step
        same_sequence = self.session is not None and same_batch(session.batch, self.session.batch)
        previous_step = self.step
        if not same_sequence:
            self.stop_playing()
        signature = layout_signature(session)
        in_place = bool(self.panels) and self.strip is not None and signature == self._signature
        self._signature = signature
        self.session = session
        self.step = -1
        if session.spec is not None:
            self.spec = session.spec
            self._sync_controls(session.spec)
        trace = session.trace
        # one value per step: curves
        scalars = {
            p.name: p.row(0)
            for p in sorted(trace, key=panel_order)
            if p.group != "data" and p.kind != ProbeKind.INDEX and p.data.ndim == 2
        }
        probs = trace["output/probs"].row(0) if "output/probs" in trace else None
        symbols = list(getattr(session.task, "output_names", None) or []) or None
        loss = getattr(session.model.config, "loss", "softmax_ce")
        if in_place:
            self.panels_rebuilt = False
            for panel in self.panels:
                if isinstance(panel, ScalarPanel):
                    panel.set_series(scalars)
                else:
                    panel.set_values(panel_values(panel, trace[panel.probe_name]))
            self.strip.set_data(session.input_labels, session.target_labels, probs, symbols, loss)
        else:
            self.panels_rebuilt = True
            self._build_panels(session, scalars)
            if self.strip is not None:
                self.strip.deleteLater()
                self.strip_host.removeWidget(self.strip)
            labels = session.input_labels, session.target_labels
            self.strip = PredictionStrip(*labels, probs, symbols, loss=loss)
            self.strip_host.addWidget(self.strip)
        # the strip takes the height of its rows, the heatmaps all the rest
        top = self.centralWidget()
        top.setMaximumHeight(self.strip.maximumHeight() + 44)  # room for a two-line message
        steps = trace.steps
        for widget in (self.slider, self.step_box):
            widget.blockSignals(True)
            widget.setMaximum(max(steps - 1, 0))
            widget.blockSignals(False)
        self.steps_label.setText(f" / {max(steps - 1, 0)} ")
        if not same_sequence:
            self.unit_plot.clear_unit(steps)  # its unit belonged to the previous trace
            self.shown_unit = None
        elif self.shown_unit is not None:
            self._plot_unit(*self.shown_unit)  # the same unit, with the new weights' values
        self.show_message("; ".join(session.notes))
        self.last_nonfinite = first_nonfinite_forward(trace)
        if self.last_nonfinite is not None:
            self.stop_playing()
            bad = self.last_nonfinite
            self.show_message(
                f"Non-finite value {bad.value} in {bad.probe} at step {bad.step} "
                f"(index {bad.index}): jumped there"
            )
            self.set_step(bad.step)
            self._reveal(bad.probe)
        else:
            self.set_step(previous_step if same_sequence else 0)
        task_name = getattr(session.task, "name", "?")
        self.setWindowTitle(f"rnnscope — {trace.model_kind or 'model'} on {task_name}, {steps} steps")
        self.session_changed.emit()
        self.model_changed.emit(session.model)
        self.trace_done.emit()

    def _build_panels(self, session: Session, scalars: dict[str, np.ndarray]) -> None:
        """New panels for every probe of ``session.trace`` (``scalars``: the curves), docked by group."""
        from rnnscope.app.panels.heatmap import panels_for_probe
        from rnnscope.app.panels.lines import ScalarPanel

        trace = session.trace
        for panel in self.panels:
            panel.deleteLater()
        self.panels = []
        groups: dict[str, list[Any]] = {}
        task = session.task
        axis_names = {
            "output": tuple(getattr(task, "output_names", None) or ()),
            "input": tuple(getattr(task, "input_names", None) or ()),
        }
        # a group with many probes (the DNC's) is split into docks by what its panels show
        drawn = [p for p in trace if p.group != "data" and p.kind != ProbeKind.INDEX and p.data.ndim > 2]
        sizes = Counter(p.group for p in drawn)
        for probe in sorted(trace, key=panel_order):
            if probe.group == "data" or probe.kind == ProbeKind.INDEX or probe.data.ndim == 2:
                continue  # inputs and targets are in the sequence strip; one value per step: a curve
            for panel in panels_for_probe(probe, axis_names):
                panel.hovered.connect(self.statusBar().showMessage)
                panel.unit_clicked.connect(self._show_unit)
                groups.setdefault(dock_key(probe, sizes[probe.group] > SPLIT_ABOVE), []).append(panel)
        if scalars:
            curves = ScalarPanel(scalars)
            curves.hovered.connect(self.statusBar().showMessage)
            groups.setdefault("curves", []).append(curves)
        first = not self.group_docks
        self._fill_docks(groups)
        if first:
            self.restore_layout()  # the remembered layout names these docks; they exist only now

    def _sync_controls(self, spec: SessionSpec) -> None:
        """Show ``spec`` in the controls without triggering another re-trace."""
        pairs = (
            (self.model_box, spec.model),
            (self.task_box, spec.task),
            (self.corpus_box, spec.corpus),
        )
        for box, value in pairs:
            box.blockSignals(True)
            box.setCurrentText(value)
            box.blockSignals(False)
        for box, value in (
            (self.hidden_box, spec.hidden),
            (self.seed_box, spec.seed),
            (self.length_box, spec.length),
            (self.slots_box, spec.slots),
            (self.width_box, spec.width),
            (self.heads_box, spec.read_heads),
        ):
            box.blockSignals(True)
            box.setValue(value)
            box.blockSignals(False)
        self._enable_controls()

    def _fill_docks(self, groups: dict[str, list[Any]]) -> None:
        for name in list(self.group_docks):
            if name not in groups:
                dock = self.group_docks.pop(name)
                self.view_menu.removeAction(dock.toggleViewAction())
                self.removeDockWidget(dock)
                dock.deleteLater()
        self.panel_export_menu.clear()
        left: list[QDockWidget] = []
        right: list[QDockWidget] = []
        model_groups = [name for name in groups if name.split(" ")[0] not in MODEL_GROUPS_LAST]
        for name, panels in groups.items():
            grid_host = QWidget()
            grid = QGridLayout(grid_host)
            grid.setContentsMargins(0, 0, 0, 0)
            grid.setSpacing(2)
            narrow = len(model_groups) > 2 or name.split(" ")[0] in MODEL_GROUPS_LAST
            columns = 1 if len(panels) < 3 or narrow else 2
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
            rows = (len(panels) + columns - 1) // columns
            grid_host.setMinimumHeight(PANEL_HEIGHT * rows if name != "curves" else 0)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setWidget(grid_host)
            if name in self.group_docks:
                self.group_docks[name].setWidget(scroll)
                continue
            on_right = name.split(" ")[0] in MODEL_GROUPS_LAST
            dock = self._dock(name, scroll, Qt.DockWidgetArea.BottomDockWidgetArea)
            dock.setObjectName(f"group:{name}")
            self.group_docks[name] = dock
            (right if on_right else left).append(dock)
        # model groups side by side on the left; output, curves and the unit plot stacked on the right
        # more than three model docks (the DNC's): two rows, so each keeps room for its colour bars
        top_row = left[: (len(left) + 1) // 2] if len(left) > 3 else left
        row = top_row + right[:1]
        for before, after in zip(row, row[1:], strict=False):
            self.splitDockWidget(before, after, Qt.Orientation.Horizontal)
        for above, below in zip(top_row, left[len(top_row) :], strict=False):
            self.splitDockWidget(above, below, Qt.Orientation.Vertical)
        column = right + [self.unit_dock]
        for before, after in zip(column, column[1:], strict=False):
            self.splitDockWidget(before, after, Qt.Orientation.Vertical)
        if left and right and self.settings.value("window/state") is None:
            # a first layout: the model's panels get most of the width
            width = max(self.width(), 800)
            share = [int(0.62 * width / len(top_row))] * len(top_row) + [int(0.38 * width)]
            self.resizeDocks(top_row + [right[0]], share, Qt.Orientation.Horizontal)
            self.resizeDocks(column, [300] * len(right) + [200], Qt.Orientation.Vertical)


    def _reveal(self, probe_name: str) -> None:
        """Bring the dock holding ``probe_name`` to the front and frame its panel(s) in red."""
        for panel in self.panels:
            if getattr(panel, "probe_name", None) == probe_name:
                panel.mark_problem()
                for dock in self.group_docks.values():
                    if dock.widget() is not None and dock.widget().isAncestorOf(panel):
                        dock.show()
                        dock.raise_()
                        dock.widget().ensureWidgetVisible(panel)

    def panel(self, title: str) -> Any:
        """The probe panel titled ``title`` (a probe name, or ``name [head h]``)."""
        for panel in self.panels:
            if getattr(panel, "title", None) == title:
                return panel
        raise KeyError(f"no panel {title!r}")

    def _show_unit(self, title: str, row: int, col: int) -> None:
        self._plot_unit(title, row, col)
        self.unit_dock.show()
        self.unit_dock.raise_()

    def _plot_unit(self, title: str, row: int, col: int) -> None:
        try:
            panel = self.panel(title)
        except KeyError:  # the new trace has no such panel
            self.shown_unit = None
            self.unit_plot.clear_unit(self.steps)
            return
        self.shown_unit = (title, row, col)
        self.unit_plot.show_unit(panel.cell_name(row, col), panel.cell_over_time(row, col))
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

    def stop_playing(self) -> None:
        if self.play_timer.isActive():
            self.toggle_play()

    def toggle_play(self) -> None:
        button = self.buttons["play"]
        if self.play_timer.isActive():
            self.play_timer.stop()
            button.setText("play")
            button.setIcon(self.step_icons["play"])
        else:
            if self.step >= self.steps - 1:
                self.set_step(0)
            self._update_speed()
            self.play_timer.start()
            button.setText("pause")
            button.setIcon(self.step_icons["pause"])

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
    def export_widget_png(self, widget: QWidget, path: str) -> str | None:
        """``widget`` as drawn, to a PNG (``.png`` added if missing).

        Returns the path written, or None after a message (the app keeps running)."""
        path = _with_suffix(path, ".png")

        def save(temporary: str) -> None:
            if not widget.grab().save(temporary, "PNG"):
                raise OSError("the image could not be written")

        try:
            _atomic_write(path, save)
        except OSError as error:
            self.show_message(f"Could not export {path}: {error}")
            return None
        self.statusBar().showMessage(f"wrote {path}", 5000)
        return path

    def export_view_png(self, path: str) -> str | None:
        return self.export_widget_png(self, path)

    def export_trace_npz(self, path: str) -> str | None:
        """Every probe keyed by its name, plus its metadata (``np.load(path)`` reads the arrays, no pickles;
        :func:`rnnscope.report.trace_export.read_trace_npz` the whole trace)."""
        if self.session is None:
            return None
        from rnnscope.report.trace_export import write_trace_npz

        path = _with_suffix(path, ".npz")
        try:
            write_trace_npz(self.session.trace, path)
        except Exception as error:  # unwritable folder, full disk: a message, the app keeps running
            self.show_message(f"Could not export {path}: {error}")
            return None
        self.statusBar().showMessage(f"wrote {path}", 5000)
        return path
