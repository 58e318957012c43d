"""The main window driven as a user would: launching, stepping, typing, hovering, NaN, exports, settings."""

from __future__ import annotations

import os
import threading
from dataclasses import replace

import numpy as np
import pytest
from PyQt6.QtCore import QPointF, Qt
from PyQt6.QtGui import QImage

import rnnscope.app.window.main_window as main_window
from rnnscope.app.panels.dnc import AddressingPanel
from rnnscope.app.panels.heatmap import HeatmapPanel, MatrixPanel
from rnnscope.app.panels.lines import ScalarPanel
from rnnscope.app.session import build_session
from rnnscope.engine.models.config import MODEL_KINDS


def heatmaps(window) -> list[HeatmapPanel]:
    return [p for p in window.panels if isinstance(p, HeatmapPanel)]


def image_probes(trace) -> set[str]:
    """Probes that must have an image panel: every non-data probe with an axis after (T, B)."""
    return {p.name for p in trace if p.group != "data" and p.data.ndim >= 3}


def image_is_not_blank(path) -> bool:
    image = QImage(str(path)).convertToFormat(QImage.Format.Format_RGB32)
    pixels = np.frombuffer(image.constBits().asstring(image.sizeInBytes()), np.uint8)
    return image.width() > 0 and len(np.unique(pixels.reshape(-1, 4)[::97], axis=0)) > 20


@pytest.mark.parametrize("kind", MODEL_KINDS)
def test_launch_each_model_shows_a_panel_per_probe_and_renders(make_window, tmp_path, kind):
    window = make_window(model=kind, task="copy" if kind == "dnc" else "chars")
    trace = window.session.trace
    assert trace.model_kind == kind and window.spec.model == kind
    shown = {p.probe_name for p in window.panels if p.probe_name}
    assert image_probes(trace) <= shown, "every probe gets a panel, derived from its metadata"
    curves = next(p for p in window.panels if p.title == "curves")
    assert {"loss/step", "grad/hidden_norm"} <= set(curves.series)
    assert curves.plots["grad/hidden_norm"].ctrl.logYCheck.isChecked()  # |dLoss/dh_t| on a log axis
    for panel in heatmaps(window):
        low, high = panel.levels
        if panel.kind.bounded:
            assert (low, high) == (0.0, 1.0)  # sequential 0..1 for gates, probabilities, weightings
        else:
            assert low == -high  # diverging, centred on 0
        assert panel.colour_bar is not None
    window.resize(1400, 900)
    window.set_step(5)
    path = tmp_path / f"{kind}.png"
    window.export_view_png(str(path))
    assert QImage(str(path)).width() == 1400 and image_is_not_blank(path)


def test_dnc_panels_per_head_matrices_and_read_modes(make_window):
    window = make_window(model="dnc", task="copy")
    trace = window.session.trace
    heads = trace["dnc/read_weighting"].data.shape[2]
    assert heads == 2
    for h in range(heads):
        panel = window.panel(f"dnc/read_weighting [head {h}]")
        np.testing.assert_array_equal(panel.values, trace["dnc/read_weighting"].row(0)[:, h])
        assert panel.unit_axis == "slot"
    modes = window.panel("dnc/read_modes [head 1]")
    ticks = modes.plot.getAxis("left")._tickLevels[0]
    assert [text for _, text in ticks] == ["backward", "content", "forward"]
    window.probe_browser.set_shown(
        "dnc/link", True
    )  # the plain matrix (the first view has it in write order)
    window.probe_browser.flush()
    memory = window.panel("dnc/memory")
    link = window.panel("dnc/link")
    order = window.panel("dnc/link · write order")
    assert isinstance(memory, MatrixPanel) and memory.axes == ("slot", "width")
    assert isinstance(link, MatrixPanel) and link.axes == ("slot", "slot")
    assert memory.image.image.shape == (6, 4) and link.image.image.shape == (6, 6)
    before = memory.image.image.copy()
    window.set_step(4)
    np.testing.assert_array_equal(memory.image.image, trace["dnc/memory"].row(0)[4])
    np.testing.assert_array_equal(link.image.image, trace["dnc/link"].row(0)[4])
    np.testing.assert_array_equal(order.image.image, trace["dnc/link"].row(0)[4])
    assert not np.array_equal(before, memory.image.image)
    assert "step 4" in memory.plot.titleLabel.text


