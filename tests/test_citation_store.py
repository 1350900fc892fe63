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
    assert path is not None and not path.exists()
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
    assert not stored_path(graph).exists()
    after = citation_table(graph)
    assert len(after) > len(before)
    stored_path(graph).write_bytes(b"not a table")
    pd.testing.assert_frame_equal(citation_table(LocalGraph(store)), after)


def test_a_graph_in_memory_computes_and_keeps_nothing(make_graph, rec):
    graph = make_graph(rec.bundle([rec.work(1, "retrieval", ["alignment"]), rec.work(2, "retrieval", ["alignment"])],
                                  cites=[(1, 2)]))
    assert stored_path(graph) is None
    table = citation_table(graph)
    assert len(table) == 2 and table.iloc[0]["cited_by"] == 1
