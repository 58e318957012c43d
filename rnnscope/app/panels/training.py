"""The training panel: train the shown model in a worker thread, watch the curves, stop and look.

Controls: optimiser and its settings (learning rate, momentum, gradient clipping),
batch size and length, Start / Pause-Resume / Step / Stop / Reset, and "Show now"
(send a copy of the current weights to the stepping view). Live plots: loss
(per scored step), bits per character or accuracy, gradient norm, and the
update-to-weight ratio of every parameter. Char models print samples every few
hundred iterations. With "snapshot every K" set, weight copies are kept and an
iteration slider shows the model as it was at any of them.

The panel never touches the model being trained: the worker owns it, and the
panel only receives copies (:class:`~rnnscope.app.training_worker.WeightSnapshot`).
Statistics arrive in batches and the plots redraw from a timer at most
``REDRAW_HZ`` times a second, so plotting never throttles training.

Open it alone with ``python -m rnnscope.app.panels.training`` (``--screenshot
PATH --iterations N`` trains, saves a PNG and exits).
"""

from __future__ import annotations

import math
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6.QtCore import Qt, QThread, QTimer, pyqtSignal
from PyQt6.QtGui import QFont
from PyQt6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSlider,
    QSpinBox,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from rnnscope.app.training_worker import TrainingWorker, WeightSnapshot, start_worker, stop_thread
from rnnscope.engine.models.base import RecurrentModel
from rnnscope.engine.models.registry import build_model

pg.setConfigOptions(imageAxisOrder="row-major")

REDRAW_HZ = 20
REDRAW_BUDGET = 0.05  # largest fraction of the time spent redrawing curves while training
MAX_REDRAW_INTERVAL_MS = 1000
MAX_SNAPSHOTS = 200
SAMPLE_LENGTH = 200

OPTIMISERS = ("adagrad", "sgd", "rmsprop", "adam")
DEFAULT_LEARNING_RATES = {"sgd": 0.1, "adagrad": 0.1, "rmsprop": 1e-3, "adam": 2e-3}
# which settings each optimiser takes (the others are greyed out)
USES_MOMENTUM = {"sgd": True, "adagrad": False, "rmsprop": True, "adam": False}


@dataclass
class TrainingSettings:
    """What the panel's controls say, as plain data (see :meth:`TrainingPanel.settings`)."""

    optimiser: str = "adagrad"
    learning_rate: float = 0.1
    momentum: float = 0.0
    clip_norm: float = 5.0  # global gradient-norm clipping; 0 = off
    batch_size: int = 16
    length: int = 25  # T: steps per chunk (truncated BPTT length for text)
    iterations: int = 0  # 0 = until stopped
    sample_every: int = 200  # char models: a text sample every this many iterations; 0 = never
    snapshot_every: int = 0  # keep a weight copy every K iterations; 0 = never
    temperature: float = 0.8
    seed: int = 0

    def optimiser_options(self) -> dict[str, float]:
        options = {"lr": self.learning_rate}
        if USES_MOMENTUM.get(self.optimiser) and self.momentum > 0:
            options["momentum"] = self.momentum
        return options


TrainerFactory = Callable[[RecurrentModel, Any, TrainingSettings], Any]


def engine_trainer(model: RecurrentModel, task: Any, settings: TrainingSettings) -> Any:
    """A :class:`rnnscope.engine.training.Trainer` for ``model`` on ``task`` with ``settings``."""
    from rnnscope.engine.training import Trainer, build_optimizer

    optimizer = build_optimizer(settings.optimiser, **settings.optimiser_options())
    return Trainer(
        model,
        task,
        optimizer,
        batch_size=settings.batch_size,
        seq_len=settings.length,
        clip_norm=settings.clip_norm if settings.clip_norm > 0 else None,
        seed=settings.seed,
    )


def stat(stats: Any, *names: str, default: float = math.nan) -> float:
    """The first of ``names`` that ``stats`` has and is not ``None``, as a float."""
    for name in names:
        value = getattr(stats, name, None)
        if value is not None:
            return float(value)
    return default


