"""The gap matrix counted in the store (kg.analysis.gap_counts, what kg gaps runs) against
gap_matrix / summary / empty_cells / thin_cells over a loaded Corpus, the computation it
replaces: the bundled graph after `kg classify` and kg bench's synthetic corpus with some
labels turned into the classifier's predictions, at two minimum confidences; and every form
of kg gaps printed both ways."""

from __future__ import annotations

import json

import pytest

from graph_support import in_memory_graph, with_classifier_labels

from kg.analysis import empty_cells, gap_matrix, load_corpus, summary, thin_cells
from kg.analysis.gap_counts import (
    COUNT_COLUMNS,
    GapCounts,
    gap_cells,
    pandas_cell_counts,
)
from kg.errors import UsageError


@pytest.fixture(scope="module")
def classified(classified_graph):
    return classified_graph


def _synthetic_bundle():
    """kg bench's synthetic corpus at 300 papers, with a share of its labels turned into the
    classifier's predictions at several confidences, and a thin and an empty cell."""

    from kg.bench import synthetic_bundle

    bundle = synthetic_bundle(300, seed=5)
    for i, work in enumerate(bundle.works):  # thin and empty cells, for the nearest papers
        category = next((label.value for label in work.labels if label.axis == "category"), None)
        if category == "retrieval" and i % 3:  # retrieval x fine_tuning: only the classifier's (below)
            work.labels = [label for label in work.labels if label.value != "fine_tuning"]
        elif category == "recommendation" and i % 4:  # recommendation x generation: thin
            work.labels = [label for label in work.labels if label.value != "generation"]
    return with_classifier_labels(bundle)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """_synthetic_bundle's graph, six placed works out of scope."""
    return in_memory_graph(_synthetic_bundle(), tmp_path_factory.mktemp("synthetic"), out_of_scope=6)


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


# ---------------------------------------------------------------- kg gaps: the store path against the corpus path
class CorpusCounts:
    """The reference: kg gaps's figures from gap_matrix / summary / empty_cells / thin_cells over
    load_corpus (what kg gaps printed before it counted in the store), behind GapCounts's interface."""

    def __init__(self, graph, min_confidence=None):
        self.corpus = load_corpus(graph, min_confidence)
        self.min_confidence = self.corpus.min_confidence

    def cells(self, by=None, *, category=None, works=False):
        return gap_matrix(self.corpus, by=by, category=category).to_dict("records")

    def summary(self):
        return summary(self.corpus)

    def empty_cells(self, *, category=None):
        return empty_cells(self.corpus, category=category).to_dict("records")

    def thin_cells(self, *, category=None):
        return thin_cells(self.corpus, category=category).to_dict("records")


SUMMARY_KEYS = ["cells", "filled", "empty", "thin", "asserted_filled", "asserted_empty", "asserted_thin",
                "predicted_labels", "held_back", "min_confidence", "in_taxonomy", "enough", "note"]


def _both(graph, min_confidence):
    return CorpusCounts(graph, min_confidence), GapCounts(graph, min_confidence)


@pytest.mark.parametrize("min_confidence", [0.5, 0.8])
@pytest.mark.parametrize("which", ["classified", "synthetic"])
def test_cells_summary_and_flagged_cells_as_the_corpus_counts_them(which, min_confidence, request):
    graph = request.getfixturevalue(which)
    reference, ours = _both(graph, min_confidence)
    categories = [None, *sorted({r["category"] for r in reference.cells()})[:2]]
    for by in (None, "modality", "year"):
        for category in categories:
            expected = reference.cells(by, category=category)
            assert ours.cells(by, category=category, works=True) == expected, (by, category)
            columns = [k for k in expected[0] if k not in ("papers", "works", "predicted_works")] if expected else []
            assert ours.cells(by, category=category) == [{k: r[k] for k in columns} for r in expected], (by, category)
    head = reference.summary()
    assert ours.summary() == {k: head[k] for k in SUMMARY_KEYS}
    flagged, near = 0, 0
    for category in categories:
        for name in ("empty_cells", "thin_cells"):
            expected = getattr(reference, name)(category=category)
            near += sum(bool(r["nearest"]) for r in expected)
            columns = [k for k in (expected[0] if expected else {}) if k not in ("papers", "works", "predicted_works")]
            assert [{k: r[k] for k in columns} for r in getattr(ours, name)(category=category)] == \
                   [{k: r[k] for k in columns} for r in expected], (name, category)
            flagged += len(expected)
    assert head["predicted_labels"] and head["held_back"]
    assert which == "classified" or (flagged and near)  # the bundled graph has no empty or thin cell


@pytest.mark.parametrize("which", ["classified", "synthetic"])
@pytest.mark.parametrize("args", [[], ["--min-confidence", "0.8"], ["--by", "modality"], ["--by", "year"],
                                  ["--json"], ["--json", "--by", "year", "--min-confidence", "0.7"],
                                  ["--json", "--by", "modality"], ["--category", "CATEGORY"],
                                  ["--category", "CATEGORY", "--json"]])
def test_kg_gaps_prints_what_the_corpus_path_printed(which, args, request, kg, monkeypatch):
    """Every form of kg gaps, run on the store path and on the corpus path (GapCounts replaced by
    the reference), prints the same, character for character."""
    from kg.cli import console

    graph = request.getfixturevalue(which)
    if "CATEGORY" in args:
        first = next(r["category"] for r in CorpusCounts(graph).cells() if r["count"])
        args = [first if a == "CATEGORY" else a for a in args]
    monkeypatch.setattr(console, "graph", lambda: graph)
    ours = kg("gaps", *args)
    from kg.analysis import gap_counts

    monkeypatch.setattr(gap_counts, "GapCounts", CorpusCounts)
    reference = kg("gaps", *args)
    assert ours.exit_code == reference.exit_code == 0, ours.output
    assert ours.output == reference.output
    if "--json" in args:
        assert json.loads(ours.output)
    else:
        assert "cells filled" in ours.output or "--by" in args


def test_kg_gaps_reads_no_works(classified, kg, monkeypatch):
    """kg gaps counts in the store: it never loads the analysis corpus (nor pandas' listings)."""
    from kg.analysis import data
    from kg.cli import console

    def no_corpus(*args, **kwargs):
        raise AssertionError("kg gaps loaded the corpus")

    monkeypatch.setattr(data, "load_corpus", no_corpus)
    monkeypatch.setattr(console, "graph", lambda: classified)
    for args in ([], ["--by", "year"], ["--by", "modality"], ["--json"]):
        assert kg("gaps", *args).exit_code == 0


@pytest.mark.parametrize("min_confidence", [0.5, 0.8])
def test_the_pandas_baseline_counts_the_records_as_the_store_does(tmp_path, min_confidence):
    """pandas_cell_counts (kg bench's baseline for kg gaps) over the records file gives the store's
    counts of the graph built from the same records."""
    from kg.records.file import write_bundle

    bundle = _synthetic_bundle()
    write_bundle(tmp_path / "records.jsonl", bundle)
    graph = in_memory_graph(bundle, tmp_path)
    counted = pandas_cell_counts(tmp_path / "records.jsonl", min_confidence)
    cells = GapCounts(graph, min_confidence).cells()
    assert counted == {(r["category"], r["mechanism"]): r["count"] for r in cells if r["count"]}
    assert sum(r["predicted"] for r in cells) > 0
    assert pandas_cell_counts(tmp_path / "records.jsonl", 0.0) != pandas_cell_counts(tmp_path / "records.jsonl", 0.99)
