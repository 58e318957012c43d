"""Small widget helpers the app's windows share."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import Qt
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QMainWindow, QMenu, QMenuBar, QScrollArea, QSpinBox, QStatusBar, QWidget


def spin_box(minimum: int, maximum: int, value: int) -> QSpinBox:
    """A ``QSpinBox`` on ``minimum..maximum`` showing ``value``."""
    box = QSpinBox()
    box.setRange(minimum, maximum)
    box.setValue(value)
    return box


def scrolling(widget: QWidget) -> QScrollArea:
    """``widget`` in a scroll area that resizes it: a big minimum size scrolls instead of forcing
    the whole layout wider or taller."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    scroll.setWidget(widget)
    return scroll


def add_menu(window: QMainWindow, title: str) -> QMenu:
    """A new menu ``title`` at the end of ``window``'s menu bar."""
    menu = QMenu(title, window)
    bar = window.menuBar()
    if bar is None:  # Qt makes the bar when first asked; its stubs allow for none
        bar = QMenuBar(window)
        window.setMenuBar(bar)
    bar.addMenu(menu)
    return menu


def status_bar(window: QMainWindow) -> QStatusBar:
    """``window``'s status bar."""
    bar = window.statusBar()
    if bar is None:  # Qt makes the bar when first asked; its stubs allow for none
        bar = QStatusBar(window)
        window.setStatusBar(bar)
    return bar


def add_action(
    window: QWidget,
    menu: QMenu,
    text: str,
    keys: QKeySequence.StandardKey | str | None = None,
    triggered: Callable[[], object] | None = None,
) -> QAction:
    """A new action ``text`` at the end of ``menu`` calling ``triggered``, with the shortcut ``keys``
    working anywhere in ``window`` (the action belongs to it: the Help list finds it there)."""
    action = QAction(text, window)
    if triggered is not None:
        action.triggered.connect(lambda _checked=False: triggered())
    if keys is not None:
        action.setShortcut(QKeySequence(keys))
        action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    menu.addAction(action)
    window.addAction(action)
    return action