class StatsHistory:
    """Growing arrays of the statistics of every iteration (amortised O(1) append).

    ``columns`` maps a series name (``"loss"``, ``"bits_per_char"``, ``"accuracy"``,
    ``"grad_norm"``, ``"chars_per_s"``, ``"ratio/<parameter>"``) to a float array
    aligned with ``iterations``; a value the trainer did not report is ``nan``.
    """

    SCALARS = {
        "loss": ("loss_per_step", "loss"),
        "bits_per_char": ("bits_per_char", "bpc"),
        "accuracy": ("accuracy",),
        "grad_norm": ("grad_norm",),
        "chars_per_s": ("chars_per_s",),
    }

    def __init__(self) -> None:
        self._capacity = 1024
        self.length = 0
        self._iterations = np.zeros(self._capacity)
        self._columns: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return self.length

    @property
    def iterations(self) -> np.ndarray:
        return self._iterations[: self.length]

    def column(self, name: str) -> np.ndarray:
        data = self._columns.get(name)
        if data is None:
            return np.full(self.length, np.nan)
        return data[: self.length]

    @property
    def ratio_names(self) -> list[str]:
        return [name[len("ratio/") :] for name in self._columns if name.startswith("ratio/")]

    def _column_for_writing(self, name: str) -> np.ndarray:
        data = self._columns.get(name)
        if data is None:
            data = self._columns[name] = np.full(self._capacity, np.nan)
        return data

    def extend(self, batch: list[Any]) -> None:
        needed = self.length + len(batch)
        if needed > self._capacity:
            while self._capacity < needed:
                self._capacity *= 2
            self._iterations = np.resize(self._iterations, self._capacity)
            for name, data in self._columns.items():
                grown = np.full(self._capacity, np.nan)
                grown[: self.length] = data[: self.length]
                self._columns[name] = grown
        for offset, stats in enumerate(batch):
            at = self.length + offset
            self._iterations[at] = stat(stats, "iteration", default=at + 1)
            for name, fields in self.SCALARS.items():
                value = stat(stats, *fields)
                if not math.isnan(value) or name in self._columns:
                    self._column_for_writing(name)[at] = value
            ratios = getattr(stats, "update_ratio", None) or {}
            for parameter, value in ratios.items():
                self._column_for_writing(f"ratio/{parameter}")[at] = float(value)
        self.length = needed

    def clear(self) -> None:
        self.__init__()


def _curve_colours(count: int) -> list[Any]:
    return [pg.intColor(i, hues=max(count, 1), values=1, maxValue=220) for i in range(count)]