def test_buttons_and_keys_move_the_shared_cursor(make_window, qtbot):
    window = make_window()
    panel = heatmaps(window)[0]
    image = panel.image.image
    assert panel.cursor_line.value() == 0.5
    qtbot.mouseClick(window.stepper.buttons["next"], Qt.MouseButton.LeftButton)
    assert window.step == 1 and panel.cursor_line.value() == 1.5
    assert panel.image.image is image, "a step moves the cursor, the units x time image is not redrawn"
    assert (
        window.stepper.slider.value() == 1 and window.stepper.step_box.value() == 1 and window.strip.step == 1
    )
    qtbot.mouseClick(window.stepper.buttons["last"], Qt.MouseButton.LeftButton)
    assert window.step == window.steps - 1
    qtbot.mouseClick(window.stepper.buttons["prev"], Qt.MouseButton.LeftButton)
    assert window.step == window.steps - 2
    qtbot.mouseClick(window.stepper.buttons["first"], Qt.MouseButton.LeftButton)
    assert window.step == 0

    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    qtbot.keyClick(window, Qt.Key.Key_Right)
    assert window.step == 2 and all(p.step == 2 for p in window.panels if p.isVisible())  # hidden: when shown
    qtbot.keyClick(window, Qt.Key.Key_Left)
    assert window.step == 1 and panel.cursor_line.value() == 1.5
    qtbot.keyClick(window, Qt.Key.Key_End)
    assert window.step == window.steps - 1
    qtbot.keyClick(window, Qt.Key.Key_Home)
    assert window.step == 0
    window.stepper.speed_box.setValue(100)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert window.playing and window.stepper.play_timer.interval() == 10
    qtbot.waitUntil(lambda: window.step >= 2, timeout=10_000)
    qtbot.keyClick(window, Qt.Key.Key_Space)
    assert not window.playing
    window.stepper.slider.setValue(7)
    assert window.step == 7 and panel.cursor_line.value() == 7.5
    window.stepper.step_box.setValue(11)  # jump to a timestep
    assert window.step == 11 and window.stepper.slider.value() == 11
    window.set_step(10_000)
    assert window.step == window.steps - 1  # clamped


def test_playing_stops_at_the_last_step(make_window, qtbot):
    window = make_window(length=6)
    window.stepper.speed_box.setValue(120)
    window.set_step(3)
    window.toggle_play()
    qtbot.waitUntil(lambda: not window.playing, timeout=10_000)
    assert window.step == window.steps - 1 and window.stepper.buttons["play"].text() == "play"


def test_strip_shows_input_target_and_top_predictions(make_window):
    window = make_window()
    window.set_step(3)
    strip = window.strip
    labels = window.session.input_labels
    probs = window.session.trace["output/probs"].row(0)[3]
    top = strip.top_k(3)
    assert len(top) == 3 and top[0][1] == pytest.approx(probs.max())
    assert [p for _, p in top] == sorted((p for _, p in top), reverse=True)
    assert strip.columns.index(3) == 3  # the current step is highlighted among its neighbours
    rows = dict(strip.rows)
    assert rows["step"][3] == "3" and rows["input"][3] == labels[3]
    assert rows["target"][3] == window.session.target_labels[3]
    assert rows["top 1"][3] == f"{top[0][0]} {top[0][1]:.2f}"


def test_typed_sequence_retraces_off_the_gui_thread(make_window, qtbot, monkeypatch):
    window = make_window()
    heatmaps(window)[0].unit_clicked.emit(heatmaps(window)[0].title, 1, 1)
    assert window.unit_plot.values is not None
    may_finish = threading.Event()
    threads = gated_build_session(monkeypatch, may_finish)
    old = window.session
    window.controls.text_edit.setText("the sea")
    try:
        with qtbot.waitSignal(window.trace_done, timeout=20_000):
            qtbot.keyClick(window.controls.text_edit, Qt.Key.Key_Return)
            # Enter returned while the trace still runs: the window kept its session and keeps working
            assert window.session is old and window.statusBar().currentMessage() == "tracing…"
            window.next_step()
            assert window.step == 1
            may_finish.set()
    finally:
        may_finish.set()
    window.wait_for_workers()
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert window.steps == 6 and window.spec.text == "the sea"
    assert window.session.input_labels[:3] == ["t", "h", "e"]
    assert window.stepper.slider.maximum() == 5 and heatmaps(window)[0].values.shape[0] == 6
    assert window.unit_plot.values is None  # a unit of the previous trace is not shown against this one


def test_character_outside_the_vocabulary_is_a_message(make_window, retrace):
    window = make_window()
    old = window.session
    window.controls.text_edit.setText("the sea \u2603")
    retrace(window)
    assert window.session is old and window.isVisible()
    assert "\u2603" in window.message and "vocabulary" in window.message


