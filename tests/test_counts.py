"""What counts: asserted and predicted works apart in every count, predictions only from the
minimum confidence up, and works out of scope nowhere."""

from __future__ import annotations

import json
import re
import shutil

import pyoxigraph as ox
import pytest

from kg.analysis import (
    MIN_CONFIDENCE,
    citation_metrics,
    cooccurrence_matrix,
    coverage_audit,
    dataset_gaps,
    empty_cells,
    gap_matrix,
    load_corpus,
    modality_gaps,
    summary,
    trends,
    unexplored_combinations,
    year_counts,
)
from kg.records import Label, Source, Work
from kg.report import FORMATS, build_report, render, report_schema

TG, IG, RET = "text_generation", "image_generation", "retrieval"
CLASSIFIER = Source("classifier", "Labels predicted by the kg classifier", "kg-classifier 0.1.0")
PDFLATEX = shutil.which("pdflatex")


def predicted(n: int, labels: dict[str, tuple[str, float]], *, asserted: dict[str, str] | None = None,
              review: bool = False) -> Work:
    """Work n with labels the classifier predicts ({axis: (value, confidence)}) and, optionally,
    labels a source asserts ({axis: value})."""
    out = [Label(axis, value, "classifier", confidence, agent="kg-classifier 0.1.0",
                 needs_review=review or confidence < 0.5) for axis, (value, confidence) in labels.items()]
    out += [Label(axis, value, "t") for axis, value in (asserted or {}).items()]
    return Work(ids={"arxiv": f"2401.{n:05d}"}, sources=["t"], title=f"Paper {n}", year=2024, labels=out)


@pytest.fixture
def mixed(rec, make_graph):
    """TG/instruction: 4 asserted + work 5 predicted (0.9 category, 0.8 mechanism); IG/alignment:
    work 6, asserted category with a predicted mechanism (0.7); work 7 predicted at 0.3 only;
    TG/alignment: 3 asserted."""
    works = [rec.work(n, TG, ["instruction"]) for n in range(1, 5)]
    works.append(predicted(5, {"category": (TG, 0.9), "mechanism": ("instruction", 0.8)}))
    works.append(predicted(6, {"mechanism": ("alignment", 0.7)}, asserted={"category": IG}))
    works.append(predicted(7, {"category": (RET, 0.3), "mechanism": ("instruction", 0.3)}))
    works += [rec.work(n, TG, ["alignment"]) for n in range(8, 11)]
    bundle = rec.bundle(works)
    bundle.sources.append(CLASSIFIER)
    return make_graph(bundle)


def cell(frame, cat, mech):
    row = frame[(frame["category"] == cat) & (frame["mechanism"] == mech)]
    assert len(row) == 1
    return row.iloc[0]


def test_asserted_and_predicted_per_cell(mixed, rec):
    cells = gap_matrix(mixed)
    tg = cell(cells, TG, "instruction")
    assert (tg["asserted"], tg["predicted"], tg["count"]) == (4, 1, 5)
    assert tg["predicted_works"] == {rec.ref(5).replace("arxiv:", "https://w3id.org/kg-survey/id/work/arxiv/"): 0.8}
    assert len(tg["works"]) == 5 and len(tg["papers"]) == 5
    ig = cell(cells, IG, "alignment")
    assert (ig["asserted"], ig["predicted"]) == (0, 1)  # the category is asserted, the mechanism predicted
    assert ig["asserted_status"] == "empty" and ig["status"] == "ok"
    # below the minimum confidence a prediction counts nowhere: work 7 is in no cell
    assert cell(cells, RET, "instruction")["count"] == 0
    assert cells["count"].sum() == 9 and cells["asserted"].sum() == 7
    # expected counts: over all counted works, and over the asserted ones alone
    assert ig["expected"] == pytest.approx(1 * 4 / 9, abs=1e-3) and ig["asserted_expected"] == 0
    flagged = empty_cells(mixed).set_index(["category", "mechanism"])
    assert flagged.loc[(IG, "alignment"), "note"] == "empty in the asserted evidence, 1 predicted"
    s = summary(mixed)
    assert (s["in_taxonomy"], s["placed_asserted"], s["placed_predicted"]) == (9, 8, 1)
    assert (s["held_back"], s["needs_review"], s["min_confidence"]) == (2, 2, MIN_CONFIDENCE)
    assert s["asserted_empty"] == s["empty"] + 1
    assert (s["surveyed"], s["works"]) == (0, 10)  # no survey table in this graph


def test_min_confidence_moves_predictions_in_and_out(mixed):
    everything = load_corpus(mixed, min_confidence=0)
    cells = gap_matrix(everything)
    assert cell(cells, RET, "instruction")["predicted"] == 1 and summary(everything)["held_back"] == 0
    strict = load_corpus(everything, min_confidence=0.95)  # a corpus is re-counted, not re-read
    cells = gap_matrix(strict)
    assert cells["predicted"].sum() == 0 and cells["count"].sum() == 7
    s = summary(strict)
    assert s["placed_predicted"] == 0 and s["in_taxonomy"] == 8  # work 6 keeps its asserted category
    back = load_corpus(strict, min_confidence=0.5)
    assert gap_matrix(back)["predicted"].sum() == 2
    assert year_counts(back).set_index("year").loc[2024, "predicted"] == 1
    t = trends(back).set_index(["category", "mechanism"])
    assert (t.loc[(TG, "instruction"), "asserted"], t.loc[(TG, "instruction"), "predicted"]) == (4, 1)


