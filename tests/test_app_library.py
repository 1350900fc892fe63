"""The library functions behind the app's pages: paper search and pages (kg.analysis.browse), corpus
slices (kg.analysis.views) and the citation network drawing (kg.app.network_drawing)."""

from __future__ import annotations

import re

import networkx as nx
import pandas as pd
import pytest

from kg import analysis

from kg.analysis import browse, views
from kg.app import network_drawing
from kg.errors import UsageError

YOLLAVA = "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"


@pytest.fixture(scope="module")
def corpus(graph):
    return analysis.load_corpus(graph)


# ---------------------------------------------------------------- search and paper pages
@pytest.mark.parametrize("text", ["2406.09400", "arXiv:2406.09400v3", "https://arxiv.org/abs/2406.09400v1",
                                  "Nguyen et al. (2024)", YOLLAVA])
def test_search_finds_a_paper_by_any_identifier(graph, text):
    hits = browse.search_papers(graph, text)
    assert hits[0].work == YOLLAVA and hits[0].matched == "id"


def test_search_by_title_words_in_any_order_and_case(graph):
    hits = browse.search_papers(graph, "ASSISTANT vision yo'llava")
    assert [h.work for h in hits] == [YOLLAVA]
    assert hits[0].matched == "title"


def test_search_by_author(graph):
    hits = browse.search_papers(graph, "renjie pi")
    assert len(hits) == 1 and hits[0].matched == "author" and "Renjie Pi" in hits[0].authors


def test_search_ranks_title_phrase_before_scattered_words(graph):
    hits = browse.search_papers(graph, "personalized visual instruction tuning")
    assert hits[0].label.startswith("P") and hits[0].title.lower().startswith("personalized visual instruction tuning")
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


def test_search_without_a_match_or_with_markup_is_empty_and_too_long_is_refused(graph):
    assert browse.search_papers(graph, "zzzz qqqq") == []
    assert browse.search_papers(graph, "<script>alert(1)</script> ((( [[[ ***") == []
    assert len(browse.search_papers(graph, "")) == 49
    with pytest.raises(UsageError, match="keep it under"):
        browse.search_papers(graph, "a" * 1000)


def test_paper_page_of_a_surveyed_and_listed_work(graph):
    page = browse.paper_page(graph, "arXiv:2406.09400")
    assert page.work == YOLLAVA and page.label == "Yo'LLaVA" and page.year == 2024 and page.venue == "NeurIPS"
    assert page.labels["category"] == [("retrieval", "Personalized retrieval")]
    assert ("image", "Image") in page.labels["input_modality"]
    assert ("arXiv", "https://arxiv.org/abs/2406.09400") == page.links[0]
    assert len({url for _, url in page.links}) == len(page.links)
    assert {a["agent"] for a in page.assertions} == {"Survey authors (Wu et al., 2024)",
                                                     "awesome-personalized-lmms maintainers"}
    assert all(a["effective"] for a in page.assertions) and all(0 <= a["confidence"] <= 1 for a in page.assertions)
    assert [c["label"] for c in page.cited_by] == ["Personalized Multimodal Large Language Models: A Survey"]
    assert ("Yo'LLaVA", "introduces") in page.datasets


def test_paper_page_of_the_survey_lists_what_it_cites(graph):
    page = browse.paper_page(graph, "2412.02142")
    assert len(page.cites) == 32 and not page.cited_by
    assert all(c["in_taxonomy"] for c in page.cites if c["label"] != "User-Aware Prefix-Tuning")


def test_paper_page_of_an_unknown_id(graph):
    with pytest.raises(UsageError, match="no paper in the graph has the identifier"):
        browse.paper_page(graph, "1234.56789")
    with pytest.raises(UsageError, match="give a paper"):
        browse.find_work(graph, "  ")


def test_overview_helpers(graph):
    per_year = browse.papers_per_year(graph)
    assert sum(r["papers"] for r in per_year) == 46  # the three candidates have no year
    assert {r["group"] for r in per_year} == {"in the taxonomy", "listed or harvested"}
    latest = browse.latest_additions(graph, 5)
    assert len(latest) == 5 and latest[0]["added"] == "2024-12-03"
    sources = browse.data_sources(graph)
    assert {s["works"] for s in sources} == {36, 15}