def test_changing_the_pickers_retraces(make_window, retrace):
    window = make_window(model="rnn")
    first = window.session.trace["rnn/hidden"].data.copy()
    window.controls.seed_box.setValue(4)
    retrace(window, window.controls.seed_box.editingFinished.emit)
    assert window.spec.seed == 4
    assert not np.array_equal(window.session.trace["rnn/hidden"].data, first)
    window.controls.hidden_box.setValue(7)
    retrace(window, window.controls.hidden_box.editingFinished.emit)
    assert window.session.trace["rnn/hidden"].data.shape[2] == 7
    retrace(window, lambda: window.controls.task_box.setCurrentText("sine"))
    assert window.current_task().name == "sine" and not window.controls.text_edit.isEnabled()
    assert window.controls.length_box.value() == 50 and window.steps == 50  # the task's own default length
    retrace(window, lambda: window.controls.task_box.setCurrentText("sentiment"))
    assert not window.controls.length_box.isEnabled() and window.session.target_labels[-1] in (
        "negative",
        "positive",
    )
    retrace(window, lambda: window.controls.task_box.setCurrentText("chars"))
    retrace(window, lambda: window.controls.corpus_box.setCurrentText("arithmetic"))
    assert window.current_task().options["corpus"] == "arithmetic"


def test_text_file_is_traced_and_a_bad_file_is_a_message(make_window, retrace, tmp_path):
    window = make_window()
    good = tmp_path / "notes.txt"
    good.write_text("abba cab abba cab abba cab abba cab\n" * 3, encoding="utf-8")
    retrace(window, lambda: window.use_text_file(str(good)))
    assert set(window.current_task().vocab.symbols) == set("abc \n")
    old = window.session
    bad = tmp_path / "binary.txt"
    bad.write_bytes(b"\xff\xfe\x00abc")
    retrace(window, lambda: window.use_text_file(str(bad)))
    assert window.session is old and "binary.txt" in window.message


def gated_build_session(monkeypatch, gate: threading.Event, seeds=None) -> list[threading.Thread]:
    """Make the window's traces wait for ``gate`` (those of ``seeds`` only, if given) before they
    build their session; returns the threads they ran on, in order."""
    threads = []

    def build(spec, *more):
        threads.append(threading.current_thread())
        if seeds is None or spec.seed in seeds:
            gate.wait(10)  # broken behaviour must fail the test, not hang it
        return build_session(spec, *more)

    monkeypatch.setattr(main_window, "build_session", build)
    return threads


def test_stale_retrace_is_dropped(make_window, qtbot, monkeypatch):
    window = make_window()
    stale_may_finish = threading.Event()
    gated_build_session(monkeypatch, stale_may_finish, seeds={1})
    shown, done = [], []
    window.session_changed.connect(lambda: shown.append(window.session.spec.seed))
    window.trace_done.connect(lambda: done.append(window.spec.seed))
    try:
        window.controls.seed_box.setValue(1)
        window.retrace()  # held back until the newer one below has been shown
        window.controls.seed_box.setValue(2)
        with qtbot.waitSignal(window.trace_done, timeout=10_000):
            window.retrace()
        assert shown == [2] and window.retracer.busy  # the stale trace is still running
    finally:
        stale_may_finish.set()
    # the stale trace ends after the newer one was shown: its session must not replace it
    qtbot.waitUntil(lambda: not window.retracer.busy, timeout=10_000)
    assert shown == [2] and done == [2]
    assert window.spec.seed == 2 and window.session.spec.seed == 2 and window.controls.seed_box.value() == 2


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
    assert value == window.session.trace[panel.probe_name].data[step, 0, unit]
    assert texts and texts[-1] == f"{panel.title}  step {step}  unit {unit}  value {value:.6g}"
    assert window.statusBar().currentMessage() == texts[-1]
    assert panel.toolTip() == texts[-1]


def test_click_unit_shows_its_values_over_time(make_window):
    window = make_window()
    panel = heatmaps(window)[0]
    panel.unit_clicked.emit(panel.title, 2, 5)
    np.testing.assert_array_equal(window.unit_plot.values, panel.values[:, 2])
    assert panel.title in window.unit_plot.plot.getPlotItem().titleLabel.text