class TrainingPlots(pg.GraphicsLayoutWidget):
    """Loss, bits per char / accuracy, gradient norm and update ratios, drawn from a :class:`StatsHistory`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setBackground("w")
        self._y_ranges: dict[int, tuple[float, float]] = {}
        self._x_limit = 10.0
        self.loss_plot = self._plot(0, 0, "loss per scored step", "nats")
        self.metric_plot = self._plot(0, 1, "bits per character", "bits")
        self.grad_plot = self._plot(1, 0, "gradient norm (before clipping)", "|g|", log=True)
        self.ratio_plot = self._plot(1, 1, "update / weight ratio", "|dW| / |W|", log=True)
        self.ratio_legend = self.ratio_plot.addLegend(offset=(-5, 5), labelTextSize="7pt", colCount=2)
        self.loss_curve = self.loss_plot.plot(pen=pg.mkPen("#1f77b4", width=1))
        self.loss_smooth = self.loss_plot.plot(pen=pg.mkPen("#d62728", width=1))
        self.metric_curve = self.metric_plot.plot(pen=pg.mkPen("#2ca02c", width=1))
        self.grad_curve = self.grad_plot.plot(pen=pg.mkPen("#9467bd", width=1))
        self.ratio_curves: dict[str, pg.PlotDataItem] = {}
        self.metric_name = "bits_per_char"
        self.redraws = 0
        # painting cost grows with the points drawn; a plot is about this many pixels wide anyway
        self.max_points = 600
        self.last_paint_s = 0.0

    def paintEvent(self, event: Any) -> None:  # noqa: N802 - Qt API
        started = time.perf_counter()
        super().paintEvent(event)
        self.last_paint_s = time.perf_counter() - started

    def _plot(self, row: int, col: int, title: str, units: str, log: bool = False) -> pg.PlotItem:
        plot = self.addPlot(row=row, col=col, title=title)
        # no grid: grid lines cost several times more to paint than the curves themselves
        plot.setLabel("bottom", "iteration")
        plot.setLabel("left", units)
        plot.setLogMode(y=log)
        # SI prefixes mislabel log axes ("x1e+12"); plain numbers read better here
        plot.getAxis("left").enableAutoSIPrefix(False)
        # ranges are set by hand, in steps (see _fit_ranges): axes that change on every frame
        # are re-laid out on every frame, which costs more than drawing the curves
        plot.disableAutoRange()
        plot.setXRange(0, 10, padding=0)
        plot.setYRange(0, 1, padding=0)
        self._y_ranges[id(plot)] = (0.0, 1.0)
        return plot

    def redraw(self, history: StatsHistory) -> None:
        full_x = history.iterations
        keep = _decimation(len(full_x), self.max_points)
        x = full_x[keep]
        loss = history.column("loss")
        self.loss_curve.setData(x, loss[keep], connect="finite")
        self.loss_smooth.setData(x, _smooth(loss)[keep], connect="finite")
        metric = "bits_per_char" if np.isfinite(history.column("bits_per_char")).any() else "accuracy"
        if metric != self.metric_name:
            self.metric_name = metric
            self.metric_plot.setTitle("bits per character" if metric == "bits_per_char" else "accuracy")
            self.metric_plot.setLabel("left", "bits" if metric == "bits_per_char" else "fraction")
        self.metric_curve.setData(x, _smooth(history.column(metric))[keep], connect="finite")
        self.grad_curve.setData(x, _positive(history.column("grad_norm"))[keep], connect="finite")
        names = history.ratio_names
        if set(names) != set(self.ratio_curves):
            self._make_ratio_curves(names)
        for name, curve in self.ratio_curves.items():
            curve.setData(x, _positive(history.column(f"ratio/{name}"))[keep], connect="finite")
        self._fit_ranges(full_x)
        self.redraws += 1

    def _plots(self) -> list[tuple[pg.PlotItem, list[pg.PlotDataItem], bool]]:
        return [
            (self.loss_plot, [self.loss_curve, self.loss_smooth], False),
            (self.metric_plot, [self.metric_curve], False),
            (self.grad_plot, [self.grad_curve], True),
            (self.ratio_plot, list(self.ratio_curves.values()), True),
        ]

    def _fit_ranges(self, iterations: np.ndarray) -> None:
        last = float(iterations[-1]) if len(iterations) else 0.0
        if last > self._x_limit or last < self._x_limit / 4:
            self._x_limit = _nice_ceiling(max(10.0, 1.25 * last))
            for plot, _, _ in self._plots():
                plot.setXRange(0, self._x_limit, padding=0)
        for plot, curves, log in self._plots():
            values = [curve.getData()[1] for curve in curves]
            finite = np.concatenate(
                [v[np.isfinite(v)] for v in values if v is not None and len(v)] or [np.empty(0)]
            )
            if finite.size == 0:
                continue
            # (getData gives what is drawn: already log10 on a log axis)
            low, high = float(finite.min()), float(finite.max())
            shown_low, shown_high = self._y_ranges[id(plot)]
            span = max(high - low, 1e-9 if not log else 0.1)
            # change the range only when the data leave it or fill too little of it
            if low < shown_low or high > shown_high or span < 0.4 * (shown_high - shown_low):
                margin = 0.15 * span
                self._y_ranges[id(plot)] = (low - margin, high + margin)
                plot.setYRange(low - margin, high + margin, padding=0)

    def _make_ratio_curves(self, names: list[str]) -> None:
        for curve in self.ratio_curves.values():
            self.ratio_plot.removeItem(curve)
        self.ratio_legend.clear()
        self.ratio_curves = {}
        for name, colour in zip(names, _curve_colours(len(names)), strict=True):
            self.ratio_curves[name] = self.ratio_plot.plot(pen=pg.mkPen(colour, width=1), name=name)

    def fit_x(self, history: StatsHistory) -> None:
        """Fit the x axes to the iterations run (when training stops or pauses)."""
        if len(history):
            self._x_limit = max(float(history.iterations[-1]), 1.0)
            for plot, _, _ in self._plots():
                plot.setXRange(0, self._x_limit, padding=0.02)

    def clear_curves(self) -> None:
        self._x_limit = 10.0
        for plot, _, _ in self._plots():
            plot.setXRange(0, 10, padding=0)
        self.redraw(StatsHistory())


def _nice_ceiling(value: float) -> float:
    """The smallest of 1, 2, 5 x 10^k that is >= ``value``."""
    power = 10.0 ** math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        if step * power >= value:
            return step * power
    return 10.0 * power


def _decimation(count: int, max_points: int) -> np.ndarray:
    """Indices of at most ``max_points`` of ``count`` samples, evenly spread, always with the last one.

    Curves are drawn from these (the raw loss is noisy, so the smoothed curve is
    what carries the trend; the raw one keeps its spread at any stride).
    """
    if count <= max_points:
        return np.arange(count)
    keep = np.linspace(0, count - 1, max_points).astype(np.int64)
    return np.unique(keep)


def _smooth(values: np.ndarray, window: int = 25) -> np.ndarray:
    """Running mean over up to ``window`` iterations (ignoring nan), same length."""
    if values.size == 0:
        return values
    finite = np.isfinite(values)
    filled = np.where(finite, values, 0.0)
    total = np.cumsum(filled)
    count = np.cumsum(finite)
    total[window:] = total[window:] - total[:-window]
    count[window:] = count[window:] - count[:-window]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(count > 0, total / np.maximum(count, 1), np.nan)


def _positive(values: np.ndarray) -> np.ndarray:
    """Values for a log axis: non-positive ones become nan (not drawn) rather than -inf."""
    return np.where(values > 0, values, np.nan)


class TrainingPanel(QWidget):
    """Train the main window's model (or a given one) with live curves; pause and inspect.

    Use :meth:`set_source` for a model and task, or :meth:`attach` to the main
    window (which then provides them, and shows the paused model via
    ``show_model``). Signals: ``show_model_requested(model, task)`` whenever a
    weight copy should be shown, ``state_changed(str)`` (``"idle"``,
    ``"running"``, ``"paused"``, ``"stopped"``), ``message(str)``.
    """

    show_model_requested = pyqtSignal(object, object)
    state_changed = pyqtSignal(str)
    message = pyqtSignal(str)

    def __init__(self, parent: QWidget | None = None, trainer_factory: TrainerFactory | None = None) -> None:
        super().__init__(parent)
        self.trainer_factory = trainer_factory or engine_trainer
        self.trainer: Any = None
        self.task: Any = None
        self.worker: TrainingWorker | None = None
        self.thread_: QThread | None = None
        self.history = StatsHistory()
        self.snapshots: list[WeightSnapshot] = []
        self.last_snapshot: WeightSnapshot | None = None
        self.state = "idle"
        self._source: Callable[[], tuple[RecurrentModel | None, Any]] | None = None
        self._window: Any = None
        self._showing_own_model = False
        self._show_next_snapshot = False
        self._pending_checkpoint: Any = None
        self._own_models: weakref.WeakSet[RecurrentModel] = weakref.WeakSet()
        self._dirty = False
        self._last_stats: Any = None
        self._build()
        self.redraw_timer = QTimer(self)
        self.redraw_timer.setInterval(int(1000 / REDRAW_HZ))
        self.redraw_timer.timeout.connect(self._redraw_if_needed)
        self._update_buttons()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        self.optimiser = QComboBox()
        self.optimiser.addItems(OPTIMISERS)
        self.optimiser.setToolTip("adagrad: the from-scratch char-RNN default; rmsprop: the DNC default")
        self.learning_rate = QLineEdit("0.1")
        self.learning_rate.setToolTip("learning rate")
        self.momentum = QLineEdit("0.9")
        self.momentum.setToolTip("momentum (SGD, RMSProp); 0 = none")
        self.clip_norm = QLineEdit("5")
        self.clip_norm.setToolTip("clip the global gradient norm to this; 0 = no clipping")
        self.batch_size = _spin(1, 4096, 16, "sequences per batch B")
        self.length = _spin(1, 10_000, 25, "steps per chunk T (truncated BPTT length for text)")
        self.iterations = _spin(0, 10_000_000, 0, "stop after this many iterations; 0 = until stopped")
        self.sample_every = _spin(
            0, 1_000_000, 200, "char models: a text sample every N iterations; 0 = never"
        )
        self.snapshot_every = _spin(
            0, 1_000_000, 0, "keep a copy of the weights every K iterations; 0 = never"
        )
        self.seed = _spin(0, 2**31 - 1, 0, "seeds the batches")
        self.show_when_paused = QCheckBox("Show in stepping view when paused")
        self.show_when_paused.setChecked(True)
        for widget in (self.learning_rate, self.momentum, self.clip_norm):
            widget.setMaximumWidth(80)
        self.optimiser.currentTextChanged.connect(self._optimiser_changed)

        settings = QGroupBox("Optimiser and data")
        grid = QGridLayout(settings)
        pairs = (
            ("Optimiser", self.optimiser),
            ("Learning rate", self.learning_rate),
            ("Momentum", self.momentum),
            ("Clip norm", self.clip_norm),
            ("Batch B", self.batch_size),
            ("Length T", self.length),
            ("Iterations", self.iterations),
            ("Sample every", self.sample_every),
            ("Snapshot every", self.snapshot_every),
            ("Seed", self.seed),
        )
        for number, (label, widget) in enumerate(pairs):
            row, column = divmod(number, 5)
            grid.addWidget(QLabel(label), row, 2 * column)
            grid.addWidget(widget, row, 2 * column + 1)

        self.start_button = QPushButton("Start")
        self.start_button.setToolTip("start training (or continue after Stop)")
        self.start_button.clicked.connect(self.start)
        self.pause_button = QPushButton("Pause")
        self.pause_button.clicked.connect(self.toggle_pause)
        self.step_button = QPushButton("Step")
        self.step_button.setToolTip("run exactly one iteration, then stay paused")
        self.step_button.clicked.connect(self.step_once)
        self.stop_button = QPushButton("Stop")
        self.stop_button.clicked.connect(self.stop)
        self.reset_button = QPushButton("Reset")
        self.reset_button.setToolTip(
            "forget the trained weights and curves; start again from the shown model"
        )
        self.reset_button.clicked.connect(self.reset)
        self.show_button = QPushButton("Show now")
        self.show_button.setToolTip("show a copy of the current weights in the stepping view")
        self.show_button.clicked.connect(self.show_current)
        buttons = QHBoxLayout()
        for widget in (
            self.start_button,
            self.pause_button,
            self.step_button,
            self.stop_button,
            self.reset_button,
            self.show_button,
            self.show_when_paused,
        ):
            buttons.addWidget(widget)
        buttons.addStretch(1)

        self.status = QLabel("Not started.")
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.plots = TrainingPlots()

        self.samples = QPlainTextEdit()
        self.samples.setReadOnly(True)
        self.samples.setMaximumBlockCount(400)
        self.samples.setFont(QFont("DejaVu Sans Mono", 9))
        self.samples.setPlaceholderText("Text samples of character models appear here while training.")
        samples_box = QGroupBox("Samples")
        samples_layout = QVBoxLayout(samples_box)
        samples_layout.addWidget(self.samples)

        self.snapshot_slider = QSlider(Qt.Orientation.Horizontal)
        self.snapshot_slider.setEnabled(False)
        self.snapshot_slider.setToolTip(
            "weights kept every K iterations: drag to show the model at that iteration"
        )
        self.snapshot_slider.valueChanged.connect(self._snapshot_chosen)
        self.snapshot_label = QLabel("no snapshots")
        snapshot_row = QHBoxLayout()
        snapshot_row.addWidget(QLabel("Snapshot:"))
        snapshot_row.addWidget(self.snapshot_slider, 1)
        snapshot_row.addWidget(self.snapshot_label)

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.addWidget(self.plots)
        splitter.addWidget(samples_box)
        splitter.setSizes([520, 140])

        layout = QVBoxLayout(self)
        layout.addWidget(settings)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        layout.addLayout(snapshot_row)
        layout.addWidget(splitter, 1)
        self._optimiser_changed(self.optimiser.currentText())

    def _optimiser_changed(self, name: str) -> None:
        self.learning_rate.setText(f"{DEFAULT_LEARNING_RATES.get(name, 0.01):g}")
        self.momentum.setEnabled(USES_MOMENTUM.get(name, False))

    def _update_buttons(self) -> None:
        running = self.state == "running"
        paused = self.state == "paused"
        active = running or paused
        self.start_button.setEnabled(not active)
        self.start_button.setText("Continue" if self.trainer is not None and not active else "Start")
        self.pause_button.setEnabled(active)
        self.pause_button.setText("Resume" if paused else "Pause")
        self.step_button.setEnabled(self.state != "running")
        self.stop_button.setEnabled(active)
        self.reset_button.setEnabled(not active and self.trainer is not None)
        self.show_button.setEnabled(self.trainer is not None)
        for widget in (self.optimiser, self.batch_size, self.length, self.seed):
            widget.setEnabled(self.trainer is None)

    def _set_state(self, state: str) -> None:
        self.state = state
        self._update_buttons()
        self.state_changed.emit(state)

    # ------------------------------------------------------------------ sources
    def set_source(self, model: RecurrentModel, task: Any) -> None:
        """Train (a copy of) ``model`` on ``task``."""
        self._source = lambda: (model, task)

    def attach(self, window: Any) -> None:
        """Train the main window's current model on its task; show paused weights there."""
        self._window = window
        self._source = lambda: (window.current_model(), window.current_task())
        self.show_model_requested.connect(window.show_model)
        changed = getattr(window, "model_changed", None)
        if changed is not None:
            changed.connect(self._window_model_changed)

    def adopt_checkpoint(self, checkpoint: Any, task: Any = None) -> None:
        """Train the checkpoint's model next, resuming its optimiser state and iteration count.

        Any running training is stopped first (its curves are dropped: they belong
        to another model).
        """
        if self.state in ("running", "paused") and self.worker is not None:
            self.worker.stop()
            stop_thread(self.thread_)
        self._discard_trainer()
        self._pending_checkpoint = checkpoint
        if task is not None and self._window is None:
            self.set_source(checkpoint.model, task)
        name = getattr(checkpoint, "optimizer_name", None)
        if name in OPTIMISERS:
            self.optimiser.setCurrentText(name)
            rate = getattr(checkpoint, "optimizer_state", {}) or {}
            if "lr" in rate:
                self.learning_rate.setText(repr(float(rate["lr"])))
            if "momentum" in rate:
                self.momentum.setText(repr(float(rate["momentum"])))
        # the saved batch layout, clipping and seed, so Start continues the run exactly
        saved = getattr(checkpoint, "trainer_state", None) or {}
        for spin, key in ((self.batch_size, "batch_size"), (self.length, "seq_len"), (self.seed, "seed")):
            if isinstance(saved.get(key), int):
                spin.setValue(saved[key])
        if "clip_norm" in saved:
            self.clip_norm.setText(repr(float(saved["clip_norm"] or 0)))
        self._say(
            f"Loaded a checkpoint at iteration {getattr(checkpoint, 'iteration', 0)}: Start resumes it."
        )

    def _restore_checkpoint(self, trainer: Any) -> None:
        checkpoint, self._pending_checkpoint = self._pending_checkpoint, None
        if checkpoint is None:
            return
        restore = getattr(trainer, "restore", None)
        if callable(restore):
            notes = restore(checkpoint)
            if notes:
                self._say("Resumed the checkpoint; " + "; ".join(notes))
            return
        optimizer = getattr(trainer, "optimizer", None)
        state = getattr(checkpoint, "optimizer_state", None)
        if (
            optimizer is not None
            and state
            and getattr(checkpoint, "optimizer_name", None) == self.optimiser.currentText()
        ):
            optimizer.load_state_dict(state)
        if hasattr(trainer, "iteration"):
            trainer.iteration = int(getattr(checkpoint, "iteration", 0))

    def _window_model_changed(self, *args: Any) -> None:
        shown = self._window.current_model() if self._window is not None else None
        if self._showing_own_model or (shown is not None and shown in self._own_models):
            # the window shows one of our weight copies (possibly re-traced later, off-thread)
            return
        if self.trainer is not None and self.state in ("idle", "stopped"):
            # a different model was chosen: the next Start trains that one
            self._discard_trainer()
            self._say("The shown model changed: Start trains the new one.")

    # ------------------------------------------------------------------ settings
    def settings(self) -> TrainingSettings:
        """The settings in the controls (``ValueError`` naming a bad field)."""
        return TrainingSettings(
            optimiser=self.optimiser.currentText(),
            learning_rate=_positive_float(self.learning_rate.text(), "the learning rate"),
            momentum=_float_in(self.momentum.text(), "the momentum", 0.0, 1.0)
            if self.momentum.isEnabled()
            else 0.0,
            clip_norm=_float_in(self.clip_norm.text(), "the clip norm", 0.0, math.inf),
            batch_size=self.batch_size.value(),
            length=self.length.value(),
            iterations=self.iterations.value(),
            sample_every=self.sample_every.value(),
            snapshot_every=self.snapshot_every.value(),
            seed=self.seed.value(),
        )

    # ------------------------------------------------------------------ control
    def start(self, start_paused: bool = False) -> TrainingWorker | None:
        """Start (or continue) training in a worker thread; returns the worker, ``None`` on error."""
        worker = self.prepare(start_paused=start_paused)
        if worker is not None:
            self.launch(worker)
        return worker

    def prepare(self, start_paused: bool = False) -> TrainingWorker | None:
        """A connected, not yet started worker (tests connect blockers, then call :meth:`launch`)."""
        if self.state in ("running", "paused"):
            return None
        try:
            settings = self.settings()
            if self.trainer is None:
                if self._source is None:
                    raise ValueError("nothing to train: no model was given")
                model, task = self._source()
                if model is None or task is None:
                    raise ValueError("the window has no model and task to train yet")
                own_copy = build_model(model.config, model.params.copy())
                self.trainer = self.trainer_factory(own_copy, task, settings)
                self.task = task
                self._restore_checkpoint(self.trainer)
            else:
                self._apply_learning_rate(settings)
        except Exception as error:  # a bad setting or a trainer that refuses the task
            self._say(f"Cannot start training: {error}", error=True)
            self.trainer = None if self.state == "idle" else self.trainer
            self._update_buttons()
            return None
        done = self.history.length
        worker = TrainingWorker(
            self.trainer,
            iterations=settings.iterations or None,
            start_paused=start_paused,
            sample_every=settings.sample_every,
            sample_function=self._sample_function(settings),
            snapshot_every=settings.snapshot_every,
        )
        worker.stats.connect(self._stats_arrived)
        worker.sample.connect(self._sample_arrived)
        worker.snapshot.connect(self._snapshot_arrived)
        worker.paused.connect(self._paused)
        worker.resumed.connect(self._resumed)
        worker.finished.connect(self._finished)
        worker.failed.connect(self._failed)
        self._say(f"{'Continuing' if done else 'Starting'} training with {settings.optimiser}...")
        return worker

    def launch(self, worker: TrainingWorker) -> None:
        """Run a worker from :meth:`prepare` in its own thread."""
        stop_thread(self.thread_)
        self.worker = worker
        self._set_state("running")
        self.redraw_timer.start()
        self.thread_ = start_worker(worker, "training")

    def toggle_pause(self) -> None:
        if self.worker is None:
            return
        if self.state == "paused":
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self.worker is not None and self.state == "running":
            self.worker.pause()

    def resume(self) -> None:
        if self.worker is not None and self.state == "paused":
            self.worker.resume()
            self._set_state("running")

    def step_once(self) -> None:
        """One iteration then pause; starts a paused worker when none runs."""
        if self.worker is not None and self.state in ("running", "paused"):
            self.worker.step_once()
            return
        worker = self.prepare(start_paused=True)
        if worker is not None:
            worker.step_once()
            self.launch(worker)

    def stop(self) -> None:
        if self.worker is not None:
            self.worker.stop()

    def reset(self) -> None:
        """Forget the trainer, curves, samples and snapshots (only when not training)."""
        if self.state in ("running", "paused"):
            return
        self._discard_trainer()
        self._say("Reset: Start trains the shown model from its current weights.")

    def _discard_trainer(self) -> None:
        self.trainer = None
        self.history.clear()
        self.snapshots.clear()
        self.last_snapshot = None
        self.samples.clear()
        self._update_snapshot_slider()
        self.plots.clear_curves()
        self._set_state("idle")

    def show_current(self) -> None:
        """Show a copy of the weights as they are now (taken between iterations)."""
        if self.worker is not None and self.state == "running":
            self._show_next_snapshot = True
            self.worker.request_snapshot()
        elif self.trainer is not None:
            from rnnscope.app.training_worker import take_snapshot

            # the worker is paused or gone: the trainer is not being touched
            self._show_snapshot(take_snapshot(self.trainer, int(getattr(self.trainer, "iteration", 0))))

    def shutdown(self) -> None:
        """Stop any training and wait for the thread (call before closing)."""
        if self.worker is not None:
            self.worker.stop()
        stop_thread(self.thread_)
        self.redraw_timer.stop()

    def _apply_learning_rate(self, settings: TrainingSettings) -> None:
        optimizer = getattr(self.trainer, "optimizer", None)
        if optimizer is not None and hasattr(optimizer, "lr"):
            optimizer.lr = settings.learning_rate
        if hasattr(self.trainer, "clip_norm"):
            self.trainer.clip_norm = settings.clip_norm if settings.clip_norm > 0 else None

    def _sample_function(self, settings: TrainingSettings) -> Callable[[RecurrentModel], str] | None:
        vocab = getattr(self.task, "vocab", None)
        if vocab is None or settings.sample_every <= 0:
            return None
        from rnnscope.engine.tasks import sample_text

        rng = np.random.default_rng(settings.seed)

        def sample(model: RecurrentModel) -> str:
            return sample_text(model, vocab, "", SAMPLE_LENGTH, temperature=settings.temperature, rng=rng)

        return sample

    # ------------------------------------------------------------------ worker signals
    def _stats_arrived(self, batch: list[Any]) -> None:
        self.history.extend(batch)
        self._last_stats = batch[-1]
        self._dirty = True

    def _redraw_if_needed(self) -> None:
        if not self._dirty:
            return
        self._dirty = False
        started = time.perf_counter()
        self.plots.redraw(self.history)
        self._update_status()
        # the paint happens later, in the event loop; the previous frame's paint time stands in for it
        cost = time.perf_counter() - started + self.plots.last_paint_s
        # the GUI shares the interpreter with the training thread: keep redraws to a small
        # fraction of the time (at most REDRAW_HZ, slower when a frame is expensive)
        interval_ms = min(MAX_REDRAW_INTERVAL_MS, max(1000 / REDRAW_HZ, 1000 * cost / REDRAW_BUDGET))
        self.redraw_timer.setInterval(int(interval_ms))

    def _update_status(self) -> None:
        stats = self._last_stats
        if stats is None:
            return
        parts = [f"iteration {int(stat(stats, 'iteration', default=len(self.history)))}"]
        loss = stat(stats, "loss_per_step", "loss")
        parts.append(f"loss {loss:.4f}")
        bpc = stat(stats, "bits_per_char", "bpc")
        if not math.isnan(bpc):
            parts.append(f"{bpc:.3f} bits/char")
        accuracy = stat(stats, "accuracy")
        if not math.isnan(accuracy):
            parts.append(f"accuracy {accuracy:.3f}")
        parts.append(f"|g| {stat(stats, 'grad_norm'):.3g}")
        speed = stat(stats, "chars_per_s")
        if not math.isnan(speed):
            parts.append(f"{speed:,.0f} chars/s")
        self.status.setText(f"<b>{self.state}</b> &nbsp; " + ", ".join(parts))

    def _sample_arrived(self, iteration: int, text: str) -> None:
        self.samples.appendPlainText(f"--- iteration {iteration} ---\n{text}")

    def _snapshot_arrived(self, snapshot: WeightSnapshot) -> None:
        if self._show_next_snapshot:
            self._show_next_snapshot = False
            self._show_snapshot(snapshot)
            return
        self.snapshots.append(snapshot)
        if len(self.snapshots) > MAX_SNAPSHOTS:
            # keep the first, then every other one: the slider still spans the whole run
            self.snapshots = self.snapshots[:1] + self.snapshots[2::2]
        self._update_snapshot_slider()

    def _update_snapshot_slider(self) -> None:
        count = len(self.snapshots)
        self.snapshot_slider.blockSignals(True)
        self.snapshot_slider.setRange(0, max(count - 1, 0))
        self.snapshot_slider.setValue(max(count - 1, 0))
        self.snapshot_slider.blockSignals(False)
        self.snapshot_slider.setEnabled(count > 0)
        self.snapshot_label.setText(
            f"iteration {self.snapshots[-1].iteration} ({count} kept)" if count else "no snapshots"
        )

    def _snapshot_chosen(self, index: int) -> None:
        if 0 <= index < len(self.snapshots):
            snapshot = self.snapshots[index]
            self.snapshot_label.setText(f"iteration {snapshot.iteration} ({len(self.snapshots)} kept)")
            self._show_snapshot(snapshot)

    def show_snapshot_at(self, iteration: int) -> WeightSnapshot:
        """Move the slider to the kept snapshot nearest ``iteration`` (and show it)."""
        if not self.snapshots:
            raise ValueError("no snapshots were kept: set 'Snapshot every' before training")
        index = int(np.argmin([abs(s.iteration - iteration) for s in self.snapshots]))
        if index == self.snapshot_slider.value():
            self._snapshot_chosen(index)
        else:
            self.snapshot_slider.setValue(index)
        return self.snapshots[index]

    def _paused(self, snapshot: WeightSnapshot) -> None:
        self.last_snapshot = snapshot
        self._set_state("paused")
        self._redraw_if_needed()
        self._say(f"Paused at iteration {snapshot.iteration}.")
        if self.show_when_paused.isChecked():
            self._show_snapshot(snapshot)

    def _resumed(self) -> None:
        self._set_state("running")

    def _finished(self, iterations: int) -> None:
        self.redraw_timer.stop()
        self._dirty = True
        self._set_state("stopped")
        self._redraw_if_needed()
        self.plots.fit_x(self.history)
        self._say(f"Stopped after {iterations} iteration(s) in this run; {len(self.history)} in all.")

    def _failed(self, message: str) -> None:
        self.redraw_timer.stop()
        self._set_state("stopped")
        self._say(message.split("\n\n")[0], error=True)

    def _show_snapshot(self, snapshot: WeightSnapshot) -> None:
        self.last_snapshot = snapshot
        model = snapshot.build()
        self._own_models.add(model)
        self._showing_own_model = True
        try:
            self.show_model_requested.emit(model, self.task)
        finally:
            self._showing_own_model = False

    def _say(self, text: str, error: bool = False) -> None:
        colour = "#d62728" if error else "#333333"
        self.status.setText(f"<span style='color:{colour}'>{_escape(text)}</span>")
        self.message.emit(text)


