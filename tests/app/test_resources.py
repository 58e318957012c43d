"""Icons and style sheet: found in a clone and an editable install, shipped in a wheel, optional."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtGui import QImage

import rnnscope
from rnnscope.app import resources
from rnnscope.app.window.stepper import STEP_BUTTONS

REPO = Path(rnnscope.__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def fresh_lookup():
    """``resources_dir`` is cached; every test looks afresh and leaves no cached answer behind."""
    resources.resources_dir.cache_clear()
    yield
    resources.resources_dir.cache_clear()


def alpha(image: QImage) -> np.ndarray:
    image = image.convertToFormat(QImage.Format.Format_ARGB32)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return pixels.reshape(image.height(), image.width(), 4)[..., 3]  # BGRA in memory


def test_the_repository_resources_are_found_next_to_the_package(monkeypatch):
    monkeypatch.delenv(resources.ENVIRONMENT, raising=False)
    assert resources.resources_dir() == REPO / "resources"
    style = resources.load_style()
    assert "QDockWidget::title" in style and "QLabel#message" in style


def test_every_icon_is_an_svg_that_draws_something(qapp):
    names = [icon for _, _, icon, _, _, _ in STEP_BUTTONS] + ["pause", resources.APP_ICON]
    for name in names:
        path = resources.icon_path(name)
        assert path is not None, name
        covered = (alpha(resources.render_svg(path, 32)) > 0).mean()
        assert 0.05 < covered < 0.98, (name, covered)  # a shape on a transparent ground
    app_icon = resources.app_icon()
    assert sorted(app_icon.availableSizes(), key=lambda s: s.width())[-1].width() == 256
    assert not resources.icon("play").isNull()


def test_the_rendered_pngs_match_the_svg(qapp, tmp_path):
    written = resources.write_icon_pngs(tmp_path)
    assert [p.name for p in written] == [f"rnnscope-{size}.png" for size in resources.ICON_SIZES]
    for path in written:
        shipped = REPO / "resources" / "icons" / path.name
        assert shipped.is_file(), f"{shipped.name}: run python -m rnnscope.app.resources"
        np.testing.assert_array_equal(alpha(QImage(str(path))), alpha(QImage(str(shipped))))


def test_the_environment_variable_wins(monkeypatch, tmp_path):
    (tmp_path / "style.qss").write_text("QStatusBar { color: #123456; }", encoding="utf-8")
    monkeypatch.setenv(resources.ENVIRONMENT, str(tmp_path))
    assert resources.resources_dir() == tmp_path
    assert resources.load_style() == "QStatusBar { color: #123456; }"
    assert resources.icon_path("play") is None  # that directory has no icons: a fallback, not an error


def test_without_resources_the_app_still_runs(monkeypatch, tmp_path, make_window):
    from PyQt6.QtWidgets import QStyle

    monkeypatch.setattr(resources, "candidate_dirs", lambda: [tmp_path / "missing"])
    assert resources.resources_dir() is None and resources.load_style() == ""
    assert "missing" in resources.missing_message() and resources.ENVIRONMENT in resources.missing_message()
    assert resources.app_icon().isNull()
    assert not resources.icon("play", QStyle.StandardPixmap.SP_MediaPlay).isNull()  # the style's own
    window = make_window()
    assert window.styleSheet() == "" and window.session is not None
    assert all(not button.icon().isNull() for button in window.stepper.buttons.values())
    assert "#b71c1c" in window.header.message_label.styleSheet()  # errors are still red
    window.next_step()
    assert window.step == 1


def _shipped_from(top: str) -> dict[Path, Path]:
    """Files of the repository's ``top/`` folder that pyproject's data-files list, with their
    install location (relative to the prefix)."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    data_files = config["tool"]["setuptools"]["data-files"]
    shipped = {}
    for target, patterns in data_files.items():
        for pattern in patterns:
            for path in glob.glob(str(REPO / pattern)):
                if Path(path).is_relative_to(REPO / top):
                    shipped[Path(path).relative_to(REPO / top)] = Path(target) / Path(path).name
    return shipped


def test_a_wheel_ships_every_resource_where_the_lookup_finds_it():
    """setuptools puts ``[tool.setuptools.data-files]`` under the install prefix; the globs must
    cover every file of ``resources/`` and land in ``<prefix>/share/rnnscope/resources``."""
    shipped = _shipped_from("resources")
    on_disk = {p.relative_to(REPO / "resources") for p in (REPO / "resources").rglob("*") if p.is_file()}
    assert set(shipped) == on_disk, "every file in resources/ is listed in pyproject's data-files"
    for source, target in shipped.items():
        assert target == Path("share/rnnscope/resources") / source  # the same layout once installed
    installed = Path(sys.prefix) / "share" / "rnnscope" / "resources"
    assert installed in resources.candidate_dirs()


def test_a_wheel_ships_every_corpus_and_task_file():
    """The files directly in ``data/`` (corpora, the sentiment set, its README) and the shipped
    trained models (``data/models``) land in ``<prefix>/share/rnnscope/data``; the generator
    scripts beneath stay in the source tree."""
    shipped = _shipped_from("data")
    on_disk = {p.relative_to(REPO / "data") for p in (REPO / "data").iterdir() if p.is_file()}
    on_disk |= {p.relative_to(REPO / "data") for p in (REPO / "data" / "models").iterdir() if p.is_file()}
    assert set(shipped) == on_disk, "every file in data/ is listed in pyproject's data-files"
    assert all(target == Path("share/rnnscope/data") / source for source, target in shipped.items())


def test_a_clean_copy_of_the_tree_finds_its_own_resources(tmp_path):
    """A clone run in place (no install): the package's parent holds ``resources/``."""
    shutil.copytree(REPO / "rnnscope", tmp_path / "rnnscope", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copytree(REPO / "resources", tmp_path / "resources")
    env = {k: v for k, v in os.environ.items() if k != resources.ENVIRONMENT}
    env["PYTHONPATH"] = str(tmp_path)  # before the editable install's finder
    code = "import rnnscope.app.resources as r; print(r.__file__); print(r.resources_dir())"
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
    ).stdout.split("\n")
    assert Path(out[0]).resolve().is_relative_to(tmp_path.resolve())
    assert Path(out[1]).resolve() == (tmp_path / "resources").resolve()


def test_the_application_gets_the_icon_and_a_warning_when_resources_are_missing(
    qapp, monkeypatch, tmp_path, capsys
):
    from PyQt6.QtGui import QIcon

    from rnnscope.app.application import configure_app

    names = qapp.applicationName(), qapp.organizationName()
    try:
        configure_app(qapp)
        assert qapp.applicationName() == "rnnscope" and not qapp.windowIcon().isNull()
        assert capsys.readouterr().err == ""
        monkeypatch.setattr(resources, "candidate_dirs", lambda: [tmp_path])
        resources.resources_dir.cache_clear()
        configure_app(qapp)
        assert "resources not found" in capsys.readouterr().err and qapp.windowIcon().isNull()
    finally:
        qapp.setApplicationName(names[0])
        qapp.setOrganizationName(names[1])
        qapp.setWindowIcon(QIcon())