def test_nan_weights_are_reported_and_jumped_to(make_window):
    window = make_window(model="lstm", text=None)
    window.set_step(15)
    ids = np.argmax(window.current_batch().inputs[:, 0], axis=-1)
    later = next(t for t in range(1, len(ids)) if ids[t] not in ids[:t])  # a character first read at t > 0
    model = window.current_model()
    broken = type(model)(model.config, model.params.copy())
    # the LSTM reads one-hot inputs as rows of Wx: a NaN in that character's row appears when it is first read
    broken.params["Wx"][ids[later], 3] = np.nan
    window.show_model(broken, background=False)
    bad = window.last_nonfinite
    assert bad is not None and bad.step == later and bad.probe == "lstm/input_preact" and bad.index == (3,)
    assert window.step == later and window.stepper.slider.value() == later
    assert "Non-finite" in window.message and f"step {later}" in window.message
    assert bad.probe in window.message
    assert "non-finite" in window.panel(bad.probe).plot.titleLabel.text


def test_nan_appearing_later_is_jumped_to(make_window):
    window = make_window()
    session = window.session
    name = f"{session.trace.model_kind}/hidden"
    hidden = session.trace[name].data.copy()
    hidden[9, 0, 4] = np.inf
    trace = type(session.trace)(dict(session.trace.probes), session.trace.model_kind, session.trace.vocab)
    trace.probes[name] = replace(session.trace[name], data=hidden)
    window.set_session(replace(session, trace=trace))
    assert window.step == 9 and window.stepper.slider.value() == 9
    assert name in window.message and "step 9" in window.message


def test_png_and_npz_exports_load(make_window, tmp_path):
    window = make_window()
    window.export_view_png(str(tmp_path / "view.png"))
    window.exporter.widget_png(heatmaps(window)[0], str(tmp_path / "panel.png"))
    window.export_trace_npz(str(tmp_path / "trace.npz"))
    assert image_is_not_blank(tmp_path / "view.png")
    assert image_is_not_blank(tmp_path / "panel.png")
    umask = os.umask(0o022)
    os.umask(umask)
    for name in ("view.png", "panel.png", "trace.npz"):  # as a plain open() makes them, not private
        assert (tmp_path / name).stat().st_mode & 0o777 == 0o666 & ~umask, name
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "panel.png",
        "trace.npz",
        "view.png",
    ]  # no leftovers
    with np.load(tmp_path / "trace.npz", allow_pickle=False) as arrays:  # plain arrays, no pickles
        assert len(arrays.files) == len(window.session.trace.names()) + 1  # + the metadata
    from rnnscope.report.trace_export import read_trace_npz

    again = read_trace_npz(tmp_path / "trace.npz")
    assert again.names() == window.session.trace.names()
    assert again.model_kind == window.session.trace.model_kind
    for name, probe in window.session.trace.probes.items():
        np.testing.assert_array_equal(again[name].data, probe.data)
        assert (again[name].kind, again[name].axes) == (probe.kind, probe.axes)
    assert window.export_trace_npz(str(tmp_path / "bare")) == str(tmp_path / "bare.npz")
    assert (tmp_path / "bare.npz").exists()
    assert window.export_view_png(str(tmp_path / "missing" / "view.png")) is None
    assert "Could not export" in window.message and window.isVisible()
    titles = [a.text() for a in window.exporter.panel_menu.actions()]
    assert heatmaps(window)[0].title in titles


def test_settings_persist_across_a_new_window(make_window, settings, qtbot):
    window = make_window(model="rnn", seed=3, hidden=10, task="sine", length=15)
    window.resize(777, 555)  # inside the 800 x 800 offscreen screen: a bigger one is fitted to it
    dock = window.group_docks["rnn"]
    dock.close()  # a layout change the next window must restore
    window.close()
    from rnnscope.app.window import MainWindow

    again = MainWindow(settings=settings)
    qtbot.addWidget(again)
    assert (again.spec.model, again.spec.seed, again.spec.hidden, again.spec.task) == ("rnn", 3, 10, "sine")
    assert again.controls.seed_box.value() == 3 and again.controls.model_box.currentText() == "rnn"
    assert again.session.trace.steps == 15 and again.session.trace.model_kind == "rnn"
    assert again.size().width() == 777 and again.size().height() == 555
    assert again.group_docks["rnn"].isHidden() and not again.group_docks["curves"].isHidden()


def checkpoint_actions(window, settings):
    """File > Open checkpoint of ``window``: the one way the app opens a checkpoint."""
    from rnnscope.app.checkpoint_actions import CheckpointActions

    return CheckpointActions(window, settings=settings, dialogs=False, menu=window.file_menu)


