"""The gap matrix's cells counted in the store (gap-cell-counts) against gap_matrix over a
loaded Corpus, the computation they replace: the bundled graph after `kg classify` and kg
bench's synthetic corpus, at two minimum confidences."""

from __future__ import annotations

import shutil

import pytest

from kg.analysis import gap_matrix, load_corpus
from kg.analysis.gap_counts import COUNT_COLUMNS, gap_cells
from kg.errors import UsageError
from kg.store import LocalGraph


@pytest.fixture(scope="module")
def classified(built_store, tmp_path_factory):
    from kg.pipeline import classify as classify_graph

    dest = tmp_path_factory.mktemp("classified") / "store"
    shutil.copytree(built_store, dest, symlinks=True)
    classify_graph(dest)
    return LocalGraph(dest)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """kg bench's synthetic corpus at 300 papers, with a share of its labels turned into the
    classifier's predictions at several confidences, one work out of scope."""
    import pyoxigraph as ox

    from kg.bench import synthetic_bundle
    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.rdf.taxonomy import read_taxonomy

    from dataclasses import replace

    from kg.records import Source

    bundle = synthetic_bundle(300, seed=5)
    bundle.sources.append(Source("classifier", "kg classify", "kg classifier"))
    for i, work in enumerate(bundle.works):
        if i % 3 == 0:  # the classifier's alone, at confidences from 0.3 to 0.95
            work.labels = [replace(label, source="classifier", confidence=0.3 + 0.05 * ((i + j) % 14))
                           for j, label in enumerate(work.labels)]
        elif i % 3 == 1 and work.labels:  # asserted, and predicted again by the classifier
            work.labels = work.labels + [replace(work.labels[-1], source="classifier", confidence=0.4)]
    store = ox.Store()
    store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
    quads, _ = bundle_quads(bundle, read_taxonomy())
    store.extend(quads)
    kg = "https://w3id.org/kg-survey/ontology#"
    store.update(  # a few placed works out of scope: they count nowhere
        f"DELETE {{ ?w <{kg}scopeStatus> ?s }} INSERT {{ ?w <{kg}scopeStatus> \"out\" }} WHERE {{ "
        f"{{ SELECT ?w WHERE {{ ?w <{kg}category> ?c }} ORDER BY ?w LIMIT 6 }} OPTIONAL {{ ?w <{kg}scopeStatus> ?s }} }}")
    return LocalGraph(tmp_path_factory.mktemp("synthetic") / "in-memory", store=store)


def _same(graph, min_confidence, category=None):
    reference = gap_matrix(load_corpus(graph, min_confidence), category=category)[COUNT_COLUMNS]
    ours = gap_cells(graph, min_confidence, category=category)
    assert list(ours.columns) == COUNT_COLUMNS
    assert ours.to_dict("records") == reference.to_dict("records")
    return ours


@pytest.mark.parametrize("min_confidence", [0.5, 0.9])
def test_bundled_graph_after_classify(classified, min_confidence):
    cells = _same(classified, min_confidence)
    assert min_confidence > 0.5 or cells["predicted"].sum() > 0  # the classifier's predictions count in some cells
    _same(classified, min_confidence, category="retrieval")


def test_thresholds_move_predictions(classified):
    low, high = gap_cells(classified, 0.0), gap_cells(classified, 0.99)
    assert low["predicted"].sum() > high["predicted"].sum()
    assert (low["asserted"] == high["asserted"]).all()  # asserted works do not depend on the threshold


@pytest.mark.parametrize("min_confidence", [0.5, 0.8])
def test_synthetic_graph(synthetic, min_confidence):
    cells = _same(synthetic, min_confidence)
    assert cells["count"].sum() > 100 and cells["predicted"].sum() > 0


def test_bad_input(classified):
    with pytest.raises(UsageError, match="unknown category 'nope'; valid: "):
        gap_cells(classified, category="nope")
    with pytest.raises(UsageError, match="not between 0 and 1"):
        gap_cells(classified, 1.5)
