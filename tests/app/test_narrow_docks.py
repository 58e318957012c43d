"""The Training and Gradient check panels in narrow docks: controls wrap, curves re-flow, nothing
scrolls sideways, every setting stays reachable (the 1280 x 720 window itself: test_screens.py)."""

from __future__ import annotations

import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QApplication, QDockWidget, QLabel, QMainWindow, QWidget

from rnnscope.app.panels.gradcheck import GradcheckPanel
from rnnscope.app.panels.gradcheck.details import RowDetails
from rnnscope.app.panels.training import StatsHistory, TrainingPanel
from rnnscope.app.panels.training.plots import MIN_PLOT_HEIGHT, MIN_PLOT_WIDTH, TrainingPlots
from rnnscope.app.screenshots import tool_dock_fit
from rnnscope.app.widgets import scrolling
from rnnscope.engine.training import IterationStats


def in_dock(qtbot, panel: QWidget, width: int, height: int = 300):
    """``panel`` in a scroll area (as the window docks it) of ``width`` x ``height``, shown."""
    scroll = scrolling(panel)
    qtbot.addWidget(scroll)
    scroll.resize(width, height)
    scroll.show()
    qtbot.waitExposed(scroll)
    qtbot.waitUntil(lambda: panel.width() > 0, timeout=10_000)
    # the plots and heatmaps are made once the panel is painted: they are what the user sees next
    made = (TrainingPlots, RowDetails)
    qtbot.waitUntil(lambda: any(isinstance(w, made) for w in panel.findChildren(QWidget)), timeout=10_000)
    for _ in range(3):  # a re-flow asks for another layout pass
        QApplication.processEvents()
    return scroll


def inside(widget: QWidget, scroll) -> bool:
    """Is ``widget`` shown and wholly inside the scroll area's width (no sideways scrolling to it)?"""
    left = widget.mapTo(scroll.viewport(), widget.rect().topLeft()).x()
    return widget.isVisible() and left >= 0 and left + widget.width() <= scroll.viewport().width()


@pytest.mark.parametrize("width", [600, 420, 300])
def test_training_controls_wrap_and_curves_reflow_to_the_dock_width(qtbot, width):
    panel = TrainingPanel()
    scroll = in_dock(qtbot, panel, width)
    assert not scroll.horizontalScrollBar().isVisible()
    assert panel.minimumSizeHint().width() <= scroll.viewport().width()
    controls = [*panel.buttons.buttons(), panel.optimiser, panel.learning_rate, panel.clip_norm]
    for widget in [*controls, panel.form.more_button, panel.snapshot_label]:
        assert inside(widget, scroll), widget
    plots = panel.plots
    assert plots.columns == (2 if width >= 420 else 1)
    items = (plots.loss_plot, plots.metric_plot, plots.grad_plot, plots.ratio_plot)

    def readable() -> bool:  # every plot at its least size, once the re-flowed grid is laid out
        sizes = [plot.geometry() for plot in items]
        return all(s.width() >= MIN_PLOT_WIDTH - 20 and s.height() >= MIN_PLOT_HEIGHT - 1 for s in sizes)

    qtbot.waitUntil(readable, timeout=10_000)
    # the grid's rows: two plots side by side, or all four stacked
    tops = sorted({round(p.geometry().top()) for p in (plots.loss_plot, plots.grad_plot, plots.ratio_plot)})
    assert len(tops) == (2 if plots.columns == 2 else 3)


