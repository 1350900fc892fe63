"""The taxonomy's structure as data: what the bundled file declares, how kg.rdf.taxonomy reads it,
what SHACL says about bad declarations; and the minimum support behind a trend verdict."""

from __future__ import annotations

import pytest
import rdflib
from rdflib import Literal, Namespace, URIRef

from kg.analysis import trends
from kg.errors import KgError
from kg.paths import ontology_dir
from kg.rdf.taxonomy import read_structure
from kg.rdf.validate import to_rdflib, validate_graph

KG = Namespace("https://w3id.org/kg-survey/ontology#")
TAX = "https://w3id.org/kg-survey/taxonomy/"
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")


def test_bundled_structure_follows_the_definitions():
    s = read_structure()
    assert s.single_valued == {"category", "mechanism"}  # one cell of Table 1 per work
    assert s.implied("category:image_generation") >= {"output:image"}  # "produces or edits images"
    assert s.implied("category:text_generation") >= {"output:text"}  # "answers in text"
    assert s.implied("task:subject_driven_generation") >= {"input:image", "input:text", "output:image"}
    # text generation "answers in text"; a work producing images is image generation (one category a work)
    assert s.set_aside("category:text_generation", "output:image")[0] == "excluded"
    assert s.set_aside("mechanism:alignment", "mechanism:instruction")[0] == "single_valued"
    assert s.set_aside("category:retrieval", "category:recommendation")[0] == "single_valued"
    assert s.set_aside("output:image", "task:personalized_image_editing")[0] == "implied"
    # a task implying a category's output never rules out a modality of the other side
    assert s.set_aside("input:image", "output:image") is None


def test_the_graph_holds_the_same_structure(graph):
    assert read_structure(graph) == read_structure()


def test_schema_declares_the_structure_terms():
    g = rdflib.Graph().parse(ontology_dir() / "schema.ttl")
    kg_terms = {str(s) for s in rdflib.Graph().parse(ontology_dir() / "kg.ttl").subjects()}
    for name in ("singleValued", "implies", "excludes", "AxisValue", "onProperty", "valueConcept"):
        term = KG[name]
        assert g.value(term, rdflib.RDFS.label) and g.value(term, SKOS.definition), name
        assert str(term) not in kg_terms  # declared once


def _toy(tmp_path, extra: str):
    path = tmp_path / "toy.ttl"
    path.write_text("""
@prefix kg: <https://w3id.org/kg-survey/ontology#> .
@prefix skos: <http://www.w3.org/2004/02/skos/core#> .
@prefix t: <https://example.org/t/> .
t:cats kg:forProperty kg:category ; kg:singleValued true .
t:mechs kg:forProperty kg:mechanism .
t:mods kg:forProperty kg:inputModality , kg:outputModality .
t:a skos:inScheme t:cats ; skos:notation "a" .
t:b skos:inScheme t:cats ; skos:notation "b" .
t:x skos:inScheme t:mechs ; skos:notation "x" .
t:y skos:inScheme t:mechs ; skos:notation "y" .
t:img skos:inScheme t:mods ; skos:notation "img" .
t:out-img a kg:AxisValue ; kg:onProperty kg:outputModality ; kg:valueConcept t:img .
""" + extra, encoding="utf-8")
    return path


def test_implications_are_transitive(tmp_path):
    s = read_structure(_toy(tmp_path, "t:x kg:implies t:y . t:y kg:implies t:out-img . t:a kg:excludes t:out-img ."))
    assert s.implied("mechanism:x") == {"mechanism:x", "mechanism:y", "output:img"}
    reason, because = s.set_aside("category:a", "mechanism:x")
    assert reason == "excluded" and "mechanism:x implies output:img" in because


@pytest.mark.parametrize("extra, message", [
    ("t:a kg:implies t:img .", "serves several properties"),  # input or output image?
    ("t:a kg:implies t:nothing .", "no concept"),
    ("t:bad a kg:AxisValue ; kg:onProperty kg:category ; kg:valueConcept t:img . t:a kg:excludes t:bad .",
     "not in a scheme for that property"),
    ("t:x kg:excludes t:x .", "itself"),
    ("t:x kg:implies t:a , t:b .", "contradicts itself"),  # two values of a single-valued axis
    ("t:x kg:implies t:out-img ; kg:excludes t:out-img .", "contradicts itself"),
])
def test_bad_declarations_are_refused_in_words(tmp_path, extra, message):
    with pytest.raises(KgError, match=message):
        read_structure(_toy(tmp_path, extra))


def test_shapes_check_the_declarations(graph):
    g = to_rdflib(graph)
    image = URIRef(TAX + "modality/image")
    g.add((URIRef(TAX + "category/retrieval"), KG.implies, image))  # which property? input or output
    bad = URIRef(TAX + "axis-value/bad")
    g.add((bad, rdflib.RDF.type, KG.AxisValue))
    g.add((bad, KG.onProperty, KG.category))
    g.add((bad, KG.valueConcept, image))  # a modality is no category
    g.add((URIRef(TAX + "categories"), KG.singleValued, Literal("yes")))
    report = validate_graph(g)
    assert not report.conforms
    messages = " | ".join(v.message for v in report.violations)
    assert "name a kg:AxisValue" in messages
    assert "is not in a scheme for" in messages
    assert "one boolean" in messages


# ---------------------------------------------------------------- minimum support of trends
def test_trends_on_one_or_two_works_say_too_few(rec, make_graph):
    years = {("text_generation", "instruction"): [2020, 2021],  # old only: was 'fading'
             ("image_generation", "instruction"): [2019, 2024],  # half recent: was 'growing'
             ("text_generation", "alignment"): [2019, 2020, 2021, 2021],  # old only, 4 works: fading
             ("image_generation", "alignment"): [2019, 2020, 2021, 2022, 2023, 2024]}  # field-like
    works, n = [], 1
    for (cat, mech), ys in years.items():
        for y in ys:
            works.append(rec.work(n, cat, [mech], year=y))
            n += 1
    graph = make_graph(rec.bundle(works))
    t = trends(graph).set_index(["category", "mechanism"])["trend"]
    assert t[("text_generation", "instruction")] == "too few works"
    assert t[("image_generation", "instruction")] == "too few works"
    assert t[("text_generation", "alignment")] == "fading"
    assert t[("image_generation", "alignment")] == "steady"
    assert t[("retrieval", "alignment")] == "empty"
    loose = trends(graph, min_works=1).set_index(["category", "mechanism"])["trend"]
    assert loose[("text_generation", "instruction")] == "fading"
    assert loose[("image_generation", "instruction")] == "growing"


def test_bundled_trends_never_judge_a_cell_of_two(graph):
    t = trends(graph)
    judged = t[t["trend"].isin(["growing", "fading", "steady"])]
    assert (judged["total"] >= 3).all()
    assert set(t[(t["total"] > 0) & (t["total"] < 3)]["trend"]) <= {"new", "too few works"}
