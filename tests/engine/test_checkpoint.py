"""Checkpoints: bit-exact round trip, exact resumption, clear errors for bad files, atomic saves."""

from __future__ import annotations

import io
import json
import os
import tracemalloc
import zipfile
from pathlib import Path

import numpy as np
import pytest

from rnnscope.engine.checkpoint import FORMAT_VERSION, CheckpointError, load_checkpoint, save_checkpoint
from rnnscope.engine.checkpoint.format import archive_digest
from rnnscope.engine.models import build_model
from rnnscope.engine.tasks import build_task
from rnnscope.engine.training import Trainer, build_optimizer

TEXT = "the cat sat on the mat. the dog sat on the log. " * 6
# written by rnnscope 0.1.0 before the checkpoint code became a package (LSTM, Adam, 2 iterations)
VERSION_1_FILE = Path(__file__).parent / "fixtures" / "checkpoint_v1.npz"


def _trainer(optimizer="adam", task=None, **options):
    task = task or build_task("chars", text=TEXT)
    model = build_model(task.model_config("rnn", 8, seed=1))
    lr = {"adam": 5e-3, "adagrad": 0.1, "sgd": 0.05, "rmsprop": 1e-3}[optimizer]
    extra = {"momentum": 0.9} if optimizer in ("sgd", "rmsprop") else {}
    return Trainer(
        model, task, build_optimizer(optimizer, lr=lr, **extra), batch_size=3, seq_len=5, seed=2, **options
    )


@pytest.fixture
def saved(tmp_path):
    trainer = _trainer()
    trainer.train(4)
    path = tmp_path / "run.npz"
    save_checkpoint(path, trainer.model, trainer=trainer)
    return path, trainer


def _arrays(path):
    with np.load(path, allow_pickle=False) as archive:
        return {name: archive[name] for name in archive.files}


def _rewrite(path, arrays, fix_digest=True):
    """Write ``arrays`` back as an archive, with a fresh digest unless told not to."""
    arrays = dict(arrays)
    if fix_digest:
        arrays["digest"] = np.frombuffer(archive_digest(arrays).encode("ascii"), dtype=np.uint8)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())


def _meta(arrays):
    return json.loads(arrays["meta"].tobytes().decode())


def _with_meta(arrays, meta):
    return {**arrays, "meta": np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)}


@pytest.mark.parametrize("optimizer", ["sgd", "adagrad", "rmsprop", "adam"])
def test_round_trip_is_bit_exact_and_resuming_matches_an_uninterrupted_run(tmp_path, optimizer):
    straight = _trainer(optimizer)
    straight.train(4)
    path = tmp_path / "half.npz"
    save_checkpoint(path, straight.model, trainer=straight)
    loaded = load_checkpoint(path)
    assert loaded.config == straight.model.config and loaded.iteration == 4
    assert loaded.optimizer_name == optimizer and loaded.task_name == "chars"
    for name in straight.model.params:
        np.testing.assert_array_equal(loaded.model.params[name], straight.model.params[name])
        assert loaded.model.params[name].dtype == straight.model.params[name].dtype
    for key, value in straight.optimizer.state_dict().items():
        np.testing.assert_array_equal(loaded.optimizer_state[key], value)
    assert loaded.rng_state == straight.rng.bit_generator.state
    assert tuple(loaded.vocab.symbols) == straight.task.vocab.symbols
    # resume in a fresh trainer (fresh model, as the CLI and the app do) from the file
    resumed = _trainer(optimizer, task=loaded.task)
    assert resumed.restore(loaded) == []
    assert resumed.iteration == 4
    expected = [s.loss for s in straight.run(5)]
    assert [s.loss for s in resumed.run(5)] == expected
    for name in straight.model.params:
        np.testing.assert_array_equal(resumed.model.params[name], straight.model.params[name])


def test_a_synthetic_task_run_resumes_exactly_too(tmp_path):
    task = build_task("copy", bits=3)
    straight = _trainer("rmsprop", task=task)
    straight.train(3)
    save_checkpoint(tmp_path / "copy.npz", straight.model, trainer=straight)
    loaded = load_checkpoint(tmp_path / "copy.npz")
    assert loaded.trainer_state["positions"] is None and loaded.trainer_state["carried_state"] is None
    resumed = _trainer("rmsprop", task=loaded.task)
    resumed.restore(loaded)
    assert [s.loss for s in resumed.run(3)] == [s.loss for s in straight.run(3)]


