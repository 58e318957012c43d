"""The window's menus: File (exports, Close window, Quit), View (Reset layout, then every dock) and Help."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PyQt6.QtGui import QAction
from PyQt6.QtWidgets import QMainWindow, QMenu

from rnnscope.app.widgets import add_action, add_menu
from rnnscope.app.window.exports import Exporter
from rnnscope.app.window.help import HelpMenu


@dataclass
class WindowMenus:
    """What :func:`build_menus` made (the checkpoint actions add to ``file`` later, the docks to ``view``)."""

    file: QMenu
    view: QMenu
    exporter: Exporter
    help: HelpMenu
    close: QAction
    quit: QAction
    reset: QAction


def build_menus(
    window: QMainWindow,
    report: Callable[[str], None],
    export_trace: Callable[[str], object],
    reset_layout: Callable[[], None],
) -> WindowMenus:
    """File, View and Help of ``window``; exports report failures through ``report``."""
    file_menu = add_menu(window, "&File")
    exporter = Exporter(window, report)
    exporter.install(file_menu, window, export_trace)
    file_menu.addSeparator()
    # one window: closing it quits
    close = add_action(window, file_menu, "&Close window", "Ctrl+W", window.close)
    quit_action = add_action(window, file_menu, "&Quit", "Ctrl+Q", window.close)
    view_menu = add_menu(window, "&View")
    reset = add_action(window, view_menu, "&Reset layout", None, reset_layout)
    view_menu.addSeparator()
    help_menu = HelpMenu(window)  # the last menu
    return WindowMenus(file_menu, view_menu, exporter, help_menu, close, quit_action, reset)
