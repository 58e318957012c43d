"""File > Export: the view or one panel as PNG, the trace as ``.npz``; every file written atomically.

A failed export is a message (the window keeps running); a missing extension is added.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import QBuffer, QIODevice
from PyQt6.QtWidgets import QFileDialog, QMainWindow, QMenu, QWidget

from rnnscope.app.widgets import status_bar
from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.trace import Trace
from rnnscope.report.trace_export import write_trace_npz

PNG_FILTER = "PNG (*.png)"
NPZ_FILTER = "NumPy (*.npz)"


def with_suffix(path: str, suffix: str) -> str:
    """``path``, with ``suffix`` added unless it already ends with it (in any case)."""
    return path if path.lower().endswith(suffix) else path + suffix


def png_bytes(widget: QWidget) -> bytes:
    """``widget`` as drawn now, encoded as PNG."""
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not widget.grab().save(buffer, "PNG"):
        raise OSError("the image could not be encoded")
    return bytes(buffer.data().data())


class Exporter:
    """Writes exports of ``window`` and reports them: ``wrote PATH`` in the status bar, or
    ``report(message)`` when writing failed."""

    def __init__(self, window: QMainWindow, report: Callable[[str], None]) -> None:
        self.window = window
        self.report = report
        self.panel_menu = QMenu("Export panel as PNG", window)

    def install(self, menu: QMenu, view: Callable[[str], object], trace: Callable[[str], object]) -> None:
        """*Export view as PNG…*, *Export trace as .npz…* (saving through ``view`` / ``trace``) and
        the *Export panel as PNG* submenu, in ``menu``."""
        menu.addAction("Export view as PNG…", lambda: self.ask(PNG_FILTER, view))
        menu.addAction("Export trace as .npz…", lambda: self.ask(NPZ_FILTER, trace))
        menu.addMenu(self.panel_menu)

    def list_panels(self, panels: Sequence[tuple[str, QWidget]]) -> None:
        """One *Export panel as PNG* entry per ``(title, panel)``."""
        self.panel_menu.clear()
        for title, panel in panels:
            # triggered(checked) fills the first argument: the panel is bound after it
            self.panel_menu.addAction(
                title,
                lambda _checked=False, p=panel: self.ask(PNG_FILTER, lambda path: self.widget_png(p, path)),
            )

    def ask(self, file_filter: str, save: Callable[[str], object]) -> None:
        """A save dialog; ``save(path)`` if a path was given."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export", "", file_filter)
        if path:
            save(path)

    def widget_png(self, widget: QWidget, path: str) -> str | None:
        """``widget`` as drawn, to a PNG; the path written, or None after a message."""
        path = with_suffix(path, ".png")
        try:
            write_atomically(path, png_bytes(widget))
        except OSError as error:
            self._failed(path, error)
            return None
        return self._wrote(path)

    def trace_npz(self, trace: Trace, path: str) -> str | None:
        """Every probe keyed by its name, plus its metadata (``np.load(path)`` reads the arrays, no
        pickles; :func:`rnnscope.report.trace_export.read_trace_npz` the whole trace)."""
        path = with_suffix(path, ".npz")
        try:
            write_trace_npz(trace, path)
        except Exception as error:  # unwritable folder, full disk: a message, the app keeps running
            self._failed(path, error)
            return None
        return self._wrote(path)

    def _wrote(self, path: str) -> str:
        status_bar(self.window).showMessage(f"wrote {path}", 5000)
        return path

    def _failed(self, path: str, error: Exception) -> None:
        self.report(f"Could not export {path}: {error}")
