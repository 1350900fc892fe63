"""`kg validate` compiled to whole-graph SPARQL finds what pySHACL finds: the same violations
(focus, path, constraint, value, message) on a graph with a planted violation of every constraint."""

from __future__ import annotations

import re

import pyoxigraph as ox
import pytest
import rdflib
from rdflib import RDF, RDFS, XSD, Literal, Namespace, URIRef

from kg.errors import KgError
from kg.store import LocalGraph
from kg.rdf.validate import to_rdflib, validate_graph
from kg.rdf.validate_sparql import LOOKUP_BELOW, compile_shapes, load_shapes, validate_store
from kg.vocab import compact

KG = Namespace("https://w3id.org/kg-survey/ontology#")
DCT = Namespace("http://purl.org/dc/terms/")
FABIO = Namespace("http://purl.org/spar/fabio/")
PROV = Namespace("http://www.w3.org/ns/prov#")
SKOS = Namespace("http://www.w3.org/2004/02/skos/core#")
DCAT = Namespace("http://www.w3.org/ns/dcat#")
SH = Namespace("http://www.w3.org/ns/shacl#")
WORK = "https://w3id.org/kg-survey/id/work/"
X = Namespace("https://w3id.org/kg-survey/id/test/")


def _in_store(g: rdflib.Graph, tmp_path) -> LocalGraph:
    store = ox.Store()
    store.load(g.serialize(format="nt").encode(), format=ox.RdfFormat.N_TRIPLES)
    return LocalGraph(tmp_path, store=store)


def _one(g, query):
    rows = list(g.query(query, initNs={"kg": KG, "skos": SKOS, "prov": PROV, "fabio": FABIO}))
    assert rows, query
    return rows[0]


