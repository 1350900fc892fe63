"""kg.fileio: whole-file atomic writes (text, bytes, streamed) and the inter-process file lock."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import pytest

from kg.fileio import atomic_file, file_lock, remove_stale_temp_files, write_atomic


def test_write_atomic_text_and_bytes(tmp_path):
    path = tmp_path / "a.txt"
    write_atomic(path, "één\n")
    assert path.read_bytes() == "één\n".encode("utf-8")
    write_atomic(path, "x\r\n", newline="")
    assert path.read_bytes() == b"x\r\n"
    write_atomic(path, b"\x00\xff")
    assert path.read_bytes() == b"\x00\xff"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary file left


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temp(tmp_path):
    path = tmp_path / "state.json"
    write_atomic(path, "old")
    with pytest.raises(RuntimeError), atomic_file(path) as fh:
        fh.write("half of the new")
        raise RuntimeError("killed mid-write")
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["state.json"]
    with pytest.raises(TypeError):
        write_atomic(path, 42)
    assert path.read_text() == "old" and len(list(tmp_path.iterdir())) == 1


def test_streamed_writes_become_visible_only_at_the_end(tmp_path):
    path = tmp_path / "out.csv"
    with atomic_file(path, newline="") as fh:
        fh.write("a,b\r\n")
        assert not path.exists()
        [tmp] = tmp_path.iterdir()
        assert tmp.name.startswith(".out.csv.") and tmp.name.endswith(f".{os.getpid()}.tmp")
    assert path.read_bytes() == b"a,b\r\n"
    with pytest.raises(ValueError):
        with atomic_file(path, "a"):
            pass


def test_file_lock_lets_one_holder_in_at_a_time(tmp_path):
    lock = tmp_path / "sub" / ".lock"
    order: list[str] = []

    def second():
        with file_lock(lock):
            order.append("second")

    with file_lock(lock):
        other = threading.Thread(target=second)
        other.start()
        time.sleep(0.3)
        order.append("first")
    other.join(5)
    assert order == ["first", "second"]


def test_file_lock_holds_across_processes(tmp_path):
    lock = tmp_path / ".lock"
    code = ("import sys, time; from kg.fileio import file_lock\n"
            "with file_lock(sys.argv[1]):\n    print('in', flush=True); time.sleep(0.5)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(lock)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.stdout.readline().strip() == "in"
    start = time.monotonic()
    with file_lock(lock):
        waited = time.monotonic() - start
    child.wait(10)
    assert waited > 0.2


def test_stale_temp_files_of_dead_writers_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True,
                          text=True).stdout.strip()
    stale = tmp_path / f".x.jsonl.ab12.{dead}.tmp"
    mine = tmp_path / f".y.jsonl.cd34.{os.getpid()}.tmp"
    other = tmp_path / "notes.txt"
    for p in (stale, mine, other):
        p.write_text("")
    assert remove_stale_temp_files(tmp_path) == [stale]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([mine.name, other.name])
