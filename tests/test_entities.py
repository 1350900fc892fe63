"""Methods and datasets papers name, in the graph: mention records from `kg classify`, statements
with their assertions (provenance and evidence), predicted entities shared across works, shapes,
the `methods` and `datasets` named queries, and people's rename / merge / reject decisions."""

from __future__ import annotations

import json
import shutil

import pytest
import rdflib
import yaml

from kg.build import build
from kg.classify.mentions import cleaned
from kg.classify.run import RECORD_FILE
from kg.pipeline import classify as classify_graph
from kg.rdf.validate import to_rdflib, validate_graph
from kg.records import Bundle, Source, Work
from kg.records.file import read_bundle, write_bundle
from kg.sparql.named import run_named
from kg.store import LocalGraph

KG = rdflib.Namespace("https://w3id.org/kg-survey/ontology#")
PROV = rdflib.Namespace("http://www.w3.org/ns/prov#")
ID = "https://w3id.org/kg-survey/id/"
VM_DDPM = ID + "method/vmddpm"

PAPERS = [
    ("2501.00001", "VM-DDPM: Personalized Image Generation with Visual Memory",
     "We propose VM-DDPM, a framework that personalizes diffusion models with a visual memory of the user's "
     "subjects. Experiments on DreamBench and the PODS dataset show that VM-DDPM outperforms DreamBooth and "
     "Textual Inversion."),
    ("2501.00002", "Memory Tokens for Personal Assistants",
     "We extend VM DDPM with memory tokens for LLaVA so that an assistant recognises a user's pets and objects. "
     "We introduce PersonaBench, a benchmark of 500 personal concepts. Results on PersonaBench show consistent gains."),
]


def _harvest(store) -> None:
    """Two harvested papers with abstracts, included in scope by a person (as `kg screen` would)."""
    write_bundle(store / "records" / "harvest-test.jsonl", Bundle(
        sources=[Source(id="test-harvest", title="test", agent="test")],
        works=[Work(ids={"arxiv": a}, sources=["test-harvest"], title=t, abstract=ab, year=2025)
               for a, t, ab in PAPERS]))
    decisions = [{"paper": a, "work": {"arxiv": a}, "title": t, "by": "tester", "at": "2025-01-01T00:00:00Z",
                  "scope": "include"} for a, t, _ in PAPERS]
    (store / "curation.yaml").write_text(yaml.safe_dump({"decisions": decisions}, sort_keys=False), encoding="utf-8")


@pytest.fixture(scope="module")
def classified(tmp_path_factory, built_store):
    store = tmp_path_factory.mktemp("entities") / "store"
    shutil.copytree(built_store, store, symlinks=True)
    _harvest(store)
    build(store)
    report = classify_graph(store)
    return store, report


@pytest.fixture
def store(classified, tmp_path):
    dest = tmp_path / "store"
    shutil.copytree(classified[0], dest, symlinks=True)
    return dest


def _statements(graph) -> set[tuple[str, str, str]]:
    rows = graph.query("""
        SELECT ?w ?rel ?e WHERE { ?w kg:hasMention ?a . ?a kg:relation ?rel ; kg:entity ?e }""",
                       trusted=True).records()
    return {(r["w"].rsplit("/", 1)[-1], r["rel"].rsplit("#", 1)[-1], r["e"]) for r in rows}


def test_mentions_are_records_with_provenance(classified):
    store, report = classified
    records = read_bundle(store / "records" / RECORD_FILE)
    by_work = {w.ids.get("arxiv"): w for w in records.works}
    mentions = {(m.kind, m.role, m.key): m for m in by_work["2501.00001"].mentions}
    own = mentions[("method", "proposes", "vmddpm")]
    assert own.source == "classifier" and own.agent.startswith("kg-classifier ") and own.at
    assert own.part == "title" and own.cue == "title prefix" and 0 < own.confidence <= 1
    pods = mentions[("dataset", "uses", "pods")]
    assert pods.known == "PODS" and "PODS dataset" in pods.sentence
    assert cleaned(PAPERS[0][2])[pods.start:pods.end] == "PODS"  # the span points at the name
    assert report.mentions >= 8 and report.mention_seconds >= 0


