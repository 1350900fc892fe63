"""Citation results kept with their generation (kg.analysis.citation_store): the same figures as
citation_metrics over the loaded corpus, computed once per generation and read back after."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kg.analysis import citation_metrics, load_corpus
from kg.analysis import citation_store
from kg.analysis.citation_store import COLUMNS, citation_table, stored_path
from kg.bench import synthetic_bundle
from kg.build import build
from kg.records.file import write_bundle
from kg.store import LocalGraph
from scope_support import write_scope_decisions


def _same_as_metrics(table: pd.DataFrame, graph) -> None:
    metrics = citation_metrics(load_corpus(graph))
    assert list(table["work"]) == list(metrics["work"])
    for column in COLUMNS[1:]:
        assert list(table[column]) == list(metrics[column]), column


@pytest.fixture(scope="module")
def synthetic_store(tmp_path_factory):
    store = tmp_path_factory.mktemp("citations") / "store"
    write_bundle(store / "records" / "bench.jsonl", synthetic_bundle(400, seed=3))
    build(store)
    return store


def test_the_table_equals_citation_metrics_on_the_bundled_graph(store_copy):
    graph = LocalGraph(store_copy)
    _same_as_metrics(citation_table(graph), graph)


def test_the_table_equals_citation_metrics_on_a_synthetic_graph_and_is_read_back(synthetic_store, tmp_path,
                                                                                    monkeypatch):
    store = tmp_path / "store"
    shutil.copytree(synthetic_store, store, symlinks=True)
    graph = LocalGraph(store)
    path = stored_path(graph)
    assert path is not None and path.is_file()  # kept by kg build
    path.unlink()  # a generation whose table nobody kept (kg classify's delta publishes such ones)
    first = citation_table(graph)
    _same_as_metrics(first, graph)
    assert (first["community"] >= 0).sum() > 100  # a real partition, not a placeholder
    assert path.is_file() and path.parent.parent == graph.generation

    def no_compute(*args, **kwargs):
        raise AssertionError("computed again although the generation's table is stored")

    monkeypatch.setattr(citation_store, "compute_table", no_compute)
    again = citation_table(LocalGraph(store))  # another process would open the store afresh
    pd.testing.assert_frame_equal(first, again)


def test_a_new_generation_computes_afresh_and_a_damaged_file_is_recomputed(synthetic_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(synthetic_store, store, symlinks=True)
    before = citation_table(LocalGraph(store))
    write_bundle(store / "records" / "more.jsonl", synthetic_bundle(50, seed=4, first_number=20000))
    build(store)
    graph = LocalGraph(store)
    assert stored_path(graph).is_file()  # the new generation's own, kept by its build
    after = citation_table(graph)
    assert len(after) > len(before)
    pd.testing.assert_frame_equal(after, citation_store.compute_table(graph))
    stored_path(graph).write_bytes(b"not a table")
    pd.testing.assert_frame_equal(citation_table(LocalGraph(store)), after)


def test_a_graph_in_memory_computes_and_keeps_nothing(make_graph, rec):
    graph = make_graph(rec.bundle([rec.work(1, "retrieval", ["alignment"]), rec.work(2, "retrieval", ["alignment"])],
                                  cites=[(1, 2)]))
    assert stored_path(graph) is None
    table = citation_table(graph)
    assert len(table) == 2 and table.iloc[0]["cited_by"] == 1


# ---------------------------------------------------------------- the table kept by kg build

def _kept_equals_computed(store) -> pd.DataFrame:
    """The table kg build kept with the generation equals the one computed from the graph, frame
    for frame (every column, its type and the row order)."""
    graph = LocalGraph(store)
    path = stored_path(graph)
    assert path is not None and path.is_file(), "kg build kept no citation table"
    kept = citation_table(graph)
    pd.testing.assert_frame_equal(kept, citation_store.compute_table(graph))
    return kept


def _exclude(store, arxiv_ids) -> None:
    write_scope_decisions(store, exclude=arxiv_ids)


def test_kg_build_keeps_the_table_of_the_bundled_graph(store_copy):
    kept = _kept_equals_computed(store_copy)
    assert len(kept) > 10


def test_kg_build_keeps_the_table_of_a_synthetic_graph_with_works_out_of_scope(tmp_path):
    store = tmp_path / "store"
    bundle = synthetic_bundle(1000, seed=5)
    write_bundle(store / "records" / "bench.jsonl", bundle)
    cited = {}
    for c in bundle.citations:
        cited[c.cited] = cited.get(c.cited, 0) + 1
    most = sorted(cited, key=lambda r: (-cited[r], r))[:5]  # the most cited works, and a few others
    excluded = set(most) | {bundle.citations[-1].citing}
    _exclude(store, [r.split(":", 1)[1] for r in sorted(excluded)])
    build(store)
    kept = _kept_equals_computed(store)
    graph = LocalGraph(store)
    out = {w for (w,) in graph.values('SELECT ?w WHERE { ?w kg:scopeStatus "out" }')}
    assert len(out) == len(excluded) >= 5 and not out & set(kept["work"])
    works = {w for (w,) in graph.values("SELECT ?w WHERE { ?w a fabio:ScholarlyWork }")}
    assert set(kept["work"]) == works - out and (kept["community"] >= 0).sum() > 100


def test_kg_build_keeps_the_table_with_a_work_out_of_scope_and_one_cited_twice(tmp_path, rec):
    store = tmp_path / "store"
    works = [rec.work(n, "retrieval", ["alignment"], title=f"Paper {n}") for n in range(1, 6)]
    works.append(rec.work(6, "retrieval", title="Paper 2"))  # a label two works share
    # 1 -> 2 twice (from two sources: one link), 3 -> 2, 4 -> 5 with 5 out of scope, 5 -> 1, 6 -> 6
    write_bundle(store / "records" / "a.jsonl", rec.bundle(works, cites=[(1, 2), (3, 2), (4, 5), (5, 1), (6, 6),
                                                                         (6, 2)]))
    write_bundle(store / "records" / "b.jsonl", rec.bundle([], cites=[(1, 2)]))
    _exclude(store, ["2401.00005"])
    build(store)
    kept = _kept_equals_computed(store)
    ours = kept[kept["work"].str.contains("/arxiv/2401.0000")].set_index("work")
    ours.index = [w[-1] for w in ours.index]
    assert sorted(ours.index) == ["1", "2", "3", "4", "6"]  # 5 is out of scope
    assert ours.loc["2", "cited_by"] == 3 and ours.loc["1", "cited_by"] == 0  # 5 -> 1 left out with 5
    assert ours.loc["4", "references"] == 0 and ours.loc["6", "references"] == 1  # no self-citation
    assert list(ours.loc[["2", "6"], "label"]) == ["Paper 2", "Paper 2"]