def test_bad_checkpoint_is_a_message_and_the_window_keeps_running(make_window, settings, tmp_path):
    window = make_window()
    actions = checkpoint_actions(window, settings)
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a checkpoint")
    old = window.session
    assert actions.open_path(str(bad), background=False) is False
    assert "Cannot open checkpoint" in actions.last_error and window.session is old
    assert "Cannot open checkpoint" in window.statusBar().currentMessage() and window.isVisible()


def test_api_for_the_training_tools(make_window, retrace, qtbot):
    from PyQt6.QtWidgets import QLabel

    window = make_window()
    dock = window.add_panel("Extra", QLabel("x"))
    assert dock.widget().widget().text() == "x" and window.file_menu.title() == "&File"
    model_dock = window.group_docks[window.session.trace.model_kind]
    output_dock = window.group_docks["output"]
    # a tab behind the output in the right column: the heatmaps keep their room and stay in view
    qtbot.waitUntil(lambda: window.tabifiedDockWidgets(output_dock) == [dock], timeout=10_000)
    assert window.tabifiedDockWidgets(model_dock) == [] and not model_dock.visibleRegion().isEmpty()
    seen = []
    window.model_changed.connect(seen.append)
    model = window.current_model()
    batch = window.current_batch()
    window.set_step(5)
    retrace(window, lambda: window.show_model(model))
    assert seen == [model] and window.current_task() is not None and window.current_batch() is batch
    assert window.step == 5, "the same sequence with other weights keeps its step"


def test_main_help_and_window_from_arguments(settings, qtbot):
    from rnnscope.app.main import build_parser, build_window

    text = build_parser().format_help()
    assert "gradcheck" in text and "train" in text and "--read-heads" in text
    args = build_parser().parse_args(["--model", "rnn", "--task", "copy", "--hidden", "9", "--seed", "2"])
    window = build_window(args, settings=settings, training_tools=False)  # those have their own tests
    qtbot.addWidget(window)
    assert window.session.trace.model_kind == "rnn" and window.current_task().name == "copy"
    assert window.session.trace["rnn/hidden"].data.shape[2] == 9
    assert window.steps == 2 * 6 + 1  # copy's default: 6 vectors, a delimiter, 6 outputs


def test_checkpoint_opens_its_model_and_task(make_window, settings, tmp_path):
    from rnnscope.engine.checkpoint import save_checkpoint
    from rnnscope.engine.models.registry import build_model

    window = make_window(model="rnn", task="chars")
    task = window.current_task()
    model = build_model(task.model_config("rnn", 9, seed=5))
    path = tmp_path / "model.npz"
    save_checkpoint(path, model, task=task)
    assert checkpoint_actions(window, settings).open_path(str(path), background=False) is True
    assert window.session.trace["rnn/hidden"].data.shape[2] == 9
    np.testing.assert_array_equal(window.current_model().params["Wh"], model.params["Wh"])


def test_hover_on_a_memory_matrix_and_a_read_head(make_window, qtbot):
    window = make_window(model="dnc", task="copy")
    window.resize(1400, 900)
    window.set_step(6)
    memory = window.panel("dnc/memory")
    head = window.panel("dnc/read_weighting [head 1]")
    window.group_docks["dnc · matrices"].raise_()
    qtbot.waitUntil(lambda: memory.plot.vb.width() > 30 and head.plot.vb.width() > 30, timeout=10_000)
    texts = []
    memory.hovered.connect(texts.append)
    memory._on_move(memory.plot.vb.mapViewToScene(QPointF(2.5, 4.5)))  # width 2, slot 4
    value = window.session.trace["dnc/memory"].data[6, 0, 4, 2]
    assert texts[-1] == f"dnc/memory  step 6  slot 4  width 2  value {value:.6g}"
    head.hovered.connect(texts.append)
    head._on_move(head.plot.vb.mapViewToScene(QPointF(3.5, 5.5)))  # step 3, slot 5
    value = window.session.trace["dnc/read_weighting"].data[3, 0, 1, 5]
    assert texts[-1] == f"dnc/read_weighting [head 1]  step 3  slot 5  value {value:.6g}"
    memory.unit_clicked.emit(memory.title, 4, 2)
    expected = window.session.trace["dnc/memory"].data[:, 0, 4, 2]
    np.testing.assert_array_equal(window.unit_plot.values, expected)