def test_a_model_alone_saves_and_loads(tmp_path):
    model = build_model(build_task("copy").model_config("rnn", 5, seed=9, dtype="float32"))
    save_checkpoint(tmp_path / "m.npz", model)
    loaded = load_checkpoint(tmp_path / "m.npz")
    assert loaded.optimizer_name is None and loaded.trainer_state is None and loaded.task is None
    assert loaded.model.params["Wx"].dtype == np.float32
    np.testing.assert_array_equal(loaded.model.params["Wx"], model.params["Wx"])


def test_restoring_with_another_optimiser_or_batch_size_says_what_was_not_restored(saved):
    path, _ = saved
    loaded = load_checkpoint(path)
    other = _trainer("adagrad", task=loaded.task)
    notes = other.restore(loaded)
    assert any("trained with adam, not adagrad" in note for note in notes)
    bigger = Trainer(
        build_model(loaded.config), loaded.task, build_optimizer("adam"), batch_size=5, seq_len=5, seed=2
    )
    notes = bigger.restore(loaded)
    assert any("batch size changed (3 -> 5)" in note for note in notes)
    assert bigger.iteration == 4
    bigger.step()  # and it trains


def test_no_object_arrays_and_a_format_version(saved):
    path, _ = saved
    arrays = _arrays(path)
    assert all(a.dtype != object for a in arrays.values())
    meta = _meta(arrays)
    assert meta["format"] == "rnnscope-checkpoint" and meta["version"] == FORMAT_VERSION
    assert meta["trainer"]["rng"]["bit_generator"] == "PCG64"
    assert {"param/Wx", "optimizer/m/Wx", "trainer/positions", "trainer/state/h"} <= set(arrays)


def _problem(path):
    with pytest.raises(CheckpointError) as caught:
        load_checkpoint(path)
    assert str(path) in str(caught.value)
    return caught.value.problem


def test_not_a_checkpoint(tmp_path):
    text = tmp_path / "notes.npz"
    text.write_bytes(b"this is not a checkpoint")
    assert "not a NumPy .npz archive" in _problem(text)
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    assert "empty" in _problem(empty)
    other = tmp_path / "other.npz"
    np.savez(other, x=np.zeros(3))
    assert "no 'meta' entry" in _problem(other)
    assert "does not exist" in _problem(tmp_path / "missing.npz")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.999])
def test_truncated_files_are_refused(saved, fraction):
    path, _ = saved
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * fraction)])
    assert "truncated or damaged" in _problem(path)


def test_flipped_bytes_are_caught(saved):
    path, _ = saved
    data = bytearray(path.read_bytes())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("param/Wh.npy")
    # a byte inside the stored parameter data (past the local header and the .npy header)
    data[info.header_offset + 200] ^= 0xFF
    path.write_bytes(bytes(data))
    assert "truncated or damaged" in _problem(path)


def test_edited_values_do_not_match_the_digest(saved):
    path, _ = saved
    arrays = _arrays(path)
    arrays["param/Wh"] = arrays["param/Wh"] + 1e-12
    _rewrite(path, arrays, fix_digest=False)
    assert "do not match the digest" in _problem(path)


def test_missing_entries_are_named(saved):
    path, _ = saved
    arrays = _arrays(path)
    del arrays["param/Wh"]
    _rewrite(path, arrays)
    assert "parameter 'Wh' is missing" in _problem(path)
    arrays.pop("digest")
    _rewrite(path, arrays, fix_digest=False)
    assert "no 'digest' entry" in _problem(path)


def test_shape_mismatches_are_named(saved):
    path, _ = saved
    arrays = _arrays(path)
    meta = _meta(arrays)
    arrays["param/Wh"] = np.zeros((9, 9))
    meta["params"]["Wh"]["shape"] = [9, 9]
    _rewrite(path, _with_meta(arrays, meta))
    problem = _problem(path)
    assert "does not fit the rnn model" in problem and "'Wh'" in problem and "(9, 9)" in problem
    arrays = _arrays(path)
    arrays["param/Wh"] = np.zeros((8, 8))
    arrays["optimizer/m/Wh"] = np.zeros((8, 7))
    meta["params"]["Wh"]["shape"] = [8, 8]
    _rewrite(path, _with_meta(arrays, meta))
    assert "optimizer state 'm/Wh' has shape (8, 7)" in _problem(path)


