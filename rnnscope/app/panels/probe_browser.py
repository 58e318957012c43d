"""The probe browser: every panel of the trace in a tree by model part, with show / hide and search.

Parts are what the window says (controller, memory, per head with a branch per head,
output, loss and gradients); a leaf is one panel (a probe, or one head of a probe). A
tick shows the panel, no tick hides it; ticking a part ticks all of it. The search box
keeps the rows whose name holds the typed text. Every change made in one go (a part's
box ticks all its panels) is reported once: ``visibility_changed({title: shown})``.

``python -m rnnscope.app.panels.probe_browser`` shows it on a made-up DNC's panels.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PyQt6.QtCore import Qt, QTimer, pyqtSignal
from PyQt6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

TITLE_ROLE = Qt.ItemDataRole.UserRole  # a leaf's panel title; parts hold None


@dataclass(frozen=True)
class BrowserEntry:
    """One panel: the part it is listed under, an optional branch inside it (``head 1``), its title."""

    part: str
    branch: str | None
    title: str
    shown: bool


def head_branch(title: str) -> str | None:
    """``head 1`` for a panel titled ``dnc/read_weighting [head 1]``; None for others."""
    if title.endswith("]") and "[head " in title:
        return title[title.rindex("[") + 1 : -1]
    return None


class ProbeBrowser(QWidget):
    """A search box, *Show all* / *Defaults* buttons and the tree of panels."""

    visibility_changed = pyqtSignal(dict)  # {panel title: shown}
    defaults_requested = pyqtSignal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.search = QLineEdit()
        self.search.setPlaceholderText("search probes")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self.filter)
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.itemChanged.connect(self._item_changed)
        show_all = QPushButton("Show all")
        show_all.clicked.connect(lambda: self.set_all(True))
        defaults = QPushButton("Defaults")
        defaults.setToolTip("the panels this model kind shows at first")
        defaults.clicked.connect(lambda: self.defaults_requested.emit())
        buttons = QHBoxLayout()
        buttons.addWidget(show_all)
        buttons.addWidget(defaults)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.addWidget(self.search)
        layout.addLayout(buttons)
        layout.addWidget(self.tree)
        self._pending: dict[str, bool] = {}
        self._filling = False
        self.setMinimumSize(160, 100)

    def set_entries(self, entries: Sequence[BrowserEntry]) -> None:
        """List ``entries`` (a new trace's panels), keeping the search text."""
        self._filling = True
        self.tree.clear()
        parents: dict[tuple[str, str | None], QTreeWidgetItem] = {}
        for entry in entries:
            parent = self._node(parents, entry.part, None)
            if entry.branch is not None:
                parent = self._node(parents, entry.part, entry.branch)
            leaf = QTreeWidgetItem(parent, [entry.title])
            leaf.setData(0, TITLE_ROLE, entry.title)
            leaf.setFlags(leaf.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            leaf.setCheckState(0, Qt.CheckState.Checked if entry.shown else Qt.CheckState.Unchecked)
        self.tree.expandAll()
        self._filling = False
        self.filter(self.search.text())

    def _node(
        self, parents: dict[tuple[str, str | None], QTreeWidgetItem], part: str, branch: str | None
    ) -> QTreeWidgetItem:
        key = (part, branch)
        if key not in parents:
            above = self.tree.invisibleRootItem() if branch is None else parents[(part, None)]
            node = QTreeWidgetItem(above, [branch or part])
            node.setFlags(node.flags() | Qt.ItemFlag.ItemIsUserCheckable | Qt.ItemFlag.ItemIsAutoTristate)
            node.setData(0, TITLE_ROLE, None)
            parents[key] = node
        return parents[key]

    def leaves(self) -> list[QTreeWidgetItem]:
        """Every panel row, in tree order."""
        return _leaves_under(self.tree.invisibleRootItem())

    def shown_titles(self) -> list[str]:
        """Titles of the ticked panels."""
        return [str(leaf.data(0, TITLE_ROLE)) for leaf in self.leaves() if _ticked(leaf)]

    def set_shown(self, title: str, shown: bool) -> None:
        """Tick or untick the panel ``title`` (as a user would: the change is reported)."""
        for leaf in self.leaves():
            if leaf.data(0, TITLE_ROLE) == title:
                leaf.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def set_all(self, shown: bool) -> None:
        """Tick (or untick) every panel that the search leaves in view."""
        for leaf in self.leaves():
            if not leaf.isHidden():
                leaf.setCheckState(0, Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def filter(self, text: str) -> None:
        """Keep the panels whose title holds ``text`` (any case), and the parts above them."""
        needle = text.strip().lower()
        for leaf in self.leaves():
            leaf.setHidden(bool(needle) and needle not in str(leaf.data(0, TITLE_ROLE)).lower())
        for part in _children(self.tree.invisibleRootItem()):
            _hide_empty(part)

    def _item_changed(self, item: QTreeWidgetItem, column: int) -> None:
        title = item.data(0, TITLE_ROLE)
        if self._filling or title is None:
            return
        self._pending[str(title)] = _ticked(item)
        if len(self._pending) == 1:
            # a part's box changes all its panels one by one: report them together
            QTimer.singleShot(0, self.flush)

    def flush(self) -> None:
        """Report the changes not yet reported (at once, rather than at the next event loop turn)."""
        changes, self._pending = self._pending, {}
        if changes:
            self.visibility_changed.emit(changes)


def _ticked(item: QTreeWidgetItem) -> bool:
    return item.checkState(0) == Qt.CheckState.Checked


def _children(item: QTreeWidgetItem | None) -> list[QTreeWidgetItem]:
    if item is None:
        return []
    found = [item.child(i) for i in range(item.childCount())]
    return [child for child in found if child is not None]


def _leaves_under(item: QTreeWidgetItem | None) -> list[QTreeWidgetItem]:
    found: list[QTreeWidgetItem] = []
    for child in _children(item):
        found.extend([child] if child.data(0, TITLE_ROLE) is not None else _leaves_under(child))
    return found


def _hide_empty(item: QTreeWidgetItem) -> bool:
    """Hide a part whose rows are all hidden; whether ``item`` is left in view."""
    if item.data(0, TITLE_ROLE) is not None:
        return not item.isHidden()
    visible = [_hide_empty(child) for child in _children(item)]
    item.setHidden(not any(visible))
    return any(visible)


if __name__ == "__main__":  # pragma: no cover - interactive preview
    from PyQt6.QtWidgets import QApplication

    app = QApplication([])
    browser = ProbeBrowser()
    names = [
        "dnc/memory",
        "dnc/link",
        "dnc/usage",
        "dnc/read_weighting [head 0]",
        "dnc/read_weighting [head 1]",
    ]
    browser.set_entries(
        [BrowserEntry("per head" if head_branch(n) else "memory", head_branch(n), n, True) for n in names]
    )
    browser.visibility_changed.connect(print)
    browser.show()
    app.exec()
