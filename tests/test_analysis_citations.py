"""Citation analytics and the coverage audit on small graphs with known answers."""

from __future__ import annotations

import pytest

from kg.analysis import (
    bibliographic_coupling,
    bridge_papers,
    citation_graph,
    citation_metrics,
    cocitation,
    communities,
    coverage_audit,
    load_corpus,
    pagerank_scores,
)

TG, IG = "text_generation", "image_generation"


def iri(n: int) -> str:
    return f"https://w3id.org/kg-survey/id/work/arxiv/2401.{n:05d}"


@pytest.fixture
def star(rec, make_graph):
    """Works 2-5 cite work 1; work 6 cites 2 (a chain, so 2 has one citation); 7 is unlinked."""
    works = [rec.work(n, TG if n < 4 else IG, ["instruction"]) for n in range(1, 8)]
    return make_graph(rec.bundle(works, cites=[(2, 1), (3, 1), (4, 1), (5, 1), (6, 2)]))


def test_citation_graph_and_top_pagerank(star):
    g = citation_graph(star)
    assert g.number_of_nodes() == 7 and g.number_of_edges() == 5
    assert g.nodes[iri(1)]["category"] == TG and g.nodes[iri(1)]["label"] == "Paper 1"
    rank = pagerank_scores(star)
    assert max(rank, key=rank.get) == iri(1)
    assert sum(rank.values()) == pytest.approx(1.0)
    assert rank[iri(2)] > rank[iri(3)]  # cited once beats never cited
    metrics = citation_metrics(star)
    top = metrics.iloc[0]
    assert top["work"] == iri(1) and top["cited_by"] == 4 and top["references"] == 0
    assert metrics.set_index("work").loc[iri(7), "community"] == -1


def test_louvain_finds_two_dense_groups(rec, make_graph):
    a, b = [1, 2, 3, 4], [5, 6, 7, 8]
    cites = [(x, y) for group in (a, b) for x in group for y in group if x < y] + [(4, 5)]
    graph = make_graph(rec.bundle([rec.work(n, TG, ["instruction"]) for n in range(1, 9)], cites=cites))
    found = communities(graph, seed=1)
    assert sorted(sorted(c) for c in found) == [[iri(n) for n in a], [iri(n) for n in b]]
    assert communities(graph, seed=1) == found  # seeded: stable


def test_bridge_paper_links_two_categories(rec, make_graph):
    works = [rec.work(1, TG, ["instruction"]), rec.work(2, TG, ["alignment"]), rec.work(3, IG, ["instruction"]),
             rec.work(4, None), rec.work(5, TG, ["instruction"])]
    # 4 (unplaced) cites a TG and an IG paper; 5 cites only TG papers
    graph = make_graph(rec.bundle(works, cites=[(4, 1), (4, 3), (5, 1), (5, 2)]))
    bridges = bridge_papers(graph)
    assert list(bridges["work"]) == [iri(4)]
    row = bridges.iloc[0]
    assert row["categories"] == {IG: 1, TG: 1} and row["spread"] == 2 and row["bridge"] == pytest.approx(0.5)


def test_cocitation_and_bibliographic_coupling(rec, make_graph):
    works = [rec.work(n, TG, ["instruction"]) for n in range(1, 6)]
    # 1 and 2 both cite 3 and 4; 1 also cites 5
    graph = make_graph(rec.bundle(works, cites=[(1, 3), (1, 4), (2, 3), (2, 4), (1, 5)]))
    co = cocitation(graph)
    top = co.iloc[0]
    assert (top["a"], top["b"], top["count"]) == (iri(3), iri(4), 2)
    assert set(co[co["count"] == 1][["a", "b"]].itertuples(index=False, name=None)) == {(iri(3), iri(5)), (iri(4), iri(5))}
    assert len(cocitation(graph, min_count=2)) == 1
    coupling = bibliographic_coupling(graph)
    assert list(coupling.itertuples(index=False, name=None)) == [(iri(1), iri(2), "Paper 1", "Paper 2", 2)]


def test_coverage_audit_ranks_candidates_by_links_to_surveyed_papers(rec, make_graph):
    works = [rec.work(1, TG, ["instruction"]), rec.work(2, IG, ["alignment"]),  # surveyed (placed)
             rec.work(10, candidate=True, title="Often cited candidate"),
             rec.work(11, candidate=True, title="Citing candidate"),
             rec.work(12, candidate=True, title="Isolated candidate"),
             rec.work(13, title="Listed, not a candidate")]
    graph = make_graph(rec.bundle(works, cites=[(1, 10), (2, 10), (11, 1), (13, 12)]))
    audit = coverage_audit(graph)
    assert list(audit["label"]) == ["Often cited candidate", "Citing candidate", "Isolated candidate"]
    first = audit.iloc[0]
    assert (first["cited_by_surveyed"], first["cites_surveyed"], first["score"]) == (2, 0, 2)
    assert audit.iloc[1]["cites_surveyed"] == 1 and audit.iloc[2]["score"] == 0


def test_empty_graph_citations(make_graph):
    graph = make_graph(None)
    assert citation_graph(graph).number_of_nodes() == 0
    assert pagerank_scores(graph) == {} and communities(graph) == []
    assert citation_metrics(graph).empty and bridge_papers(graph).empty
    assert cocitation(graph).empty and bibliographic_coupling(graph).empty and coverage_audit(graph).empty


def test_bundled_graph_citations(graph):
    corpus = load_corpus(graph)
    metrics = citation_metrics(corpus)
    survey = metrics[metrics["review"]].iloc[0]
    assert survey["references"] == 32 and survey["cited_by"] == 0
    assert (metrics["cited_by"] > 0).sum() == 32
    bridges = bridge_papers(corpus)
    assert bridges.iloc[0]["review"] and bridges.iloc[0]["spread"] == 4  # the survey spans all categories
    audit = coverage_audit(corpus)
    assert len(audit) == 3 and all(audit["possible_match_for"].map(len) > 0)
    assert len(cocitation(corpus)) == 32 * 31 // 2  # the survey co-cites every pair once
