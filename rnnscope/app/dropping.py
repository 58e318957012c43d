"""Files dragged onto the window: which local file of a kind a drag carries, and taking it."""

from __future__ import annotations

from collections.abc import Callable

from PyQt6.QtCore import QEvent
from PyQt6.QtGui import QDragEnterEvent, QDropEvent


def dropped_file(event: QDropEvent, suffix: str) -> str | None:
    """The first local file ending in ``suffix`` (``".npz"``, any case) that a drag carries, else ``None``."""
    data = event.mimeData()
    if data is None or not data.hasUrls():
        return None
    for url in data.urls():
        if url.isLocalFile() and url.toLocalFile().lower().endswith(suffix):
            return url.toLocalFile()
    return None


def take_drop(event: QEvent | None, suffix: str, open_path: Callable[[str], object]) -> bool | None:
    """An event filter's answer for drags of ``suffix`` files: ``True`` when the event was taken (a drag
    of such a file is accepted; its drop opens it with ``open_path``), ``False`` for a drag of other
    files, ``None`` when the event is not such a drag (the filter hands it on)."""
    if event is None:
        return False
    kind = event.type()
    if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove) and isinstance(
        event, QDragEnterEvent | QDropEvent
    ):
        if dropped_file(event, suffix) is None:
            return False
        event.acceptProposedAction()
        return True
    if kind == QEvent.Type.Drop and isinstance(event, QDropEvent):
        path = dropped_file(event, suffix)
        if path is not None:
            event.acceptProposedAction()
            open_path(path)
            return True
    return None
