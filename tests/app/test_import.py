"""File > Import weights...: a PyTorch / Keras / ONNX model opened in the window, with its layers grouped,
the comparison with the framework's own outputs, and bad files named while the window keeps running."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PyQt6.QtCore import Qt
from PyQt6.QtWidgets import QDialogButtonBox

from rnnscope.app.import_actions import ImportActions
from rnnscope.app.import_dialog import ImportRequest
from rnnscope.app.panels.heatmap import HeatmapPanel

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "imports"


@pytest.fixture
def importing(make_window, settings, retrace):
    """``importing(**window_overrides)``: a window and its import actions (no pop-ups)."""

    def make(**overrides):
        window = make_window(**overrides)
        actions = ImportActions(window, settings=settings, dialogs=False, menu=window.file_menu)
        return window, actions

    return make


def test_an_imported_two_layer_pytorch_lstm_steps_with_per_layer_panels(importing, retrace, qtbot):
    window, actions = importing()
    source = str(FIXTURES / "torch_lstm2_embed.safetensors")
    dialog = actions.ask_options(source)
    # what lies beside the file is offered: its vocabulary sidecar and its text
    assert dialog.vocab_edit.text().endswith("torch_lstm2_embed.vocab.json")
    assert dialog.text_edit.text().endswith("torch_lstm2_embed.txt")
    retrace(window, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click)
    config = window.current_model().config
    assert (config.kind, config.num_layers, config.embedding_size, config.hidden_size) == ("lstm", 2, 5, 8)
    assert window.controls.layers_box.value() == 2 and window.current_task().name == "chars"
    # the comparison with PyTorch's own outputs and hidden states, every row within 1e-10
    report = actions.last_report
    assert "pytorch LSTM, 2 layers of H=8" in report and "FAIL" not in report
    assert "ok    layer 1 hidden states" in report and "ok    outputs (logits)" in report
    # the top layer's panels are shown, grouped by layer; the lower layer waits in the browser
    docks = window.group_docks
    assert docks["lstm · layer 1"].isVisible() and not docks["lstm · layer 0"].isVisible()
    browser_parts = {window.probe_browser.tree.topLevelItem(i).text(0) for i in range(3)}
    assert {"lstm · layer 0", "lstm · layer 1"} <= browser_parts
    forget = window.panel("lstm/l1/forget_gate")
    assert isinstance(forget, HeatmapPanel)
    np.testing.assert_allclose(forget.image.image, window.session.trace["lstm/l1/forget_gate"].row(0).T)
    qtbot.mouseClick(window.stepper.buttons["next"], Qt.MouseButton.LeftButton)
    qtbot.mouseClick(window.stepper.buttons["next"], Qt.MouseButton.LeftButton)
    assert window.step == 2 and forget.cursor_line.value() == 2.5
    # one tick shows layer 0: its dock comes back with its gates
    window.probe_browser.set_shown("lstm/l0/forget_gate", True)
    window.probe_browser.flush()
    assert docks["lstm · layer 0"].isVisible() and window.panel("lstm/l0/forget_gate").isVisible()


@pytest.mark.parametrize(
    ("name", "kind", "layers"),
    [
        ("keras_lstm2_embed.weights.h5", "lstm", 2),
        ("keras_gru2_reset_after.weights.h5", "gru", 2),
        ("onnx_gru2.onnx", "gru", 2),
        ("torch_rnn3.npz", "rnn", 3),
    ],
)
def test_every_format_opens_on_the_probe_batch_it_holds(importing, retrace, name, kind, layers):
    window, actions = importing()
    retrace(window, lambda: actions.import_path(str(FIXTURES / name), ImportRequest()))
    config = window.current_model().config
    assert (config.kind, config.num_layers) == (kind, layers)
    # no vocabulary: the window shows the framework's own probe batch
    assert window.current_task().name == "arrays" and "FAIL" not in actions.last_report
    assert {f"{kind} · layer {layers - 1}", f"{kind} · layer 0"} <= set(window.group_docks)
    if kind == "gru":
        assert config.reset_after == (name != "keras_gru_cho.weights.h5")
        assert window.spec.gru_convention == ("pytorch" if config.reset_after else "cho")


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("torch_bilstm.safetensors", "bidirectional"),
        ("keras_bidirectional.weights.h5", "Bidirectional recurrent layer is not supported yet"),
        ("torch_lstm_no_readout.safetensors", "the file has no read-out"),
        ("missing.safetensors", "missing.safetensors"),
    ],
)
def test_a_file_that_cannot_be_imported_is_named_and_the_window_keeps_its_model(importing, name, problem):
    window, actions = importing()
    shown = window.current_model()
    assert actions.import_path(str(FIXTURES / name), ImportRequest(), background=False) is False
    assert actions.last_error is not None and name in actions.last_error and problem in actions.last_error
    assert window.current_model() is shown


def test_a_pickle_is_refused_with_the_conversion_to_safetensors(importing, tmp_path):
    window, actions = importing()
    pickle = tmp_path / "model.pt"
    pickle.write_bytes(b"\x80\x04not really a pickle")
    assert actions.import_path(str(pickle), background=False) is False
    assert "safetensors" in actions.last_error and window.current_model() is not None


def test_a_model_with_no_read_out_imports_with_outputs_from_the_dialog(importing, retrace):
    window, actions = importing()
    source = str(FIXTURES / "torch_lstm_no_readout.safetensors")
    dialog = actions.ask_options(source)
    dialog.outputs_box.setValue(window.current_task().output_size)
    retrace(window, dialog.buttons.button(QDialogButtonBox.StandardButton.Ok).click)
    assert "the file has no read-out" in actions.last_report and actions.last_error is None


def test_import_weights_is_in_the_file_menu(settings, qtbot):
    from rnnscope.app.main import open_window, parse_args

    opened = open_window(parse_args(["--model", "rnn", "--hidden", "4"]), settings=settings)
    qtbot.addWidget(opened.window)
    texts = [action.text() for action in opened.window.file_menu.actions()]
    assert "&Import weights..." in texts
    assert texts.index("&Import weights...") < texts.index("&Save checkpoint...")
    opened.window.close()
