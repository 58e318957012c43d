"""Reading user files: regular files only, never blocking, nothing allocated on an archive's word."""

from __future__ import annotations

import io
import os
import zipfile

import numpy as np
import pytest

from rnnscope.engine.files import FileReadError, open_regular, read_regular
from rnnscope.engine.npz import NpzArchive, NpzError


def test_regular_files_are_read_within_their_bound(tmp_path):
    path = tmp_path / "a.txt"
    path.write_bytes(b"12345")
    with open_regular(path) as stream:
        assert stream.read() == b"12345"
    assert read_regular(path, 5) == b"12345"
    with pytest.raises(FileReadError, match="a report is 5 bytes; at most 4 are read"):
        read_regular(path, 4, "a report")


def test_anything_else_is_named_and_never_blocks(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    cases = [
        (fifo, "it is a FIFO \\(named pipe\\), not a regular file"),
        (tmp_path, "it is a directory"),
        ("/dev/null", "it is a character device"),
        (tmp_path / "missing", "does not exist"),
    ]
    for path, message in cases:
        with pytest.raises(FileReadError, match=message):
            open_regular(path)
        with pytest.raises(FileReadError, match=message):
            read_regular(path, 10)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file")
def test_a_file_without_permission_says_so(tmp_path):
    path = tmp_path / "secret"
    path.write_bytes(b"x")
    path.chmod(0)
    with pytest.raises(FileReadError, match="Permission denied"):
        open_regular(path)


def _npz(tmp_path, **arrays):
    path = tmp_path / "a.npz"
    np.savez(path, **arrays)
    return path


def test_headers_come_before_data_and_arrays_round_trip(tmp_path):
    fortran = np.asfortranarray(np.arange(6.0).reshape(2, 3))
    path = _npz(tmp_path, a=np.arange(4, dtype=np.int32), f=fortran, e=np.zeros((0, 2)))
    with NpzArchive(path, max_bytes=10**6) as archive:
        assert sorted(archive.entries) == ["a", "e", "f"]
        header = archive.header("f")
        assert header.shape == (2, 3) and header.fortran and header.nbytes == 48
        np.testing.assert_array_equal(archive.read("f"), fortran)
        np.testing.assert_array_equal(archive.read("a"), np.arange(4))
        assert archive.read("e").shape == (0, 2)
        assert archive.read("a").flags.writeable


def test_declared_sizes_beyond_the_bound_are_refused_before_reading(tmp_path):
    path = _npz(tmp_path, big=np.zeros(1000))
    with pytest.raises(NpzError, match="declares 8,128 bytes uncompressed; at most 8,000"):
        NpzArchive(path, max_bytes=8000)


def test_object_arrays_and_foreign_entries_are_refused(tmp_path):
    path = tmp_path / "o.npz"
    np.savez(path, allow_pickle=True, o=np.array([{"x": 1}], dtype=object))
    with NpzArchive(path, 10**6) as archive, pytest.raises(NpzError, match="would need pickle"):
        archive.header("o")
    with zipfile.ZipFile(tmp_path / "z.npz", "w") as archive:
        archive.writestr("notes.txt", "hi")
    with pytest.raises(NpzError, match="'notes.txt' is not a .npy array"):
        NpzArchive(tmp_path / "z.npz", 10**6)


def test_a_header_that_lies_about_its_size_is_refused(tmp_path):
    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": "<f8", "fortran_order": False, "shape": (10**9,)})
    with zipfile.ZipFile(tmp_path / "lie.npz", "w") as archive:
        archive.writestr("x.npy", buffer.getvalue() + bytes(16))
    with (
        NpzArchive(tmp_path / "lie.npz", 10**6) as archive,
        pytest.raises(NpzError, match="declares 8,000,000,000"),
    ):
        archive.header("x")
