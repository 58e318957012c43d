"""Corpora: the shipped texts (found beside the package or where a wheel puts them) and bad files."""

from __future__ import annotations

import importlib.util
import os
import tracemalloc

import numpy as np
import pytest

from rnnscope.engine.tasks import CORPORA, TaskError, VocabularyError, build_task, data_dir


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


# ---------------------------------------------------------------------- streaming
@pytest.fixture
def small_pieces(monkeypatch):
    """Pieces of 64 kB instead of 4 MB, so a few-MB file goes through the streaming path many times."""
    from rnnscope.engine.tasks import corpus

    monkeypatch.setattr(corpus, "PIECE_BYTES", 1 << 16)


def test_a_large_corpus_is_held_once_in_compact_indices(tmp_path, small_pieces):
    rng = np.random.default_rng(0)
    words = ["the", "keeper", "lamp", "wick", "storm", "oil", "glass"]
    text = " ".join(rng.choice(words, 700_000)) + "\n"  # about 4 MB
    path = tmp_path / "big.txt"
    path.write_text(text, encoding="utf-8")
    tracemalloc.start()
    task = build_task("chars", path=path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert task.data.dtype == np.uint8 and task.length == len(text)
    # the indices (1 byte a character) and a few pieces; decoding the whole text and encoding it
    # as int64 took more than 10 times the file
    assert peak < 1.5 * len(text), peak
    assert task.vocab == build_task("chars", text=text).vocab
    np.testing.assert_array_equal(task.data[:1000], task.vocab.encode(text[:1000]))


def test_line_ends_byte_order_marks_and_bad_bytes_across_pieces(tmp_path, small_pieces):
    path = tmp_path / "split.txt"
    head = "a" * ((1 << 16) - 1)
    path.write_bytes(b"\xef\xbb\xbf" + (head + "\r\nb").encode())  # "\r" ends a piece, "\n" starts the next
    task = build_task("chars", path=path)
    assert task.text == head + "\nb"
    path.write_bytes(("é" * 40_000).encode() + b"\xff")
    with pytest.raises(TaskError, match="invalid byte 0xff at byte offset 80000"):
        build_task("chars", path=path)


def test_a_vocabulary_given_names_a_stray_character_where_it_is(tmp_path, small_pieces):
    path = tmp_path / "text.txt"
    path.write_text("ab" * 50_000 + "c", encoding="utf-8")
    with pytest.raises(VocabularyError, match="'c' .* at position 100000"):
        build_task("chars", path=path, vocab=["a", "b"])


def test_special_and_oversized_corpus_files_are_refused(tmp_path, monkeypatch):
    from rnnscope.engine import limits
    from rnnscope.engine.tasks import corpus

    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    with pytest.raises(TaskError, match="is not a file \\(it is a FIFO"):
        build_task("chars", path=fifo)
    path = tmp_path / "text.txt"
    path.write_text("abcdef" * 10, encoding="utf-8")
    monkeypatch.setattr(corpus.limits, "CORPUS", limits.SizeLimit("corpus", "bytes", 2, 50))
    with pytest.raises(TaskError, match="is 60 bytes; at most 50 are read"):
        build_task("chars", path=path)