def plant(g: rdflib.Graph) -> None:
    """A violation of every constraint of ontology/shapes.ttl, each on its own node where it can be."""
    concept = _one(g, "SELECT ?c WHERE { ?c a skos:Concept ; skos:inScheme ?s }")[0]
    mechanism = URIRef("https://w3id.org/kg-survey/taxonomy/mechanism/alignment")
    shared = _one(g, "SELECT ?c WHERE { ?c skos:inScheme ?s . ?s kg:forProperty ?p1 , ?p2 FILTER(?p1 != ?p2) }")[0]
    source = _one(g, "SELECT ?s WHERE { ?s a kg:Source }")[0]
    add = g.add
    # axis values: none of its two properties; two of each, the concept neither a concept nor in the scheme
    add((X.av1, RDF.type, KG.AxisValue))
    add((X.av2, RDF.type, KG.AxisValue))
    for prop in (KG.category, KG.mechanism):
        add((X.av2, KG.onProperty, prop))
    add((X.av2, KG.valueConcept, X.notAConcept))
    add((X.av2, KG.valueConcept, concept))
    # concepts: nothing at all; two notations
    add((X.c1, RDF.type, SKOS.Concept))
    add((X.c2, RDF.type, SKOS.Concept))
    for n in ("a", "b"):
        add((X.c2, SKOS.notation, Literal(n)))
    add((X.c2, SKOS.prefLabel, Literal("C2")))
    add((X.c2, SKOS.inScheme, X.scheme))
    # datasets: no title, no source; two counts, one ill-formed, one negative, one decimal
    add((X.d1, RDF.type, DCAT.Dataset))
    add((X.d2, RDF.type, DCAT.Dataset))
    add((X.d2, DCT.title, Literal("D2")))
    add((X.d2, PROV.wasDerivedFrom, source))
    add((X.d2, KG.conceptCount, Literal("many", datatype=XSD.integer)))
    add((X.d2, KG.conceptCount, Literal(-1)))
    add((X.d2, KG.conceptCount, Literal("5.5", datatype=XSD.decimal)))
    # label assertions: empty; everything twice or wrong
    add((X.la1, RDF.type, KG.LabelAssertion))
    add((X.la2, RDF.type, KG.LabelAssertion))
    for axis in (KG.category, KG.mechanism):
        add((X.la2, KG.axis, axis))
    add((X.la2, KG.concept, concept))
    add((X.la2, KG.concept, X.notAConcept))
    add((X.la2, KG.confidence, Literal(1.5)))
    add((X.la2, KG.confidence, Literal(-0.1)))
    add((X.la2, PROV.wasAttributedTo, X.notAnAgent))
    add((X.la2, PROV.wasDerivedFrom, X.notASource))
    # scope assessments: empty; a non-agent, a source that is neither, two times
    add((X.sa1, RDF.type, KG.ScopeAssessment))
    add((X.sa2, RDF.type, KG.ScopeAssessment))
    add((X.sa2, PROV.wasAttributedTo, X.notAnAgent))
    add((X.sa2, PROV.wasDerivedFrom, X.notASource))
    add((X.sa2, PROV.generatedAtTime, Literal("2025-01-01T00:00:00", datatype=XSD.dateTime)))
    add((X.sa2, PROV.generatedAtTime, Literal("2025-01-02T00:00:00", datatype=XSD.dateTime)))
    # single-valued: not a scheme, two values, one not a boolean, no property
    add((X.sv, KG.singleValued, Literal(True)))
    add((X.sv, KG.singleValued, Literal("maybe")))
    # implies / excludes: a node of no class implying itself; a multi-property concept; both at once
    add((X.t1, KG.implies, X.t1))
    add((shared, KG.excludes, concept))
    add((concept, KG.implies, mechanism))
    add((concept, KG.excludes, mechanism))
    # works
    works = [s for s in g.subjects(RDF.type, FABIO.ScholarlyWork) if (s, KG.resolution, Literal("verified")) in g]
    w = sorted(works)[:8]
    g.remove((w[0], KG.scopeStatus, None))
    g.remove((w[0], KG.scopeAssessment, None))
    g.remove((w[0], RDFS.label, None))
    g.remove((w[0], DCT.title, None))
    g.add((w[1], KG.scopeStatus, Literal("maybe")))
    g.remove((w[2], KG.relevance, None))
    g.add((w[2], KG.relevance, Literal(1.5)))
    g.add((w[2], KG.relevance, Literal("high")))
    g.add((w[2], KG.relevance, Literal("-0.5", datatype=XSD.decimal)))
    g.add((w[3], KG.scopeAssessment, X.notAnAssessment))
    g.remove((w[4], KG.scopeStatus, None))
    g.remove((w[4], KG.relevance, None))
    g.add((w[4], KG.scopeStatus, Literal("undecided")))
    g.remove((w[5], FABIO.hasPublicationYear, None))
    g.add((w[5], FABIO.hasPublicationYear, Literal("1066", datatype=XSD.gYear)))
    g.add((w[5], FABIO.hasPublicationYear, Literal("2020")))
    g.add((w[5], KG.arxivId, Literal("not an id")))
    g.add((w[5], KG.doi, Literal("10.1/x")))
    g.add((w[5], KG.doi, Literal("10.1234/y")))
    g.add((w[6], KG.category, mechanism))
    g.add((w[6], KG.category, X.notAConcept))
    g.add((w[6], KG.mechanism, X.notAConcept))
    g.add((w[6], KG.resolution, Literal("bogus")))
    orphan = URIRef(WORK + "cite/orphan")
    g.add((orphan, RDF.type, FABIO.ScholarlyWork))
    g.add((orphan, RDFS.label, Literal("Orphan")))
    g.add((orphan, DCT.title, Literal("Orphan")))
    # mention assertions: empty; everything twice or wrong; one its work does not state
    add((X.ma1, RDF.type, KG.MentionAssertion))
    add((X.ma2, RDF.type, KG.MentionAssertion))
    for rel in (KG.usesMethod, KG.cites):
        add((X.ma2, KG.relation, rel))
    for entity in (X.notAMethod, X.alsoNotAMethod):
        add((X.ma2, KG.entity, entity))
    add((X.ma2, KG.confidence, Literal(1.5)))
    add((X.ma2, KG.confidence, Literal(-0.1)))
    add((X.ma2, PROV.wasAttributedTo, X.notAnAgent))
    add((X.ma2, PROV.wasDerivedFrom, X.notASource))
    for field in ("title", "body"):
        add((X.ma2, KG.textField, Literal(field)))
    for prop in (KG.spanStart, KG.spanEnd):
        add((X.ma2, prop, Literal("x")))
        add((X.ma2, prop, Literal(-1)))
    add((X.method, RDF.type, KG.Method))  # no name; predicted twice, once not a boolean; no source or key
    add((X.method, KG.isPredicted, Literal(True)))
    add((X.method, KG.isPredicted, Literal("yes")))
    add((X.ma3, RDF.type, KG.MentionAssertion))
    add((w[7], KG.hasMention, X.ma3))
    add((X.ma3, KG.relation, KG.proposesMethod))
    add((X.ma3, KG.entity, X.method))
    # a link to a predicted entity with no assertion behind it
    add((w[7], KG.usesMethod, X.method))


