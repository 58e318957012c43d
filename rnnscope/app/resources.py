"""The app's icons and style sheet, found in the top-level ``resources/`` directory.

Where ``resources/`` is looked for, first found wins:

1. ``$RNNSCOPE_RESOURCES`` (a directory), if set;
2. next to the package: ``<repo>/resources`` for a clean clone run in place or an editable
   install (``pip install -e .``);
3. ``<prefix>/share/rnnscope/resources`` (and the user base's ``share/``): where a wheel
   puts it (``[tool.setuptools.data-files]`` in ``pyproject.toml``; a wheel installs only
   packages under ``rnnscope/``, so the top-level directory travels as data files).

A directory counts only if it holds ``style.qss``. When none is found the app still runs:
no style sheet, the platform's standard icons on the step bar, no window icon
(:func:`missing_message` says why).

``python -m rnnscope.app.resources [DIR]`` renders the application icon to PNGs
(``rnnscope-<size>.png``) in ``DIR`` (default: ``resources/icons``).
"""

from __future__ import annotations

import os
import sys
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from rnnscope.engine.shipped import shipped_dir_candidates

if TYPE_CHECKING:  # Qt is imported when an icon is drawn, not to find the directory
    from PyQt6.QtGui import QIcon, QImage
    from PyQt6.QtWidgets import QStyle

ENVIRONMENT = "RNNSCOPE_RESOURCES"
MARKER = "style.qss"  # a directory without it is not ours
APP_ICON = "rnnscope"
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)


def candidate_dirs() -> list[Path]:
    """Every place ``resources/`` may be, in the order they are tried."""
    override = os.environ.get(ENVIRONMENT)
    places = ([Path(override)] if override else []) + shipped_dir_candidates("resources")
    return list(dict.fromkeys(places))


@cache
def resources_dir() -> Path | None:
    """The first candidate directory that holds ``style.qss``, or None (the app runs without)."""
    for place in candidate_dirs():
        if (place / MARKER).is_file():
            return place
    return None


def missing_message() -> str:
    """Why there is no style or icon: the places that were looked at."""
    places = ", ".join(str(p) for p in candidate_dirs())
    return f"rnnscope resources not found (looked in {places}; set {ENVIRONMENT} to the directory)"


def resource_path(name: str) -> Path | None:
    """``resources/<name>`` if the directory and the file exist."""
    root = resources_dir()
    if root is None:
        return None
    path = root / name
    return path if path.is_file() else None


def icon_path(name: str) -> Path | None:
    """``resources/icons/<name>.svg``, or None."""
    return resource_path(f"icons/{name}.svg")


def load_style() -> str:
    """The text of ``resources/style.qss``; empty when it is missing or unreadable."""
    path = resource_path(MARKER)
    if path is None:
        return ""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def render_svg(path: Path | str, size: int) -> QImage:
    """The SVG at ``path`` drawn into a transparent ``size`` x ``size`` ``QImage``."""
    from PyQt6.QtCore import Qt
    from PyQt6.QtGui import QImage, QPainter
    from PyQt6.QtSvg import QSvgRenderer

    renderer = QSvgRenderer(str(path))
    if not renderer.isValid():
        raise ValueError(f"{path} is not a valid SVG")
    image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    renderer.render(painter)
    painter.end()
    return image


def icon(name: str, fallback: QStyle.StandardPixmap | None = None) -> QIcon:
    """A ``QIcon`` from ``resources/icons/<name>.svg``; ``fallback`` (a ``QStyle.StandardPixmap``,
    drawn by the current style) or a null icon when the file is missing."""
    from PyQt6.QtGui import QIcon, QPixmap
    from PyQt6.QtWidgets import QApplication

    path = icon_path(name)
    if path is not None:
        result = QIcon()
        # drawn at each size from the SVG: no dependence on Qt's SVG icon-engine plugin
        for size in (16, 24, 32, 48):
            result.addPixmap(QPixmap.fromImage(render_svg(path, size)))
        return result
    app = QApplication.instance()
    style = app.style() if isinstance(app, QApplication) else None
    if fallback is not None and style is not None:
        return style.standardIcon(fallback)
    return QIcon()


def app_icon() -> QIcon:
    """The application icon (a heatmap with a recurrent arrow) at every size of ``ICON_SIZES``."""
    from PyQt6.QtGui import QIcon, QPixmap

    path = icon_path(APP_ICON)
    result = QIcon()
    if path is not None:
        for size in ICON_SIZES:
            result.addPixmap(QPixmap.fromImage(render_svg(path, size)))
    return result


def write_icon_pngs(directory: Path | str) -> list[Path]:
    """Render the application icon to ``directory/rnnscope-<size>.png`` for each size."""
    path = icon_path(APP_ICON)
    if path is None:
        raise FileNotFoundError(missing_message())
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for size in ICON_SIZES:
        out = directory / f"{APP_ICON}-{size}.png"
        if not render_svg(path, size).save(str(out), "PNG"):
            raise OSError(f"could not write {out}")
        written.append(out)
    return written


def main(argv: list[str] | None = None) -> int:  # pragma: no cover - a maintenance command
    if not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    from PyQt6.QtGui import QGuiApplication

    args = list(sys.argv[1:] if argv is None else argv)
    root = resources_dir()
    if root is None:
        print(missing_message(), file=sys.stderr)
        return 1
    _app = QGuiApplication.instance() or QGuiApplication([])
    for path in write_icon_pngs(args[0] if args else root / "icons"):
        print(path)
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
