"""`kg curate`: a person's decision is kept in curation.yaml, survives rebuilds and always wins."""

from __future__ import annotations

import json

import yaml

from kg.build import build
from kg.classify.data import read_works, training_examples
from kg.classify.run import RECORD_FILE
from kg.pipeline import classify as classify_graph
from kg.records.file import read_bundle
from kg.store import LocalGraph

PVIT = "https://w3id.org/kg-survey/id/work/arxiv/2410.07113"  # Table 1: text_generation / fine_tuning
PLLM = "https://w3id.org/kg-survey/id/work/arxiv/2402.09269"  # list paper: no category from any source


def effective(store, iri: str, prop: str) -> set[str]:
    rows = LocalGraph(store).query(f"SELECT ?n WHERE {{ <{iri}> kg:{prop}/skos:notation ?n }}", trusted=True)
    return {r["n"] for r in rows.records()}


def assertions(store, iri: str, prop: str) -> list[dict]:
    return LocalGraph(store).query(f"""
        SELECT ?n ?agent ?source ?conf ?evidence WHERE {{ <{iri}> kg:hasLabel ?a . ?a kg:axis kg:{prop} ;
          kg:concept/skos:notation ?n ; prov:wasAttributedTo/rdfs:label ?agent ; prov:wasDerivedFrom ?source ;
          kg:confidence ?conf . OPTIONAL {{ ?a rdfs:comment ?evidence }} }}""", trusted=True).records()


def test_curated_label_wins_over_the_survey_and_survives_rebuilds(kg, store_copy):
    assert effective(store_copy, PVIT, "category") == {"text_generation"}
    result = kg("curate", "2410.07113", "--category", "retrieval", "--mechanism", "alignment",
                "--mechanism", "generation", "--by", "Alice", "--note", "re-read sec. 3", store=store_copy)
    assert result.exit_code == 0, result.output
    assert "Alice" in result.stdout
    assert effective(store_copy, PVIT, "category") == {"retrieval"}
    assert effective(store_copy, PVIT, "mechanism") == {"alignment", "generation"}
    curated = [a for a in assertions(store_copy, PVIT, "category") if a["source"].endswith("/source/curation")]
    assert [(a["n"], a["agent"], float(a["conf"]), a["evidence"]) for a in curated] == [
        ("retrieval", "Alice", 1.0, "re-read sec. 3")]
    # the survey's own assertion is still there, beside the person's
    assert {a["n"] for a in assertions(store_copy, PVIT, "category")} == {"text_generation", "retrieval"}
    # the file is plain YAML with the decision and the work's identifiers
    doc = yaml.safe_load((store_copy / "curation.yaml").read_text())
    [decision] = doc["decisions"]
    assert decision["work"]["arxiv"] == "2410.07113" and decision["by"] == "Alice"
    assert decision["category"] == ["retrieval"] and decision["mechanism"] == ["alignment", "generation"]
    # a plain rebuild reads the file again
    assert kg("build", store=store_copy).exit_code == 0
    assert effective(store_copy, PVIT, "category") == {"retrieval"}
    assert kg("validate", store=store_copy).exit_code == 0


def test_curated_label_wins_over_prediction_and_trains_the_classifier(kg, store_copy):
    classify_graph(store_copy)
    predicted = effective(store_copy, PLLM, "category")
    assert len(predicted) == 1
    other = ({"text_generation", "image_generation", "recommendation", "retrieval"} - predicted).pop()
    assert kg("curate", "Personalized Large Language Models", "--category", other, "--by", "Bob",
              store=store_copy).exit_code == 0
    assert effective(store_copy, PLLM, "category") == {other}  # before any re-classification
    # the curated label is now training data, and the classifier leaves that axis alone
    examples = {e.key: e for e in training_examples(read_works(LocalGraph(store_copy)))}
    assert examples[PLLM].labels["category"] == {other}
    report = classify_graph(store_copy)
    assert report.relabelled == 49  # new training data: every prediction is refreshed
    records = read_bundle(store_copy / "records" / RECORD_FILE)
    [work] = [w for w in records.works if w.ids.get("arxiv") == "2402.09269"]
    assert "category" not in {lab.axis for lab in work.labels}
    assert "mechanism" in {lab.axis for lab in work.labels}
    assert effective(store_copy, PLLM, "category") == {other}


def test_latest_decision_wins(kg, store_copy):
    for value in ("recommendation", "image_generation"):
        assert kg("curate", "Pi et al. (2024)", "--category", value, store=store_copy).exit_code == 0
    assert effective(store_copy, PVIT, "category") == {"image_generation"}
    listed = kg("curate", "--list", "--json", store=store_copy)
    decisions = json.loads(listed.stdout)["decisions"]
    assert [d["category"] for d in decisions] == [["recommendation"], ["image_generation"]]
    assert "2 curation decision" in kg("curate", "--list", store=store_copy).stdout