def test_modality_and_dataset_gaps_split(rec, make_graph):
    works = [rec.work(1, TG, ["instruction"], inputs=["image"]),
             predicted(2, {"input_modality": ("video", 0.9)}, asserted={"category": TG, "mechanism": "alignment"}),
             predicted(3, {"category": (RET, 0.9), "mechanism": ("alignment", 0.9)})]
    bundle = rec.bundle(works, datasets={"Vids": [2]})
    bundle.sources.append(CLASSIFIER)
    graph = make_graph(bundle)
    mods = modality_gaps(graph).set_index("modality")
    assert (mods.loc["video", "asserted"], mods.loc["video", "predicted"]) == (0, 1)
    assert mods.loc["video", "status"] == "input only" and mods.loc["video", "asserted_status"] == "absent"
    assert mods.loc["image", "asserted_status"] == "input only"
    by_mod = gap_matrix(graph, by="modality")
    video = by_mod[(by_mod["modality"] == "video") & (by_mod["count"] > 0)]
    assert list(video["predicted"]) == [1]  # a Table-1-like work with a predicted modality
    ds = dataset_gaps(graph).set_index(["axis", "notation"])
    assert (ds.loc[("category", RET), "works"], ds.loc[("category", RET), "predicted"]) == (1, 1)
    assert ds.loc[("category", TG), "predicted"] == 0


def test_the_report_marks_predicted_works(mixed):
    report = build_report(mixed)
    json.loads(render(report, "json"))
    import jsonschema

    jsonschema.validate(report, report_schema())
    tg = next(c for c in report["cells"] if (c["category"], c["mechanism"]) == (TG, "instruction"))
    assert (tg["asserted"], tg["predicted"], tg["count"]) == (4, 1, 5)
    assert [p["predicted"] for p in tg["papers"]] == [False] * 4 + [True]  # asserted examples first
    assert tg["papers"][-1]["confidence"] == 0.8
    paper5 = next(w for w in report["works"] if w["label"] == "Paper 5")
    assert paper5["predicted"] and paper5["confidence"] == 0.8
    assert not next(w for w in report["works"] if w["label"] == "Paper 1")["predicted"]
    assert "Paper 7" not in {w["label"] for w in report["works"]}
    texts = {fmt: render(report, fmt) for fmt in FORMATS}
    assert "**4 (+1 predicted)**" in texts["md"] and "**0 (+1 predicted)**" in texts["md"]
    assert "Paper 6 \u20200.70" in texts["md"]  # the cell's example, marked with its confidence
    assert "(\u2020 predicted, confidence 0.80)" in texts["md"]  # in the list of works
    assert "empty in the asserted evidence, 1 predicted" in texts["md"]
    assert "need a person's review" in texts["md"] and "2 below 0.5 do not" in texts["md"]
    assert r"4 (+1 predicted)" in texts["tex"] and r"~$\dagger$0.70" in texts["tex"] and texts["tex"].isascii()
    assert r"$\dagger$~Placed by the classifier, confidence 0.80." in texts["tex"]
    assert '<span class="predicted"' in texts["html"] and "4 (+1 predicted)" in texts["html"]
    rows = list(__import__("csv").DictReader(__import__("io").StringIO(texts["csv"])))
    row = next(r for r in rows if (r["category"], r["mechanism"]) == (TG, "instruction"))
    assert (row["count"], row["asserted"], row["predicted"]) == ("5", "4", "1")
    assert row["predicted_papers"] == "Paper 5 (0.80)" and row["asserted_status"] == "ok"
    strict = build_report(mixed, min_confidence=0.95)
    assert strict["summary"]["min_confidence"] == 0.95 and not any(w["predicted"] for w in strict["works"])


