"""The gradient-check panel: table rows and colours match the engine, cancel, heatmaps, exports."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PyQt6.QtCore import QObject, Qt, pyqtSignal
from PyQt6.QtGui import QColor

from rnnscope.app.panels.gradcheck import COLUMN_KEYS, NAME_ROLE, GradcheckPanel
from rnnscope.app.panels.gradcheck.table import DIAGNOSIS_ROLE
from rnnscope.engine.gradcheck import Status, check_gradients
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.registry import build_model
from rnnscope.engine.models.rnn import RNN
from rnnscope.engine.params import GateSlice, Params
from rnnscope.report import read_csv

STATUS_COLUMN = COLUMN_KEYS.index("status")
MAX_ERROR_COLUMN = COLUMN_KEYS.index("rel_err_max")


class BrokenRNN(RNN):
    """An RNN whose backward pass gets dLoss/dWh wrong by 30% (what a real bug looks like)."""

    def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
        grads, dinputs, dstate, dhidden = super().backward_core(
            dfeatures, core, inputs, need_inputs=need_inputs
        )
        grads["Wh"] = grads["Wh"] * 1.3
        return grads, dinputs, dstate, dhidden


class SlicedRNN(RNN):
    """An RNN whose Wx columns are declared as two "gate" slices, and whose backward gets the
    second slice wrong: a fused parameter with one bad gate, as a broken LSTM would have."""

    def init_params(self, rng):
        params = super().init_params(rng)
        half = self.config.hidden_size // 2
        slices = {"Wx": {"low": GateSlice(1, 0, half), "high": GateSlice(1, half, self.config.hidden_size)}}
        return Params(dict(params.items()), slices)

    def backward_core(self, dfeatures, core, inputs, *, need_inputs=True):
        grads, dinputs, dstate, dhidden = super().backward_core(
            dfeatures, core, inputs, need_inputs=need_inputs
        )
        half = self.config.hidden_size // 2
        grads["Wx"] = grads["Wx"].copy()
        grads["Wx"][:, half:] *= 0.8
        return grads, dinputs, dstate, dhidden


def make_batch(vocabulary: int = 4, steps: int = 5, batch: int = 2, seed: int = 1):
    rng = np.random.default_rng(seed)
    ids = rng.integers(0, vocabulary, size=(steps + 1, batch))
    return np.eye(vocabulary)[ids[:-1]], ids[1:]


@pytest.fixture
def panel(qtbot):
    widget = GradcheckPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 800)
    yield widget
    widget.shutdown()


def run_to_end(qtbot, panel):
    worker = panel.prepare_check()
    assert worker is not None
    with qtbot.waitSignal(panel.check_finished, timeout=10_000) as blocker:
        panel.start_check(worker)
    return blocker.args[0]


def table_rows(panel):
    """(name, status text, status colour, row background) of every row and sub-row, in view order
    (the diagnosis lines under diagnosed rows left out)."""
    model = panel.proxy
    out = []

    def walk(parent):
        for r in range(model.rowCount(parent)):
            status = model.index(r, STATUS_COLUMN, parent)
            first = model.index(r, 0, parent)
            if first.data(DIAGNOSIS_ROLE) is not None:
                continue
            out.append(
                (
                    first.data(NAME_ROLE),
                    status.data(Qt.ItemDataRole.DisplayRole),
                    status.data(Qt.ItemDataRole.BackgroundRole).color().name(),
                    first.data(Qt.ItemDataRole.BackgroundRole).color().name(),
                )
            )
            walk(first)

    walk(model.index(-1, -1))
    return out


def test_table_rows_and_colours_match_the_engine_and_the_broken_gradient_is_red(qtbot, panel):
    config = ModelConfig("rnn", 4, 5, 4, seed=3)
    model = BrokenRNN(config)
    inputs, targets = make_batch()
    panel.set_source(model, inputs, targets)
    result = run_to_end(qtbot, panel)

    expected = check_gradients(BrokenRNN(config, model.params.copy()), inputs, targets, samples=10)
    assert [r.name for r in result.rows] == [r.name for r in expected.rows]
    assert [r.status for r in result.rows] == [r.status for r in expected.rows]

    rows = table_rows(panel)
    assert [name for name, *_ in rows] == [r.name for r in expected.all_rows()]
    for (_name, text, colour, background), row in zip(rows, expected.all_rows(), strict=True):
        assert text == row.status.label
        assert colour == QColor(row.status.colour).name()
        assert background == QColor(row.status.background).name()
    by_name = {name: (text, colour) for name, text, colour, _ in rows}
    assert by_name["Wh"] == ("fail", QColor(Status.FAIL.colour).name())
    assert by_name["Wx"][0] == "ok" and by_name["b"][0] == "ok"
    assert "FAIL" in panel.summary.text()


def test_gate_sub_rows_show_which_gate_is_broken(qtbot, panel):
    model = SlicedRNN(ModelConfig("rnn", 4, 6, 4, seed=2))
    inputs, targets = make_batch()
    panel.set_source(model, inputs, targets)
    result = run_to_end(qtbot, panel)
    rows = {name: text for name, text, *_ in table_rows(panel)}
    assert rows["Wx"] == "fail" and rows["Wx[high]"] == "fail" and rows["Wx[low]"] == "ok"
    # sub-rows are children of their parameter's row
    wx = panel.row_index("Wx")
    assert panel.proxy.rowCount(wx) == 2
    assert {panel.proxy.index(r, 0, wx).data(NAME_ROLE) for r in range(2)} == {"Wx[low]", "Wx[high]"}
    panel.select_row("Wx[high]")
    analytic, numeric, _ = panel.details.heatmaps.arrays
    np.testing.assert_array_equal(analytic, result.tensors["Wx"].analytic[:, 3:])
    assert panel.details.worst.item(0, 1).text() == "high"


def test_sorting_by_error_puts_the_failing_row_first(qtbot, panel):
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    run_to_end(qtbot, panel)
    panel.table.sortByColumn(MAX_ERROR_COLUMN, Qt.SortOrder.DescendingOrder)
    assert table_rows(panel)[0][0] == "Wh"
    panel.table.sortByColumn(0, Qt.SortOrder.AscendingOrder)
    # the model's parameters in order, then the inputs and the initial state
    assert [name for name, *_ in table_rows(panel)] == [*model.params, "inputs", "state.h"]


def test_clicking_a_row_shows_analytic_numeric_and_difference(qtbot, panel):
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    panel.settings.mode.setCurrentText("full")
    result = run_to_end(qtbot, panel)
    panel.show()
    index = panel.row_index("Wh")
    rect = panel.table.visualRect(index)
    qtbot.mouseClick(panel.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.waitUntil(lambda: panel.table.currentIndex().data(NAME_ROLE) == "Wh", timeout=10_000)
    analytic, numeric, difference = panel.details.heatmaps.arrays
    check = result.tensors["Wh"]
    np.testing.assert_array_equal(analytic, check.analytic)
    np.testing.assert_array_equal(numeric, check.numeric_full())
    np.testing.assert_allclose(difference, check.analytic - check.numeric_full())
    # the worst element listed first is the row's worst element
    assert panel.details.worst.item(0, 0).text() == str(result.row("Wh").worst_index)
    assert panel.details.worst.item(0, 5).text() == "fail"


def test_cancel_stops_the_worker_with_a_partial_result(qtbot, panel):
    model = build_model(ModelConfig("rnn", 4, 12, 4, seed=0))
    panel.set_source(model, *make_batch(steps=8))
    panel.settings.mode.setCurrentText("full")
    worker = panel.prepare_check()
    # cancel as soon as the first progress report arrives, inside the worker thread
    worker.progress.connect(worker.cancel, Qt.ConnectionType.DirectConnection)
    with qtbot.waitSignal(worker.cancelled, timeout=10_000) as blocker:
        panel.start_check(worker)
    partial = blocker.args[0]
    assert partial.cancelled
    assert len(partial.rows) < len(model.params)
    qtbot.waitUntil(lambda: panel.thread_.isFinished(), timeout=10_000)
    assert not panel.running and panel.run_button.isEnabled()
    assert "Cancelled" in panel.summary.text()
    # the model that was displayed is untouched by the check
    np.testing.assert_array_equal(model.params["Wh"], build_model(model.config).params["Wh"])


def test_exports_write_every_format_and_an_unwritable_path_is_a_clear_error(qtbot, panel, tmp_path):
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    result = run_to_end(qtbot, panel)
    for fmt in ("html", "csv", "json", "md"):
        assert panel.export(tmp_path / f"report.{fmt}")
    data = json.loads((tmp_path / "report.json").read_text())
    assert [row["status"] for row in data["rows"]] == [r.status.value for r in result.rows]
    _, csv_rows = read_csv((tmp_path / "report.csv").read_text())
    assert {row["name"]: row["status"] for row in csv_rows}["Wh"] == "fail"
    assert "Wh" in (tmp_path / "report.md").read_text()
    assert Status.FAIL.colour in (tmp_path / "report.html").read_text()

    messages = []
    panel.message.connect(messages.append)
    missing = tmp_path / "no such folder" / "report.csv"
    assert not panel.export(missing)
    assert not missing.exists()
    assert "no such folder" in messages[-1] and "Export failed" in messages[-1]


def test_bad_threshold_is_reported_and_nothing_runs(qtbot, panel):
    panel.set_source(build_model(ModelConfig("rnn", 4, 3, 4)), *make_batch())
    panel.settings.fail_threshold.setText("abc")
    messages = []
    panel.message.connect(messages.append)
    assert panel.run_check() is None
    assert "fail threshold" in messages[-1]
    assert not panel.running


def test_directional_mode_lists_directions_and_has_no_per_element_numeric(qtbot, panel):
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    panel.settings.mode.setCurrentText("directional")
    panel.settings.directions.setValue(2)
    result = run_to_end(qtbot, panel)
    assert result.mode == "directional"
    assert {name: text for name, text, *_ in table_rows(panel)}["Wh"] == "fail"
    panel.select_row("Wh")
    analytic, numeric, _ = panel.details.heatmaps.arrays
    np.testing.assert_array_equal(analytic, result.tensors["Wh"].analytic)
    assert np.isnan(numeric).all()
    assert panel.details.worst.rowCount() == 2 and panel.details.worst.item(0, 0).text().startswith(
        "direction "
    )


def test_a_json_report_opens_back_into_the_table(qtbot, panel, tmp_path):
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    run_to_end(qtbot, panel)
    assert panel.export(tmp_path / "report.json")
    shown = table_rows(panel)
    other = GradcheckPanel()
    qtbot.addWidget(other)
    assert other.open_report(tmp_path / "report.json")
    assert table_rows(other) == shown
    np.testing.assert_array_equal(other.result.tensors["Wh"].analytic, panel.result.tensors["Wh"].analytic)
    (tmp_path / "notes.json").write_text('{"hello": 1}')
    messages = []
    other.message.connect(messages.append)
    assert not other.open_report(tmp_path / "notes.json")
    assert "notes.json" in messages[-1] and other.result is not None


def test_the_table_shows_the_report_columns_with_their_texts(qtbot, panel):
    from rnnscope.report.columns import SHOWN

    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    panel.set_source(model, *make_batch())
    result = run_to_end(qtbot, panel)
    headers = [panel.table_model.headerData(c, Qt.Orientation.Horizontal) for c in range(len(SHOWN))]
    assert headers == [column.header for column in SHOWN]
    for position, row in enumerate(result.rows):
        cells = [panel.table_model.index(position, c).data() for c in range(len(SHOWN))]
        assert cells == [column.text(row) for column in SHOWN]


class FakeHost(QObject):
    """What the panel may use of the main window (the ModelHost protocol), and nothing else."""

    model_changed = pyqtSignal(object)

    def __init__(self, model, batch):
        super().__init__()
        self.model, self.batch = model, batch

    def current_model(self):
        return self.model

    def current_task(self):
        return None

    def current_batch(self):
        return self.batch

    def show_model(self, model, task=None, background=True):
        self.model = model


def test_attached_panel_checks_the_hosts_model_and_notices_a_change(qtbot, panel):
    from rnnscope.engine.tasks import Batch

    inputs, targets = make_batch()
    mask = np.ones(targets.shape)
    mask[0] = 0.0
    host = FakeHost(None, None)
    panel.attach(host)
    assert panel.run_check() is None  # nothing shown yet: a message, no worker
    assert "no model" in panel.summary.text()
    model = BrokenRNN(ModelConfig("rnn", 4, 5, 4, seed=3))
    host.model, host.batch = model, Batch(inputs=inputs, targets=targets, mask=mask)
    result = run_to_end(qtbot, panel)
    expected = check_gradients(
        BrokenRNN(model.config, model.params.copy()), inputs, targets, mask, samples=10
    )
    assert result.loss == expected.loss  # the host's mask was used
    assert [r.status for r in result.rows] == [r.status for r in expected.rows]
    host.model_changed.emit(model)
    assert "changed since" in panel.summary.text()


def test_input_and_state_rows_show_their_gradients_and_the_setting_leaves_them_out(qtbot, panel):
    model = build_model(ModelConfig("lstm", 4, 3, 4, seed=1))
    inputs, targets = make_batch()
    panel.set_source(model, inputs, targets)
    panel.settings.mode.setCurrentText("full")
    result = run_to_end(qtbot, panel)
    names = [name for name, *_ in table_rows(panel)]
    assert names[-3:] == ["inputs", "state.h", "state.c"]
    assert {name: text for name, text, *_ in table_rows(panel)}["inputs"] == "ok"
    panel.select_row("inputs")
    analytic, numeric, _ = panel.details.heatmaps.arrays
    # (T, B, D) drawn as T rows of B x D columns
    assert analytic.shape == (inputs.shape[0], inputs.shape[1] * inputs.shape[2])
    np.testing.assert_array_equal(analytic, result.tensors["inputs"].analytic.reshape(analytic.shape))
    assert np.isfinite(numeric).all()
    panel.settings.inputs.setChecked(False)
    run_to_end(qtbot, panel)
    assert [name for name, *_ in table_rows(panel) if "[" not in name] == list(model.params)


def test_a_float32_model_is_checked_with_a_note_above_the_table(qtbot, panel):
    model = build_model(ModelConfig("rnn", 4, 3, 4, seed=1, dtype="float32"))
    panel.set_source(model, *make_batch())
    result = run_to_end(qtbot, panel)
    panel.show()
    assert result.upcast and not result.failed
    assert panel.notes.isVisible() and "float64 copy" in panel.notes.text.text()
    assert not panel.notes.button.isVisible()


def test_a_negligible_row_offers_a_check_with_a_step_that_judges_it(qtbot, panel):
    """A many-to-one RNN over 41 steps: the gradient reaching h_0 vanishes below the allowance."""
    from rnnscope.engine.tasks import build_task

    task = build_task("sentiment", seed=0)
    model = build_model(task.model_config("rnn", 16, seed=0))
    batch = task.sample(2, np.random.default_rng(0))
    panel.set_source(model, batch.inputs, batch.targets, batch.mask)
    run_to_end(qtbot, panel)
    panel.show()
    assert {name: text for name, text, *_ in table_rows(panel)}["state.h"] == "too small"
    assert "state.h: negligible for this loss" in panel.notes.text.text()
    button = panel.notes.button
    assert button.isVisible() and button.text().startswith("Check again with step ")
    step = button.text().removeprefix("Check again with step ")
    with qtbot.waitSignal(panel.check_finished, timeout=20_000) as finished:
        qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert panel.settings.step.text() == step and finished.args[0].step == float(step)
    assert {name: text for name, text, *_ in table_rows(panel)}["state.h"] == "ok"
    assert not panel.notes.button.isVisible()