def _key(v):
    return (v.focus, v.path, v.component, v.value)


@pytest.fixture(scope="module")
def planted_graph(graph):
    g = to_rdflib(graph)
    plant(g)
    return g, validate_graph(g)


# both ways the compiler writes a shape's checks: hash joins over whole properties (for many focus
# nodes), lookups per node (for few: the bundled graph's shapes all have few)
@pytest.fixture(scope="module", params=[0, LOOKUP_BELOW], ids=["hash-joins", "lookups"])
def planted(planted_graph, request, tmp_path_factory):
    g, reference = planted_graph
    return reference, validate_store(_in_store(g, tmp_path_factory.mktemp("planted")), lookup_below=request.param)


def test_every_constraint_compiles():
    checks = compile_shapes()
    shapes = load_shapes()
    # every constraint of every shape: one sh:sparql is one check, and the core ones at least one each
    assert sum(1 for _ in shapes.objects(None, SH.sparql)) == sum(c.component == "SPARQL" for c in checks)
    assert {c.component for c in checks} >= {"MinCount", "MaxCount", "Datatype", "Class", "In", "Pattern",
                                              "MinInclusive", "MaxInclusive", "Or", "SPARQL"}
    assert all(c.query.lstrip().startswith(("SELECT", "PREFIX")) for c in checks)


def test_bundled_graph_conforms_in_the_store(graph):
    report = validate_store(graph)
    assert report.conforms, report.text()


def test_planted_violations_match_pyshacl(planted):
    reference, compiled = planted
    assert not reference.conforms and not compiled.conforms
    theirs = sorted(map(_key, reference.violations), key=repr)
    ours = sorted(map(_key, compiled.violations), key=repr)
    assert ours == theirs


def test_planted_messages_match_pyshacl(planted):
    """Where the shapes give a message (sh:message, filled in from a sh:sparql row), it is the same text."""
    reference, compiled = planted
    given = {str(m) for m in load_shapes().objects(None, SH.message)}
    ours = {(_key(v), v.message) for v in compiled.violations}
    compared = 0
    for v in reference.violations:
        if v.message in given or v.component == "SPARQL":
            assert (_key(v), v.message) in ours, v
            compared += 1
    assert compared > 20


def test_planted_graph_violates_every_check(planted):
    """The planted graph is a real test: every compiled constraint finds something."""
    _, compiled = planted
    found = {(v.component, v.path) for v in compiled.violations}
    for check in compile_shapes():
        path = compact(check.path) if check.path else "(node)"
        if check.component == "SPARQL":
            pattern = re.escape(re.sub(r"\{[?$]\w+\}", "@@", check.message)).replace("@@", ".*")
            assert any(v.component == "SPARQL" and re.fullmatch(pattern, v.message) for v in compiled.violations), \
                check.message
        else:
            assert (check.component, path) in found, (check.shape, check.component, path)


def test_focus_is_named_by_its_label(planted):
    _, compiled = planted
    assert any(v.focus.startswith("Orphan <") for v in compiled.violations)


def test_unsupported_constraint_is_a_clear_error(graph):
    shapes = load_shapes()
    shape = URIRef("https://w3id.org/kg-survey/shapes#WorkShape")
    shapes.add((shape, SH.closed, Literal(True)))
    with pytest.raises(KgError, match="not supported by the compiled validator"):
        validate_store(graph, shapes)


def test_cli_engines_agree_and_a_bad_engine_is_refused(kg, built_store):
    store = kg("validate", store=built_store)
    reference = kg("validate", "--engine", "pyshacl", store=built_store)
    assert store.exit_code == reference.exit_code == 0
    assert store.stdout == reference.stdout
    bad = kg("validate", "--engine", "fast", store=built_store)
    assert bad.exit_code != 0
    assert "unknown validation engine" in bad.message and "pyshacl" in bad.message


