"""The citation network page's table (kg.analysis.network_store): kept by kg build with the
generation it publishes, equal frame for frame to the one computed from the store, read instead
of computed, and never carried over to a generation whose categories may differ."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from kg.analysis import network_store
from kg.analysis.network_store import FILENAME, NETWORK_COLUMNS, compute_network_table, network_table
from kg.bench import synthetic_bundle
from kg.build import build
from kg.derived import derived_path
from kg.records import Label
from kg.records.file import write_bundle
from kg.store import LocalGraph
from scope_support import write_scope_decisions


def _kept_equals_computed(store) -> pd.DataFrame:
    graph = LocalGraph(store)
    path = derived_path(graph, FILENAME)
    assert path is not None and path.is_file(), "kg build kept no network table"
    kept = network_table(graph)
    pd.testing.assert_frame_equal(kept, compute_network_table(graph))
    assert list(kept.columns) == NETWORK_COLUMNS
    return kept


def _no_compute(monkeypatch) -> None:
    def refuse(graph):
        raise AssertionError("computed although kg build kept the table")

    monkeypatch.setattr(network_store, "compute_network_table", refuse)


def test_kg_build_keeps_the_bundled_graphs_table_and_it_is_read_not_computed(store_copy, monkeypatch):
    kept = _kept_equals_computed(store_copy)
    assert kept["year"].notna().sum() > 10 and kept["category"].notna().sum() > 10
    assert kept["review"].any()  # the survey itself
    _no_compute(monkeypatch)
    pd.testing.assert_frame_equal(network_table(LocalGraph(store_copy)), kept)


def test_the_kept_table_holds_candidates_reviews_counts_and_works_without_year_or_category(tmp_path, rec):
    store = tmp_path / "store"
    works = [rec.work(1, "retrieval", ["alignment"], year=2021), rec.work(2, None, year=None, candidate=True),
             rec.work(3, "retrieval", review=True, year=2019), rec.work(4, None, ["alignment"], candidate=True),
             rec.work(5, "retrieval", candidate=True)]  # placed by a person: no longer a candidate
    works[0].citation_count = 12
    works[2].citation_count = 3
    write_bundle(store / "records" / "a.jsonl", rec.bundle(works, cites=[(1, 3), (2, 3), (4, 1)]))
    build(store)
    kept = _kept_equals_computed(store)
    ours = kept[kept["work"].str.contains("/arxiv/2401.0000")].set_index("work")
    ours.index = [w[-1] for w in ours.index]
    assert ours.loc["2", "year"] is None and ours.loc["2", "category"] is None and ours.loc["2", "candidate"]
    assert not ours.loc["5", "candidate"] and ours.loc["3", "review"] and not ours.loc["1", "review"]
    assert ours.loc["1", "citation_count"] == 12 and ours.loc["3", "citation_count"] == 3
    assert ours.loc["4", "citation_count"] is None and ours.loc["1", "year"] == 2021


def test_predicted_categories_built_into_the_graph_are_kept_as_the_store_answers(tmp_path, rec):
    store = tmp_path / "store"
    guessed = rec.work(2, None, ["alignment"], candidate=True)
    guessed.labels.append(Label("category", "retrieval", "classifier", confidence=0.4))
    write_bundle(store / "records" / "a.jsonl", rec.bundle([rec.work(1, "retrieval"), guessed], cites=[(2, 1)]))
    build(store)
    kept = _kept_equals_computed(store)
    row = kept[kept["work"].str.endswith("2401.00002")].iloc[0]
    assert row["category"] is not None and row["candidate"]  # a prediction suggests a cell; still a candidate


def test_a_synthetic_graph_with_works_out_of_scope(tmp_path):
    store = tmp_path / "store"
    bundle = synthetic_bundle(600, seed=7)
    write_bundle(store / "records" / "bench.jsonl", bundle)
    write_scope_decisions(store, exclude=[w.ids["arxiv"] for w in bundle.works[:20:3]])
    build(store)
    kept = _kept_equals_computed(store)
    assert len(kept) > 500 and kept["candidate"].any() and kept["citation_count"].notna().any()


def test_the_classified_bundled_graphs_table_is_kept_by_its_build(classified_store, tmp_path):
    store = tmp_path / "store"
    shutil.copytree(classified_store, store, symlinks=True)
    kept = _kept_equals_computed(store)  # the first kg classify builds, its predictions written in
    assert kept["category"].notna().sum() > 10


@pytest.mark.parametrize("damage", ["foreign", "cut"])
def test_a_damaged_kept_table_is_computed_instead(store_copy, damage):
    from kg.analysis.citation_store import citation_table, compute_table, stored_path

    graph = LocalGraph(store_copy)
    for path in (derived_path(graph, FILENAME), stored_path(graph)):
        data = path.read_bytes()
        path.write_bytes(b"not a table" if damage == "foreign" else data[: len(data) // 2])
    pd.testing.assert_frame_equal(network_table(LocalGraph(store_copy)), compute_network_table(graph))
    pd.testing.assert_frame_equal(citation_table(LocalGraph(store_copy)), compute_table(graph))


@pytest.mark.parametrize("facts_ok", [True, False])
def test_works_with_two_categories_keep_no_network_table(facts_ok):
    from kg.rdf.quads import WorkFacts

    works, labels = ["https://example.org/a", "https://example.org/b"], ["A", "B"]
    facts = [WorkFacts(categories=("x",)), WorkFacts(categories=("x",) if facts_ok else ("x", "y"))]
    files = network_store.tables_from_links(works, labels, [0], [1], facts=facts)
    assert any(name.startswith("citations-") for name in files)
    assert (FILENAME in files) is facts_ok


def test_kept_string_columns_round_trip_any_text(tmp_path):
    """kg.derived.packed_strings: empty strings, non-ASCII text, a lone surrogate and a string
    longer than the others come back as they went in; a damaged column is refused."""
    import io

    import numpy as np

    from kg.derived import packed_strings, unpacked_strings

    values = ["", "Vision–language ✓", "x" * 500, "a\ud800b", " spaced  out ", "日本語", ""]
    buffer = io.BytesIO()
    np.savez(buffer, **packed_strings("s", values), **packed_strings("none", []))
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as data:
        assert unpacked_strings(data, "s") == values and unpacked_strings(data, "none") == []
    buffer = io.BytesIO()
    packed = packed_strings("s", values)
    np.savez(buffer, s=packed["s"][:-3], s_ends=packed["s_ends"])
    buffer.seek(0)
    with np.load(buffer, allow_pickle=False) as data, pytest.raises(ValueError):
        unpacked_strings(data, "s")


def test_facts_the_network_file_cannot_hold_still_keep_the_citation_table():
    from kg.rdf.quads import WorkFacts

    works, labels = ["https://example.org/a", "https://example.org/b"], ["A", "B"]
    facts = [WorkFacts(citation_count=2 ** 63), WorkFacts()]  # more than the file's integers hold
    files = network_store.tables_from_links(works, labels, [0], [1], facts=facts)
    assert [name for name in files if name.startswith("citations-")] and FILENAME not in files
