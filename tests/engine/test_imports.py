"""Importing PyTorch, Keras 3 and ONNX models: every fixture equals its framework's own results.

The fixtures (tests/fixtures/imports/, made by tests/fixtures/make_import_fixtures.py with the
real frameworks) hold small models and the framework's outputs and every layer's hidden
states on a probe batch. No framework is needed here: each file is imported and rnnscope's
outputs and hidden states are compared, at 1e-10 for float64 weights and 1e-5 for float32.
A deliberately wrong gate order fails the same comparison, and every kind of bad input gets
an error that names it.
"""

import json
import os
import shutil
import zipfile

import numpy as np
import pytest
from safetensors.numpy import load_file, save_file

from rnnscope.engine.imports import ImportOptions, WeightImportError, compare, import_weights
from rnnscope.engine.imports import gates as gate_orders
from rnnscope.engine.imports.gates import reorder
from rnnscope.engine.imports.pytorch import Prefixes

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(__file__)), "fixtures", "imports")

# file: (kind, layers, embedding, reset_after, precision of the weights)
CASES = {
    "torch_lstm2_embed.safetensors": ("lstm", 2, True, False, "float64"),
    "torch_lstm2_embed_f32.safetensors": ("lstm", 2, True, False, "float32"),
    "torch_gru2.safetensors": ("gru", 2, False, True, "float64"),
    "torch_rnn3.npz": ("rnn", 3, False, False, "float64"),
    "keras_lstm2_embed.weights.h5": ("lstm", 2, True, False, "float32"),
    "keras_gru2_reset_after.weights.h5": ("gru", 2, False, True, "float32"),
    "keras_gru_cho.weights.h5": ("gru", 1, False, False, "float32"),
    "keras_simple_rnn.weights.h5": ("rnn", 1, False, False, "float32"),
    "onnx_lstm2_embed.onnx": ("lstm", 2, True, False, "float32"),
    "onnx_gru2.onnx": ("gru", 2, False, True, "float32"),
    "onnx_gru_cho.onnx": ("gru", 1, False, False, "float64"),
    "onnx_rnn.onnx": ("rnn", 1, False, False, "float64"),
}


def fixture(name):
    return os.path.join(FIXTURES, name)


@pytest.mark.parametrize("name", list(CASES))
def test_every_fixture_equals_its_framework(name):
    kind, layers, embedded, reset_after, precision = CASES[name]
    imported = import_weights(fixture(name))
    config = imported.model.config
    assert (config.kind, config.num_layers, bool(config.embedding_size)) == (kind, layers, embedded)
    assert config.reset_after == reset_after and imported.layout.source_dtype == precision
    rows = compare(imported.model, imported.layout.references, precision)
    what = [row.what for row in rows]
    assert "outputs (logits)" in what
    assert [w for w in what if w.endswith("hidden states")] == [
        f"layer {k} hidden states" for k in range(layers)
    ]
    tolerance = 1e-10 if precision == "float64" else 1e-5
    for row in rows:
        assert row.tolerance == tolerance and row.relative <= tolerance, (row.what, row.relative)


def test_the_lstm_cell_state_is_compared_too():
    imported = import_weights(fixture("torch_lstm2_embed.safetensors"))
    rows = compare(imported.model, imported.layout.references, "float64")
    assert {row.what for row in rows} >= {"layer 0 final cell", "layer 1 final cell"}


@pytest.mark.parametrize(
    ("name", "framework", "kind"),
    [
        ("torch_lstm2_embed.safetensors", "pytorch", "lstm"),
        ("keras_gru2_reset_after.weights.h5", "keras", "gru"),
        ("onnx_lstm2_embed.onnx", "onnx", "lstm"),
    ],
)
def test_a_wrong_gate_order_fails_the_comparison(name, framework, kind, monkeypatch):
    """The proof can fail: read the gates in rnnscope's own order (no mapping) and the outputs differ."""
    monkeypatch.setitem(gate_orders.FRAMEWORK_ORDER[framework], kind, gate_orders.RNNSCOPE_ORDER[kind])
    imported = import_weights(fixture(name))
    rows = compare(imported.model, imported.layout.references, imported.layout.source_dtype)
    assert not all(row.ok for row in rows)
    assert min(row.relative for row in rows if not row.ok) > 1e-3


