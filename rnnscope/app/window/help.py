"""The Help menu: the keyboard shortcuts (every action of the window that has one) and About."""

from __future__ import annotations

import platform

import numpy as np
import pyqtgraph
from PyQt6.QtCore import PYQT_VERSION_STR, Qt, qVersion
from PyQt6.QtGui import QAction, QKeySequence
from PyQt6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMainWindow, QVBoxLayout, QWidget

import rnnscope
from rnnscope.app import resources
from rnnscope.app.widgets import add_menu
from rnnscope.app.window.stepper import STEP_KEYS

HELP_KEY = "F1"
MOUSE_HELP = (
    "<p>Mouse: hover a heatmap cell for its probe, step, unit and value; click it to plot "
    "that unit over time. Docks can be dragged, tabbed and floated (View menu to show them; "
    "View &gt; Reset layout puts the model's own layout back). The <i>probes</i> dock shows and "
    "hides panels.</p>"
)


def _what(action: QAction) -> str:
    """What an action does, from its text without the ``&`` mnemonics and the ``…``."""
    return action.text().replace("&", "").rstrip(".…").strip() or action.toolTip()


def shortcuts(window: QWidget | None = None) -> list[tuple[str, str]]:
    """``(keys, what they do)`` for every shortcut of ``window`` (each of its actions and their
    children's that has one: step keys, File and View menus, checkpoints, Help), as the Help dialog
    lists them; without a window, the step keys and Help's own."""
    rows = [(keys, what) for keys, what, _ in STEP_KEYS]
    if window is not None:
        listed = {keys for keys, _ in rows}
        for action in window.findChildren(QAction):
            for sequence in action.shortcuts():
                keys = sequence.toString()
                if keys and keys not in listed:
                    listed.add(keys)
                    rows.append((keys, _what(action)))
    else:
        rows.append((HELP_KEY, "this list"))
    rows.append(("Enter", "in the text field: trace the typed sequence"))
    return rows


def shortcuts_html(window: QWidget | None = None) -> str:
    rows = "".join(
        f"<tr><td><b>{QKeySequence(keys).toString(QKeySequence.SequenceFormat.NativeText) or keys}</b>"
        f"&nbsp;&nbsp;</td><td>{what}</td></tr>"
        for keys, what in shortcuts(window)
    )
    return f"<table>{rows}</table>{MOUSE_HELP}"


def about_html() -> str:
    """Name, version and the versions of the libraries it runs on."""
    return (
        f"<h3>rnnscope {rnnscope.__version__}</h3>"
        "<p>A visual debugger for recurrent networks (RNN, LSTM, GRU, DNC) written in NumPy: "
        "step a model through a sequence and look at every gate, state and memory.</p>"
        f"<p>Python {platform.python_version()}<br>"
        f"NumPy {np.__version__}<br>Qt {qVersion()} (PyQt {PYQT_VERSION_STR})<br>"
        f"pyqtgraph {pyqtgraph.__version__}</p>"
        f"<p>Icons and style: {resources.resources_dir() or 'not found (standard icons, no style)'}</p>"
    )


class HelpDialog(QDialog):
    """A non-modal dialog of rich text with a Close button (shown, never ``exec()``-ed: the
    window keeps working beside it)."""

    def __init__(self, title: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setWindowIcon(parent.windowIcon())
        layout = QVBoxLayout(self)
        self.label = QLabel()
        self.label.setObjectName("helpText")
        self.label.setTextFormat(Qt.TextFormat.RichText)
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.close)
        layout.addWidget(buttons)
        self.setMinimumWidth(380)


class HelpMenu:
    """*Keyboard shortcuts* (F1) and *About rnnscope*, added as the window's last menu."""

    def __init__(self, window: QMainWindow) -> None:
        self.window = window
        self.menu = add_menu(window, "&Help")
        self.shortcuts_action = QAction("Keyboard shortcuts", window)
        self.shortcuts_action.setToolTip("this list")
        self.shortcuts_action.setShortcut(QKeySequence(HELP_KEY))
        self.shortcuts_action.triggered.connect(self.show_shortcuts)
        self.about_action = QAction("About rnnscope", window)
        self.about_action.triggered.connect(self.show_about)
        self.menu.addAction(self.shortcuts_action)
        self.menu.addAction(self.about_action)
        self.dialogs: dict[str, HelpDialog] = {}

    def show_shortcuts(self) -> HelpDialog:
        return self._show("shortcuts", "Keyboard shortcuts", shortcuts_html(self.window))

    def show_about(self) -> HelpDialog:
        return self._show("about", "About rnnscope", about_html())

    def _show(self, key: str, title: str, html: str) -> HelpDialog:
        """The dialog ``key`` showing ``html``: made once, brought back when asked for again."""
        dialog = self.dialogs.get(key)
        if dialog is None:
            dialog = self.dialogs[key] = HelpDialog(title, self.window)
        dialog.label.setText(html)
        if dialog.isVisible():
            dialog.raise_()  # already open, perhaps behind the window
        dialog.show()
        return dialog