def test_file_menu_exports_through_the_save_dialog(make_window, tmp_path, monkeypatch):
    from PyQt6.QtWidgets import QFileDialog

    window = make_window()
    answers = iter([str(tmp_path / "view.png"), str(tmp_path / "trace.npz"), str(tmp_path / "one.png")])
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *args, **kwargs: (next(answers), ""))
    actions = {a.text(): a for a in window.file_menu.actions()}
    actions["Export view (PNG, SVG)…"].trigger()
    actions["Export trace as .npz…"].trigger()
    panel = heatmaps(window)[2]
    next(a for a in window.exporter.panel_menu.actions() if a.text() == panel.title).trigger()
    assert image_is_not_blank(tmp_path / "view.png") and image_is_not_blank(tmp_path / "one.png")
    assert QImage(str(tmp_path / "one.png")).size() == panel.grab().size()
    from rnnscope.report.trace_export import read_trace_npz

    assert read_trace_npz(tmp_path / "trace.npz").names() == window.session.trace.names()


def test_a_remembered_file_that_has_gone_falls_back_to_the_default(settings, qtbot, tmp_path):
    from rnnscope.app.window import MainWindow

    settings.setValue("session/task", "chars")
    settings.setValue("session/text_file", str(tmp_path / "gone.txt"))
    settings.setValue("ui/speed", 30)
    window = MainWindow(settings=settings, overrides={"hidden": 8, "length": 10})
    qtbot.addWidget(window)
    assert window.session is not None and window.spec.text_file is None
    assert "gone.txt" in window.message and "default" in window.message
    assert window.stepper.speed_box.value() == 30


def test_a_new_probe_gets_a_panel_with_no_new_view_code(make_window):
    from rnnscope.engine.trace import ProbeKind

    window = make_window(model="rnn")
    session = window.session
    trace = type(session.trace)(dict(session.trace.probes), session.trace.model_kind, session.trace.vocab)
    steps = trace.steps
    attention = np.random.default_rng(0).dirichlet(np.ones(5), size=(steps, 1, 3))  # (T, B, head, slot)
    trace.add("extra/attention", attention, ProbeKind.WEIGHTING, ("head", "slot"))
    trace.add("extra/energy", np.linspace(0, 1, steps)[:, None], ProbeKind.SCALAR)
    window.set_session(replace(session, trace=trace))
    assert [window.panel(f"extra/attention [head {h}]").levels for h in range(3)] == [(0.0, 1.0)] * 3
    assert "extra" in window.group_docks  # a small group: one dock
    curves = next(p for p in window.panels if p.title == "curves")
    np.testing.assert_array_equal(curves.series["extra/energy"], np.linspace(0, 1, steps))


def test_output_rows_are_named_after_the_task(make_window, qtbot):
    window = make_window(model="rnn", task="copy")
    panel = window.panel("output/probs")
    qtbot.waitUntil(lambda: panel.plot.vb.width() > 30, timeout=10_000)
    ticks = panel.plot.getAxis("left")._tickLevels[0]
    assert [text for _, text in ticks] == [f"bit {i}" for i in range(6)]
    texts = []
    panel.hovered.connect(texts.append)
    panel._on_move(panel.plot.vb.mapViewToScene(QPointF(2.5, 4.5)))
    assert texts and "output 4 (bit 4)" in texts[-1]


def test_a_model_on_another_task_moves_the_controls(make_window):
    from rnnscope.engine.models.registry import build_model
    from rnnscope.engine.tasks import build_task

    window = make_window(model="rnn", task="chars")
    task = build_task("copy")
    model = build_model(task.model_config("dnc", 10, memory_slots=5, memory_width=3, read_heads=1))
    window.show_model(model, task, background=False)
    assert window.session.trace.model_kind == "dnc" and window.current_task() is task
    assert (window.controls.model_box.currentText(), window.controls.task_box.currentText()) == (
        "dnc",
        "copy",
    )
    assert (
        window.controls.hidden_box.value(),
        window.controls.slots_box.value(),
        window.controls.heads_box.value(),
    ) == (10, 5, 1)
    assert (
        window.steps == 2 * 6 + 1
        and window.controls.slots_box.isEnabled()
        and not window.controls.text_edit.isEnabled()
    )