def test_overview_counts_come_from_the_store_as_the_listings_count_them(graph):
    """papers-per-year counts in the store what the papers listing gives work by work;
    latest-works ranks in the store what recent-works lists (newest source date, then year)."""
    from collections import Counter

    from kg.sparql.named import run_named

    listed: Counter = Counter()
    for row in run_named(graph, "papers").records():
        if row.get("year") is None:
            continue
        group = ("in the taxonomy" if row.get("category") else
                 "candidate" if row.get("candidate") is True else "listed or harvested")
        listed[(int(str(row["year"])[:4]), group)] += 1
    assert browse.papers_per_year(graph) == [{"year": y, "group": g, "papers": n} for (y, g), n in sorted(listed.items())]
    recent = run_named(graph, "recent-works").records()
    latest = browse.latest_additions(graph, 50)
    assert len(latest) == min(50, len(recent))
    key = [(r.get("added") or "", r.get("year") or 0) for r in recent]
    assert [(r["added"] or "", r["year"] or 0) for r in latest] == key[:len(latest)]
    assert {r["work"] for r in latest} <= {r["work"] for r in recent}
    assert browse.search_index(graph, page=1) == browse.search_index(graph)  # 49 works: one page


@pytest.mark.parametrize("text,value", [("arXiv:2406.09400v2", "2406.09400"), ("DOI:10.1145/ABC", "10.1145/abc"),
                                        ("Nguyen et al. (2024)", "Nguyen et al. (2024)"), (YOLLAVA, YOLLAVA)])
def test_binding_value_normalises_identifiers(text, value):
    assert browse.binding_value(text) == value


# ---------------------------------------------------------------- corpus slices
def test_restrict_corpus_by_modality_years_category_and_candidates(corpus):
    image = views.restrict_corpus(corpus, modality="image")
    assert 0 < len(image.works) < len(corpus.works)
    assert set(image.links["work"]) <= set(image.works["work"])
    cells = analysis.gap_matrix(image)
    assert len(cells) == 16 and (cells["status"] == "empty").sum() > 8
    y2023 = views.restrict_corpus(corpus, years=(2023, 2023))
    assert set(y2023.works["year"]) == {2023}
    assert views.restrict_corpus(corpus, categories=["retrieval"]).works["category"].eq("retrieval").all()
    no_cand = views.restrict_corpus(corpus, candidates=False)
    assert len(no_cand.works) == 46 and not no_cand.works["candidate"].any()
    assert set(no_cand.edges["citing"]) | set(no_cand.edges["cited"]) <= set(no_cand.works["work"])
    assert len(corpus.concepts) == len(image.concepts)  # the taxonomy stays whole


def test_restrict_corpus_bad_input(corpus):
    with pytest.raises(UsageError, match="unknown modality 'smell'; valid: .*image"):
        views.restrict_corpus(corpus, modality="smell")
    with pytest.raises(UsageError, match="is empty"):
        views.restrict_corpus(corpus, years=(2025, 2020))
    assert views.restrict_corpus(corpus, years=(1900, 1901)).works.empty


def test_works_table_keeps_the_given_order(corpus):
    works = list(corpus.works["work"][:3])[::-1]
    assert list(views.works_table(corpus, works)["work"]) == works


def test_cooccurrence_pairs_square_and_labelled(corpus):
    pairs = views.cooccurrence_pairs(corpus, ["mechanism", "input", "output"], top=10)
    keys = list(dict.fromkeys(pairs["a"]))
    assert len(pairs) == len(keys) ** 2 and len(keys) <= 10
    assert "Text (input)" in set(pairs["a_label"]) and "Text (output)" in set(pairs["a_label"])
    diag = pairs[pairs["a"] == pairs["b"]]
    assert (diag["papers"] > 0).all()
    assert views.cooccurrence_pairs(corpus, ["metric"]).empty


