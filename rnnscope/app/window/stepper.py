"""The step bar: one cursor over the trace's timesteps, moved by buttons, keys, the slider or playback."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtGui import QAction, QIcon, QKeySequence
from PyQt6.QtWidgets import QLabel, QMainWindow, QPushButton, QSizePolicy, QSlider, QStyle, QToolBar

from rnnscope.app import resources
from rnnscope.app.widgets import spin_box

# the step keys: (key, what it does, Stepper method); the actions and the Help list both come from here
STEP_KEYS = (
    ("Right", "next step", "next_step"),
    ("Left", "previous step", "prev_step"),
    ("Home", "first step", "first_step"),
    ("End", "last step", "last_step"),
    ("Space", "play / pause", "toggle_play"),
)
# step bar buttons: (name, text, icon in resources/icons, standard icon if that is missing, method, key)
STEP_BUTTONS = (
    ("first", "first", "step-first", QStyle.StandardPixmap.SP_MediaSkipBackward, "first_step", "Home"),
    ("prev", "prev", "step-prev", QStyle.StandardPixmap.SP_MediaSeekBackward, "prev_step", "Left"),
    ("play", "play", "play", QStyle.StandardPixmap.SP_MediaPlay, "toggle_play", "Space"),
    ("next", "next", "step-next", QStyle.StandardPixmap.SP_MediaSeekForward, "next_step", "Right"),
    ("last", "last", "step-last", QStyle.StandardPixmap.SP_MediaSkipForward, "last_step", "End"),
)
DEFAULT_SPEED = 8  # steps per second


class Stepper(QToolBar):
    """First / prev / play / next / last, a step box, the timeline slider and the play speed.

    Holds the shared cursor: :meth:`set_step` clamps it to the trace and emits
    ``step_changed(step)`` once per move, which the window passes on to every panel.
    The step keys are window shortcuts (``window`` gets the actions).
    """

    step_changed = pyqtSignal(int)

    def __init__(self, window: QMainWindow, speed: int = DEFAULT_SPEED) -> None:
        super().__init__("Steps", window)
        self.setObjectName("toolbar:steps")
        self.step = 0
        self.steps = 0
        self.play_timer = QTimer(self)
        self.play_timer.timeout.connect(self._advance)
        commands: dict[str, Callable[[], None]] = {
            "next_step": self.next_step,
            "prev_step": self.prev_step,
            "first_step": self.first_step,
            "last_step": self.last_step,
            "toggle_play": self.toggle_play,
        }
        self._build_buttons(commands)
        self._build_cursor(speed)
        self.key_actions: dict[str, QAction] = {}
        for keys, what, method in STEP_KEYS:
            action = QAction(what, window)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
            action.triggered.connect(commands[method])
            window.addAction(action)
            self.key_actions[keys] = action

    def _build_buttons(self, commands: dict[str, Callable[[], None]]) -> None:
        self.buttons: dict[str, QPushButton] = {}
        self.icons: dict[str, QIcon] = {
            name: resources.icon(icon, fallback) for name, _, icon, fallback, _, _ in STEP_BUTTONS
        }
        self.icons["pause"] = resources.icon("pause", QStyle.StandardPixmap.SP_MediaPause)
        for name, text, _, _, method, key in STEP_BUTTONS:
            button = QPushButton(self.icons[name], text)
            button.setToolTip(f"{text} ({key})")
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys stay with the window
            button.clicked.connect(commands[method])
            self.addWidget(button)
            self.buttons[name] = button

    def _build_cursor(self, speed: int) -> None:
        self.addWidget(QLabel(" step "))
        self.step_box = spin_box(0, 0, 0)
        self.step_box.setToolTip("jump to a timestep")
        self.step_box.setKeyboardTracking(False)
        self.step_box.valueChanged.connect(self.set_step)
        self.addWidget(self.step_box)
        self.steps_label = QLabel(" / 0 ")
        self.addWidget(self.steps_label)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.slider.valueChanged.connect(self.set_step)
        self.slider.setMinimumWidth(160)
        self.slider.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.addWidget(self.slider)
        self.addWidget(QLabel(" steps/s "))
        self.speed_box = spin_box(1, 120, speed)
        self.speed_box.setToolTip("play speed")
        self.speed_box.valueChanged.connect(self._update_speed)
        self.addWidget(self.speed_box)

    def reset(self, steps: int) -> None:
        """A new trace of ``steps`` timesteps: the next :meth:`set_step` moves every panel, even to
        the step shown now."""
        self.steps = steps
        last = max(steps - 1, 0)
        for widget in (self.slider, self.step_box):
            widget.blockSignals(True)
            widget.setMaximum(last)
            widget.blockSignals(False)
        self.steps_label.setText(f" / {last} ")
        self.step = -1

    def set_step(self, step: int) -> None:
        """Move the cursor (clamped to the trace); nothing is re-traced."""
        step = int(min(max(step, 0), max(self.steps - 1, 0)))
        if step == self.step:
            return
        self.step = step
        for widget in (self.slider, self.step_box):
            widget.blockSignals(True)
            widget.setValue(step)
            widget.blockSignals(False)
        self.step_changed.emit(step)

    def next_step(self) -> None:
        self.set_step(self.step + 1)

    def prev_step(self) -> None:
        self.set_step(self.step - 1)

    def first_step(self) -> None:
        self.set_step(0)

    def last_step(self) -> None:
        self.set_step(self.steps - 1)

    @property
    def playing(self) -> bool:
        return self.play_timer.isActive()

    def stop_playing(self) -> None:
        if self.playing:
            self.toggle_play()

    def toggle_play(self) -> None:
        """Play from here (from the start at the last step) at the chosen speed, or pause."""
        button = self.buttons["play"]
        if self.playing:
            self.play_timer.stop()
            button.setText("play")
            button.setIcon(self.icons["play"])
            return
        if self.step >= self.steps - 1:
            self.set_step(0)
        self._update_speed()
        self.play_timer.start()
        button.setText("pause")
        button.setIcon(self.icons["pause"])

    def _update_speed(self) -> None:
        self.play_timer.setInterval(int(1000 / self.speed_box.value()))

    def _advance(self) -> None:
        if self.step >= self.steps - 1:
            self.toggle_play()
        else:
            self.next_step()
