"""Corpora: the shipped texts (found beside the package or where a wheel puts them) and bad files."""

from __future__ import annotations

import importlib.util

import pytest

from rnnscope.engine.tasks import CORPORA, TaskError, build_task, data_dir


def test_default_corpus_loads():
    task = build_task("chars")
    assert task.length > 5000
    assert 20 <= task.vocab.size <= 120
    batch = task.sample(2, 0)
    assert batch.inputs.shape == (task.default_length, 2, task.vocab.size)


def test_bad_corpus_files_give_clear_errors(tmp_path):
    with pytest.raises(TaskError, match="does not exist"):
        build_task("chars", path=tmp_path / "missing.txt")
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("caf\xe9 au lait".encode("latin-1"))
    with pytest.raises(TaskError, match="not UTF-8.*0xe9.*offset 3"):
        build_task("chars", path=latin1)
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    with pytest.raises(TaskError, match="empty"):
        build_task("chars", path=empty)
    one = tmp_path / "one.txt"
    one.write_text("aaaa", encoding="utf-8")
    with pytest.raises(TaskError, match="at least 2 symbols"):
        build_task("chars", path=one)
    with pytest.raises(TaskError, match="not a file"):
        build_task("chars", path=tmp_path)
    with pytest.raises(TaskError, match="at most one"):
        build_task("chars", text="ab", path=one)
    good = tmp_path / "good.txt"
    good.write_bytes("\ufeffhello,\r\nwörld\r\n".encode())
    task = build_task("chars", path=good)
    assert task.text == "hello,\nwörld\n" and "ö" in task.vocab.symbols


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_shipped_corpora_load(corpus):
    task = build_task("chars", corpus=corpus)
    assert 18_000 <= len(task.text.encode("utf-8")) <= 60_000
    assert task.vocab.size <= 100
    batch = next(task.stream(2, 30, 0))
    assert batch.inputs.shape == (30, 2, task.vocab.size)


@pytest.mark.parametrize("generator", ["arithmetic", "toycode"])
def test_generated_corpora_match_their_generator(generator):
    path = data_dir() / "generators" / f"{generator}.py"
    spec = importlib.util.spec_from_file_location(f"corpus_generator_{generator}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shipped = (data_dir() / f"{generator}.txt").read_text(encoding="utf-8")
    assert module.generate() == shipped


def test_shipped_data_is_found_beside_the_package_or_where_a_wheel_installs_it(tmp_path, monkeypatch):
    from rnnscope.engine import shipped
    from rnnscope.engine.tasks import corpus

    assert (corpus.data_dir() / "lighthouse.txt").is_file()
    # an installed wheel: no data/ next to the package, the files under <prefix>/share/rnnscope/data
    installed = tmp_path / "prefix" / "share" / "rnnscope" / "data"
    installed.mkdir(parents=True)
    (installed / "lighthouse.txt").write_text("the keeper\n", encoding="utf-8")
    monkeypatch.setattr(shipped, "PACKAGE", tmp_path / "site-packages" / "rnnscope")
    monkeypatch.setattr(shipped.sys, "prefix", str(tmp_path / "prefix"))
    assert corpus.data_dir() == installed
