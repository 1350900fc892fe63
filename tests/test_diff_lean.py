"""kg diff reads each generation by lean patterns (kg.analysis.diff._State, lean=True): the state
it compares equals the one read through the `scope` and `analysis-label-assertions` listings."""

from __future__ import annotations

import shutil

import pytest

from kg.analysis.diff import _State, diff_graphs
from kg.bench import synthetic_bundle
from kg.build import build
from kg.records.file import write_bundle
from kg.store import LocalGraph, Store
from diff_support import make_changed_store


def _same_state(graph) -> _State:
    lean, listed = _State(graph, 0.5, lean=True), _State(graph, 0.5, lean=False)
    assert lean.works == listed.works
    assert lean.labels == listed.labels
    assert lean.citations == listed.citations and lean.cells == listed.cells
    return lean


def test_the_bundled_and_classified_graphs(graph, classified_store):
    state = _same_state(graph)
    assert len(state.works) > 40 and any(w["decided_by"] for w in state.works.values())
    classified = _same_state(LocalGraph(classified_store))
    kinds = {k for axes in classified.labels.values() for notations in axes.values() for k in notations.values()}
    assert kinds == {"asserted", "predicted"}  # the classifier's labels are read as predictions


def test_a_synthetic_graph_with_works_out_of_scope_and_people_s_decisions(tmp_path):
    store = tmp_path / "store"
    bundle = synthetic_bundle(400, seed=11)
    write_bundle(store / "records" / "bench.jsonl", bundle)
    lines = ["decisions:"] + [f"- {{work: {{arxiv: '{w.ids['arxiv']}'}}, scope: exclude, by: tester, reason: off topic}}"
                              for w in bundle.works[:40:4]]
    lines += [f"- {{work: {{arxiv: '{w.ids['arxiv']}'}}, scope: include, by: another}}" for w in bundle.works[41:50:3]]
    (store / "curation.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build(store)
    state = _same_state(LocalGraph(store))
    statuses = {w["status"] for w in state.works.values()}
    assert {"in", "out"} <= statuses and {"tester", "another"} <= {w["decided_by"] for w in state.works.values()}
    out = {w for w, row in state.works.items() if row["status"] == "out"}
    assert len(out) == 10 and not out & set(state.labels)  # labels of works out of scope are not compared


@pytest.mark.parametrize("lean", [True, False])
def test_the_diff_of_a_changed_store_is_the_same_either_way(store_copy, tmp_path, kg, lean, monkeypatch):
    store = Store.at(make_changed_store(store_copy, tmp_path, kg))
    from kg.store.snapshots import resolve

    old = store.open_at(resolve(store, "v1", field="old").generation)
    new = store.open_at(resolve(store, None, field="new").generation)
    expected = diff_graphs(old, new)  # lean: the default for a local graph
    import kg.analysis.diff as diff

    original = diff._State.__init__
    monkeypatch.setattr(diff._State, "__init__", lambda self, g, c, lean=lean: original(self, g, c, lean=lean))
    assert diff_graphs(old, new) == expected
    assert expected["works_added"] and expected["works_removed"] and expected["label_changes"]


def _changed_generations(store_copy, tmp_path, kg):
    store = Store.at(make_changed_store(store_copy, tmp_path, kg))
    from kg.store.snapshots import resolve

    return (store.open_at(resolve(store, "v1", field="old").generation),
            store.open_at(resolve(store, None, field="new").generation))


def test_the_old_generation_is_read_by_a_second_process_with_the_same_diff(store_copy, tmp_path, kg, monkeypatch):
    import kg.analysis.diff as diff

    old, new = _changed_generations(store_copy, tmp_path, kg)
    read_apart = []
    finish = diff._finish_reading

    def recorded(child):
        state = finish(child)
        read_apart.append(state is not None)
        return state

    monkeypatch.setattr(diff, "_finish_reading", recorded)
    together = diff_graphs(old, new)
    assert read_apart == [True]  # the old generation's state came from the second process
    monkeypatch.setattr(diff, "_start_reading", lambda graph, confidence: None)
    assert diff_graphs(old, new) == together  # read one after the other in this process


def test_a_second_process_that_fails_leaves_the_diff_to_this_one(store_copy, tmp_path, kg, monkeypatch):
    import sys

    import kg.analysis.diff as diff

    old, new = _changed_generations(store_copy, tmp_path, kg)
    expected = diff_graphs(old, new)
    monkeypatch.setattr(sys, "executable", shutil.which("false") or "/bin/false")  # a process that exits 1
    assert diff._finish_reading(diff._start_reading(old, 0.5)) is None
    assert diff_graphs(old, new) == expected
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))  # none can be started
    assert diff._start_reading(old, 0.5) is None and diff_graphs(old, new) == expected