def test_non_finite_values_are_named(saved):
    path, _ = saved
    arrays = _arrays(path)
    arrays["param/Wx"] = arrays["param/Wx"].copy()
    arrays["param/Wx"][0, 0] = np.nan
    _rewrite(path, arrays)
    assert "parameter 'Wx' has 1 non-finite value" in _problem(path)


def test_wrong_dtype_newer_version_and_bad_meta_are_named(saved):
    path, _ = saved
    good = _arrays(path)
    arrays = {**good, "param/by": good["param/by"].astype(np.float32)}
    _rewrite(path, arrays)
    assert "'by' has dtype float32, but the model is float64" in _problem(path)
    meta = _meta(good)
    meta["version"] = FORMAT_VERSION + 1
    _rewrite(path, _with_meta(good, meta))
    assert f"format version {FORMAT_VERSION + 1}" in _problem(path)
    meta = _meta(good)
    meta["model"]["kind"] = "transformer"
    _rewrite(path, _with_meta(good, meta))
    assert "model config is invalid" in _problem(path)
    _rewrite(path, {**good, "meta": np.frombuffer(b"{not json", dtype=np.uint8)})
    assert "not valid JSON" in _problem(path)
    _rewrite(path, {**good, "extra": np.zeros(2)})
    assert "unexpected entries in the archive: ['extra']" in _problem(path)


def test_malformed_task_records_are_named(saved):
    path, _ = saved
    good = _arrays(path)
    meta = _meta(good)
    meta["task"]["options"] = ["text", "abc"]
    _rewrite(path, _with_meta(good, meta))
    assert "task.options must be a mapping, got a list" in _problem(path)
    meta["task"] = {"options": {}}
    _rewrite(path, _with_meta(good, meta))
    assert "task lacks ['name']" in _problem(path)


def test_an_object_array_is_never_unpickled(saved):
    path, _ = saved
    arrays = _arrays(path)
    arrays["param/Wx"] = np.array([{"evil": 1}], dtype=object)
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    path.write_bytes(buffer.getvalue())
    assert "'param/Wx' holds Python objects, which would need pickle (never allowed)" in _problem(path)


def test_an_interrupted_save_leaves_the_old_checkpoint_intact(saved, monkeypatch):
    path, trainer = saved
    before = path.read_bytes()
    trainer.train(2)

    def interrupted(*args):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        save_checkpoint(path, trainer.model, trainer=trainer)

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(CheckpointError, match="No space left on device"):
        save_checkpoint(path, trainer.model, trainer=trainer)
    assert path.read_bytes() == before
    assert os.listdir(path.parent) == [path.name]  # no temporary files left behind
    assert load_checkpoint(path).iteration == 4


def test_saving_refuses_non_finite_weights_and_missing_directories(tmp_path):
    trainer = _trainer()
    with pytest.raises(CheckpointError, match="directory .* does not exist"):
        save_checkpoint(tmp_path / "nope" / "x.npz", trainer.model)
    trainer.model.params["Wh"][0, 0] = np.inf
    with pytest.raises(CheckpointError, match="refusing to save: parameter 'Wh'"):
        save_checkpoint(tmp_path / "x.npz", trainer.model)
    assert not (tmp_path / "x.npz").exists()


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "dnc"])
def test_every_model_kind_resumes_exactly_with_its_carried_state(tmp_path, kind):
    task = build_task("chars", text=TEXT)
    extra = {"memory_slots": 4, "memory_width": 3, "read_heads": 1} if kind == "dnc" else {}
    config = task.model_config(kind, 6, seed=1, **extra)

    def make():
        optimizer = build_optimizer("rmsprop", lr=1e-3, momentum=0.9)
        return Trainer(build_model(config), task, optimizer, batch_size=3, seq_len=5, seed=3)

    straight = make()
    straight.train(3)
    save_checkpoint(tmp_path / f"{kind}.npz", straight.model, trainer=straight)
    loaded = load_checkpoint(tmp_path / f"{kind}.npz")
    assert set(loaded.trainer_state["carried_state"]) == set(straight.model.initial_state(3))
    assert loaded.model.params.all_gate_slices == straight.model.params.all_gate_slices
    resumed = make()
    assert resumed.restore(loaded) == []
    assert [s.loss for s in resumed.run(3)] == [s.loss for s in straight.run(3)]


