"""SHACL: the bundled graph conforms; a deliberately broken graph does not, with a readable report."""

from __future__ import annotations

import rdflib
from rdflib import Literal, Namespace, URIRef

from kg.rdf.validate import to_rdflib, validate_graph

KG = Namespace("https://w3id.org/kg-survey/ontology#")
DCT = Namespace("http://purl.org/dc/terms/")
FABIO = Namespace("http://purl.org/spar/fabio/")
PROV = Namespace("http://www.w3.org/ns/prov#")

WORK = "https://w3id.org/kg-survey/id/work/"


def test_bundled_graph_conforms(graph):
    report = validate_graph(to_rdflib(graph))
    assert report.conforms, report.text()


def test_broken_graph_fails_with_each_problem_named(graph):
    g = to_rdflib(graph)
    moma = URIRef(WORK + "arxiv/2404.05674")
    mudi = URIRef(WORK + "arxiv/2404.04243")
    pvit = URIRef(WORK + "arxiv/2410.07113")
    # 1. a paper loses its title (it is verified, so no citation-key escape)
    g.remove((moma, DCT.title, None))
    # 2. an implausible year
    g.remove((mudi, FABIO.hasPublicationYear, None))
    g.add((mudi, FABIO.hasPublicationYear, Literal("1066", datatype=rdflib.XSD.gYear)))
    # 3. a category label pointing at a mechanism concept
    g.add((pvit, KG.category, URIRef("https://w3id.org/kg-survey/taxonomy/mechanism/alignment")))
    # 4. a label without its provenance
    for assertion in list(g.objects(pvit, KG.hasLabel)):
        g.remove((assertion, PROV.wasAttributedTo, None))
    # 5. a paper with no identifier at all
    orphan = URIRef(WORK + "cite/orphan")
    g.add((orphan, rdflib.RDF.type, FABIO.ScholarlyWork))
    g.add((orphan, rdflib.RDFS.label, Literal("Orphan")))
    g.add((orphan, DCT.title, Literal("Orphan")))

    report = validate_graph(g)
    assert not report.conforms
    text = report.text()
    focus = {v.focus for v in report.violations}
    assert any("2404.05674" in f for f in focus)  # missing title
    assert any("2404.04243" in f and "year" in v.message for v in report.violations for f in [v.focus])
    assert any("not a concept of the scheme" in v.message for v in report.violations)
    assert any("no label assertion with provenance" in v.message or "wasAttributedTo" in v.path
               for v in report.violations)
    assert any("orphan" in f for f in focus)
    assert "violation" in text