def test_command_line_dnc_on_copy_and_a_checkpoint_path(settings, qtbot, tmp_path):
    from rnnscope.app.main import build_parser, build_window
    from rnnscope.engine.checkpoint import save_checkpoint
    from rnnscope.engine.models.registry import build_model
    from rnnscope.engine.tasks import build_task

    args = build_parser().parse_args(["--model", "dnc", "--task", "copy", "--hidden", "8", "--slots", "5"])
    window = build_window(args, settings=settings, training_tools=False)
    qtbot.addWidget(window)
    assert window.session.trace.model_kind == "dnc" and window.current_task().name == "copy"
    assert window.session.trace["dnc/memory"].data.shape[2] == 5

    task = build_task("sine")
    path = tmp_path / "rnn.npz"
    save_checkpoint(path, build_model(task.model_config("rnn", 6, seed=2)), task=task)
    again = build_window(build_parser().parse_args([str(path)]), settings=settings, training_tools=False)
    qtbot.addWidget(again)
    assert again.session.trace.model_kind == "rnn" and again.current_task().name == "sine"
    assert again.session.trace["rnn/hidden"].data.shape[2] == 6


def test_a_long_remembered_sequence_is_first_traced_on_the_worker(settings, qtbot, monkeypatch):
    monkeypatch.setattr(main_window, "FIRST_TRACE_IN_BACKGROUND", 100)
    may_finish = threading.Event()
    threads = gated_build_session(monkeypatch, may_finish)
    try:
        window = main_window.MainWindow(settings=settings, overrides={"hidden": 8, "length": 30})
        qtbot.addWidget(window)
        window.show()
        # the window is up before its trace has arrived
        assert window.session is None and window.isVisible()
    finally:
        may_finish.set()
    qtbot.waitUntil(lambda: window.session is not None, timeout=10_000)
    window.wait_for_workers()
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    assert window.steps == 30 and window.panels


@pytest.mark.qt_log_ignore("This plugin does not support raise")  # offscreen: the dialog brought back
def test_help_menu_lists_the_shortcuts_and_the_versions(make_window, qtbot):
    import pyqtgraph
    from PyQt6.QtCore import qVersion

    import rnnscope

    window = make_window()
    titles = [action.text() for action in window.help.menu.actions()]
    assert titles == ["Keyboard shortcuts", "About rnnscope"] and window.help.menu.title() == "&Help"
    assert window.help.menu.menuAction() is window.menuBar().actions()[-1]  # Help comes last
    window.help.shortcuts_action.trigger()  # shown, not exec()-ed: nothing blocks
    dialog = window.help.dialogs["shortcuts"]
    qtbot.waitUntil(dialog.isVisible, timeout=10_000)
    text = dialog.label.text()
    for keys in ("Right", "Left", "Home", "End", "Space", "F1", "Enter"):
        assert f"<b>{keys}</b>" in text, keys
    for (
        action
    ) in window.stepper.key_actions.values():  # every step key the window has is listed, with what it does
        assert f"<b>{action.shortcut().toString()}</b>" in text and action.text() in text
    assert window.help.shortcuts_action.shortcut().toString() == "F1"
    window.help.about_action.trigger()
    about = window.help.dialogs["about"].label.text()
    assert f"rnnscope {rnnscope.__version__}" in about
    assert f"NumPy {np.__version__}" in about and f"Qt {qVersion()}" in about
    assert f"pyqtgraph {pyqtgraph.__version__}" in about
    window.help.shortcuts_action.trigger()  # a second time: the same dialog, brought back
    assert window.help.dialogs["shortcuts"] is dialog
    for shown in window.help.dialogs.values():
        shown.close()


def test_step_buttons_have_icons_and_play_swaps_to_pause(make_window):
    window = make_window()
    for name, button in window.stepper.buttons.items():
        assert not button.icon().isNull(), name
    play = window.stepper.buttons["play"].icon().pixmap(16).toImage()
    window.toggle_play()
    assert window.stepper.buttons["play"].text() == "pause"
    assert window.stepper.buttons["play"].icon().pixmap(16).toImage() != play
    window.toggle_play()
    assert window.stepper.buttons["play"].text() == "play"
    assert window.stepper.buttons["play"].icon().pixmap(16).toImage() == play
    assert not window.windowIcon().isNull()


def scaled_model(model, factor: float):
    """A copy of ``model`` whose every weight is multiplied by ``factor`` (other numbers, same shapes)."""
    params = model.params.copy()
    for name in list(params):
        params[name][...] *= factor
    return type(model)(model.config, params)