def test_a_version_1_file_from_an_earlier_rnnscope_still_loads_and_resumes():
    loaded = load_checkpoint(VERSION_1_FILE)
    assert loaded.version == 1 and loaded.iteration == 2 and loaded.optimizer_name == "adam"
    assert loaded.config.kind == "lstm" and loaded.vocab.symbols == tuple(" .acehmnost")
    assert loaded.task.name == "chars" and loaded.task.vocab == loaded.vocab
    assert loaded.trainer_state["positions"].tolist() == [90, 26, 58]
    assert set(loaded.trainer_state["carried_state"]) == {"h", "c"}
    resumed = Trainer(
        build_model(loaded.config), loaded.task, build_optimizer("adam"), batch_size=3, seq_len=5
    )
    assert resumed.restore(loaded) == []
    assert resumed.iteration == 2
    assert np.isfinite(resumed.step().loss) and resumed.iteration == 3


# ---------------------------------------------------------------------- the validation gate
def _edited_meta(path, edit):
    """Rewrite the checkpoint at ``path`` with ``edit(meta)`` applied (and a fresh digest)."""
    arrays = _arrays(path)
    meta = _meta(arrays)
    edit(meta)
    _rewrite(path, _with_meta(arrays, meta))
    return _problem(path)


def _set(*keys, value):
    def edit(meta):
        node = meta
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


@pytest.mark.parametrize(
    ("keys", "value", "words"),
    [
        (
            ("model", "hidden_size"),
            True,
            "hidden_size: hidden (hidden units H) must be a whole number, got True",
        ),
        (("model", "hidden_size"), 128.0, "must be a whole number, got 128.0"),
        (("model", "hidden_size"), 1e300, "must be a whole number"),
        (("model", "hidden_size"), "Infinity", "must be a whole number, got 'Infinity'"),
        (("model", "hidden_size"), 6000, "must be from 1 to 2,048, got 6,000"),
        (("model", "memory_slots"), 10**9, "memory_slots"),
        (("model", "forget_bias"), 2**1100, "forget_bias must be a finite number"),
        (("task", "options"), [1], "task.options must be a mapping, got a list"),
        (("task", "options", "seed"), "abc", "task.options.seed"),
        (("trainer", "seed"), "abc", "trainer.seed: seed (random seed) must be a whole number"),
        (("trainer", "seed"), -3, "trainer.seed: seed (random seed) must be from 0"),
        (("trainer", "seed"), 2**31, "must be from 0 to 2,147,483,647"),
        (("trainer", "rng", "state", "state"), 2**200, "trainer.rng.state.state must be from 0 to"),
        (
            ("trainer", "rng", "bit_generator"),
            "MT19937",
            "trainer.rng.bit_generator must be one of ['PCG64']",
        ),
        (("trainer", "surprise"), 1, "trainer has unknown entries [\"'surprise'\"]"),
        (("optimizer", "scalars", "lr"), -1.0, "the optimizer state is invalid: lr must be > 0"),
        (("optimizer", "scalars", "t"), 2.0, "optimizer.scalars.t must be a whole number"),
        (("iteration",), True, "meta.iteration must be a whole number, got true/false True"),
        (("version",), "1", "meta.version must be a whole number"),
    ],
)
def test_every_field_is_checked_by_type_and_range_and_named(saved, keys, value, words):
    path, _ = saved
    assert words in _edited_meta(path, _set(*keys, value=value))


def test_missing_and_unknown_records_are_named(saved):
    path, _ = saved
    assert "trainer lacks ['rng']" in _edited_meta(path, lambda meta: meta["trainer"].pop("rng"))
    assert "optimizer.scalars lacks ['beta2']" in _edited_meta(
        _fresh_run(path), lambda meta: meta["optimizer"]["scalars"].pop("beta2")
    )