def test_statements_carry_an_assertion_with_evidence(classified):
    store, _ = classified
    graph = LocalGraph(store)
    said = _statements(graph)
    assert ("2501.00001", "proposesMethod", VM_DDPM) in said
    assert ("2501.00002", "usesMethod", VM_DDPM) in said  # "VM DDPM": one entity across works
    assert ("2501.00001", "usesDataset", ID + "dataset/pods") in said  # linked to the graph's dataset
    assert ("2501.00001", "usesMethod", "https://w3id.org/kg-survey/taxonomy/method/dreambooth") in said
    assert ("2501.00002", "introducesDataset", ID + "dataset/personabench") in said
    rows = graph.query("""
        SELECT ?conf ?agent ?src ?at ?text ?field ?start ?end ?sentence ?cue WHERE {
          <https://w3id.org/kg-survey/id/work/arxiv/2501.00002> kg:hasMention ?a .
          ?a kg:entity <https://w3id.org/kg-survey/id/dataset/personabench> ; kg:confidence ?conf ;
             prov:wasAttributedTo/rdfs:label ?agent ; prov:wasDerivedFrom ?src ; prov:generatedAtTime ?at ;
             kg:matchedText ?text ; kg:textField ?field ; kg:spanStart ?start ; kg:spanEnd ?end ;
             kg:sentence ?sentence ; kg:cue ?cue }""", trusted=True).records()
    [row] = rows
    assert row["agent"].startswith("kg-classifier") and row["src"] == ID + "source/classifier"
    assert (row["text"], row["field"], row["cue"]) == ("PersonaBench", "abstract", "we introduce")
    assert row["sentence"].startswith("We introduce PersonaBench") and float(row["conf"]) >= 0.8
    assert cleaned(PAPERS[1][2])[int(row["start"]):int(row["end"])] == "PersonaBench"
    # every statement about a predicted entity has its assertion
    direct = graph.query("""
        SELECT ?w ?rel ?e WHERE { ?w a fabio:ScholarlyWork ; ?rel ?e . ?e kg:isPredicted true }""",
                         trusted=True).records()
    assert {(r["w"].rsplit("/", 1)[-1], r["rel"].rsplit("#", 1)[-1], r["e"]) for r in direct} <= said


def test_predicted_entities_are_minted_once_and_known_ones_are_not(classified):
    store, _ = classified
    graph = LocalGraph(store)
    rows = graph.query(f"""
        SELECT ?type ?label ?key ?src WHERE {{ <{VM_DDPM}> a ?type ; rdfs:label ?label ; kg:entityKey ?key ;
                                              kg:isPredicted true ; prov:wasDerivedFrom ?src }}""",
                       trusted=True).records()
    assert [(r["type"], r["label"], r["key"]) for r in rows] == [(str(KG.Method), "VM-DDPM", "vmddpm")]
    known = graph.query("""ASK { <https://w3id.org/kg-survey/id/dataset/pods> kg:isPredicted ?x }""", trusted=True)
    assert known.boolean is False


def test_a_work_never_builds_on_its_own_method(classified):
    store, _ = classified
    rows = LocalGraph(store).query("""
        SELECT ?w ?m WHERE { ?w kg:proposesMethod ?m . { ?w kg:buildsOnMethod ?m } UNION { ?w kg:usesMethod ?m } }""",
                                   trusted=True).records()
    assert rows == []
    # the RAP paper ("Retrieval-Augmented Personalization for ...") does not build on RAP
    rap = LocalGraph(store).query("""ASK { <https://w3id.org/kg-survey/id/work/arxiv/2410.13360> kg:buildsOnMethod
                                     <https://w3id.org/kg-survey/taxonomy/method/rap> }""", trusted=True)
    assert rap.boolean is False


def test_graph_validates_and_shapes_catch_a_statement_without_assertion(classified):
    store, _ = classified
    g = to_rdflib(LocalGraph(store))
    report = validate_graph(g)
    assert report.conforms, report.text()
    work = rdflib.URIRef(ID + "work/arxiv/2501.00002")
    for a in list(g.objects(work, KG.hasMention)):
        g.remove((a, None, None))
    g.remove((rdflib.URIRef(VM_DDPM), KG.entityKey, None))
    g.add((rdflib.URIRef(ID + "mention/x"), rdflib.RDF.type, KG.MentionAssertion))
    g.add((rdflib.URIRef(ID + "mention/x"), KG.relation, KG.cites))
    report = validate_graph(g)
    assert not report.conforms
    messages = " ".join(v.message for v in report.violations)
    assert "is predicted but has no mention assertion" in messages
    assert "kg:entityKey" in messages
    assert any("mention/x" in v.focus for v in report.violations)


def test_methods_and_datasets_queries_list_works_and_cells(classified):
    store, _ = classified
    graph = LocalGraph(store)
    methods = {r["method"]: r for r in run_named(graph, "methods").records()}
    vm = methods[VM_DDPM]
    assert vm["name"] == "VM-DDPM" and vm["predicted"] and int(vm["works"]) == 2
    assert "VM-DDPM" in vm["proposedBy"] and "Memory Tokens" in vm["usedBy"]
    cells = {c for r in methods.values() for c in (r.get("cells") or "").split(" | ") if c}
    assert cells and all(" x " in c for c in cells)
    datasets = {r["name"]: r for r in run_named(graph, "datasets").records()}
    assert datasets["PersonaBench"]["predicted"] and "Memory Tokens" in datasets["PersonaBench"]["introducedBy"]
    assert not datasets["PODS"]["predicted"] and "VM-DDPM" in datasets["PODS"]["usedBy"]


