"""Atomic writes: the old file survives any failure and no temporary file is left behind."""

import os

import pytest

from rnnscope.engine import atomic
from rnnscope.engine.atomic import AtomicWriteError, write_atomically


def test_replaces_the_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    assert write_atomically(target, b"new") == str(target)
    assert target.read_bytes() == b"new"
    assert (os.stat(target).st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["out.bin"]


def test_ctrl_c_during_the_rename_keeps_the_old_file_and_removes_the_temporary(tmp_path, monkeypatch):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")

    def interrupted(*_args):
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic.os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        write_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert os.listdir(tmp_path) == ["out.bin"]


@pytest.mark.parametrize(
    ("where", "reason"),
    [("missing/out.bin", "does not exist"), (".", "the path is a directory")],
)
def test_bad_paths_name_the_problem(tmp_path, where, reason):
    with pytest.raises(AtomicWriteError, match=reason):
        write_atomically(tmp_path / where, b"x")
