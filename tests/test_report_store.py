"""The gap report counted in the store (kg.analysis.report_counts, what `kg report` runs on a
graph) against the same report computed from the loaded analysis corpus (build_report(...,
via="corpus"), the reference): the whole content, its JSON and its HTML, on the bundled graph
after `kg classify` and on kg bench's synthetic corpus with edge cases (empty and thin cells,
works out of scope, classifier labels below the minimum confidence, works without a year,
candidates citing surveyed works, a possible match)."""

from __future__ import annotations

import json

import pytest

from graph_support import in_memory_graph, with_classifier_labels

from kg.report import build_report, render

KG = "https://w3id.org/kg-survey/ontology#"


@pytest.fixture(scope="module")
def classified(classified_graph):
    return classified_graph


def _bundle():
    """kg bench's synthetic corpus at 300 papers: a third of its labels the classifier's alone (at
    confidences from 0.3 to 0.95), some asserted and predicted again, one cell left to the
    classifier, one thin; works without a year; candidates citing placed works and cited by them."""
    from kg.bench import synthetic_bundle
    from kg.records import Citation

    bundle = synthetic_bundle(300, seed=7)
    for i, work in enumerate(bundle.works):
        category = next((label.value for label in work.labels if label.axis == "category"), None)
        if category == "retrieval" and i % 3:
            work.labels = [label for label in work.labels if label.value != "fine_tuning"]
        elif category == "recommendation" and i % 4:
            work.labels = [label for label in work.labels if label.value != "generation"]
        if i % 11 == 0:
            work.year = None
        if i % 17 == 5:  # a candidate: harvested, not placed
            work.labels = [label for label in work.labels if label.axis not in ("category", "mechanism")]
            work.candidate = True
    with_classifier_labels(bundle)
    refs = [f"arxiv:{w.ids['arxiv']}" for w in bundle.works]
    bundle.citations += [Citation(refs[i], refs[i + 1], bundle.sources[0].id) for i in range(0, 60, 4)]
    return bundle


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    # a few placed works out of scope (they count nowhere), a surveyed work, a match
    graph = in_memory_graph(_bundle(), tmp_path_factory.mktemp("synthetic-report"), out_of_scope=6)
    graph.store.update(
        f"INSERT {{ ?w <{KG}surveyed> true }} WHERE {{ {{ SELECT ?w WHERE {{ ?w <{KG}category> ?c }} "
        f"ORDER BY DESC(?w) LIMIT 40 }} }}")
    graph.store.update(
        f"INSERT {{ ?a <{KG}possibleMatch> ?b }} WHERE {{ {{ SELECT ?a WHERE {{ ?a <{KG}isCandidate> true }} "
        f"ORDER BY ?a LIMIT 1 }} {{ SELECT ?b WHERE {{ ?b <{KG}surveyed> true }} ORDER BY ?b LIMIT 1 }} }}")
    return graph


def _same(graph, category=None, min_confidence=None, works_per_cell=None):
    ours = build_report(graph, category, min_confidence=min_confidence, works_per_cell=works_per_cell)
    reference = build_report(graph, category, min_confidence=min_confidence, via="corpus",
                             works_per_cell=works_per_cell)
    ours["generated_at"] = reference["generated_at"]
    for key in reference:
        assert ours[key] == reference[key], key
    assert json.dumps(ours) == json.dumps(reference)
    for fmt in ("json", "html") if works_per_cell is None else ("json", "html", "md", "tex", "bib"):
        assert render(ours, fmt) == render(reference, fmt)
    return ours


@pytest.mark.parametrize("min_confidence", [None, 0.9])
def test_bundled_graph_after_classify(classified, min_confidence):
    report = _same(classified, min_confidence=min_confidence)
    assert report["works"] and report["central_papers"] and report["trends"] and report["unexplored_combinations"]


def test_bundled_graph_one_category(classified):
    _same(classified, "retrieval")


@pytest.mark.parametrize("min_confidence", [0.0, 0.5, 0.9])
def test_synthetic_graph_with_edge_cases(synthetic, min_confidence):
    report = _same(synthetic, min_confidence=min_confidence)
    assert any(e["predicted"] for e in report["works"])
    assert any(e["year"] is None for e in report["works"])
    assert report["missed_candidates"] and report["missed_candidates"][0]["score"] > 0
    if min_confidence == 0.9:
        assert report["summary"]["held_back"] > 0


def test_synthetic_graph_one_category(synthetic):
    _same(synthetic, "recommendation", 0.6)


def test_an_unknown_category_is_a_usage_error(synthetic):
    from kg.errors import UsageError

    with pytest.raises(UsageError, match="unknown category"):
        build_report(synthetic, "nope")


@pytest.mark.parametrize("works_per_cell", [1, 4])
def test_capped_lists_are_the_same_both_ways(synthetic, classified, works_per_cell):
    """Each cell's first works, chosen in the store from the (work, cell) pairs, the citation table
    and the years, with only the chosen works' fields read: the corpus path's choice, and the
    first works of the complete lists."""
    for graph, least in ((synthetic, 0.5), (synthetic, 0.9), (classified, None)):
        capped = _same(graph, min_confidence=least, works_per_cell=works_per_cell)
        full = build_report(graph, min_confidence=least)
        assert capped["works_per_cell"] == works_per_cell and full["works_per_cell"] is None
        cut = 0
        for small, whole in zip(capped["cells"], full["cells"]):
            assert [p["work"] for p in small["papers"]] == [p["work"] for p in whole["papers"]][:works_per_cell]
            assert small["more_papers"] == len(whole["papers"]) - len(small["papers"])
            assert whole["more_papers"] == 0
            cut += small["more_papers"]
        assert cut or graph is classified  # some synthetic cell holds more works than it lists
        shown = {p["work"] for c in capped["cells"] for p in c["papers"]}
        assert {e["work"] for e in capped["works"]} == shown
        full_entries = {e["work"]: e for e in full["works"]}
        for entry in capped["works"]:  # the same fields, every cell of the work named
            assert {k: v for k, v in entry.items() if k != "key"} == \
                {k: v for k, v in full_entries[entry["work"]].items() if k != "key"}
    _same(synthetic, "recommendation", 0.6, works_per_cell=2)