def test_an_excluded_work_disappears_from_every_count(rec, make_graph):
    """Work 9 is placed alone in RET/generation, takes video in, uses its own dataset, builds on
    a method, cites and is cited; work 10 is a candidate cited by a placed work. Marked out of
    scope, neither counts anywhere."""
    works = [rec.work(n, TG, ["instruction"], inputs=["text"]) for n in range(1, 5)]
    works += [rec.work(n, IG, ["alignment"], inputs=["image"]) for n in range(5, 9)]
    works.append(rec.work(9, RET, ["generation"], inputs=["video"], title="Out of scope paper"))
    works.append(rec.work(10, candidate=True, title="Out of scope candidate"))
    bundle = rec.bundle(works, cites=[(9, 1), (2, 9), (3, 10)], datasets={"Only9": [9], "Shared": [1, 9]})
    graph = make_graph(bundle)
    iris = {n: rec.ref(n).replace("arxiv:", "https://w3id.org/kg-survey/id/work/arxiv/") for n in (9, 10)}

    def everything(g) -> str:
        corpus = load_corpus(g)
        parts = [gap_matrix(corpus), gap_matrix(corpus, by="modality"), gap_matrix(corpus, by="year"), trends(corpus),
                 year_counts(corpus), modality_gaps(corpus), dataset_gaps(corpus), citation_metrics(corpus),
                 coverage_audit(corpus), cooccurrence_matrix(corpus), unexplored_combinations(corpus)]
        return "\n".join(p.to_json() for p in parts) + json.dumps(build_report(corpus)) + json.dumps(summary(corpus))

    before = everything(graph)
    assert iris[9] in before and iris[10] in before and "Out of scope" in before
    cells = gap_matrix(graph)
    assert cell(cells, RET, "generation")["count"] == 1
    assert modality_gaps(graph).set_index("modality").loc["video", "works"] == 1
    scope = ox.NamedNode("https://w3id.org/kg-survey/ontology#scopeStatus")
    for iri in iris.values():
        graph.store.add(ox.Quad(ox.NamedNode(iri), scope, ox.Literal("out")))

    after = everything(graph)
    assert iris[9] not in after and iris[10] not in after and "Out of scope" not in after
    corpus = load_corpus(graph)
    assert len(corpus.works) == 8 and corpus.edges.empty and set(corpus.links["work"]) <= set(corpus.works["work"])
    cells = gap_matrix(corpus)
    assert cell(cells, RET, "generation")["count"] == 0 and cells["count"].sum() == 8
    assert modality_gaps(corpus).set_index("modality").loc["video", "status"] == "absent"
    ds = dataset_gaps(corpus).set_index(["axis", "notation"])
    assert ds.loc[("category", TG), "datasets"] == ["Shared"] and ds.loc[("category", RET), "works"] == 0
    assert "input:video" not in cooccurrence_matrix(corpus).index
    assert coverage_audit(corpus).empty
    s = summary(corpus)
    assert (s["works"], s["in_taxonomy"], s["citations"]) == (8, 8, 0)


# ---------------------------------------------------------------- the bundled corpus after `kg classify`
@pytest.fixture(scope="module")
def classified(classified_store):
    return classified_store


def test_bundled_corpus_after_classify_reports_32_surveyed(classified, kg, tmp_path):
    from kg.store import LocalGraph

    corpus = load_corpus(LocalGraph(classified))
    s = summary(corpus)
    assert s["surveyed"] == 32 and s["placed_asserted"] == 32  # the survey's Table 1
    assert s["placed_predicted"] > 0 and s["in_taxonomy"] == 32 + s["placed_predicted"]
    assert s["predicted_labels"] > 0 and s["held_back"] > 0
    cells = gap_matrix(corpus)
    assert cells["asserted"].sum() == 32 and set(cells["asserted"]) == {2}  # two Table-1 works a cell
    report = build_report(corpus)
    import jsonschema

    jsonschema.validate(report, report_schema())
    md = render(report, "md")
    assert re.search(r"\b32 surveyed \(the survey's own table\); \d+ placed in the taxonomy, 32 asserted", md)
    assert "\u2020" in md  # predicted works marked
    # every prediction counts with no minimum; none with a minimum above every confidence
    loose = summary(load_corpus(corpus, min_confidence=0))
    assert loose["held_back"] == 0 and loose["placed_predicted"] >= s["placed_predicted"]
    assert loose["predicted_labels"] == s["predicted_labels"] + s["held_back"]

    result = kg("gaps", "--json", store=classified)
    rows = json.loads(result.output)
    assert sum(r["asserted"] for r in rows) == 32
    guessed = [r for r in rows if r["predicted"]]
    assert guessed, "the classifier places some list paper in a cell at confidence 0.5 or more"
    table = kg("gaps", store=classified).output
    for r in guessed:
        assert re.search(rf"{r['category']}\s+{r['mechanism']}\s+{r['asserted']} \(\+{r['predicted']} predicted\)",
                         table)
    assert "confidence >= 0.5" in table
    none = json.loads(kg("gaps", "--json", "--min-confidence", "1", store=classified).output)
    assert sum(r["predicted"] for r in none) <= sum(r["predicted"] for r in rows)
    assert kg("gaps", "--min-confidence", "2", store=classified).exit_code == 2
    csv_text = kg("report", "--format", "csv", "--min-confidence", "0", store=classified).output
    assert "predicted_papers" in csv_text.splitlines()[0]
    if PDFLATEX:
        from test_report import compile_latex

        compile_latex(tmp_path, render(report, "tex"))  # the daggers and split counts compile


def test_the_cli_default_is_the_analysis_default():
    from kg.cli import gaps as gaps_cli

    assert gaps_cli.MIN_CONFIDENCE == MIN_CONFIDENCE == 0.5
