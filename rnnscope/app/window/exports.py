"""File > Export: the view or one panel as PNG (at 1x, 2x or 3x) or SVG, the trace as ``.npz``.

Every file is written atomically; a failed export is a message (the window keeps
running); a missing extension is added. Images are rendered, not grabbed: a 2x PNG
draws text, lines and axes at twice the resolution (not an enlarged screenshot), a
panel hidden by the probe browser still exports, and SVG keeps text and lines as
vectors (heatmap cells are embedded images, as pyqtgraph draws them).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PyQt6.QtCore import QBuffer, QByteArray, QIODevice, QRect, QSize, Qt
from PyQt6.QtGui import QImage, QPainter
from PyQt6.QtSvg import QSvgGenerator
from PyQt6.QtWidgets import QFileDialog, QMainWindow, QMenu, QWidget

from rnnscope.app.widgets import status_bar
from rnnscope.engine.atomic import write_atomically
from rnnscope.engine.trace import Trace
from rnnscope.report.trace_export import write_trace_npz

# the save dialog's choices: filter text -> PNG scale (None: SVG)
IMAGE_FILTERS: dict[str, float | None] = {
    "PNG, screen size (*.png)": 1.0,
    "PNG, 2x (*.png)": 2.0,
    "PNG, 3x (*.png)": 3.0,
    "SVG (*.svg)": None,
}
PNG_FILTER = next(iter(IMAGE_FILTERS))
NPZ_FILTER = "NumPy (*.npz)"
HIDDEN_PANEL_SIZE = QSize(800, 500)  # a panel the probe browser hides has no size of its own


def with_suffix(path: str, suffix: str) -> str:
    """``path``, with ``suffix`` added unless it already ends with it (in any case)."""
    return path if path.lower().endswith(suffix) else path + suffix


def _render_size(widget: QWidget) -> QSize:
    size = widget.size()
    if not widget.isVisible() or size.width() < 2 or size.height() < 2:
        widget.resize(HIDDEN_PANEL_SIZE)
        size = HIDDEN_PANEL_SIZE
    return size


def png_bytes(widget: QWidget, scale: float = 1.0) -> bytes:
    """``widget`` rendered at ``scale`` times its size (text and lines drawn at that resolution),
    encoded as PNG."""
    size = _render_size(widget)
    image = QImage(
        max(1, round(size.width() * scale)), max(1, round(size.height() * scale)), QImage.Format.Format_ARGB32
    )
    image.setDevicePixelRatio(scale)
    image.fill(Qt.GlobalColor.white)
    painter = QPainter(image)
    widget.render(painter)
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    if not image.save(buffer, "PNG"):
        raise OSError("the image could not be encoded")
    return bytes(buffer.data().data())


def svg_bytes(widget: QWidget, title: str = "rnnscope") -> bytes:
    """``widget`` drawn as SVG (text and lines as vectors)."""
    size = _render_size(widget)
    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    generator = QSvgGenerator()
    generator.setOutputDevice(buffer)
    generator.setSize(size)
    generator.setViewBox(QRect(0, 0, size.width(), size.height()))
    generator.setTitle(title)
    painter = QPainter(generator)
    widget.render(painter)
    painter.end()
    buffer.close()
    return bytes(data.data())


class Exporter:
    """Writes exports of ``window`` and reports them: ``wrote PATH`` in the status bar, or
    ``report(message)`` when writing failed."""

    def __init__(self, window: QMainWindow, report: Callable[[str], None]) -> None:
        self.window = window
        self.report = report
        self.panel_menu = QMenu("Export panel (PNG, SVG)", window)

    def install(self, menu: QMenu, view: QWidget, trace: Callable[[str], object]) -> None:
        """*Export view…* (of ``view``), *Export trace as .npz…* (saving through ``trace``) and the
        *Export panel* submenu, in ``menu``."""
        menu.addAction("Export view (PNG, SVG)…", lambda: self.ask_image(view))
        menu.addAction("Export trace as .npz…", lambda: self.ask(NPZ_FILTER, trace))
        menu.addMenu(self.panel_menu)

    def list_panels(self, panels: Sequence[tuple[str, Callable[[], QWidget]]]) -> None:
        """One *Export panel* entry per ``(title, panel getter)`` (a panel not shown is made when
        exported)."""
        self.panel_menu.clear()
        for title, panel in panels:
            # triggered(checked) fills the first argument: the getter is bound after it
            self.panel_menu.addAction(title, lambda _checked=False, get=panel: self.ask_image(get()))

    def ask(self, file_filter: str, save: Callable[[str], object]) -> None:
        """A save dialog; ``save(path)`` if a path was given."""
        path, _ = QFileDialog.getSaveFileName(self.window, "Export", "", file_filter)
        if path:
            save(path)

    def ask_image(self, widget: QWidget) -> None:
        """A save dialog offering PNG at 1x / 2x / 3x and SVG; the chosen one is written."""
        path, chosen = QFileDialog.getSaveFileName(self.window, "Export", "", ";;".join(IMAGE_FILTERS))
        if not path:
            return
        scale = IMAGE_FILTERS.get(chosen, 1.0)
        if scale is None or path.lower().endswith(".svg"):
            self.widget_svg(widget, path)
        else:
            self.widget_png(widget, path, scale)

    def widget_png(self, widget: QWidget, path: str, scale: float = 1.0) -> str | None:
        """``widget`` rendered at ``scale`` to a PNG; the path written, or None after a message."""
        return self._write(with_suffix(path, ".png"), lambda: png_bytes(widget, scale))

    def widget_svg(self, widget: QWidget, path: str) -> str | None:
        """``widget`` as SVG; the path written, or None after a message."""
        return self._write(with_suffix(path, ".svg"), lambda: svg_bytes(widget))

    def _write(self, path: str, encode: Callable[[], bytes]) -> str | None:
        try:
            write_atomically(path, encode())
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
