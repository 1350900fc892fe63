"""kg diff keeps what each generation answers beside it (kg.analysis.diff._state, kg.derived): a
published generation never changes, so a later diff (the next `kg update`'s, the app's What's new)
reads the kept state instead of the generation, and gives the same diff."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

import kg.analysis.diff as diff
from kg.analysis.diff import _State, diff_graphs, diff_store
from kg.derived import UNREADABLE, derived_path
from kg.store import Store
from kg.store.snapshots import resolve
from diff_support import make_changed_store


def _kept_files(graph) -> list:
    folder = derived_path(graph, "x").parent
    return sorted(p.name for p in folder.glob("diff-state-*")) if folder.is_dir() else []


@pytest.fixture
def changed(store_copy, tmp_path, kg):
    store = Store.at(make_changed_store(store_copy, tmp_path, kg))
    old = store.open_at(resolve(store, "v1", field="old").generation)
    new = store.open_at(resolve(store, None, field="new").generation)
    return store, old, new


def _no_reading(monkeypatch):
    def refused(*args, **kwargs):
        raise AssertionError("a generation was read although its state is kept")

    for half in ("_people_part", "_analysis_part"):  # whole or in halves, a state is read by these
        monkeypatch.setattr(diff, half, refused)


def test_a_state_keeps_everything_the_diff_compares(changed):
    _, old, new = changed
    for graph in (old, new):
        state = _State(graph, 0.5)
        again = _State.decode(state.encode())
        assert (again.works, again.labels, again.citations, again.cells, again.datasets, again.methods) == (
            state.works, state.labels, state.citations, state.cells, state.datasets, state.methods)
        assert list(again.cells) == list(state.cells)  # the cells' order, which the diff's follows
    blob = _State(new, 0.5).encode()
    for bad in (blob[:-8], blob[:len(blob) // 2], b"{}", b""):  # cut, or not a state at all
        with pytest.raises(UNREADABLE):
            _State.decode(bad)


def test_the_second_diff_reads_the_kept_states_and_says_the_same(changed, monkeypatch):
    store, old, new = changed
    assert _kept_files(old) == [] and _kept_files(new) == []
    first = diff_store(store, "v1")
    assert _kept_files(old) == _kept_files(new) == [diff._state_file(0.5)]
    assert first["works_added"] and first["label_changes"] and first["cells"]
    _no_reading(monkeypatch)
    assert diff_store(store, "v1") == first
    assert diff_graphs(old, new) == {**first, "from": {}, "to": {}}
    with pytest.raises(AssertionError, match="was read"):  # another minimum confidence is another state
        diff_graphs(old, new, min_confidence=0.7)


def test_one_kept_state_and_the_other_generation_read_in_two_halves(changed, monkeypatch):
    """The usual diff of a living survey: the previous generation's state was kept when it was new;
    the new generation is read by two processes, its people half by the second one."""
    store, old, new = changed
    expected = diff_graphs(old, new)
    derived_path(new, diff._state_file(0.5)).unlink()
    analysed, finished = [], []
    analysis, finish = diff._analysis_part, diff._finish_reading
    monkeypatch.setattr(diff, "_analysis_part", lambda g, c: analysed.append(g.generation) or analysis(g, c))
    monkeypatch.setattr(diff, "_finish_reading", lambda child, what=diff.WHOLE: finished.append(
        (what, child is not None)) or finish(child, what))
    assert diff_graphs(old, new) == expected  # a small graph: both halves read here
    assert analysed == [new.generation] and finished == [(diff.PEOPLE, False)]
    assert _kept_files(new) == [diff._state_file(0.5)]
    derived_path(new, diff._state_file(0.5)).unlink()
    analysed.clear(), finished.clear()
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    assert diff_graphs(old, new) == expected
    assert analysed == [new.generation] and finished == [(diff.PEOPLE, True)]  # the people half came from the process
    assert _State.decode(derived_path(new, diff._state_file(0.5)).read_bytes()).works == _State(new, 0.5).works


def test_a_failed_second_process_leaves_both_halves_to_this_one(changed, monkeypatch):
    import shutil
    import sys

    _, old, new = changed
    expected = diff_graphs(old, new)
    derived_path(old, diff._state_file(0.5)).unlink()
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    monkeypatch.setattr(sys, "executable", shutil.which("false") or "/bin/false")  # a process that exits 1
    assert diff._finish_reading(diff._start_reading(old, 0.5, diff.PEOPLE), diff.PEOPLE) is None
    assert diff_graphs(old, new) == expected


def test_an_interrupted_half_reading_stops_the_second_process(changed, monkeypatch):
    _, old, new = changed
    diff_graphs(old, new)
    derived_path(new, diff._state_file(0.5)).unlink()
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    started = []
    start = diff._start_reading
    monkeypatch.setattr(diff, "_start_reading", lambda g, c, what=diff.WHOLE: started.append(start(g, c, what)) or started[-1])

    def interrupted(graph, confidence):
        raise KeyboardInterrupt

    monkeypatch.setattr(diff, "_analysis_part", interrupted)
    with pytest.raises(KeyboardInterrupt):
        diff_graphs(old, new)
    assert started and started[0] is not None and started[0].poll() is not None  # stopped, not left running
    assert _kept_files(new) == []  # nothing half read is kept


def _flip_middle(blob: bytes) -> bytes:
    """The compressed data with bytes in its middle flipped (zlib says the data is damaged)."""
    middle = len(blob) // 2
    return blob[:middle] + bytes(b ^ 0x5A for b in blob[middle:middle + 16]) + blob[middle + 16:]


@pytest.mark.parametrize("damage", [b"", b"not gzip at all", b"\x1f\x8b\x08\x00garbage", _flip_middle])
def test_a_damaged_or_foreign_kept_state_is_read_again_and_kept_anew(changed, damage, monkeypatch):
    _, old, new = changed
    expected = diff_graphs(old, new)
    path = derived_path(old, diff._state_file(0.5))
    path.write_bytes(damage(path.read_bytes()) if callable(damage) else damage)
    decoded = []
    decode = _State.decode
    monkeypatch.setattr(_State, "decode", classmethod(lambda cls, blob: decoded.append(len(blob)) or decode(blob)))
    assert diff_graphs(old, new) == expected
    assert len(decoded) == 2  # the damaged file once (not again before its generation is read), the new state
    monkeypatch.undo()
    assert _State.decode(path.read_bytes()).works  # written again
    import gzip
    path.write_bytes(gzip.compress(b'{"format": 0, "works": {}}'))  # an older format
    assert diff_graphs(old, new) == expected


def test_the_second_process_keeps_the_state_it_read(changed, monkeypatch):
    _, old, new = changed
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    child = diff._start_reading(old, 0.5)
    assert child is not None
    state = diff._finish_reading(child)
    assert state is not None and _kept_files(old) == [diff._state_file(0.5)]
    assert _State.decode(derived_path(old, diff._state_file(0.5)).read_bytes()).works == state.works


def test_a_state_kept_by_other_code_is_not_compared_with_one_read_by_this_code(changed, tmp_path, monkeypatch):
    """An upgrade that changes how a generation is read (a named query, the gap counts' rules)
    names its kept states anew: the old ones are not read, so no difference between two versions
    of kg is reported as a change of the graph."""
    import shutil

    from kg import paths

    _, old, new = changed
    expected = diff_graphs(old, new)
    before = diff._state_file(0.5)
    queries = tmp_path / "queries"
    shutil.copytree(paths.queries_dir(), queries)
    (queries / "datasets.rq").write_text((queries / "datasets.rq").read_text() + "\n# changed\n")
    monkeypatch.setattr(diff, "queries_dir", lambda: queries)
    diff._code_key.cache_clear()
    try:
        after = diff._state_file(0.5)
        assert after != before and after.endswith("-0.5.json.gz")
        assert diff_graphs(old, new) == expected
        assert _kept_files(new) == sorted([before, after])  # read again, and kept under the new name
    finally:
        diff._code_key.cache_clear()


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ending with the parent is asked of Linux")
def test_a_second_process_ends_when_the_diff_is_killed(changed, tmp_path):
    """A diff killed outright (SIGKILL; SIGTERM alike, neither lets it stop its second process)
    leaves no process reading behind, nor a state kept for no one: the second process is held
    still while its parent is killed, then let go, and ends instead of reading on."""
    import os
    import signal
    import subprocess
    import time

    _, old, _ = changed
    assert _kept_files(old) == []
    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, time\n"
        "from kg.analysis import diff\n"
        "from kg.store import LocalGraph\n"
        "diff.SECOND_PROCESS_WORKS = 0\n"
        f"child = diff._start_reading(LocalGraph({str(old.generation.parent)!r}, generation={old.generation.name!r}), 0.5)\n"
        "print(child.pid, flush=True)\n"
        "time.sleep(120)\n")
    root = str(Path(diff.__file__).resolve().parents[2])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)}
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, env=env)
    try:
        child = int(parent.stdout.readline())
        os.kill(child, signal.SIGSTOP)  # it reads nothing more until the parent is gone
        parent.kill()
        parent.wait()
        os.kill(child, signal.SIGCONT)
        deadline = time.monotonic() + 30
        while _running(child) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _running(child)
    finally:
        parent.kill()
        parent.stdout.close()
    assert _kept_files(old) == []  # it ended before it had read the generation


def _running(pid: int) -> bool:
    """Whether process `pid` is alive (a zombie nobody has reaped yet is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
