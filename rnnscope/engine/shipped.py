"""Where the top-level folders shipped with rnnscope (``data/``, ``resources/``) are found.

Next to the package (``<repo>/<folder>``: a clone run in place or an editable install),
then ``<prefix>/share/rnnscope/<folder>`` for the interpreter's prefix, its base prefix
and the user base: where a wheel puts them (``[tool.setuptools.data-files]`` in
``pyproject.toml``; a wheel installs only packages under ``rnnscope/``).
"""

from __future__ import annotations

import site
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1]  # .../rnnscope


def shipped_dir_candidates(folder: str) -> list[Path]:
    """Every place ``folder`` may be, in the order they are tried, without repeats."""
    places = [PACKAGE.parent / folder]
    for prefix in (sys.prefix, sys.base_prefix, site.getuserbase()):
        places.append(Path(prefix) / "share" / "rnnscope" / folder)
    return list(dict.fromkeys(places))


def find_shipped_dir(folder: str, marker: str) -> Path | None:
    """The first candidate for ``folder`` that holds the file ``marker``, or None."""
    for place in shipped_dir_candidates(folder):
        if (place / marker).is_file():
            return place
    return None