def test_reorder_moves_labelled_blocks_into_rnnscope_order():
    H = 2
    labels = {"input": 1.0, "forget": 2.0, "candidate": 3.0, "output": 4.0}
    for framework, order in (("pytorch", "ifgo"), ("keras", "ifgo"), ("onnx", "iofg")):
        names = gate_orders.FRAMEWORK_ORDER[framework]["lstm"]
        assert [n[0] if n != "candidate" else "g" for n in names] == list(order)
        fused = np.repeat([labels[n] for n in names], H)
        assert list(reorder(fused, framework, "lstm", 0)) == [1, 1, 2, 2, 4, 4, 3, 3]  # i f o g
    keras_gru = np.repeat([10.0, 20.0, 30.0], H)  # z r h
    assert list(reorder(keras_gru[None], "keras", "gru", 1)[0]) == [20, 20, 10, 10, 30, 30]  # r z n


# --------------------------------------------------------------------------- bad input
def _copy_with(tmp_path, name, change):
    """A copy of a safetensors fixture with its tensors changed by ``change(dict)``."""
    tensors = load_file(fixture(name))
    change(tensors)
    path = tmp_path / name
    save_file(tensors, str(path))
    return str(path)


def test_an_unknown_layout_lists_the_names_found_and_what_was_expected(tmp_path):
    path = tmp_path / "weird.npz"
    np.savez(path, **{"encoder.kernel": np.zeros((3, 4)), "decoder.w": np.zeros(4)})
    with pytest.raises(WeightImportError) as info:
        import_weights(str(path))
    message = str(info.value)
    assert "unknown layout" in message and "encoder.kernel (3, 4)" in message and "decoder.w (4,)" in message
    assert "weight_ih_l0" in message and "weight_hh_l0" in message


def test_a_shape_that_does_not_fit_is_named(tmp_path):
    def shrink(tensors):
        tensors["rnn.weight_hh_l1"] = tensors["rnn.weight_hh_l1"][:, :-1].copy()

    path = _copy_with(tmp_path, "torch_lstm2_embed.safetensors", shrink)
    with pytest.raises(
        WeightImportError, match=r"rnn.weight_hh_l1 has shape \(32, 7\), but the model needs \(32, 8\)"
    ):
        import_weights(path)


@pytest.mark.parametrize(
    ("name", "message"),
    [
        (
            "torch_bilstm.safetensors",
            "lstm.weight_ih_l0_reverse: a bidirectional recurrent layer .* not supported yet",
        ),
        (
            "keras_bidirectional.weights.h5",
            "layer bidirectional: a Bidirectional recurrent layer is not supported yet",
        ),
    ],
)
def test_bidirectional_models_are_refused_by_name(name, message):
    with pytest.raises(WeightImportError, match=message):
        import_weights(fixture(name))


def test_a_bidirectional_onnx_node_is_refused(tmp_path):
    import onnx
    from onnx import helper

    model = onnx.load(fixture("onnx_gru2.onnx"))
    node = next(n for n in model.graph.node if n.op_type == "GRU")
    node.attribute.append(helper.make_attribute("direction", "bidirectional"))
    path = tmp_path / "bi.onnx"
    onnx.save(model, str(path))
    with pytest.raises(WeightImportError, match="a bidirectional recurrent layer is not supported yet"):
        import_weights(str(path))


def test_a_missing_readout_imports_the_recurrent_part_with_a_fresh_one():
    imported = import_weights(fixture("torch_lstm_no_readout.safetensors"), ImportOptions(outputs=3, seed=5))
    assert any("no read-out" in note and "fresh" in note for note in imported.notes)
    assert imported.model.params["Wy"].shape == (6, 3)
    rows = compare(imported.model, imported.layout.references, "float64")
    assert [row.what for row in rows] == ["layer 0 hidden states", "layer 0 final cell"]
    assert all(row.ok for row in rows)
    with pytest.raises(WeightImportError, match="no read-out: give --outputs N"):
        import_weights(fixture("torch_lstm_no_readout.safetensors"))