# -- compilation paths the shipped shapes do not use (or use only in one form) -------------------
_LOGIC_SHAPES = """
@prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
@prefix ex: <https://w3id.org/kg-survey/id/test/> .

ex:AndShape a sh:NodeShape ; sh:targetClass ex:T ;
    sh:and ( [ sh:path ex:p ; sh:minCount 1 ] [ sh:path ex:q ; sh:maxCount 1 ; sh:datatype xsd:integer ] ) .
ex:NotShape a sh:NodeShape ; sh:targetClass ex:T ;
    sh:not [ sh:path ex:bad ; sh:minCount 1 ] .
ex:NodeRefShape a sh:NodeShape ; sh:targetClass ex:T ; sh:node ex:Named .
ex:Named a sh:NodeShape ; sh:property [ sh:path ex:name ; sh:minCount 1 ; sh:datatype xsd:string ] .
ex:OrShape a sh:NodeShape ; sh:targetClass ex:T ;
    sh:or ( [ sh:path ex:p ; sh:minCount 2 ] [ sh:class ex:A ] [ sh:path ex:q ; sh:hasValue 7 ] ) .
ex:ValueOrShape a sh:NodeShape ; sh:targetClass ex:T ;
    sh:property [ sh:path ex:link ; sh:or ( [ sh:class ex:A ] [ sh:datatype xsd:integer ] [ sh:path ex:name ; sh:minCount 1 ] ) ] .
ex:ClassShape a sh:NodeShape ; sh:targetSubjectsOf ex:link ; sh:class ex:T .
ex:SparqlShape a sh:NodeShape ; sh:targetClass ex:T ;
    sh:sparql [ a sh:SPARQLConstraint ; sh:message "{?o} linked without a name and a class" ; sh:select \"\"\"
        SELECT $this ?o WHERE {
          $this <https://w3id.org/kg-survey/id/test/link> ?o , ?o2 ; a <https://w3id.org/kg-survey/id/test/T> .
          FILTER (isIRI(?o))
          FILTER NOT EXISTS { ?o <https://w3id.org/kg-survey/id/test/name> ?n . ?o a ?cls }
        }\"\"\" ] .
"""


def _logic_data() -> rdflib.Graph:
    """ex:ok conforms to every shape above; each other node breaks some of them."""
    g = rdflib.Graph()
    T, A = X.T, X.A
    for node in ("ok", "noP", "twoQ", "strQ", "bad", "noName", "numName", "orNone", "orClass", "orHas",
                 "linkBad", "linkOk", "unlinked"):
        g.add((X[node], RDF.type, T))
    for node in ("ok", "twoQ", "strQ", "bad", "noName", "numName", "orNone", "orClass", "orHas", "linkBad",
                 "linkOk", "unlinked"):
        g.add((X[node], X.p, Literal(1)))
        if node not in ("orNone", "orClass", "orHas"):
            g.add((X[node], X.p, Literal(2)))
        if node not in ("noName", "numName"):
            g.add((X[node], X.name, Literal(node)))
    g.add((X.numName, X.name, Literal(3)))
    g.add((X.twoQ, X.q, Literal(1)))
    g.add((X.twoQ, X.q, Literal(2)))
    g.add((X.strQ, X.q, Literal("one")))
    g.add((X.bad, X.bad, Literal(True)))
    g.add((X.orClass, RDF.type, A))
    g.add((X.orHas, X.q, Literal(7)))
    g.add((X.thing, RDF.type, A))
    g.add((X.thing, X.name, Literal("thing")))
    g.add((X.ok, X.link, X.thing))
    g.add((X.ok, X.link, Literal(5)))
    g.add((X.linkOk, X.link, X.ok))  # no class A, but it has a name
    g.add((X.linkBad, X.link, Literal("five")))
    g.add((X.linkBad, X.link, X.nameless))
    g.add((X.stranger, X.link, X.thing))  # a subject of ex:link that is not an ex:T
    g.add((X.linkOk, X.link, X.named))  # a name, no class: breaks the sh:sparql constraint only
    g.add((X.named, X.name, Literal("named")))
    return g


@pytest.fixture(scope="module", params=[0, LOOKUP_BELOW], ids=["hash-joins", "lookups"])
def logic(request, tmp_path_factory):
    shapes = rdflib.Graph().parse(data=_LOGIC_SHAPES, format="turtle")
    data = _logic_data()
    store = _in_store(data, tmp_path_factory.mktemp("logic"))
    return validate_graph(data, shapes), validate_store(store, shapes, lookup_below=request.param)


