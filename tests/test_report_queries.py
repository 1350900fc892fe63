"""The gap report's named queries rewritten to answer page one fast at 100,000 papers give what
their earlier texts gave (tests/fixtures/report-queries-before/ keeps those texts): on the bundled
graph, after `kg classify`, and on a synthetic graph with the classifier's labels, works without a
year and works out of scope.

- report-works and report-concept-links are paged listings now: their pages together are the
  earlier listing (report-works: the same rows; report-concept-links: the links report-cell-links
  listed, and the concept pairs report-concept-pairs counted, counted from it);
- report-candidates-without-year: the same rows."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import replace
from itertools import combinations
from pathlib import Path

import pytest

from graph_support import in_memory_graph, with_classifier_labels

from kg.sparql.named import _parse, get_query, run_named

BEFORE = Path(__file__).resolve().parent / "fixtures" / "report-queries-before"


def _before(name: str):
    return _parse(name, (BEFORE / f"{name}.rq").read_text(encoding="utf-8"))


def _rows(graph, text: str) -> list[tuple]:
    return [tuple(row) for row in graph.values(text)]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    from kg.bench import synthetic_bundle

    bundle = with_classifier_labels(synthetic_bundle(300, seed=3))
    for i, work in enumerate(bundle.works):
        if i % 9 == 0:
            work.year = None
        if i % 13 == 4:
            work.candidate = True
            work.labels = [label for label in work.labels if label.axis not in ("category", "mechanism")]
    return in_memory_graph(bundle, tmp_path_factory.mktemp("report-queries"), out_of_scope=7)


@pytest.fixture(params=["bundled", "classified", "synthetic"])
def any_graph(request):
    return request.getfixturevalue({"bundled": "graph", "classified": "classified_graph"}.get(
        request.param, request.param))


def _pages(graph, name: str, size: int) -> list[tuple]:
    query = replace(get_query(name), page_size=size)
    out, number = [], 0
    while True:
        number += 1
        rows = _rows(graph, query.page_text(number, size))
        if not rows:
            return out
        out += rows


@pytest.mark.parametrize("size", [1000, 7])
def test_report_works_pages_are_the_earlier_listing(any_graph, size):
    before = sorted(_rows(any_graph, _before("report-works").text))
    paged = _pages(any_graph, "report-works", size)
    assert len(paged) == len(set(paged))  # pages neither overlap
    assert sorted(paged) == before and before
    whole = run_named(any_graph, "report-works")  # all pages, as `kg query --name report-works --all`
    assert sorted(tuple(None if t is None else t.value for t in (r.get(v) for v in whole.vars))
                  for r in whole.rows) == before


@pytest.mark.parametrize("size", [1000, 11])
def test_concept_links_hold_the_earlier_cell_links_and_pairs(any_graph, size):
    links = _pages(any_graph, "report-concept-links", size)
    cell = sorted({r for r in links if r[1] in ("category", "mechanism")})
    assert cell == sorted(set(_rows(any_graph, _before("report-cell-links").text))) and cell
    # the pairs counted from the links, as ReportCounts counts them, are report-concept-pairs'
    notation = dict(_rows(any_graph, "SELECT ?c ?n WHERE { ?c skos:notation ?n }"))
    by_work = defaultdict(set)
    for work, kind, concept in links:
        by_work[work].add(f"{kind}:{notation.get(concept, concept)}")
    pairs = Counter()
    for keys in by_work.values():
        pairs.update(combinations(sorted(keys), 2))
    before = {(a, b): int(n) for a, b, n in _rows(any_graph, _before("report-concept-pairs").text) if a < b}
    assert dict(pairs) == before and before


def test_report_counts_pairs_equal_the_earlier_query(any_graph):
    from kg.analysis.report_counts import ReportCounts

    counts = ReportCounts(any_graph)
    before = {(a, b): int(n) for a, b, n in _rows(any_graph, _before("report-concept-pairs").text) if a < b}
    plain = Counter()
    by_work = defaultdict(set)
    for work, kind, notation in counts.concept_links():
        by_work[work].add(f"{kind}:{notation}")
    for keys in by_work.values():
        plain.update(combinations(sorted(keys), 2))
    assert dict(plain) == before


def test_candidates_without_year_as_before(any_graph):
    before = sorted(_rows(any_graph, _before("report-candidates-without-year").text))
    assert sorted(_rows(any_graph, get_query("report-candidates-without-year").text)) == before


def test_the_synthetic_graph_has_candidates_without_a_year(synthetic):
    assert _rows(synthetic, _before("report-candidates-without-year").text)


def test_the_plain_counts_from_the_links_are_the_queries(any_graph):
    """The report counts what report-modality-counts and report-cell-datasets count in the store from
    the concept links it reads anyway (one scan fewer each): the same counts."""
    from kg.analysis.report_counts import ReportCounts

    counts = ReportCounts(any_graph)
    modality = {(x, c): int(n) for x, c, n in _rows(any_graph, get_query("report-modality-counts").text)}
    assert counts._plain_modality_counts() == modality and modality
    cells = {(c, m, d): int(n) for c, m, d, n in _rows(any_graph, get_query("report-cell-datasets").text)}
    assert counts._plain_cell_datasets() == cells and cells