def test_more_shows_the_rarely_used_settings_from_the_keyboard(qtbot):
    panel = TrainingPanel()
    scroll = in_dock(qtbot, panel, 420)
    rare = [panel.momentum, panel.batch_size, panel.length, panel.iterations, panel.snapshot_every]
    assert not any(widget.isVisible() for widget in rare + [panel.show_when_paused])
    button = panel.form.more_button
    button.setFocus()
    qtbot.keyClick(button, Qt.Key.Key_Space)
    for widget in [*rare, panel.sample_every, panel.seed, panel.show_when_paused]:
        assert inside(widget, scroll), widget
    assert not scroll.horizontalScrollBar().isVisible()
    chain, widget = [], panel.nextInFocusChain()
    while widget is not panel and len(chain) < 200:  # Tab reaches every field and button
        chain.append(widget)
        widget = widget.nextInFocusChain()
    focusable = [w for w in chain if w.focusPolicy() & Qt.FocusPolicy.TabFocus and w.isVisible()]
    for widget in [*panel.buttons.buttons(), panel.snapshot_every, panel.seed]:
        assert widget in focusable, widget
    qtbot.keyClick(button, Qt.Key.Key_Space)
    assert not panel.snapshot_every.isVisible()


def test_the_ratio_legend_wraps_under_the_plots(qtbot):
    panel = TrainingPanel()
    scroll = in_dock(qtbot, panel, 300)
    names = [f"layer{i}/weights" for i in range(10)]
    history = StatsHistory()
    history.extend(
        [
            IterationStats(
                iteration=i,
                loss=1.0,
                loss_per_step=0.5,
                grad_norm=1.0,
                update_ratio={name: 1e-3 * (k + 1) for k, name in enumerate(names)},
                chars=10,
                seconds=0.01,
                chars_per_s=1000.0,
                lr=0.1,
            )
            for i in range(1, 4)
        ]
    )
    panel.plots.redraw(history)
    key = panel.plots.key
    qtbot.waitUntil(key.isVisible, timeout=10_000)
    assert all(name in key.text() for name in names)
    lines = key.fontMetrics().lineSpacing()
    qtbot.waitUntil(lambda: key.height() > 2 * lines, timeout=10_000)  # wrapped onto several lines
    assert not scroll.horizontalScrollBar().isVisible()
    assert set(panel.plots.ratio_curves) == set(names)


@pytest.mark.parametrize("width", [600, 420])
def test_gradcheck_settings_wrap_and_show_the_chosen_modes_count(qtbot, width):
    panel = GradcheckPanel()
    scroll = in_dock(qtbot, panel, width, 400)
    assert not scroll.horizontalScrollBar().isVisible()
    assert panel.minimumSizeHint().width() <= scroll.viewport().width()
    settings = panel.settings
    for widget in (settings.mode, settings.samples, settings.step, settings.inputs, settings.more_button):
        assert inside(widget, scroll), widget
    for widget in (panel.run_button, panel.cancel_button, panel.export_button, panel.open_button):
        assert inside(widget, scroll), widget  # (Open report... was in no layout before)
    assert not settings.directions.isVisible()
    settings.mode.setCurrentText("directional")
    assert settings.directions.isVisible() and not settings.samples.isVisible()
    settings.mode.setCurrentText("full")
    assert not settings.directions.isVisible() and not settings.samples.isVisible()
    settings.more_button.click()
    for widget in (settings.seed, settings.ok_threshold, settings.fail_threshold, settings.kink_threshold):
        assert inside(widget, scroll), widget
    assert not scroll.horizontalScrollBar().isVisible()


def test_the_dock_fit_check_finds_a_panel_wider_than_its_dock(qtbot):
    window = QMainWindow()
    qtbot.addWidget(window)
    window.setCentralWidget(QLabel("model"))
    docks = []
    for title, text in (("Training", "short"), ("Gradient check", "a label that will not wrap " * 12)):
        dock = QDockWidget(title, window)
        dock.setObjectName(f"panel:{title}")
        dock.setWidget(scrolling(QLabel(text)))
        window.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, dock)
        docks.append(dock)
    window.tabifyDockWidget(docks[0], docks[1])
    window.resize(500, 400)
    window.show()
    qtbot.waitExposed(window)
    fit = tool_dock_fit(window)
    assert set(fit) == {"Training", "Gradient check"}
    assert fit["Training"].problem("Training") is None
    wide = fit["Gradient check"]
    assert wide.least > wide.room and wide.sideways
    assert "scrolls sideways" in (wide.problem("Gradient check") or "")
