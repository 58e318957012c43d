"""The engine and the report package must never import Qt (or pyqtgraph)."""

import subprocess
import sys
import textwrap


def test_engine_and_report_import_without_qt():
    script = textwrap.dedent(
        """
        import importlib, pkgutil, sys

        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in ("PyQt6", "PyQt5", "PySide6", "PySide2", "pyqtgraph"):
                    raise ImportError(f"Qt import blocked: {name}")
                return None

        sys.meta_path.insert(0, BlockQt())
        import rnnscope.engine, rnnscope.report
        for package in (rnnscope.engine, rnnscope.report):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        loaded = [m for m in sys.modules if m.split(".")[0] in ("PyQt6", "pyqtgraph")]
        assert not loaded, loaded
        print("ok")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_blocker_really_blocks():
    """The check above would be worthless if importing Qt under the blocker succeeded."""
    script = textwrap.dedent(
        """
        import sys

        class BlockQt:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] == "PyQt6":
                    raise ImportError("blocked")
                return None

        sys.meta_path.insert(0, BlockQt())
        try:
            import PyQt6.QtCore  # noqa: F401
        except ImportError:
            print("blocked")
        """
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.stdout.strip() == "blocked"
