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
