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
    works = [rec.work(1, TG, ["instruction"]), rec.work(2, IG, ["alignment"]),  # surveyed: the survey cites them
             rec.work(10, candidate=True, title="Often cited candidate"),
             rec.work(11, candidate=True, title="Citing candidate"),
             rec.work(12, candidate=True, title="Isolated candidate"),
             rec.work(13, title="Listed, not a candidate"), rec.work(14, review=True, title="The survey")]
    graph = make_graph(rec.bundle(works, cites=[(1, 10), (2, 10), (11, 1), (13, 12), (14, 1), (14, 2)]))
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


# ---------------------------------------------------------------- what the citation data can show
def test_tied_pagerank_is_a_tie_not_a_ranking(star):
    from kg.analysis.citations import rank_text, tied_ranks

    metrics = citation_metrics(star).set_index("work")
    # 1 is cited four times: alone at the top; 2 is cited once (by 6): alone second
    assert (metrics.loc[iri(1), "rank"], metrics.loc[iri(1), "tied"]) == (1, 1)
    assert (metrics.loc[iri(2), "rank"], metrics.loc[iri(2), "tied"]) == (2, 1)
    # 3, 4, 5, 6 and 7 cite but are never cited: one score, one shared rank
    for n in (3, 4, 5, 6, 7):
        assert (metrics.loc[iri(n), "rank"], metrics.loc[iri(n), "tied"]) == (3, 5), n
    assert tied_ranks({"a": 0.5, "b": 0.2 + 1e-9, "c": 0.2, "d": 0.1}) == {
        "a": (1, 1), "b": (2, 2), "c": (2, 2), "d": (4, 1)}  # equal within the tolerance
    assert tied_ranks({"a": 0.2, "b": 0.19}) == {"a": (1, 1), "b": (2, 1)}
    assert rank_text(2, 1) == "2" and rank_text(1, 32) == "tied at 1 (32 works)"


def test_citations_only_from_the_survey_are_said_to_be_so(rec, make_graph):
    from kg.analysis.citations import GROW_CITATIONS, citation_sources

    works = [rec.work(1, review=True, title="A survey")] + [rec.work(n, TG, ["instruction"]) for n in range(2, 6)]
    only_survey = make_graph(rec.bundle(works, cites=[(1, n) for n in range(2, 6)]))
    data = citation_sources(only_survey)
    assert data["survey_only"] and (data["citations"], data["citing_works"], data["from_surveys"]) == (4, 1, 4)
    assert "All 4 citation links come from the survey (1 citing work)" in data["note"]
    assert GROW_CITATIONS in data["note"] and GROW_CITATIONS == "kg harvest s2 --from-graph --references --citations"
    ranks = citation_metrics(only_survey)
    assert set(ranks[~ranks["review"]]["tied"]) == {4}  # every cited work ties
    own = make_graph(rec.bundle(works, cites=[(1, 2), (1, 3), (3, 2)]))  # a work cites another
    data = citation_sources(own)
    assert not data["survey_only"] and data["note"] is None and data["citing_works"] == 2
    none = citation_sources(make_graph(rec.bundle(works)))
    assert not none["survey_only"] and none["citations"] == 0 and GROW_CITATIONS in none["note"]


def test_bundled_graph_citations_all_come_from_the_survey(graph):
    from kg.analysis.citations import citation_sources

    data = citation_sources(graph)
    assert data["survey_only"] and data["citations"] == 32 and data["citing_works"] == 1
    top = citation_metrics(graph).iloc[0]
    assert (top["rank"], top["tied"]) == (1, 32)


def test_the_report_says_what_the_citations_cannot_show(graph):
    from kg.report import build_report, render

    report = build_report(graph)
    assert report["citation_data"]["survey_only"] and report["citation_data"]["citations"] == 32
    assert {(p["rank"], p["tied"]) for p in report["central_papers"]} == {(1, 32)}
    md = render(report, "md")
    assert "- 32 in-corpus citation links, all from the survey;" in md
    central = md[md.index("## Most central papers"):]
    assert "All 32 citation links come from the survey" in central
    assert "`kg harvest s2 --from-graph --references --citations`" in central
    assert "| Rank | Paper |" in central and "| tied at 1 (32 works) |" in central
    page = render(report, "html")
    assert "<code>kg harvest s2 --from-graph --references --citations</code>" in page
    assert "tied at 1 (32 works)" in page


def _bridges_networkx(corpus, min_categories=2):
    """bridge_papers as it was computed on the networkx graph (the reference)."""
    from collections import Counter

    import pandas as pd

    from kg.analysis.citations import citation_graph
    from kg.analysis.data import none_column

    g = citation_graph(corpus)
    rows = []
    for n, d in g.nodes(data=True):
        per_cat = Counter(g.nodes[m]["category"] for m in set(g.predecessors(n)) | set(g.successors(n))
                          if g.nodes[m]["category"])
        k = sum(per_cat.values())
        if len(per_cat) >= min_categories:
            rows.append({"work": n, "label": d["label"], "category": d["category"], "review": d["review"],
                         "degree": k, "categories": dict(sorted(per_cat.items())), "spread": len(per_cat),
                         "bridge": round(1 - sum((v / k) ** 2 for v in per_cat.values()), 4)})
    frame = none_column(pd.DataFrame(rows, columns=["work", "label", "category", "review", "degree", "categories",
                                                    "spread", "bridge"]), "category")
    return frame.sort_values(["bridge", "degree", "label"], ascending=[False, False, True],
                             kind="stable").reset_index(drop=True)


@pytest.mark.parametrize("min_categories", [2, 3])
def test_bridges_on_arrays_equal_the_networkx_reference(make_graph, min_categories):
    from kg.analysis import load_corpus
    from kg.bench import synthetic_bundle

    corpus = load_corpus(make_graph(synthetic_bundle(600, seed=5)))
    ours, reference = bridge_papers(corpus, min_categories), _bridges_networkx(corpus, min_categories)
    assert len(ours) > 50
    assert ours.equals(reference)
