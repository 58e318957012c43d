"""Set-up shared by everything that opens rnnscope windows: the app, the panel demos, benchmarks."""

from __future__ import annotations

import sys

from PyQt6.QtWidgets import QApplication

from rnnscope.app import resources
from rnnscope.app.gui_gc import collect_on_gui_thread


def configure_app(app: QApplication) -> None:
    """Names (they place the user's ``QSettings``), the application icon of ``app``, and garbage
    collection on the GUI thread only (:mod:`rnnscope.app.gui_gc`)."""
    collect_on_gui_thread(app)
    app.setApplicationName("rnnscope")
    app.setOrganizationName("rnnscope")
    if resources.resources_dir() is None:  # the app runs without them, but say why it looks plain
        print(f"warning: {resources.missing_message()}", file=sys.stderr)
    app.setWindowIcon(resources.app_icon())
