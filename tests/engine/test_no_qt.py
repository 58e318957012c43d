"""The engine and the report package must never import Qt (or pyqtgraph).

Both tests run a fresh interpreter with the same blocker (``qt_blocker.py``)
installed first: one imports every engine and report module under it, the other
proves the blocker really refuses Qt, so breaking the blocker fails a test.
"""

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.engine import qt_blocker

BLOCKER_DIR = str(Path(qt_blocker.__file__).parent)


def run_with_qt_blocked(body: str) -> subprocess.CompletedProcess[str]:
    """Run ``body`` in a new interpreter after installing the blocker of ``qt_blocker.py``."""
    prelude = f"import sys\nsys.path.insert(0, {BLOCKER_DIR!r})\nimport qt_blocker\nqt_blocker.install()\n"
    script = prelude + textwrap.dedent(body)
    return subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)


def test_engine_and_report_import_without_qt():
    done = run_with_qt_blocked(
        """
        import importlib, pkgutil
        import rnnscope.engine, rnnscope.report
        for package in (rnnscope.engine, rnnscope.report):
            for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
                importlib.import_module(info.name)
        loaded = [m for m in sys.modules if m.split(".")[0] in qt_blocker.BLOCKED]
        assert not loaded, loaded
        print("ok")
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


@pytest.mark.parametrize("module", ["PyQt6.QtCore", "pyqtgraph"])
def test_blocker_really_blocks(module):
    """The check above would be worthless if importing Qt under the blocker succeeded."""
    package = module.split(".")[0]
    # Qt must be importable without the blocker, or the ImportError below would prove nothing.
    assert importlib.util.find_spec(package) is not None, f"{package} is not installed"
    done = run_with_qt_blocked(
        f"""
        try:
            import {module}
        except ImportError as error:
            print(error)
        """
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"{qt_blocker.MESSAGE}: {package}"
