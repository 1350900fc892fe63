"""`kg classify` publishes its change as a delta of the current graph (kg.classify.delta), and the
graph equals what a full build of the same inputs makes; when the delta is not safe it builds."""

from __future__ import annotations

import shutil

import pyoxigraph as ox
import pytest

from kg.bench import Shape, synthetic_bundle
from kg.build import build
from kg.classify.run import RECORD_FILE
from kg.pipeline import classify as classify_graph
from kg.records import Bundle, Source, Work
from kg.records.file import read_bundle, write_bundle
from kg.store import Store
from test_classify_incremental import NEW_WORKS

NEW = NEW_WORKS  # three new works: a text-to-image, a dialogue and a recommendation paper


def _write_new(store, works) -> None:
    write_bundle(store / "records" / "harvest-new.jsonl", Bundle(
        sources=[Source(id="test-new", title="new works", agent="test", retrieved="2026-01-01")],
        works=[Work(ids={"arxiv": a}, sources=["test-new"], title=t, abstract=ab, year=2025, candidate=True)
               for a, t, ab in works]))


def _nquads(store) -> list[str]:
    graph = Store.at(store).open()
    text = graph.store.dump(format=ox.RdfFormat.N_QUADS).decode()
    return sorted(line for line in text.splitlines() if line)


def _rebuilt(store, tmp_path) -> list[str]:
    """The graph a full build of the same inputs makes (on a copy of the store)."""
    copy = tmp_path / f"rebuilt-{len(list(tmp_path.iterdir()))}"
    shutil.copytree(store, copy, symlinks=True)
    build(copy)
    return _nquads(copy)


def _same_as_full_build(store, tmp_path) -> None:
    delta, full = _nquads(store), _rebuilt(store, tmp_path)
    assert set(delta) ^ set(full) == set()
    assert delta == full


@pytest.fixture(scope="module")
def classified(built_store, tmp_path_factory):
    """The bundled graph after a first `kg classify` (which builds: there is no state before it)."""
    dest = tmp_path_factory.mktemp("delta") / "store"
    shutil.copytree(built_store, dest, symlinks=True)
    report = classify_graph(dest)
    assert report.delta and report.delta.startswith("full build")
    return dest


def _with_new_works(classified, tmp_path):
    """A copy of the classified bundled store with the three new works' records, built."""
    store = tmp_path / "store"
    shutil.copytree(classified, store, symlinks=True)
    _write_new(store, NEW)
    build(store)
    return store


def test_new_works_are_published_as_a_delta_equal_to_a_full_build(classified, tmp_path):
    store = _with_new_works(classified, tmp_path)
    before = Store.at(store).generation_key()
    report = classify_graph(store)
    assert report.labelled == 3 and report.rebuilt and report.delta == "delta", report.delta
    info = Store.at(store).info()
    assert info["delta"] == {"from": before, "works": 3} and info["previous"] == before
    assert Store.at(store).generation_key() != before
    _same_as_full_build(store, tmp_path)


def test_a_changed_text_and_a_removed_work_give_the_graph_of_a_full_build(classified, tmp_path):
    store = _with_new_works(classified, tmp_path)
    assert classify_graph(store).delta == "delta"
    changed = [(NEW[0][0], NEW[0][1], NEW[0][2] + " A user study confirms the subject's identity is kept."),
               NEW[1]]
    _write_new(store, changed)  # the third work disappears, the first one's text changes
    build(store)
    report = classify_graph(store)
    # here the text named a dataset the lexicon held: the model is trained again and the graph built
    assert report.rebuilt and report.delta
    _same_as_full_build(store, tmp_path)
    assert not any("2501.00003" in line for line in _nquads(store))


