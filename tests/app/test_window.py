"""The main window driven as a user would: stepping, typing, hovering, NaN, exports, settings."""

from __future__ import annotations

import os

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt

from rnnscope.app.panels.heatmap import HeatmapPanel, MatrixPanel
from rnnscope.app.session import MODEL_KINDS


def heatmaps(window) -> list[HeatmapPanel]:
    return [p for p in window.panels if isinstance(p, HeatmapPanel)]


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_launch_each_model_and_render_png(make_window, tmp_path, kind):
    window = make_window(model=kind, task="copy" if kind == "dnc" else "chars")
    assert window.session is not None
    assert heatmaps(window), "every model shows at least one heatmap"
    assert "grad/hidden_norm" in window.session.trace
    shots = os.environ.get("RNNSCOPE_SCREENSHOTS") == "1"
    path = os.path.join("docs", "screenshots", f"{kind}.png") if shots else str(tmp_path / f"{kind}.png")
    window.resize(1400, 900)
    window.set_step(5)
    window.export_view_png(path)
    from PyQt6.QtGui import QImage

    image = QImage(path)
    assert image.width() >= 1000 and image.height() >= 600


def test_buttons_and_keys_move_the_shared_cursor(make_window, qtbot):
    window = make_window()
    panel = heatmaps(window)[0]
    before = panel.cursor.value()
    qtbot.mouseClick(window.buttons["next"], Qt.MouseButton.LeftButton)
    assert window.step == 1 and panel.cursor.value() == before + 1
    assert window.slider.value() == 1 and window.step_box.value() == 1 and window.strip.step == 1
    qtbot.mouseClick(window.buttons["last"], Qt.MouseButton.LeftButton)
    assert window.step == window.steps - 1
    qtbot.mouseClick(window.buttons["prev"], Qt.MouseButton.LeftButton)
    assert window.step == window.steps - 2
    qtbot.mouseClick(window.buttons["first"], Qt.MouseButton.LeftButton)
    assert window.step == 0

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.step == 2 and all(p.step == 2 for p in window.panels)
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.step == 1
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.step == window.steps - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.step == 0
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playing
    qtbot.waitUntil(lambda: window.step >= 2, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playing
    window.slider.setValue(7)
    assert window.step == 7 and panel.cursor.value() == 7.5


def test_step_changes_the_per_step_matrix_image():
    from rnnscope.app.panels.synthetic import synthetic_trace

    trace = synthetic_trace()
    probe = trace["demo/memory"]
    panel = MatrixPanel("demo/memory", probe.row(0), probe.kind, ("slot", "width"))
    first = panel.image.image.copy()
    panel.set_step(3)
    assert not np.array_equal(first, panel.image.image)
    np.testing.assert_array_equal(panel.image.image, probe.row(0)[3])


def test_typed_sequence_changes_the_trace_and_bad_char_is_a_message(make_window):
    window = make_window()
    window.text_edit.setText("the sea")
    window.retrace()
    assert window.steps == 6
    assert window.session.input_labels[:3] == ["t", "h", "e"]
    old = window.session
    window.text_edit.setText("the sea \u2603")
    window.retrace()
    assert window.session is old
    assert "\u2603" in window.message


def test_hover_reports_probe_step_unit_value(make_window, qtbot):
    window = make_window()
    panel = window.panel(f"{window.session.trace.model_kind}/hidden")
    window.resize(1400, 900)
    qtbot.waitUntil(lambda: panel.isVisible() and panel.plot.vb.width() > 50, timeout=10_000)
    step, unit = 4, 3
    scene = panel.plot.vb.mapViewToScene(QPointF(step + 0.5, unit + 0.5))
    texts = []
    panel.hovered.connect(texts.append)
    panel._on_move(scene)
    value = panel.values[step, unit]
    assert texts and texts[-1] == f"{panel.title}  step {step}  unit {unit}  value {value:.6g}"
    assert window.statusBar().currentMessage() == texts[-1]


def test_click_unit_shows_its_values_over_time(make_window):
    window = make_window()
    panel = heatmaps(window)[0]
    panel.unit_clicked.emit(panel.title, 2)
    np.testing.assert_array_equal(window.unit_plot.values, panel.values[:, 2])


def test_nan_weights_are_reported_and_jumped_to(make_window):
    window = make_window()
    window.set_step(7)
    model = window.current_model()
    broken = type(model)(model.config, model.params.copy())
    # one NaN input weight: the one-hot product (0 * NaN = NaN) makes the first pre-activation NaN
    broken.params["Wx"][0, 3] = np.nan
    window.show_model(broken)
    bad = window.last_nonfinite
    kind = window.session.trace.model_kind
    # the first probe recorded is the first pre-activation, which already reads the NaN at step 0
    assert bad is not None and bad.step == 0 and bad.probe.startswith(f"{kind}/") and bad.index == (3,)
    assert window.step == 0
    assert "Non-finite" in window.message and bad.probe in window.message


def test_nan_appearing_later_is_jumped_to(make_window):
    from dataclasses import replace

    window = make_window()
    session = window.session
    name = f"{session.trace.model_kind}/hidden"
    hidden = session.trace[name].data.copy()
    hidden[9, 0, 4] = np.inf
    trace = type(session.trace)(dict(session.trace.probes), session.trace.model_kind, session.trace.vocab)
    trace.probes[name] = replace(session.trace[name], data=hidden)
    window.set_session(replace(session, trace=trace))
    assert window.step == 9 and window.slider.value() == 9
    assert name in window.message and "step 9" in window.message


def test_png_and_npz_exports_load(make_window, tmp_path):
    window = make_window()
    window.export_view_png(str(tmp_path / "view.png"))
    window.export_widget_png(heatmaps(window)[0], str(tmp_path / "panel.png"))
    window.export_trace_npz(str(tmp_path / "trace.npz"))
    from PyQt6.QtGui import QImage

    assert not QImage(str(tmp_path / "view.png")).isNull()
    assert not QImage(str(tmp_path / "panel.png")).isNull()
    with np.load(tmp_path / "trace.npz", allow_pickle=False) as arrays:
        for name, probe in window.session.trace.probes.items():
            np.testing.assert_array_equal(arrays[name], probe.data)


def test_settings_persist_across_a_new_window(make_window, settings, qtbot):
    window = make_window(seed=3, hidden=10)
    window.resize(1111, 777)
    window.close()
    from rnnscope.app.window import MainWindow

    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert again.spec.seed == 3 and again.spec.hidden == 10
    assert again.seed_box.value() == 3
    assert again.size().width() == 1111 and again.size().height() == 777


def test_background_retrace_in_a_worker_thread(make_window, qtbot):
    window = make_window()
    window.seed_box.setValue(5)
    with qtbot.waitSignal(window.session_changed, timeout=10_000):
        window.retrace(background=True)
    window.worker.wait()
    assert window.spec.seed == 5 and window.session.trace.steps == 20


def test_bad_checkpoint_is_a_message_and_the_window_keeps_running(make_window, tmp_path):
    window = make_window()
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    old = window.session
    assert window.open_checkpoint(str(bad)) is False
    assert "Could not open checkpoint" in window.message and window.session is old


def test_api_for_the_training_tools(make_window, qtbot):
    from PyQt6.QtWidgets import QLabel

    window = make_window()
    dock = window.add_panel("Extra", QLabel("x"))
    assert dock.widget().text() == "x" and window.file_menu.title() == "&File"
    seen = []
    window.model_changed.connect(seen.append)
    model = window.current_model()
    window.show_model(model)
    assert seen == [model] and window.current_task() is not None and window.current_batch() is not None


def test_main_help_mentions_subcommands(capsys):
    from rnnscope.app.main import build_parser

    text = build_parser().format_help()
    assert "gradcheck" in text and "train" in text and "--read-heads" in text

