"""The RDF vocabulary kg writes and reads.

`KG` fails on typos (an unknown term raises AttributeError); a test checks it
against ontology/kg.ttl in both directions. Instance IRIs are minted here too.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from rdflib import Namespace, URIRef
from rdflib.namespace import DefinedNamespace

BASE = "https://w3id.org/kg-survey/"


class KG(DefinedNamespace):
    """kg's own terms: only what no standard vocabulary has."""

    _NS = Namespace(BASE + "ontology#")
    _fail = True

    # classes
    Method: URIRef
    LabelAssertion: URIRef
    Source: URIRef
    # taxonomy links (effective labels of a work)
    category: URIRef
    mechanism: URIRef
    inputModality: URIRef
    outputModality: URIRef
    task: URIRef
    metric: URIRef
    # datasets and methods
    usesDataset: URIRef
    introducesDataset: URIRef
    proposesMethod: URIRef
    usesMethod: URIRef
    buildsOnMethod: URIRef
    conceptCount: URIRef
    isPredicted: URIRef
    entityKey: URIRef
    # mention provenance (reified assertions, kg.classify.entities)
    MentionAssertion: URIRef
    hasMention: URIRef
    relation: URIRef
    entity: URIRef
    matchedText: URIRef
    textField: URIRef
    spanStart: URIRef
    spanEnd: URIRef
    sentence: URIRef
    cue: URIRef
    # identifiers
    arxivId: URIRef
    doi: URIRef
    s2PaperId: URIRef
    s2CorpusId: URIRef
    openalexId: URIRef
    citationKey: URIRef
    shortName: URIRef
    authorList: URIRef
    # survey bookkeeping
    resolution: URIRef
    possibleMatch: URIRef
    matchConfidence: URIRef
    isCandidate: URIRef
    surveyed: URIRef
    surveySubsection: URIRef
    listSection: URIRef
    # scope: whether a work belongs to the survey's field (kg.classify.scope)
    ScopeAssessment: URIRef
    scopeStatus: URIRef
    relevance: URIRef
    scopeAssessment: URIRef
    # label provenance (reified assertions)
    hasLabel: URIRef
    axis: URIRef
    concept: URIRef
    confidence: URIRef
    needsReview: URIRef
    # taxonomy scheme metadata
    forProperty: URIRef
    surveySection: URIRef
    subsectionIndex: URIRef
    # harvested facts
    citationCount: URIRef
    tldr: URIRef
    # build-time counts on sources
    workCount: URIRef
    labelCount: URIRef
    openAccessPdf: URIRef


TAX = Namespace(BASE + "taxonomy/")
ID = Namespace(BASE + "id/")

RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
XSD = "http://www.w3.org/2001/XMLSchema#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
DCTERMS = "http://purl.org/dc/terms/"
FABIO = "http://purl.org/spar/fabio/"
CITO = "http://purl.org/spar/cito/"
PRISM = "http://prismstandard.org/namespaces/basic/2.0/"
FOAF = "http://xmlns.com/foaf/0.1/"
DCAT = "http://www.w3.org/ns/dcat#"
PROV = "http://www.w3.org/ns/prov#"
SCHEMA = "http://schema.org/"
SH = "http://www.w3.org/ns/shacl#"

PREFIXES = {
    "kg": str(KG._NS),
    "rdf": RDF,
    "rdfs": RDFS,
    "xsd": XSD,
    "skos": SKOS,
    "dcterms": DCTERMS,
    "fabio": FABIO,
    "cito": CITO,
    "prism": PRISM,
    "foaf": FOAF,
    "dcat": DCAT,
    "prov": PROV,
    "schema": SCHEMA,
}


def compact(value: str) -> str:
    """An IRI as a reader would write it: prefix:name under a known namespace, …/path under kg's base."""
    for prefix, ns in PREFIXES.items():
        if value.startswith(ns) and "/" not in value[len(ns):]:
            return f"{prefix}:{value[len(ns):]}"
    if value.startswith(BASE):
        return "…/" + value[len(BASE):]
    return value

# The taxonomy axes a work can be labelled on, with the property each fills.
AXES = {
    "category": KG.category,
    "mechanism": KG.mechanism,
    "input_modality": KG.inputModality,
    "output_modality": KG.outputModality,
    "task": KG.task,
    "metric": KG.metric,
    "method": KG.buildsOnMethod,
}

# Identifier kinds a work can carry, with the property that holds each.
ID_PROPERTIES = {
    "arxiv": KG.arxivId,
    "doi": KG.doi,
    "s2": KG.s2PaperId,
    "corpus": KG.s2CorpusId,
    "openalex": KG.openalexId,
    "cite": KG.citationKey,
    "url": URIRef(SCHEMA + "url"),
}


def slug(text: str, limit: int = 80) -> str:
    """A readable, IRI-safe key for a name or title."""
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].rstrip("-") or hashlib.sha1(text.encode()).hexdigest()[:12]


def mint(kind: str, key: str) -> str:
    """An instance IRI such as .../id/work/arxiv/2402.13587 (keys may contain '/')."""
    return f"{ID}{kind}/{quote(key, safe='/-._~')}"


def digest(*parts: str) -> str:
    return hashlib.sha1("\x1f".join(parts).encode()).hexdigest()[:16]