def test_shapes_without_focus_nodes_are_not_queried(graph):
    """A shape with no focus node in the graph gets no query; one with few gets lookups per node,
    many (here: more than 0) hash joins over whole properties."""
    shapes = load_shapes()
    empty = URIRef("https://w3id.org/kg-survey/shapes#Nothing")
    shapes.add((empty, RDF.type, SH.NodeShape))
    shapes.add((empty, SH.targetClass, X.NothingIsThis))
    shapes.add((empty, SH.property, X.nothingProperty))
    shapes.add((X.nothingProperty, SH.path, RDFS.label))
    shapes.add((X.nothingProperty, SH.minCount, Literal(1)))
    assert any("Nothing" in c.shape for c in compile_shapes(shapes))
    assert not any("Nothing" in c.shape for c in compile_shapes(shapes, graph))
    few = [c.query for c in compile_shapes(shapes, graph) if c.shape.endswith("#WorkShape") and c.component == "MinCount"]
    many = [c.query for c in compile_shapes(shapes, graph, lookup_below=0)
            if c.shape.endswith("#WorkShape") and c.component == "MinCount"]
    assert few and many and all("NOT EXISTS" in q for q in few) and not any("NOT EXISTS" in q for q in many)


def test_logic_constraints_match_pyshacl(logic):
    """sh:and, sh:not, sh:node and sh:or on a focus node, sh:or on values, sh:class on a focus
    node, sh:hasValue on a property (some value, not every value), and a sh:sparql body of `;`/`,` triples with a NOT EXISTS: the compiled queries (hash
    joins against each alternative's conformers) report what pySHACL reports."""
    reference, compiled = logic
    theirs = sorted(map(_key, reference.violations), key=repr)
    ours = sorted(map(_key, compiled.violations), key=repr)
    assert ours == theirs
    flagged = {v.focus.rsplit("/", 1)[-1] for v in compiled.violations}
    # every planted node is caught, by the constraint it breaks
    assert {"noP", "twoQ", "strQ", "bad", "noName", "numName", "orNone", "linkBad", "stranger"} <= flagged
    by = {(v.focus.rsplit("/", 1)[-1], v.component) for v in compiled.violations}
    assert {("noP", "And"), ("twoQ", "And"), ("strQ", "And"), ("bad", "Not"), ("noName", "Node"),
            ("numName", "Node"), ("orNone", "Or"), ("linkBad", "Or"), ("stranger", "Class"),
            ("linkOk", "SPARQL")} <= by


def test_logic_conforming_nodes_are_not_flagged(logic):
    """What conforms through one alternative each (two values of ex:p, the class, the value 7;
    a link to an ex:A, to a number, to a named node) is not reported."""
    _, compiled = logic
    flagged = {v.focus.rsplit("/", 1)[-1] for v in compiled.violations}
    assert not flagged & {"ok", "orClass", "orHas", "thing", "unlinked"}
    assert not any(v.focus.endswith("/linkOk") and v.component != "SPARQL" for v in compiled.violations)
    assert {v.focus.rsplit("/", 1)[-1] for v in compiled.violations if v.component == "SPARQL"} == {"linkOk", "linkBad"}


def test_sparql_triples_become_sub_selects():
    """Each triple pattern of a sh:sparql body (with ; and , lists) is a sub-select of its own,
    a VALUES list inside the one naming its property; what the reader does not know stays as written."""
    from kg.rdf.validate_sparql import _not_exists_as_minus

    text = ("SELECT ?this ?v WHERE { ?this ?p ?v ; ex:q ?w , ?u . FILTER(?p IN (ex:a, ex:b)) "
            "FILTER NOT EXISTS { ?v ex:r ?this } }")
    out = _not_exists_as_minus(text)
    assert "{ SELECT * WHERE { ?this ?p ?v . VALUES ?p { ex:a ex:b } } }" in out
    assert "{ SELECT * WHERE { ?this ex:q ?w .  } }" in out and "{ SELECT * WHERE { ?this ex:q ?u .  } }" in out
    assert "MINUS { { SELECT * WHERE { ?v ex:r ?this .  } } }" in out and "NOT EXISTS" not in out
    # a property variable with no VALUES would be a scan of the whole store: the triples stay
    loose = _not_exists_as_minus("SELECT ?this WHERE { ?this ?p ?v . FILTER NOT EXISTS { ?v ex:r ?this } }")
    assert "{ SELECT * WHERE { ?this ?p ?v" not in loose and "?this ?p ?v" in loose and "NOT EXISTS" not in loose
    # a blank node, a path: not read, left as written
    for body in ("SELECT ?this WHERE { ?this ex:p [ ex:q 1 ] }", "SELECT ?this WHERE { ?this ex:p/ex:q ?v }"):
        assert _not_exists_as_minus(body) == body
