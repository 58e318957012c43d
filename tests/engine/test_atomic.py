"""Atomic writes: the old file survives any failure, only regular files are written, no temporary
file outlives its writer, the umask is left alone."""

import os
import signal
import socket
import stat
import subprocess
import sys
import time

import pytest

from rnnscope.engine import atomic
from rnnscope.engine.atomic import AtomicWriteError, remove_stale_temporaries, write_atomically


def test_replaces_the_file_and_keeps_its_permissions(tmp_path):
    target = tmp_path / "out.bin"
    target.write_bytes(b"old")
    os.chmod(target, 0o640)
    assert write_atomically(target, b"new") == str(target)
    assert target.read_bytes() == b"new"
    assert (os.stat(target).st_mode & 0o777) == 0o640
    assert os.listdir(tmp_path) == ["out.bin"]


def test_a_new_file_gets_what_open_would_give_without_touching_the_umask(tmp_path, monkeypatch):
    previous = os.umask(0o027)
    try:

        def forbidden(*_args):
            raise AssertionError("the process umask was read or changed")

        monkeypatch.setattr(atomic.os, "umask", forbidden)
        write_atomically(tmp_path / "new.bin", b"x")
    finally:
        monkeypatch.undo()
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new.bin").st_mode) == 0o640


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


def _special_files(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    listening = socket.socket(socket.AF_UNIX)
    listening.bind(str(tmp_path / "sock"))
    files = {fifo: "a FIFO", tmp_path / "sock": "a socket"}
    try:  # a device node of our own (as /dev/null is), where we may make one
        os.mknod(tmp_path / "dev", stat.S_IFCHR | 0o600, os.makedev(1, 3))
        files[tmp_path / "dev"] = "a character device"
    except (PermissionError, AttributeError):
        pass
    return files, listening


def test_only_regular_files_are_written(tmp_path):
    files, listening = _special_files(tmp_path)
    with listening:
        for path, kind in files.items():
            before = os.lstat(path)
            with pytest.raises(AtomicWriteError, match=f"the path is {kind}.*, not a regular file"):
                write_atomically(path, b"x")  # a FIFO without a reader: refused, never blocks
            after = os.lstat(path)
            assert (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)
    assert not [name for name in os.listdir(tmp_path) if name.endswith(".part")]


def test_a_symbolic_link_is_followed_and_stays_a_link(tmp_path):
    real = tmp_path / "run-005.npz"
    real.write_bytes(b"old")
    link = tmp_path / "latest.npz"
    link.symlink_to(real.name)
    assert write_atomically(link, b"new") == str(real)
    assert link.is_symlink() and real.read_bytes() == b"new"
    dangling = tmp_path / "next.npz"
    dangling.symlink_to("run-006.npz")
    write_atomically(dangling, b"created")
    assert dangling.is_symlink() and (tmp_path / "run-006.npz").read_bytes() == b"created"
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "to-pipe").symlink_to(fifo)
    with pytest.raises(AtomicWriteError, match="FIFO"):
        write_atomically(tmp_path / "to-pipe", b"x")


def _dead_pid():
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_stale_temporary_files_are_removed_and_live_ones_kept(tmp_path):
    host = atomic._host()
    names = {
        "dead": f".tmp-{_dead_pid()}@{host}-0123456789ab.part",
        "alive": f".tmp-{os.getpid()}@{host}-0123456789ab.part",
        "other host, new": ".tmp-1@elsewhere-0123456789ab.part",
        "other host, old": ".tmp-2@elsewhere-0123456789ab.part",
        "earlier, new": ".tmp-abcd1234.part",
        "earlier, old": ".tmp-efgh5678.part",
        "not ours": ".tmp-notes.part.txt",
    }
    for name in names.values():
        (tmp_path / name).write_bytes(b"partial")
    day_ago = time.time() - 2 * 86400
    for key in ("other host, old", "earlier, old"):
        os.utime(tmp_path / names[key], (day_ago, day_ago))
    removed = remove_stale_temporaries(str(tmp_path))
    assert sorted(removed) == sorted(names[k] for k in ("dead", "other host, old", "earlier, old"))
    kept = {"alive", "other host, new", "earlier, new", "not ours"}
    assert sorted(os.listdir(tmp_path)) == sorted(names[k] for k in kept)


def test_a_write_killed_outright_is_cleaned_up_by_the_next_write(tmp_path):
    script = (
        "import os, signal, sys\n"
        "from rnnscope.engine import atomic\n"
        "atomic.os.replace = lambda *a: os.kill(os.getpid(), signal.SIGKILL)\n"
        "atomic.write_atomically(sys.argv[1], bytes(1 << 20))\n"
    )
    child = subprocess.run([sys.executable, "-c", script, str(tmp_path / "big.bin")], check=False)
    assert child.returncode == -signal.SIGKILL
    left = [name for name in os.listdir(tmp_path) if name.endswith(".part")]
    assert len(left) == 1 and os.path.getsize(tmp_path / left[0]) == 1 << 20
    write_atomically(tmp_path / "other.bin", b"x")
    assert os.listdir(tmp_path) == ["other.bin"]
