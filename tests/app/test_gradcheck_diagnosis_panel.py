"""The gradient-check panel shows a failing row's likely cause on a line under the row and in the
details, in any sort order."""

from __future__ import annotations

import numpy as np
import pytest
from PyQt6.QtCore import QModelIndex, Qt

from rnnscope.app.panels.gradcheck import COLUMN_KEYS, NAME_ROLE, GradcheckPanel
from rnnscope.app.panels.gradcheck.details import DIAGNOSIS_COLOUR
from rnnscope.app.panels.gradcheck.table import DIAGNOSIS_ROLE
from rnnscope.engine.models.config import ModelConfig
from rnnscope.engine.models.lstm import LSTM


class SwappedLSTM(LSTM):
    """An LSTM whose backward returns the input and forget gates' Wx gradients swapped."""

    def backward_core(self, dfeatures, core, inputs, *args, **kwargs):
        grads, dinputs, dstate, dhidden = super().backward_core(dfeatures, core, inputs, *args, **kwargs)
        h = self.config.hidden_size
        grad = grads["Wx"].copy()
        grad[:, :h], grad[:, h : 2 * h] = grads["Wx"][:, h : 2 * h], grads["Wx"][:, :h]
        grads["Wx"] = grad
        return grads, dinputs, dstate, dhidden


@pytest.fixture
def checked(qtbot):
    panel = GradcheckPanel()
    qtbot.addWidget(panel)
    panel.resize(1280, 720)
    panel.show()
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 5, (7, 2))
    panel.set_source(SwappedLSTM(ModelConfig("lstm", 5, 4, 5, seed=0)), np.eye(5)[ids[:-1]], ids[1:])
    worker = panel.prepare_check()
    assert worker is not None
    with qtbot.waitSignal(panel.check_finished, timeout=20_000):
        panel.start_check(worker)
    yield panel
    panel.shutdown()


def _index(panel, name: str) -> QModelIndex:
    return panel.row_index(name)


def _lines_under(panel, name: str) -> list[QModelIndex]:
    row = _index(panel, name)
    model = panel.proxy
    children = [model.index(r, 0, row) for r in range(model.rowCount(row))]
    return [child for child in children if child.data(DIAGNOSIS_ROLE) is not None]


def test_the_cause_is_a_spanning_line_right_under_the_row(checked):
    panel = checked
    (line,) = _lines_under(panel, "Wx[input]")
    assert line.row() == 0  # the first child: right under the row
    assert line.data(Qt.ItemDataRole.DisplayRole).startswith(
        "\u21b3 likely cause: Wx[input] holds the gradient of Wx[forget]"
    )
    assert line.data(Qt.ItemDataRole.ForegroundRole).color().name() == DIAGNOSIS_COLOUR
    assert line.data(NAME_ROLE) == "Wx[input]" and line.data(DIAGNOSIS_ROLE) == "swapped"
    assert panel.table.isFirstColumnSpanned(line.row(), line.parent())
    # the line is drawn across the columns, not cut at the name column
    assert panel.table.visualRect(line).width() > 2 * panel.table.header().sectionSize(0)
    assert _lines_under(panel, "Wx[output]") == [] and _lines_under(panel, "Wh") == []


def test_the_line_stays_under_its_row_when_the_table_is_sorted(checked):
    panel = checked
    column = COLUMN_KEYS.index("rel_err_max")
    for order in (Qt.SortOrder.DescendingOrder, Qt.SortOrder.AscendingOrder):
        panel.table.sortByColumn(column, order)
        (line,) = _lines_under(panel, "Wx[forget]")
        assert line.row() == 0
        assert panel.table.isFirstColumnSpanned(line.row(), line.parent())


def test_the_details_say_the_cause_of_the_selected_row(checked):
    panel = checked
    panel.select_row("Wx[forget]")
    assert panel.details.cause.isVisible()
    assert panel.details.cause.text().startswith("Likely cause: Wx[forget] holds the gradient of Wx[input]")
    panel.select_row("Wh")
    assert not panel.details.cause.isVisible()
    panel.table.setCurrentIndex(_lines_under(panel, "Wx[input]")[0])  # clicking the line shows its row
    assert "Wx[input] holds the gradient" in panel.details.cause.text()
