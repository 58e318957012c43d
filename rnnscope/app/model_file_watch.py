"""Watching a model file and the modules it imports from its own folder, as editors save them.

Editors save in two ways: writing the file in place (``fileChanged``), or writing a new
file and renaming it over the old one (the watch on the old file ends; the folder sees a
change). Both are caught: the folders are watched too, files that come back are watched
again, and every burst of events (an editor writes, renames, touches) ends in one
``changed`` signal, a short while after the last event, and only when a watched file's
contents differ from what was last loaded (:meth:`ModelFileSession.changed`): a swap file
or a save with no edit is no reload.
"""

from __future__ import annotations

import os

from PyQt6.QtCore import QFileSystemWatcher, QObject, QTimer, pyqtSignal

from rnnscope.engine.protocol import ModelFileSession

SETTLE_MS = 120  # after the last file event: an editor's save is done by then


class ModelFileWatch(QObject):
    """Emits ``changed()`` when a file of the watched :class:`ModelFileSession` has new contents."""

    changed = pyqtSignal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.session: ModelFileSession | None = None
        self.watcher = QFileSystemWatcher(self)
        self.watcher.fileChanged.connect(self._event)
        self.watcher.directoryChanged.connect(self._event)
        self.settle = QTimer(self)
        self.settle.setSingleShot(True)
        self.settle.setInterval(SETTLE_MS)
        self.settle.timeout.connect(self._settled)

    def watch(self, session: ModelFileSession | None) -> None:
        """Watch ``session``'s files (the model file and its neighbours) and their folders; ``None``
        stops watching."""
        self.session = session
        self.rearm()

    def rearm(self) -> None:
        """Watch what the session has now (a reload may import other neighbours; a replaced file
        needs a new watch)."""
        wanted = set()
        if self.session is not None:
            files = [path for path in self.session.watched_files if os.path.isfile(path)]
            wanted = set(files) | {os.path.dirname(path) for path in files}
        watched = set(self.watcher.files()) | set(self.watcher.directories())
        if watched - wanted:
            self.watcher.removePaths(sorted(watched - wanted))
        if wanted - watched:
            self.watcher.addPaths(sorted(wanted - watched))

    @property
    def paths(self) -> list[str]:
        """Every file and folder watched now."""
        return sorted([*self.watcher.files(), *self.watcher.directories()])

    def _event(self, _path: str) -> None:
        self.settle.start()  # (again): one check after the burst

    def _settled(self) -> None:
        self.rearm()
        if self.session is not None and self.session.changed():
            self.changed.emit()
