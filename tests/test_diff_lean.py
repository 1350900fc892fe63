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
from scope_support import write_scope_decisions


@pytest.fixture(autouse=True)
def _nothing_kept(monkeypatch):
    """These tests are about how a generation is read: each diff here reads both in this process
    or the second one, never from a state kept beside its generation by an earlier diff (a second
    process reading a whole generation still keeps what it read; what is kept and read back:
    tests/test_diff_kept.py)."""
    import kg.analysis.diff as diff

    monkeypatch.setattr(diff, "derived_path", lambda graph, filename: None)


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
    write_scope_decisions(store, exclude=[w.ids["arxiv"] for w in bundle.works[:40:4]],
                          include=[w.ids["arxiv"] for w in bundle.works[41:50:3]], reason="off topic",
                          include_by="another")
    build(store)
    state = _same_state(LocalGraph(store))
    statuses = {w["status"] for w in state.works.values()}
    assert {"in", "out"} <= statuses and {"tester", "another"} <= {w["decided_by"] for w in state.works.values()}
    out = {w for w, row in state.works.items() if row["status"] == "out"}
    assert len(out) == 10 and not out & set(state.labels)  # labels of works out of scope are not compared


def test_a_graph_with_several_values_of_a_property_reads_as_the_listings_pick(make_graph, rec):
    """The listing's first row of a work: the lowest status, the highest relevance, the lowest
    label; a source that is the classifier's address as text is not the classifier."""
    import pyoxigraph as ox

    from kg.analysis.counting import CLASSIFIER_SOURCE

    graph = make_graph(rec.bundle([rec.work(1, "retrieval", ["alignment"]), rec.work(2, "retrieval")]))
    kg_ = "https://w3id.org/kg-survey/ontology#"
    work = next(w for (w,) in graph.values("SELECT ?w WHERE { ?w kg:arxivId '2401.00001' }"))
    w, rdfs = ox.NamedNode(work), "http://www.w3.org/2000/01/rdf-schema#"
    assertion = ox.NamedNode("https://example.org/assertion")
    for p, o in ((rdfs + "label", ox.Literal("AAA first by label")), (kg_ + "scopeStatus", ox.Literal("in")),
                 (kg_ + "scopeStatus", ox.Literal("undecided")), (kg_ + "relevance", ox.Literal("0.9", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
                 (kg_ + "relevance", ox.Literal("0.1", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal"))),
                 (kg_ + "hasLabel", assertion)):
        graph.store.add(ox.Quad(w, ox.NamedNode(p), o))
    for p, o in ((kg_ + "axis", ox.NamedNode(kg_ + "mechanism")), (kg_ + "concept", ox.NamedNode("https://example.org/c")),
                 ("http://www.w3.org/ns/prov#wasDerivedFrom", ox.Literal(CLASSIFIER_SOURCE))):
        graph.store.add(ox.Quad(assertion, ox.NamedNode(p), o))
    state = _same_state(graph)
    row = state.works[work]
    assert row["label"] == "AAA first by label" and row["relevance"] == 0.9
    assert state.labels[work]["mechanism"]["https://example.org/c"] == "asserted"


def test_the_diff_of_a_changed_store_is_the_same_read_lean_by_two_processes(store_copy, tmp_path, kg, monkeypatch):
    import kg.analysis.diff as diff

    old, new = _changed_generations(store_copy, tmp_path, kg)
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    together = diff_graphs(old, new)  # lean, the old generation by a second process
    original = diff._State.__init__
    monkeypatch.setattr(diff._State, "__init__", lambda self, g, c, lean=None: original(self, g, c, lean=False))
    monkeypatch.setattr(diff, "_start_reading", lambda graph, confidence: None)
    assert diff_graphs(old, new) == together  # both read through the listings, here
    assert together["works_added"] and together["works_removed"] and together["label_changes"]


def _changed_generations(store_copy, tmp_path, kg, location=None):
    """The changed store's snapshot v1 and its graph now; `location`: the store as named by the run."""
    from kg.store.snapshots import resolve

    made = make_changed_store(store_copy, tmp_path, kg)
    store = Store.at(location or made)
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
    assert diff_graphs(old, new) is not None and read_apart == [False]  # a small graph: read here
    read_apart.clear()
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    together = diff_graphs(old, new)
    assert read_apart == [True]  # the old generation's state came from the second process
    monkeypatch.setattr(diff, "_start_reading", lambda graph, confidence: None)
    assert diff_graphs(old, new) == together  # read one after the other in this process


def test_a_second_process_that_fails_leaves_the_diff_to_this_one(store_copy, tmp_path, kg, monkeypatch):
    import sys

    import kg.analysis.diff as diff

    old, new = _changed_generations(store_copy, tmp_path, kg)
    expected = diff_graphs(old, new)
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    monkeypatch.setattr(sys, "executable", shutil.which("false") or "/bin/false")  # a process that exits 1
    assert diff._finish_reading(diff._start_reading(old, 0.5)) is None
    assert diff_graphs(old, new) == expected
    monkeypatch.setattr(sys, "executable", str(tmp_path / "no-such-python"))  # none can be started
    assert diff._start_reading(old, 0.5) is None and diff_graphs(old, new) == expected


def test_a_relative_store_path_and_an_interrupted_diff(store_copy, tmp_path, kg, monkeypatch):
    import kg.analysis.diff as diff

    monkeypatch.chdir(store_copy.parent)
    old, new = _changed_generations(store_copy, tmp_path, kg, store_copy.name)  # as `kg --store store diff` names it
    monkeypatch.setattr(diff, "SECOND_PROCESS_WORKS", 0)
    assert diff._finish_reading(diff._start_reading(old, 0.5)) is not None  # the process found the store
    started = []
    start = diff._start_reading
    monkeypatch.setattr(diff, "_start_reading", lambda g, c: started.append(start(g, c)) or started[-1])
    original = diff._State.__init__

    def interrupted(self, graph, confidence, lean=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(diff._State, "__init__", interrupted)
    with pytest.raises(KeyboardInterrupt):
        diff_graphs(old, new)
    assert started and started[0] is not None and started[0].poll() is not None  # stopped, not left running
    monkeypatch.setattr(diff._State, "__init__", original)