# ---------------------------------------------------------------- network drawing
def _metrics(rows):
    return pd.DataFrame(rows, columns=["work", "label", "title", "year", "category", "candidate", "surveyed", "review",
                                       "cited_by", "references", "pagerank", "community", "citation_count"])


HOSTILE = "<img src=x onerror=alert(1)> & \"quotes\" </script><script>alert(2)</script>"


def test_network_html_is_offline_and_escapes_titles():
    g = nx.DiGraph([("a", "b")])
    metrics = _metrics([
        {"work": "a", "label": HOSTILE, "title": HOSTILE, "year": 2024, "category": "retrieval", "candidate": False,
         "surveyed": True, "review": True, "cited_by": 0, "references": 1, "pagerank": 0.3, "community": 0},
        {"work": "b", "label": "B", "title": "href=javascript:x", "year": None, "category": None, "candidate": True,
         "surveyed": False, "review": False, "cited_by": 1, "references": 0, "pagerank": 0.7, "community": 0}])
    page = network_drawing.network_html(g, metrics, ["a", "b"], category_labels={"retrieval": "Retrieval"})
    assert "<img src=x" not in page and "<script>alert" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page or "\\u0026lt;img" in page
    assert not re.search(r"(?:src|href)=\"https?://", page)
    assert "vis.Network" in page and "popup.innerHTML" in page  # our escaped HTML tooltips
    assert page.count('"shape": "star"') == 1 and page.count('"shape": "triangle"') == 1


def test_select_nodes_filters_and_caps_by_pagerank():
    metrics = _metrics([
        {"work": f"w{i}", "label": f"W{i}", "title": None, "year": 2020 + i % 3, "category": ["a", "b", None][i % 3],
         "candidate": i == 4, "surveyed": False, "review": False, "cited_by": i % 2, "references": 0,
         "pagerank": i / 10, "community": i % 2 - (1 if i == 0 else 0)} for i in range(10)])
    picked = network_drawing.select_nodes(metrics, max_nodes=3)
    assert picked.nodes == ["w9", "w8", "w7"] and picked.matching == 10 and picked.capped
    assert set(network_drawing.select_nodes(metrics, categories=["none"]).nodes) == {"w2", "w5", "w8"}
    assert "w4" not in network_drawing.select_nodes(metrics, candidates=False).nodes
    assert set(network_drawing.select_nodes(metrics, years=(2021, 2021)).nodes) == {"w1", "w4", "w7"}
    assert set(network_drawing.select_nodes(metrics, communities=[0]).nodes) == {"w2", "w4", "w6", "w8"}
    assert set(network_drawing.select_nodes(metrics, linked_only=True).nodes) == {f"w{i}" for i in range(1, 10, 2)}
    assert network_drawing.select_nodes(metrics, years=(1990, 1991)).nodes == []
    with pytest.raises(UsageError):
        network_drawing.select_nodes(metrics, max_nodes=0)
    with pytest.raises(UsageError, match="unknown colour"):
        network_drawing.network_html(nx.DiGraph(), metrics, [], color_by="size")


def test_network_of_the_bundled_graph(graph, corpus):
    g, metrics = analysis.citation_graph(corpus), analysis.citation_metrics(corpus)
    chosen = network_drawing.select_nodes(metrics, linked_only=True)
    assert len(chosen.nodes) == 33 and chosen.nodes[0] != ""
    page = network_drawing.network_html(g, metrics, chosen.nodes, category_labels=corpus.notation_labels("category"))
    data = re.search(r"nodes = new vis\.DataSet\((\[.*?\])\);", page, re.S).group(1)
    assert data.count('"id":') == 33


def test_markdown_from_the_graph_is_inert():
    from kg.app.ui import md

    text = md("**bold** [x](javascript:alert(1)) <b>hi</b> :red[x] $x$ 1. a_b `c`")
    assert re.search(r"(?<!\\)[*\[\]()<>:$`_]", text) is None
    assert md("a\n\n# b") == "a \\# b"