@pytest.mark.parametrize("kind", ["lstm", "dnc"])
def test_other_weights_update_the_panels_in_place(make_window, retrace, kind):
    window = make_window(model=kind, task="copy" if kind == "dnc" else "chars")
    panels, docks, strip = list(window.panels), dict(window.group_docks), window.strip
    window.set_step(4)
    heatmap = heatmaps(window)[0]
    heatmap.unit_clicked.emit(heatmap.title, 2, 4)
    old_unit = window.unit_plot.values.copy()
    old_strip = strip.text()
    model = scaled_model(window.current_model(), 3.0)
    retrace(window, lambda: window.show_model(model))  # as the training panel's "show paused weights" does
    assert window.current_model() is model and not window.panels_rebuilt
    assert window.panels == panels and all(a is b for a, b in zip(window.panels, panels, strict=True))
    assert window.group_docks == docks and window.strip is strip
    assert window.step == 4 and all(p.step == 4 for p in window.panels if p.isVisible())
    trace = window.session.trace
    for panel in window.panels:
        if isinstance(panel, HeatmapPanel):
            data = trace[panel.probe_name].row(0)
            expected = data[:, panel.head] if panel.head is not None else data
            np.testing.assert_array_equal(panel.values, expected)
            np.testing.assert_array_equal(panel.image.image, expected.T)  # the image shows the new data
            if not panel.kind.bounded:
                assert panel.levels[1] == pytest.approx(np.abs(expected).max())  # levels follow the data
        elif isinstance(panel, MatrixPanel):
            if panel.isVisible():  # a hidden one catches up with the cursor when shown
                np.testing.assert_array_equal(panel.image.image, trace[panel.probe_name].row(0)[4])
        elif isinstance(panel, AddressingPanel):
            np.testing.assert_array_equal(panel.bar_heights(), trace["dnc/read_mode_parts"].row(0)[4, 0])
        elif isinstance(panel, ScalarPanel):
            for name, curve in panel.curves.items():
                np.testing.assert_array_equal(curve.yData, trace[name].row(0))  # before any log mapping
    assert window.unit_plot.values is not None and not np.array_equal(window.unit_plot.values, old_unit)
    np.testing.assert_array_equal(window.unit_plot.values, heatmap.values[:, 2])
    assert strip.text() != old_strip  # the predictions are the new model's


def test_another_seed_on_typed_text_keeps_the_panels_a_new_kind_rebuilds_them(make_window, retrace):
    window = make_window(text="the cat sat on the mat")
    panels = list(window.panels)
    window.set_step(6)
    hidden = window.panel("lstm/hidden").values.copy()
    window.controls.seed_box.setValue(5)
    retrace(window, window._retrace_if_changed)
    assert window.spec.seed == 5 and not window.panels_rebuilt
    assert all(a is b for a, b in zip(window.panels, panels, strict=True)) and window.step == 6
    assert not np.array_equal(window.panel("lstm/hidden").values, hidden)  # the seed's weights
    retrace(window, lambda: window.controls.model_box.setCurrentText("gru"))
    assert window.panels_rebuilt and window.session.trace.model_kind == "gru"
    assert not any(a is b for a, b in zip(window.panels, panels, strict=False))


def test_a_nan_mark_goes_when_finite_weights_are_shown_in_place(make_window):
    window = make_window()
    model = window.current_model()
    broken = scaled_model(model, 1.0)
    broken.params["Wh"][0, 0] = np.nan
    window.show_model(broken, background=False)
    bad = window.last_nonfinite
    assert bad is not None and "non-finite" in window.panel(bad.probe).plot.titleLabel.text
    window.show_model(scaled_model(model, 1.0), background=False)
    assert not window.panels_rebuilt and window.last_nonfinite is None
    assert "non-finite" not in window.panel(bad.probe).plot.titleLabel.text


def test_paused_training_weights_update_the_real_window_in_place(make_window, qtbot, settings):
    from rnnscope.app.checkpoint_actions import install_training_tools

    window = make_window(model="rnn")
    tools = install_training_tools(window, settings=settings, dialogs=False)
    training = tools.training
    training.batch_size.setValue(2)
    training.length.setValue(10)
    training.sample_every.setValue(0)
    window.set_step(3)
    panels, before = list(window.panels), window.panel("rnn/hidden").values.copy()
    try:
        with qtbot.waitSignal(window.model_changed, timeout=10_000) as shown:
            training.step_button.click()  # one iteration, then "show paused weights"
        window.wait_for_workers()
        assert shown.args[0] is window.current_model() and shown.args[0] is not training.trainer.model
        assert not window.panels_rebuilt and all(a is b for a, b in zip(window.panels, panels, strict=True))
        assert window.step == 3
        hidden = window.panel("rnn/hidden")
        np.testing.assert_array_equal(hidden.values, window.session.trace["rnn/hidden"].row(0))
        assert not np.array_equal(hidden.values, before)
    finally:
        training.shutdown()