def test_bad_curation_input(kg, store_copy):
    result = kg("curate", "2410.07113", "--category", "poetry", store=store_copy)
    assert result.exit_code == 2 and "text_generation" in result.message and "retrieval" in result.message
    result = kg("curate", "2410.07113", "--input-modality", "smell", store=store_copy)
    assert result.exit_code == 2 and "user_behavior" in result.message
    assert kg("curate", "2410.07113", store=store_copy).exit_code == 2  # nothing to record
    assert kg("curate", store=store_copy).exit_code == 2  # no paper
    result = kg("curate", "9999.99999", "--category", "retrieval", store=store_copy)
    assert result.exit_code == 1 and "no paper matches" in result.message
    assert not (store_copy / "curation.yaml").exists()  # nothing was written
    result = kg("curate", "2410.07113", "--category", "retrieval", store="http://127.0.0.1:9/sparql")
    assert result.exit_code == 1 and "local store" in result.message


def test_a_partial_title_offers_the_closest_titles(kg, store_copy):
    result = kg("curate", "Personalized audio generation", "--category", "retrieval", store=store_copy)
    assert result.exit_code == 1 and "no paper matches 'Personalized audio generation'" in result.message
    assert "Closest titles" in result.message
    assert "2404.08677  PMG: Personalized Multimodal Generation with Large Language Models" in result.message
    result = kg("curate", "personalised visual instruction", "--category", "retrieval", store=store_copy)
    assert "2410.07113  Personalized Visual Instruction Tuning" in result.message  # spelling variants count
    assert kg("curate", "2410.07113", "--category", "retrieval", store=store_copy).exit_code == 0  # as offered
    result = kg("curate", "zzzz qqqq", "--category", "retrieval", store=store_copy)
    assert result.exit_code == 1 and "Closest titles" not in result.message  # nothing close: no list


def test_broken_curation_file_stops_the_build_and_keeps_the_graph(kg, store_copy):
    before = LocalGraph(store_copy).triple_count()
    (store_copy / "curation.yaml").write_text("decisions:\n- paper: x\n  work: {arxiv: '2410.07113'}\n  category: poetry\n")
    result = kg("build", store=store_copy)
    assert result.exit_code == 1
    assert "curation.yaml" in result.message and "decision #1" in result.message and "poetry" in result.message
    assert LocalGraph(store_copy).triple_count() == before
    (store_copy / "curation.yaml").write_text("decisions: [unclosed\n")
    result = kg("build", store=store_copy)
    assert result.exit_code == 1 and "line" in result.message


def test_a_key_written_twice_is_refused_and_no_decision_is_lost(kg, store_copy):
    """A second `decisions:` appended to curation.yaml (the documented block copied in) would make
    YAML keep only the last list: the decisions above it vanish, and the next `kg curate` would
    write the file without them. It is refused, naming both lines, and nothing is rewritten."""
    for paper, who in (("2406.09400", "Alice"), ("2312.04793", "Bob")):
        assert kg("curate", paper, "--category", "retrieval", "--by", who, store=store_copy).exit_code == 0
    path = store_copy / "curation.yaml"
    with path.open("a", encoding="utf-8") as fh:
        fh.write("decisions:\n- paper: 2410.07113\n  category: [text_generation]\n")
    before = path.read_bytes()
    first = next(i for i, line in enumerate(before.decode().splitlines(), 1) if line.startswith("decisions:"))
    for args in (("curate", "--list"), ("build",), ("curate", "2403.10667", "--category", "recommendation")):
        result = kg(*args, store=store_copy)
        assert result.exit_code == 1, args
        assert "'decisions' is written twice" in result.message and f"first at line {first}" in result.message
    assert path.read_bytes() == before  # Alice's and Bob's decisions are still there
    from kg.records.corpus import load_yaml_text

    assert load_yaml_text("1: a\n'1': b\n") == {1: "a", "1": "b"}  # two keys, not one written twice
    merged = "a: &a {y: 0}\nouter: {b: &b {<<: *a, y: 1}}\nc: {<<: *b}\n"  # merge keys are no duplicates
    assert load_yaml_text(merged) == yaml.safe_load(merged)


def test_decision_for_a_vanished_work_is_set_aside(store_copy):
    (store_copy / "curation.yaml").write_text(yaml.safe_dump({"decisions": [
        {"paper": "gone", "work": {"arxiv": "1111.11111"}, "title": "A paper that left the graph",
         "by": "Carol", "at": "2026-01-01T00:00:00Z", "category": "retrieval"}]}))
    report = build(store_copy)
    assert any("match no work" in w for w in report.warnings)
    assert report.stats["papers"] == 49
