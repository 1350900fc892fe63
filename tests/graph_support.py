"""Synthetic graphs in memory for the tests that compare counts in the store with the analysis
corpus: kg bench's synthetic corpus with a share of its labels turned into the classifier's
predictions, and a few placed works out of scope."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from kg.store import LocalGraph

KG = "https://w3id.org/kg-survey/ontology#"


def with_classifier_labels(bundle):
    """Every third work's labels the classifier's alone (at confidences from 0.3 to 0.95), every
    third after it asserted and predicted again by the classifier (at 0.4)."""
    from kg.records import Source

    bundle.sources.append(Source("classifier", "kg classify", "kg classifier"))
    for i, work in enumerate(bundle.works):
        if i % 3 == 0:
            work.labels = [replace(label, source="classifier", confidence=0.3 + 0.05 * ((i + j) % 14))
                           for j, label in enumerate(work.labels)]
        elif i % 3 == 1 and work.labels:
            work.labels = work.labels + [replace(work.labels[-1], source="classifier", confidence=0.4)]
    return bundle


def in_memory_graph(bundle, folder: Path, *, out_of_scope: int = 0) -> LocalGraph:
    """The bundle's graph (with the ontology and taxonomy) in an in-memory store; the first
    `out_of_scope` placed works (by IRI) marked out of scope: they count nowhere."""
    import pyoxigraph as ox

    from kg.paths import ontology_dir
    from kg.rdf.quads import bundle_quads, iter_ontology_quads
    from kg.rdf.taxonomy import read_taxonomy

    store = ox.Store()
    store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ("kg.ttl", "taxonomy.ttl"))))
    quads, _ = bundle_quads(bundle, read_taxonomy())
    store.extend(quads)
    graph = LocalGraph(folder / "in-memory", store=store)
    if out_of_scope:
        graph.store.update(
            f"DELETE {{ ?w <{KG}scopeStatus> ?s }} INSERT {{ ?w <{KG}scopeStatus> \"out\" }} WHERE {{ "
            f"{{ SELECT ?w WHERE {{ ?w <{KG}category> ?c }} ORDER BY ?w LIMIT {int(out_of_scope)} }} "
            f"OPTIONAL {{ ?w <{KG}scopeStatus> ?s }} }}")
    return graph
