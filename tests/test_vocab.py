"""The vocabulary module and ontology/*.ttl agree; the taxonomy is complete."""

from __future__ import annotations

import pytest
import rdflib
from rdflib.namespace import OWL, RDFS, SKOS

from kg.paths import ontology_dir
from kg.rdf.taxonomy import read_taxonomy
from kg.vocab import KG


def test_vocab_fails_on_typos():
    with pytest.raises(AttributeError):
        KG.catgory  # noqa: B018


def test_vocab_matches_schema_both_ways():
    g = rdflib.Graph().parse(ontology_dir() / "kg.ttl")
    ns = str(KG._NS)
    declared = {str(s) for s in g.subjects() if str(s).startswith(ns)}
    in_code = {ns + name for name in KG.__annotations__}
    assert declared == in_code


def test_every_schema_term_has_label_and_definition():
    g = rdflib.Graph().parse(ontology_dir() / "kg.ttl")
    ns = str(KG._NS)
    for s in {s for s in g.subjects() if str(s).startswith(ns)}:
        assert g.value(s, RDFS.label), s
        assert g.value(s, SKOS.definition), s


def test_taxonomy_terms_have_labels_and_definitions():
    g = rdflib.Graph().parse(ontology_dir() / "taxonomy.ttl")
    for c in set(g.subjects(rdflib.RDF.type, SKOS.Concept)) | set(g.subjects(rdflib.RDF.type, SKOS.ConceptScheme)):
        assert g.value(c, RDFS.label), c
        assert g.value(c, SKOS.definition), c


def test_taxonomy_axes():
    tax = read_taxonomy()
    assert [c.notation for c in tax.axis("category")] == ["text_generation", "image_generation", "recommendation", "retrieval"]
    assert [c.notation for c in tax.axis("mechanism")] == ["instruction", "alignment", "generation", "fine_tuning"]
    assert {"text", "image", "video", "audio"} <= {c.notation for c in tax.axis("modality")}
    assert tax.axis("task")
    for c in tax.axis("category") + tax.axis("mechanism"):
        assert len(c.synonyms) >= 5, c.notation


def test_ontology_files_parse():
    for name in ("kg.ttl", "taxonomy.ttl", "shapes.ttl"):
        assert len(rdflib.Graph().parse(ontology_dir() / name)) > 10
    assert rdflib.Graph().parse(ontology_dir() / "kg.ttl").value(None, rdflib.RDF.type, OWL.Ontology) is not None
