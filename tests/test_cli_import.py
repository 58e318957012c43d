"""``rnnscope import`` run in-process through ``rnnscope.cli.main``: the printed proof, --verify,
the written checkpoint, exit statuses and messages."""

import os
import shutil

import numpy as np
from safetensors.numpy import load_file, save_file

from rnnscope.cli import main
from rnnscope.engine.checkpoint import load_checkpoint

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures", "imports")


def fixture(name):
    return os.path.join(FIXTURES, name)


def test_a_char_lstm_imports_with_its_sidecar_vocabulary_and_verifies(tmp_path, capsys):
    out = tmp_path / "char.npz"
    text = fixture("torch_lstm2_embed.txt")
    code = main(
        ["import", fixture("torch_lstm2_embed.safetensors"), "--text", text, "-o", str(out), "--verify"]
    )
    printed = capsys.readouterr().out
    assert code == 0
    assert "imported pytorch LSTM, 2 layers of H=8, D=5, embedding E (17, 5), read-out O=17" in printed
    assert f"checkpoint written to {out}" in printed
    assert (
        "against pytorch's own results" in printed and "verified again from the written checkpoint" in printed
    )
    assert printed.count("  ok    layer 1 hidden states") == 2 and "FAIL" not in printed
    saved = load_checkpoint(out)
    assert saved.config.num_layers == 2 and saved.config.embedding_size == 5
    assert (
        saved.vocab is not None
        and saved.task is not None
        and saved.task.options["path"] == os.path.abspath(text)
    )
    batch = saved.task.sample(2, 0, 10)
    assert np.isfinite(saved.model.loss(batch.inputs, batch.targets))


def test_a_comparison_that_fails_exits_1(tmp_path, capsys):
    tensors = load_file(fixture("torch_gru2.safetensors"))
    tensors["rnnscope.reference.hidden.l1"] = tensors["rnnscope.reference.hidden.l1"] + 1e-6
    source = tmp_path / "gru.safetensors"
    save_file(tensors, str(source))
    assert main(["import", str(source), "-o", str(tmp_path / "gru.npz")]) == 1
    printed = capsys.readouterr().out
    assert "  FAIL  layer 1 hidden states" in printed and "  ok    layer 0 hidden states" in printed


def test_verify_needs_reference_outputs(tmp_path, capsys):
    source = tmp_path / "bare.safetensors"
    tensors = {k: v for k, v in load_file(fixture("torch_gru2.safetensors")).items() if "reference" not in k}
    save_file(tensors, str(source))
    assert main(["import", str(source), "-o", str(tmp_path / "x.npz"), "--verify"]) == 2
    assert "holds no reference outputs" in capsys.readouterr().err
    assert not (tmp_path / "x.npz").exists()
    assert main(["import", str(source), "-o", str(tmp_path / "x.npz")]) == 0  # without --verify it imports


def test_bad_input_exits_2_with_the_reason(tmp_path, capsys):
    pickle = tmp_path / "model.pth"
    pickle.write_bytes(b"\x80\x04")
    assert main(["import", str(pickle), "-o", str(tmp_path / "x.npz")]) == 2
    err = capsys.readouterr().err
    assert "is a pickle" in err and "safetensors.torch.save_file" in err
    assert main(["import", fixture("keras_bidirectional.weights.h5"), "-o", str(tmp_path / "x.npz")]) == 2
    assert "Bidirectional recurrent layer is not supported yet" in capsys.readouterr().err
    assert main(["import", str(tmp_path / "missing.onnx"), "-o", str(tmp_path / "x.npz")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_a_vocabulary_from_json_maps_and_inline_symbols(tmp_path, capsys):
    shutil.copy(fixture("torch_lstm2_embed.safetensors"), tmp_path / "m.safetensors")
    symbols = load_checkpoint_symbols(tmp_path, capsys)
    stoi = tmp_path / "stoi.json"
    stoi.write_text("{" + ", ".join(f'"{s}": {i}' for i, s in enumerate(symbols)).replace("\n", "\\n") + "}")
    out = tmp_path / "stoi.npz"
    assert main(["import", str(tmp_path / "m.safetensors"), "--vocab", str(stoi), "-o", str(out)]) == 0
    assert list(load_checkpoint(out).vocab.symbols) == symbols
    capsys.readouterr()
    code = main(
        ["import", str(tmp_path / "m.safetensors"), "--symbols", "abc", "-o", str(tmp_path / "bad.npz")]
    )
    assert (
        code == 2 and "the vocabulary has 3 symbols, but the model reads 17 inputs" in capsys.readouterr().err
    )


def load_checkpoint_symbols(tmp_path, capsys):
    """The fixture's symbols, through an import with its sidecar (found beside the source)."""
    shutil.copy(fixture("torch_lstm2_embed.vocab.json"), tmp_path / "m.vocab.json")
    out = tmp_path / "sidecar.npz"
    assert main(["import", str(tmp_path / "m.safetensors"), "-o", str(out)]) == 0
    assert "no --text: the task's text is the vocabulary itself" in capsys.readouterr().out
    os.remove(tmp_path / "m.vocab.json")
    return list(load_checkpoint(out).vocab.symbols)
