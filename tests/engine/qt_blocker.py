"""An import hook that refuses Qt and pyqtgraph: the one blocker the no-Qt tests install.

A subprocess runs :func:`install` first (see ``tests/engine/test_no_qt.py``), so
any later import of a blocked package raises ``ImportError("Qt import blocked: <name>")``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = ("PyQt6", "PyQt5", "PySide6", "PySide2", "pyqtgraph")
MESSAGE = "Qt import blocked"


class BlockQt:
    """A meta-path finder that raises for every module of a :data:`BLOCKED` package."""

    def find_spec(
        self, name: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{MESSAGE}: {name}")
        return None


def install() -> None:
    """Put the blocker first on ``sys.meta_path`` (before any finder that could find Qt)."""
    sys.meta_path.insert(0, BlockQt())
