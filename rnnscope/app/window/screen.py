"""The window on the screen it opens on: never larger than the screen's available area, and a check
that everything a user needs lies on that screen (:func:`placement_problems`)."""

from __future__ import annotations

from collections.abc import Sequence

from PyQt6.QtCore import QRect, QSize
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QDockWidget, QMainWindow, QWidget

from rnnscope.app.widgets import status_bar
from rnnscope.app.window.controls import ModelControls
from rnnscope.app.window.layouts import stale_tab_bars
from rnnscope.app.window.stepper import Stepper


def available_area(widget: QWidget) -> QRect | None:
    """The available geometry (without panels and docks of the desktop) of ``widget``'s screen."""
    screen = widget.screen() or QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else None


def fit_to_screen(window: QWidget, size: QSize) -> None:
    """``window`` at ``size``, or less where the screen is smaller, moved wholly onto the screen.

    A remembered size from a larger monitor, or the default, must not put the status bar and the
    bottom docks off a 720-pixel screen.
    """
    area = available_area(window)
    if area is None or area.isEmpty():
        window.resize(size)
        return
    width, height = min(size.width(), area.width()), min(size.height(), area.height())
    window.resize(width, height)
    frame = window.frameGeometry()
    # frame decorations come on top of the size; keep the title bar on screen
    extra_w, extra_h = frame.width() - window.width(), frame.height() - window.height()
    if extra_w > 0 or extra_h > 0:
        width, height = min(width, area.width() - extra_w), min(height, area.height() - extra_h)
        window.resize(width, height)
    x = min(max(frame.x(), area.left()), area.right() + 1 - frame.width())
    y = min(max(frame.y(), area.top()), area.bottom() + 1 - frame.height())
    window.move(max(x, area.left()), max(y, area.top()))


def shrink_to_screen(window: QWidget) -> None:
    """A window grown taller or wider than its screen (a new layout's panels asked for a few more
    pixels) is made to fit again; one that fits is left as the user has it."""
    area = available_area(window)
    if area is None or area.isEmpty():
        return
    frame = window.frameGeometry()
    extra_w, extra_h = frame.width() - area.width(), frame.height() - area.height()
    if extra_w > 0 or extra_h > 0:
        window.resize(window.width() - max(extra_w, 0), window.height() - max(extra_h, 0))


def key_controls(controls: ModelControls, stepper: Stepper, strip: QWidget | None) -> dict[str, QWidget]:
    """What a user needs at start, by name: the model bar's pickers, the sequence field, the step
    bar and the strip (and the status bar of the window they are in)."""
    found: dict[str, QWidget] = {
        "model": controls.model_box,
        "hidden": controls.hidden_box,
        "seed": controls.seed_box,
        "task": controls.task_box,
        "length": controls.length_box,
        "text file": controls.file_button,
        "sequence field": controls.text_edit,
        "trace button": controls.trace_button,
        "step box": stepper.step_box,
        "slider": stepper.slider,
        "speed": stepper.speed_box,
    }
    found.update({f"{name} button": button for name, button in stepper.buttons.items()})
    window = controls.window()
    if isinstance(window, QMainWindow):
        found["status bar"] = status_bar(window)
    if strip is not None:
        found["strip"] = strip
    return found


def _global_rect(widget: QWidget) -> QRect:
    return QRect(widget.mapToGlobal(widget.rect().topLeft()), widget.size())


def placement_problems(
    window: QMainWindow, controls: dict[str, QWidget], panels: Sequence[QWidget], min_panel: QSize
) -> list[str]:
    """What a user of ``window`` could not see or reach on its screen, one line each (none: all well).

    The window inside the screen's available area; every key control (``controls``, by name)
    shown (not hidden behind a toolbar's » button), inside the screen and not zero-sized;
    every dock left open either shown inside the screen or a tab of a dock that is; no tab bar
    left over from an earlier grouping drawn over the docks; every shown panel (``panels``
    whose dock is in front) at least ``min_panel`` in size.
    """
    area = available_area(window)
    if area is None:
        return ["no screen"]
    problems = []
    if not area.contains(window.frameGeometry()):
        problems.append(f"window {window.frameGeometry()} is not inside the screen's {area}")
    for name, widget in controls.items():
        rect = _global_rect(widget)
        if not widget.isVisible() or rect.isEmpty() or not area.contains(rect):
            problems.append(f"control {name} is not on screen ({rect}, visible {widget.isVisible()})")
    problems += _dock_problems(window, area)
    problems += [f"tab bar {bar.geometry()} belongs to no dock group" for bar in stale_tab_bars(window)]
    for panel in panels:
        if panel.isVisible() and not panel.visibleRegion().isEmpty():
            if panel.width() < min_panel.width() or panel.height() < min_panel.height():
                problems.append(f"panel {panel.objectName() or panel.windowTitle()} is only {panel.size()}")
    return problems


def _dock_problems(window: QMainWindow, area: QRect) -> list[str]:
    """Open docks neither shown inside ``area`` nor a tab of one that is."""
    problems = []
    for dock in window.findChildren(QDockWidget):
        toggle = dock.toggleViewAction()
        if toggle is not None and not toggle.isChecked():  # closed by the user (or nothing to show)
            continue
        if dock.isVisible() and not dock.visibleRegion().isEmpty():  # a tab behind another has none
            rect = _global_rect(dock)
            if rect.width() < 2 or rect.height() < 2 or not area.contains(rect):
                problems.append(f"dock {dock.windowTitle()!r} is not on screen ({rect})")
        elif not any(not other.visibleRegion().isEmpty() for other in window.tabifiedDockWidgets(dock)):
            problems.append(f"dock {dock.windowTitle()!r} is open but neither shown nor a tab")
    return problems