@pytest.mark.parametrize("suffix", [".pt", ".pth"])
def test_pickles_are_refused_with_the_conversion(tmp_path, suffix):
    path = tmp_path / f"model{suffix}"
    path.write_bytes(b"\x80\x04\x95 not unpickled")
    with pytest.raises(WeightImportError) as info:
        import_weights(str(path))
    message = str(info.value)
    assert "is a pickle" in message and "never unpickles" in message
    assert "safetensors.torch.save_file(torch.load('model" in message and "model.safetensors" in message


def test_a_zipped_pickle_under_another_name_is_refused(tmp_path):
    path = tmp_path / "weights.safetensors"
    with zipfile.ZipFile(path, "w") as archive:  # what torch.save writes by default
        archive.writestr("archive/data.pkl", b"\x80\x02}q\x00.")
    with pytest.raises(WeightImportError, match="is a pickle"):
        import_weights(str(path))


def test_ambiguous_modules_need_a_prefix_and_the_prefixes_work(tmp_path):
    def twin(tensors):
        tensors["other.weight"] = tensors["fc.weight"].copy()
        tensors["other.bias"] = tensors["fc.bias"].copy()

    path = _copy_with(tmp_path, "torch_lstm2_embed.safetensors", twin)
    with pytest.raises(WeightImportError, match="several possible readout modules .*'fc.', 'other.'"):
        import_weights(path)
    imported = import_weights(path, prefixes=Prefixes(rnn="rnn.", embedding="embed.", readout="fc."))
    assert all(row.ok for row in compare(imported.model, imported.layout.references, "float64"))


def test_keras_layer_order_can_be_named():
    with pytest.raises(WeightImportError, match="must name each recurrent layer once"):
        import_weights(fixture("keras_gru2_reset_after.weights.h5"), layer_order=["gru"])
    with pytest.raises(
        WeightImportError, match=r"layer gru: kernel has shape \(3, 15\), but the model needs \(5, 15\)"
    ):
        import_weights(fixture("keras_gru2_reset_after.weights.h5"), layer_order=["gru_1", "gru"])
    named = import_weights(fixture("keras_gru2_reset_after.weights.h5"), layer_order=["gru", "gru_1"])
    assert all(row.ok for row in compare(named.model, named.layout.references, "float32"))


def test_a_vocabulary_makes_a_chars_task_in_the_models_index_order(tmp_path):
    symbols = json.load(open(fixture("torch_lstm2_embed.vocab.json"), encoding="utf-8"))
    text = fixture("torch_lstm2_embed.txt")
    imported = import_weights(
        fixture("torch_lstm2_embed.safetensors"), ImportOptions(vocab=tuple(symbols), text=text)
    )
    assert imported.task is not None and imported.task.name == "chars"
    assert list(imported.task.vocab.symbols) == symbols and imported.task.options["path"] == os.path.abspath(
        text
    )
    with pytest.raises(
        WeightImportError, match="the vocabulary has 3 symbols, but the model reads 17 inputs"
    ):
        import_weights(fixture("torch_lstm2_embed.safetensors"), ImportOptions(vocab=("a", "b", "c")))
    shutil.copy(fixture("torch_gru2.safetensors"), tmp_path / "gru.safetensors")
    assert import_weights(str(tmp_path / "gru.safetensors")).task is None  # no vocabulary, no task


@pytest.mark.parametrize("suffix", [".npz", ".safetensors", ".onnx", ".weights.h5"])
def test_a_damaged_file_is_named_with_its_kind(tmp_path, suffix):
    path = tmp_path / f"damaged{suffix}"
    path.write_bytes(b"not a model")
    with pytest.raises(WeightImportError, match=f"damaged{suffix}: (not an .npz archive|cannot read it as)"):
        import_weights(str(path))