def test_records_changed_since_the_build_fall_back_to_a_full_build(classified, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(classified, store, symlinks=True)
    _write_new(store, NEW)  # not built: the graph does not hold the new works yet
    build(store)
    _write_new(store, NEW[:2])  # changed again after the build
    report = classify_graph(store)
    assert report.delta and report.delta.startswith("full build") and "inputs" in report.delta
    _same_as_full_build(store, tmp_path)


def test_a_classifier_record_file_edited_by_hand_falls_back(classified, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(classified, store, symlinks=True)
    records = store / "records" / RECORD_FILE
    bundle = read_bundle(records)
    bundle.works = bundle.works[1:]
    write_bundle(records, bundle)  # the state no longer matches the file: every work again
    build(store)
    report = classify_graph(store)
    assert report.rebuilt and report.delta and report.delta.startswith("full build")
    _same_as_full_build(store, tmp_path)


def test_a_synthetic_graph_with_works_added_removed_and_changed(tmp_path):
    store = tmp_path / "synthetic"
    (store / "records").mkdir(parents=True)
    base = synthetic_bundle(300, seed=3)
    write_bundle(store / "records" / "bench.jsonl", base)
    build(store)
    classify_graph(store)
    added = synthetic_bundle(40, seed=4, shape=Shape(labelled=0.0), first_number=30000)
    added.datasets = []
    write_bundle(store / "records" / "bench-new.jsonl", added)
    build(store)
    from kg.classify import keys as work_keys
    from kg.classify.data import read_works
    from kg.classify.run import _key_of

    graph = Store.at(store).open()
    kept = {k.iri: (k.text, k.has_text, k.review, k.given, k.scope, k.relevance) for k in work_keys.read(graph)}
    assert kept == {k.iri: (k.text, k.has_text, k.review, k.given, k.scope, k.relevance)
                    for k in map(_key_of, read_works(graph))}
    report = classify_graph(store)
    assert report.labelled == 40 and report.delta == "delta", report.delta
    _same_as_full_build(store, tmp_path)
    _citation_table_carried_over(store)
    # five new works go, one changes its text
    added.works = added.works[5:]
    added.works[0].abstract = "A retrieval-augmented personalized dialogue model that reads user profiles."
    added.citations = [c for c in added.citations
                       if all(any(w.ids.get("arxiv") == r.split(":", 1)[-1] for w in added.works)
                              for r in (c.citing, c.cited))]
    write_bundle(store / "records" / "bench-new.jsonl", added)
    build(store)
    report = classify_graph(store)
    assert report.rebuilt and report.delta == "delta", report.delta
    _same_as_full_build(store, tmp_path)


def _citation_table_carried_over(store) -> None:
    """The delta's generation keeps the citation table of the generation it was made from (a
    delta changes no work's label, scope or citation), and it is the table of the new graph."""
    import pandas as pd

    from kg.analysis.citation_store import compute_table, stored_path

    graph = Store.at(store).open()
    path = stored_path(graph)
    previous = Store.at(store).dir.path / Store.at(store).info()["previous"]
    assert path is not None and path.is_file(), "the delta's generation keeps no citation table"
    assert path.read_bytes() == (previous / path.relative_to(graph.generation)).read_bytes()
    from kg.analysis.citation_store import citation_table

    pd.testing.assert_frame_equal(citation_table(graph), compute_table(graph))
    # the citation network page's table is not carried over (the classifier's labels may change
    # a work's category): it is read from the delta's graph, equal to a fresh computation
    from kg.analysis.network_store import FILENAME, compute_network_table, network_table
    from kg.derived import derived_path

    assert (previous / "kg-derived" / FILENAME).is_file() and not derived_path(graph, FILENAME).is_file()
    pd.testing.assert_frame_equal(network_table(graph), compute_network_table(graph))


def test_the_keys_a_build_keeps_equal_the_graph_read_in_full(classified, tmp_path):
    """kg.classify.keys: what the build writes of every work is what reading the graph gives."""
    from kg.classify import keys as work_keys
    from kg.classify.data import read_works
    from kg.classify.run import _key_of

    store = _with_new_works(classified, tmp_path)
    graph = Store.at(store).open()
    kept = {k.iri: (k.text, k.has_text, k.review, k.given, k.scope, k.relevance) for k in work_keys.read(graph)}
    read = {k.iri: (k.text, k.has_text, k.review, k.given, k.scope, k.relevance)
            for k in map(_key_of, read_works(graph))}
    assert len(kept) == 52 and kept == read
    assert classify_graph(store).delta == "delta"  # the delta's generation keeps them too
    assert work_keys.read(Store.at(store).open()) is not None