def _fresh_run(path):
    """A new copy of the fixture run at ``path`` (the previous edit made it invalid)."""
    trainer = _trainer()
    trainer.train(4)
    save_checkpoint(path, trainer.model, trainer=trainer)
    return path


def test_deeply_nested_json_is_refused_without_recursion_errors(saved):
    path, _ = saved
    arrays = _arrays(path)
    for depth in (12, 100_000):
        text = json.dumps(_meta(arrays)).replace(
            '"created": ', '"created": ' + "[" * depth + "]" * depth + ', "x": ', 1
        )
        _rewrite(path, {**arrays, "meta": np.frombuffer(text.encode(), dtype=np.uint8)})
        assert "nested" in _problem(path)
    text = json.dumps(_meta(arrays)).replace('"lr": 0.005', '"lr": NaN')
    _rewrite(path, {**arrays, "meta": np.frombuffer(text.encode(), dtype=np.uint8)})
    assert "not valid JSON (NaN is not a number)" in _problem(path)


def test_carried_state_of_another_dtype_is_refused(saved):
    path, _ = saved
    good = _arrays(path)
    for dtype in (np.int64, np.complex128, np.float32):
        _rewrite(path, {**good, "trainer/state/h": good["trainer/state/h"].astype(dtype)})
        assert f"the carried state 'h' has dtype {np.dtype(dtype)}, but the model is float64" in _problem(
            path
        )


def test_a_missing_optimiser_slot_or_a_negative_sum_of_squares_is_refused(tmp_path):
    trainer = _trainer("adagrad")
    trainer.train(3)
    path = tmp_path / "a.npz"
    save_checkpoint(path, trainer.model, trainer=trainer)
    good = _arrays(path)
    _rewrite(path, {k: v for k, v in good.items() if k != "optimizer/cache/Wh"})
    assert "the adagrad optimizer state lacks 'cache' for ['Wh'] (after 3 step(s)" in _problem(path)
    negative = good["optimizer/cache/Wx"].copy()
    negative[0, 0] = -1.0
    _rewrite(path, {**good, "optimizer/cache/Wx": negative})
    assert "'cache/Wx' has negative values" in _problem(path)


def test_a_declared_size_is_refused_before_anything_is_allocated(saved):
    path, _ = saved
    arrays = _arrays(path)
    meta = _meta(arrays)
    # within every single bound, but 65,547 x 8,192 parameters in Wx alone
    meta["model"].update(kind="dnc", hidden_size=2048, memory_width=1024, read_heads=64)
    _rewrite(path, _with_meta(arrays, meta))
    tracemalloc.start()
    problem = _problem(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert "the model config declares 695,956,817 parameters; at most 50,000,000 are read" in problem
    assert peak < 8 * 2**20


@pytest.mark.parametrize("task_name", ["chars", "copy", "repeat_copy", "recall", "sine", "sentiment"])
@pytest.mark.parametrize(
    ("optimizer", "options"),
    [("sgd", {}), ("sgd", {"momentum": 0.5}), ("adagrad", {}), ("rmsprop", {}), ("adam", {})],
)
def test_every_run_the_trainer_can_save_passes_the_gate(tmp_path, task_name, optimizer, options):
    # the gate is strict; every legitimate combination (at iteration 0 and after steps) must pass it
    task = build_task(task_name)
    for kind, steps, dtype in (("gru", 0, "float64"), ("lstm", 2, "float32")):
        model = build_model(task.model_config(kind, 4, dtype=dtype))
        trainer = Trainer(model, task, build_optimizer(optimizer, **options), batch_size=2, seq_len=4)
        trainer.train(steps)
        path = tmp_path / f"{kind}.npz"
        save_checkpoint(path, model, trainer=trainer)
        loaded = load_checkpoint(path)
        assert loaded.iteration == steps and loaded.task.spec() == task.spec()


def test_a_run_the_reader_would_refuse_is_not_written(tmp_path, monkeypatch):
    from rnnscope.engine.checkpoint import save

    trainer = _trainer()
    monkeypatch.setattr(save, "META_BYTES", 1000)
    with pytest.raises(CheckpointError, match="refusing to save: the settings take .* more than the 1,000"):
        save_checkpoint(tmp_path / "x.npz", trainer.model, trainer=trainer)
    assert not (tmp_path / "x.npz").exists()
