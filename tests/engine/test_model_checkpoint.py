"""Checkpoints of a model of the user's own: where its class is defined is saved, never its code,
and nothing is imported on a checkpoint's word."""

import json
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnscope.engine.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from rnnscope.engine.checkpoint.model_file import SOURCE_ATTRIBUTE, ModelSource
from rnnscope.engine.protocol import load_model_file, open_model_checkpoint, recorded_source
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import Trainer, build_optimizer
from tests.engine.test_protocol_errors import TinyRNN

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture
def model_file(tmp_path):
    """A copy of the CS231n-style example in its own folder, loaded."""
    path = tmp_path / "models" / "my_lstm.py"
    path.parent.mkdir()
    shutil.copy(EXAMPLES / "cs231n_lstm.py", path)
    return load_model_file(path)


def _model(loaded, task):
    return loaded.model_class(task.model_config("custom", 4, seed=2))


def _meta(path):
    with np.load(path, allow_pickle=False) as archive:
        return json.loads(archive["meta"].tobytes())


def test_saving_records_the_file_class_and_hash_but_no_code(model_file, tmp_path):
    task = build_task("chars")
    saved = save_checkpoint(tmp_path / "ck.npz", _model(model_file, task), task=task)
    assert _meta(saved)["model_file"] == {
        "path": model_file.path,
        "class": "CS231nLSTM",
        "sha256": model_file.sha256,
    }
    assert recorded_source(saved) == model_file.source
    with zipfile.ZipFile(saved) as archive:  # not a line of the source in any entry
        contents = b"".join(archive.read(name) for name in archive.namelist())
    assert b"lstm_step_backward" not in contents and b"def " not in contents


def test_the_plain_loader_imports_nothing_and_says_how_to_open_it(model_file, tmp_path):
    task = build_task("chars")
    saved = save_checkpoint(tmp_path / "ck.npz", _model(model_file, task), task=task)
    with pytest.raises(CheckpointError) as info:
        load_checkpoint(saved)
    assert info.value.problem == (
        f"the model is CS231nLSTM, defined in {model_file.path}; rnnscope imports no code on a checkpoint's "
        f"word: open it with --model-file {model_file.path}:CS231nLSTM (or "
        "rnnscope.engine.protocol.open_model_checkpoint)"
    )


def test_opening_finds_the_file_at_its_recorded_path(model_file, tmp_path):
    task = build_task("chars")
    model = _model(model_file, task)
    saved = save_checkpoint(tmp_path / "ck.npz", model, task=task)
    opened = open_model_checkpoint(saved)
    assert opened.warnings == [] and opened.model_file.path == model_file.path
    reopened = opened.checkpoint.model
    assert type(reopened).__name__ == "CS231nLSTM" and reopened.config == model.config
    assert all(np.array_equal(reopened.params[name], model.params[name]) for name in model.params)
    assert opened.checkpoint.task.name == "chars"


def test_an_edited_source_opens_with_a_warning(model_file, tmp_path):
    task = build_task("chars")
    saved = save_checkpoint(tmp_path / "ck.npz", _model(model_file, task), task=task)
    path = Path(model_file.path)
    path.write_text(path.read_text() + "\n# tuned the backward pass\n")
    opened = open_model_checkpoint(saved)
    assert opened.warnings == [
        f"{model_file.path} has changed since the checkpoint was saved (its SHA-256 differs): the saved "
        "parameters are loaded into the class as the file defines it now"
    ]


def test_a_moved_source_must_be_pointed_at(model_file, tmp_path):
    task = build_task("chars")
    saved = save_checkpoint(tmp_path / "ck.npz", _model(model_file, task), task=task)
    moved = tmp_path / "elsewhere.py"
    shutil.move(model_file.path, moved)
    with pytest.raises(
        CheckpointError, match=r"which is not there; point at the file: --model-file PATH:CS231nLSTM"
    ):
        open_model_checkpoint(saved)
    opened = open_model_checkpoint(saved, model_file=str(moved))  # the class name comes from the record
    assert opened.warnings == [] and opened.model_file.path == str(moved)


def test_a_class_defined_outside_a_file_needs_the_class(tmp_path):
    task = build_task("copy")
    model = TinyRNN(task.model_config("custom", 3))
    saved = save_checkpoint(tmp_path / "ck.npz", model, task=task)
    assert "model_file" not in _meta(saved)
    with pytest.raises(CheckpointError, match="does not say where it is defined: pass the class"):
        load_checkpoint(saved)
    again = load_checkpoint(saved, model_class=TinyRNN).model
    assert all(np.array_equal(again.params[name], model.params[name]) for name in model.params)


def test_a_malformed_record_is_refused(tmp_path, monkeypatch):
    task = build_task("copy")
    monkeypatch.setattr(
        TinyRNN, SOURCE_ATTRIBUTE, ModelSource("/x.py", "TinyRNN", "not a digest"), raising=False
    )
    saved = save_checkpoint(tmp_path / "ck.npz", TinyRNN(task.model_config("custom", 3)), task=task)
    with pytest.raises(CheckpointError, match="the model_file record is malformed"):
        load_checkpoint(saved)


def test_a_resumed_run_of_a_users_model_continues_exactly(model_file, tmp_path):
    task = build_task("chars")

    def trainer(model):
        return Trainer(model, task, build_optimizer("adam"), batch_size=2, seq_len=5, seed=4)

    straight = trainer(_model(model_file, task))
    for _ in range(5):
        straight.step()
    first = trainer(_model(model_file, task))
    for _ in range(3):
        first.step()
    saved = save_checkpoint(tmp_path / "ck.npz", first.model, trainer=first)
    opened = open_model_checkpoint(saved)
    resumed = trainer(opened.checkpoint.model)
    resumed.restore(opened.checkpoint)
    for _ in range(2):
        resumed.step()
    for name in straight.model.params:
        assert np.array_equal(resumed.model.params[name], straight.model.params[name]), name
