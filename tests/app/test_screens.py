"""The window on real screen sizes: placement at 1280x720 and 1920x1080, layouts per model kind, the
probe browser, readable strip and axes, exports at a chosen resolution and SVG."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
from PyQt6.QtCore import QSize, Qt
from PyQt6.QtGui import QFontMetrics, QImage
from PyQt6.QtSvg import QSvgRenderer

from rnnscope.app.panels.axes import log_tick_label, log_tick_positions, thin_levels
from rnnscope.app.panels.heatmap import HeatmapPanel
from rnnscope.app.window.flow_grid import best_columns
from rnnscope.app.window.layouts import hidden_by_default

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def shown(window, title: str) -> bool:
    """Is the panel ``title`` shown (in a dock in front, not hidden by the browser)? (On the 800 x 800
    offscreen screen of these tests a panel may be scrolled out of a dock's view; the real sizes
    are checked by the first test.)"""
    from PyQt6.QtWidgets import QApplication

    QApplication.processEvents()
    return window.panel(title).isVisible()


# ---------------------------------------------------------------------- real screen sizes
@pytest.mark.parametrize("size", [(1280, 720), (1920, 1080)])
def test_every_kind_fits_the_screen_with_docks_and_controls_on_it(tmp_path, size):
    """A fresh process per screen size, offscreen with a screen of exactly that size, builds each
    kind's window as ``rnnscope`` does and checks every dock, key control and shown panel."""
    width, height = size
    config = tmp_path / "screen.json"
    screen = {"name": "test", "x": 0, "y": 0, "width": width, "height": height, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", XDG_CONFIG_HOME=str(tmp_path))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    run = subprocess.run(
        [sys.executable, "-m", "rnnscope.app.screenshots", "--check", "--dir", str(tmp_path)],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert [r["kind"] for r in reports] == ["lstm", "gru", "dnc", "rnn"], run.stderr
    for report in reports:
        assert report["problems"] == [], report
        image = QImage(report["written"])  # the window as drawn: inside the screen, most of it
        assert 1200 <= image.width() <= width and 700 <= image.height() <= height
        # the training tools, each brought to the front: they fit their dock's width, no sideways bar
        assert set(report["tools"]) == {"Training", "Gradient check"}, report
        for title, fit in report["tools"].items():
            assert fit["least"] <= fit["room"] and not fit["sideways"], (report["kind"], title, fit)
    assert run.returncode == 0


SWITCHING = r"""
import json, sys
from PyQt6.QtCore import QSettings
from PyQt6.QtWidgets import QApplication
app = QApplication([])
from rnnscope.app.main import build_parser, open_window
settings = QSettings(sys.argv[1], QSettings.Format.IniFormat)
window = open_window(build_parser().parse_args([]), settings).window
window.show()
steps = [("dnc", "copy", 4), ("lstm", "chars", 2), ("gru", "sentiment", 2), ("dnc", "copy", 4)]
for model, task, heads in steps + [("rnn", "sine", 2), ("lstm", "chars", 2)]:
    for box, value in ((window.controls.model_box, model), (window.controls.task_box, task)):
        box.blockSignals(True)
        box.setCurrentText(value)
        box.blockSignals(False)
    window.controls.heads_box.setValue(heads)
    window.retrace(background=False)
    for _ in range(5):
        app.processEvents()
    shown = [p.title for p in window.docks.panels if p.isVisible()]
    print(json.dumps({"kind": window.session.trace.model_kind, "problems": window.placement_problems(),
                      "shown": shown}), flush=True)
"""


def test_switching_kinds_in_the_app_keeps_each_layout_on_a_1280x720_screen(tmp_path):
    """LSTM -> DNC -> LSTM -> GRU -> DNC -> RNN -> LSTM in one window: each kind's layout (its own
    remembered one the second time) lies on the screen, the LSTM's five heatmaps each time."""
    config = tmp_path / "screen.json"
    screen = {"name": "test", "x": 0, "y": 0, "width": 1280, "height": 720, "logicalDpi": 96, "dpr": 1}
    config.write_text(json.dumps({"screens": [screen]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", XDG_CONFIG_HOME=str(tmp_path))
    env["PYTHONPATH"] = ROOT + os.pathsep + env.get("PYTHONPATH", "")
    run = subprocess.run(
        [sys.executable, "-c", SWITCHING, str(tmp_path / "s.ini")],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    reports = [json.loads(line) for line in run.stdout.splitlines() if line.startswith("{")]
    assert [r["kind"] for r in reports] == ["dnc", "lstm", "gru", "dnc", "rnn", "lstm"], run.stderr
    for report in reports:
        assert report["problems"] == [], report
    lstm = ["lstm/input_gate", "lstm/forget_gate", "lstm/output_gate", "lstm/cell", "lstm/hidden"]
    for report in (reports[1], reports[5]):
        assert [t for t in report["shown"] if t.startswith("lstm/")] == lstm
    assert reports[0]["shown"] == reports[3]["shown"]  # the DNC's own layout came back


def test_the_placement_check_reports_what_is_off_screen_or_hidden(make_window):
    """The check above can fail: a window larger than the (800 x 800 offscreen) screen, a control
    squeezed out of sight, a closed-off dock."""
    window = make_window()
    window.resize(700, 700)  # the bars do not fit 700 px: what they hide behind » is reported
    before = window.placement_problems()
    assert not any(p.startswith(("window ", "control model ", "dock ")) for p in before), before
    assert any(p.startswith("control sequence field") for p in before)
    window.controls.model_box.hide()
    from PyQt6.QtWidgets import QTabBar

    ghost = QTabBar(window)  # what Qt leaves behind when docks are re-grouped: a bar of no group
    ghost.addTab("output")
    ghost.addTab("Training")
    ghost.setGeometry(200, 300, 200, 26)
    ghost.show()
    window.move(400, 300)  # half off the screen
    problems = window.placement_problems()
    assert any(p.startswith("window ") for p in problems)
    assert any(p.startswith("control model ") for p in problems)
    assert any(p.startswith("tab bar ") for p in problems)


def test_the_first_window_is_fitted_to_the_screen(settings, qtbot):
    from rnnscope.app.window import MainWindow

    settings.setValue("window/size", QSize(3000, 2000))  # remembered from a bigger monitor
    window = MainWindow(settings=settings, overrides={"hidden": 8, "length": 10})
    qtbot.addWidget(window)
    window.show()
    area = window.screen().availableGeometry()
    assert area.contains(window.frameGeometry())


def test_the_sequence_field_and_trace_sit_in_the_step_bar(make_window):
    window = make_window()
    for widget in window.controls.sequence_widgets():  # (on screen at 1280 px: the first test)
        assert window.stepper.isAncestorOf(widget) and not window.controls.isAncestorOf(widget)


# ---------------------------------------------------------------------- layouts per model kind
def test_each_kind_opens_with_its_designed_panels(make_window):
    window = make_window(model="lstm")
    for title in ("lstm/input_gate", "lstm/forget_gate", "lstm/output_gate", "lstm/cell", "lstm/hidden"):
        assert shown(window, title), title
    for title in ("lstm/input_preact", "lstm/tanh_cell", "output/logits"):
        assert not shown(window, title), title
    assert shown(window, "output/probs") and shown(window, "curves")
    # the training tools' place: tabs behind the output, never over the heatmaps
    assert window.tabifiedDockWidgets(window.group_docks["lstm"]) == []


def test_the_dnc_default_shows_memory_links_usage_and_reads(make_window):
    window = make_window(model="dnc", task="copy")
    for title in (
        "dnc/memory",
        "dnc/link · write order",
        "dnc/usage",
        "dnc/write_weighting",
        "dnc/read_weighting [head 0]",
    ):
        assert shown(window, title), title
    assert not shown(window, "dnc/retention") and not shown(window, "dnc/read_keys [head 0]")
    assert window.group_docks["dnc · vectors"].isHidden()  # nothing of it is shown by default
    assert hidden_by_default("dnc/retention", "dnc") and not hidden_by_default("extra/new_probe", "dnc")


def test_a_dnc_session_leaves_the_lstm_layout_alone(make_window, retrace):
    window = make_window(model="lstm")
    window.probe_browser.set_shown("lstm/forget_gate", False)
    window.probe_browser.flush()
    assert not shown(window, "lstm/forget_gate")
    retrace(window, lambda: window.controls.model_box.setCurrentText("dnc"))  # a pick: re-traced
    assert window.session.trace.model_kind == "dnc"
    window.probe_browser.set_shown("dnc/usage", False)
    window.probe_browser.flush()
    window.group_docks["dnc · matrices"].close()  # a DNC layout change
    retrace(window, lambda: window.controls.model_box.setCurrentText("lstm"))
    assert window.session.trace.model_kind == "lstm"
    assert not shown(window, "lstm/forget_gate") and shown(window, "lstm/input_gate")  # its own
    assert window.group_docks["lstm"].isVisible()
    retrace(window, lambda: window.controls.model_box.setCurrentText("dnc"))
    assert not shown(window, "dnc/usage") and shown(window, "dnc/write_weighting")
    assert window.group_docks["dnc · matrices"].isHidden()  # the DNC's own change came back with it


def test_view_reset_layout_brings_the_designed_layout_back(make_window, qtbot):
    window = make_window(model="lstm")
    window.probe_browser.set_shown("lstm/cell", False)
    window.probe_browser.set_shown("lstm/input_preact", True)
    window.probe_browser.flush()
    window.group_docks["output"].close()
    window.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, window.group_docks["curves"])  # moved away
    assert not shown(window, "lstm/cell") and shown(window, "lstm/input_preact")
    action = next(a for a in window.view_menu.actions() if a.text() == "&Reset layout")
    action.trigger()
    qtbot.waitUntil(lambda: shown(window, "lstm/cell"), timeout=10_000)
    assert not shown(window, "lstm/input_preact")
    assert window.group_docks["output"].isVisible()
    assert window.dockWidgetArea(window.group_docks["curves"]) == Qt.DockWidgetArea.BottomDockWidgetArea
    assert not any(p.startswith("dock ") for p in window.placement_problems())
    assert window.settings.value(f"layout/{window.docks.key}/state") is None  # forgotten


# ---------------------------------------------------------------------- the probe browser
def tree_rows(browser) -> dict[str, list[str]]:
    """Top-level parts and the rows right under them."""
    root = browser.tree.invisibleRootItem()
    parts = [root.child(i) for i in range(root.childCount())]
    return {p.text(0): [p.child(j).text(0) for j in range(p.childCount())] for p in parts}


def test_probe_browser_groups_by_model_part_per_head(make_window):
    window = make_window(model="dnc", task="copy")
    rows = tree_rows(window.probe_browser)
    parts = {
        "controller",
        "memory",
        "per head",
        "addressing",
        "output",
        "loss and gradients",
        "gradient flow",
    }
    assert set(rows) == parts
    assert rows["gradient flow"] == ["grad/hidden", "grad/cell"]
    assert rows["addressing"] == ["dnc/addressing"] and "dnc/link · write order" in rows["memory"]
    assert rows["per head"][:2] == ["head 0", "head 1"]  # then the one-value-per-head panels
    assert all(not row.startswith("head") for row in rows["per head"][2:])
    assert "dnc/link" in rows["memory"] and "controller/hidden" in rows["controller"]
    assert len(window.probe_browser.leaves()) == len(window.panels)


def test_probe_browser_search_show_hide_and_defaults(make_window, qtbot):
    window = make_window(model="dnc", task="copy")
    browser = window.probe_browser
    browser.search.setText("READ_weighting")
    visible = [leaf.text(0) for leaf in browser.leaves() if not leaf.isHidden()]
    assert visible == ["dnc/read_weighting [head 0]", "dnc/read_weighting [head 1]"]
    browser.set_all(False)  # only what the search left in view
    qtbot.waitUntil(lambda: not shown(window, "dnc/read_weighting [head 1]"), timeout=10_000)
    assert shown(window, "dnc/usage")
    assert window.group_docks["dnc · per head"].isHidden()  # nothing left to show in it
    browser.search.clear()
    root = browser.tree.invisibleRootItem()
    memory = next(root.child(i) for i in range(root.childCount()) if root.child(i).text(0) == "memory")
    memory.setCheckState(0, Qt.CheckState.Checked)  # a part's box: every panel of it
    qtbot.waitUntil(lambda: shown(window, "dnc/retention"), timeout=10_000)
    assert shown(window, "dnc/write_vector")
    browser.defaults_requested.emit()
    assert not shown(window, "dnc/retention") and shown(window, "dnc/read_weighting [head 0]")
    assert not window.group_docks["dnc · per head"].isHidden()


def test_a_hidden_panel_with_the_first_nan_is_shown(make_window):
    from rnnscope.app.window.docking import PanelDocks

    window = make_window(model="lstm")
    assert not shown(window, "lstm/input_preact")
    PanelDocks.reveal(window.docks, "lstm/input_preact")
    assert "lstm/input_preact" not in window.docks.hidden
    assert "lstm/input_preact" in window.probe_browser.shown_titles()


# ---------------------------------------------------------------------- text and ticks never overprint
def test_sentiment_strip_columns_are_as_wide_as_their_widest_label(make_window):
    window = make_window(model="gru", task="sentiment")
    strip = window.strip
    metrics = QFontMetrics(strip.font())
    for _name, cells in strip.rows:
        for text in cells:
            assert metrics.horizontalAdvance(text) < strip.cell, text
    assert len(strip.columns) * strip.cell <= strip.width()
    assert any("positive" in text or "negative" in text for _, cells in strip.rows for text in cells)


def test_log_axes_label_a_few_decades_and_the_check_can_fail():
    ticks = log_tick_positions(-12.0, 2.0, 100)  # fourteen decades in 100 pixels
    assert 2 <= len(ticks) <= 3 and all(t == int(t) for t in ticks)
    assert log_tick_positions(-6.0, -1.0, 400) == [-6.0, -5.0, -4.0, -3.0, -2.0, -1.0]
    inside = log_tick_positions(np.log10(0.3), np.log10(0.9), 100)  # less than a decade: round steps
    assert [log_tick_label(t) for t in inside] == ["0.4", "0.6", "0.8"]
    narrow = log_tick_positions(np.log10(0.36), np.log10(0.48), 60)  # no 1, 2 or 5 inside at all
    assert [log_tick_label(t) for t in narrow] == ["0.4", "0.45"]
    assert log_tick_positions(1.0, 1.0, 100) == []
    levels = [(0.1, [0.1 * i for i in range(11)]), (0.05, [0.05 * i for i in range(21)])]
    (spacing, values), *rest = thin_levels(levels, 60)  # room for two labels: major ticks only
    assert rest == [] and len(values) == 2 and spacing == pytest.approx(0.6)
    assert thin_levels(levels, 400)[0][1] == levels[0][1]


def test_panels_flow_into_the_columns_that_keep_them_readable():
    assert best_columns(5, 790, 480) == 3  # 3 x 2 rows of 160 px rather than 5 stacked
    assert best_columns(2, 390, 230) == 2  # stacked they would be 115 px high: side by side
    assert best_columns(2, 900, 600) == 1
    assert best_columns(12, 300, 200) == 1  # nothing fits: one column, the dock scrolls


# ---------------------------------------------------------------------- exports
def test_panel_exports_at_two_and_three_times_and_as_svg(make_window, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    window = make_window()
    panel = next(p for p in window.panels if isinstance(p, HeatmapPanel) and shown(window, p.title))
    one = QImage(window.exporter.widget_png(panel, str(tmp_path / "one")))
    two = QImage(window.exporter.widget_png(panel, str(tmp_path / "two.png"), scale=2))
    assert (
        (two.width(), two.height())
        == (2 * one.width(), 2 * one.height())
        == (2 * panel.width(), 2 * panel.height())
    )
    svg = window.exporter.widget_svg(panel, str(tmp_path / "panel"))
    assert svg == str(tmp_path / "panel.svg")
    renderer = QSvgRenderer(svg)
    assert renderer.isValid() and renderer.viewBox().size() == panel.size()
    assert "<text" in open(svg, encoding="utf-8").read()  # labels stay text, not pixels
    answers = iter(
        [(str(tmp_path / "three.png"), "PNG, 3x (*.png)"), (str(tmp_path / "v.svg"), "SVG (*.svg)")]
    )
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: next(answers))
    next(a for a in window.exporter.panel_menu.actions() if a.text() == panel.title).trigger()
    three = QImage(str(tmp_path / "three.png"))
    assert (three.width(), three.height()) == (3 * panel.width(), 3 * panel.height())
    next(a for a in window.file_menu.actions() if a.text() == "Export view (PNG, SVG)…").trigger()
    assert QSvgRenderer(str(tmp_path / "v.svg")).isValid()


def test_a_panel_hidden_by_the_browser_still_exports(make_window, tmp_path):
    window = make_window()
    hidden = window.panel("lstm/input_preact")
    assert not shown(window, "lstm/input_preact")
    image = QImage(window.exporter.widget_png(hidden, str(tmp_path / "hidden.png"), scale=2))
    assert image.width() >= 1000 and image.height() >= 600


def test_hidden_panels_are_made_when_shown_and_catch_up_with_the_cursor(make_window):
    window = make_window(model="dnc", task="copy")
    made = {p.title for p in window.docks.panels}
    assert "dnc/usage" in made and "dnc/retention" not in made  # only what is shown is made
    window.set_step(5)
    window.probe_browser.set_shown("dnc/retention", True)
    window.probe_browser.flush()
    panel = window.docks.panel("dnc/retention")
    assert shown(window, "dnc/retention") and panel.step == 5 and panel.cursor_line.value() == 5.5
    window.probe_browser.set_shown("dnc/retention", False)
    window.probe_browser.flush()
    window.set_step(7)  # a hidden panel costs nothing per step ...
    assert panel.step == 5
    window.probe_browser.set_shown("dnc/retention", True)
    window.probe_browser.flush()
    assert panel.step == 7  # ... and is right again once shown


def test_named_rows_are_thinned_to_the_room_the_axis_has():
    from rnnscope.app.panels.heatmap import name_ticks

    names = tuple(f"entry {i}" for i in range(16))
    assert [label for _, label in name_ticks(names, 600, "left")[0]] == list(names)
    few = name_ticks(names, 60, "left")[0]  # 60 pixels: a name every fourth row
    assert [label for _, label in few] == ["entry 0", "entry 4", "entry 8", "entry 12"]
    assert [position for position, _ in few] == [0.5, 4.5, 8.5, 12.5]  # at their rows' centres
    assert len(name_ticks(names, 200, "bottom")[0]) == 4  # names across need more room each