# ---------------------------------------------------------------- people's decisions
def test_rename_merge_and_reject_survive_rebuilds_and_reclassification(store, kg):
    result = kg("curate", "--entity", "VM DDPM", "--rename", "Visual Memory DDPM", "--by", "ann", "--json",
                store=store)
    assert result.exit_code == 0, result.message
    decision = json.loads(result.stdout)
    assert (decision["name"], decision["kind"], decision["rename"], decision["by"]) == \
        ("VM-DDPM", "method", "Visual Memory DDPM", "ann")
    graph = LocalGraph(store)
    [row] = graph.query(f"SELECT ?l WHERE {{ <{VM_DDPM}> rdfs:label ?l }}", trusted=True).records()
    assert row["l"] == "Visual Memory DDPM"  # same entity, both works keep it
    assert {(w, r) for w, r, e in _statements(graph) if e == VM_DDPM} == \
        {("2501.00001", "proposesMethod"), ("2501.00002", "usesMethod")}
    # merge the predicted benchmark into a dataset the graph knows, by the name the rename gave
    assert kg("curate", "--entity", "PersonaBench", "--merge-into", "PODS", store=store).exit_code == 0
    # reject the renamed method by its new name
    result = kg("curate", "--entity", "Visual Memory DDPM", "--reject", store=store)
    assert result.exit_code == 0 and "rejected" in result.stdout
    for _ in range(2):  # a rebuild and a forced classification change nothing of it
        said = _statements(LocalGraph(store))
        assert not any(e == VM_DDPM for _, _, e in said)
        assert ("2501.00002", "introducesDataset", ID + "dataset/pods") in said
        assert not any(e.endswith("/personabench") for _, _, e in said)
        report = classify_graph(store, force=True)
        assert report.rebuilt
    assert validate_graph(to_rdflib(LocalGraph(store))).conforms
    listed = kg("curate", "--list", "--json", store=store)
    entities = [d for d in json.loads(listed.stdout)["decisions"] if "entity" in d]
    assert [d["entity"] for d in entities] == ["VM DDPM", "PersonaBench", "Visual Memory DDPM"]


@pytest.mark.parametrize("args, says", [
    (["--entity", "NoSuchThing", "--reject"], "no method or dataset named 'NoSuchThing'"),
    (["--entity", "VM-DDPM"], "one of --rename NEW, --merge-into OTHER, --reject"),
    (["--entity", "VM-DDPM", "--reject", "--rename", "X"], "one of --rename NEW, --merge-into OTHER, --reject"),
    (["--rename", "X"], "give --entity NAME"),
    (["2501.00001", "--entity", "VM-DDPM", "--reject"], "not a paper"),
    (["--entity", "VM-DDPM", "--merge-into", "vm ddpm"], "the same entity already"),
    (["--entity", "VM-DDPM", "--reject", "--kind", "model"], "--kind must be method or dataset"),
    (["--entity", "PODS", "--rename", "P"], "rename it where it is defined"),
])
def test_bad_entity_decisions_are_refused_and_nothing_is_written(store, kg, args, says):
    before = (store / "curation.yaml").read_text(encoding="utf-8")
    result = kg("curate", *args, store=store)
    assert result.exit_code != 0 and says in result.message, result.message
    assert (store / "curation.yaml").read_text(encoding="utf-8") == before


def test_a_broken_entity_decision_in_the_file_names_its_line(store, kg):
    path = store / "curation.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    doc["decisions"].append({"entity": "VM-DDPM", "rename": "A", "reject": True})
    path.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    result = kg("build", store=store)
    assert result.exit_code != 0
    assert "decision #3 (entity VM-DDPM)" in result.message and "exactly one of" in result.message


# ---------------------------------------------------------------- where they show
def test_paper_page_lists_what_the_paper_names_with_evidence(classified):
    from kg.analysis.browse import paper_page

    page = paper_page(LocalGraph(classified[0]), "2501.00001")
    rows = {(m["relation"], m["name"]): m for m in page.mentions}
    own = rows[("proposes method", "VM-DDPM")]
    assert own["predicted"] and own["field"] == "title" and own["agent"].startswith("kg-classifier")
    pods = rows[("uses dataset", "PODS")]
    assert not pods["predicted"] and "PODS dataset" in pods["sentence"] and 0.5 <= pods["confidence"] <= 1


def test_analyses_count_mentions_as_predicted_links_and_cells_without_benchmark(classified):
    from kg.analysis import dataset_gaps, load_corpus

    graph = LocalGraph(classified[0])
    links = load_corpus(graph).links
    work = ID + "work/arxiv/2501.00001"
    mine = links[(links["work"] == work) & links["kind"].isin(["method", "dataset"])]
    found = {(k, n): (p, c) for k, n, p, c in zip(mine["kind"], mine["notation"], mine["predicted"], mine["confidence"])}
    assert found[("method", VM_DDPM)][0] and found[("method", VM_DDPM)][1] >= 0.5
    gaps = dataset_gaps(graph)
    cells = gaps[gaps["axis"] == "cell"]
    assert len(cells) == 16 and set(cells["gap"]) == {True, False}
    for row in cells.itertuples():
        assert row.gap == (not row.datasets) and " x " in row.notation
    with_pods = cells[[("PODS" in d) for d in cells["datasets"]]]
    assert len(with_pods) >= 1
