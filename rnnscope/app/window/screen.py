"""The window on the screen it opens on: never larger than the screen's available area."""

from __future__ import annotations

from PyQt6.QtCore import QRect, QSize
from PyQt6.QtGui import QGuiApplication
from PyQt6.QtWidgets import QWidget


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