def _spin(low: int, high: int, value: int, tooltip: str) -> QSpinBox:
    spin = QSpinBox()
    spin.setRange(low, high)
    spin.setValue(value)
    spin.setToolTip(tooltip)
    spin.setGroupSeparatorShown(True)
    return spin


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _positive_float(text: str, what: str) -> float:
    value = _float_in(text, what, 0.0, math.inf)
    if value <= 0:
        raise ValueError(f"{what} must be positive, got {text!r}")
    return value


def _float_in(text: str, what: str, low: float, high: float) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{what} must be a number, got {text!r}") from None
    if not (math.isfinite(value) or high == math.inf and value == math.inf) or not low <= value <= high:
        raise ValueError(f"{what} must be between {low:g} and {high:g}, got {text!r}")
    return value


# ---------------------------------------------------------------------- standalone preview
def main(argv: list[str] | None = None) -> int:
    import argparse
    import sys

    from PyQt6.QtWidgets import QApplication

    parser = argparse.ArgumentParser(
        description="The training panel on its own (a char model on a shipped corpus)."
    )
    parser.add_argument("--model", default="lstm", choices=("rnn", "lstm", "gru", "dnc"))
    parser.add_argument("--task", default="chars")
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument(
        "--iterations", type=int, default=0, help="stop after N iterations (0: until stopped)"
    )
    parser.add_argument("--snapshot-every", type=int, default=0)
    parser.add_argument(
        "--screenshot", metavar="PNG", help="train --iterations, save the panel as PNG and exit"
    )
    args = parser.parse_args(argv)
    from rnnscope.engine.tasks import build_task

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from rnnscope.app.application import configure_app

    configure_app(app)
    task = build_task(args.task)
    try:
        model = build_model(task.model_config(args.model, args.hidden))
    except ImportError as error:
        print(f"the {args.model} model is not available: {error}", file=sys.stderr)
        return 2
    panel = TrainingPanel()
    panel.setWindowTitle("rnnscope - training")
    panel.resize(1200, 860)
    panel.set_source(model, task)
    panel.iterations.setValue(args.iterations)
    panel.snapshot_every.setValue(args.snapshot_every)
    if args.screenshot:
        panel.sample_every.setValue(max(1, args.iterations // 3))
    panel.show()
    if args.screenshot:

        def save(state: str) -> None:
            if state == "stopped":
                QTimer.singleShot(
                    200, lambda: (panel.grab().save(args.screenshot), panel.shutdown(), app.quit())
                )

        panel.state_changed.connect(save)
    if panel.start() is None and args.screenshot:
        print(panel.status.text(), file=sys.stderr)
        panel.grab().save(args.screenshot)
        return 1
    code = app.exec()
    panel.shutdown()
    return code


if __name__ == "__main__":
    raise SystemExit(main())
