"""`kg serve`: a read-only SPARQL 1.1 Protocol endpoint, tested with SPARQLWrapper, rdflib's
SPARQLStore and raw HTTP (content negotiation, CORS, refusals, limits)."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET

import pytest
import rdflib
import requests
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, POST, TURTLE, XML, SPARQLWrapper

from kg.build import build
from kg.sparql.guard import QueryLimits
from kg.records.file import write_bundle
from kg.records import Bundle, Source, Work
from kg.serve import make_server, negotiate
from kg.store import StoreDir

WORK = "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"
PAPERS = "SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }"


def _start(location, **kwargs):
    server = make_server(str(location), port=0, quiet=True, **kwargs)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


@pytest.fixture(scope="module")
def endpoint(built_store):
    server, thread = _start(built_store, limits=QueryLimits(max_rows=500, timeout_s=2.0),
                            cors_origins=["https://yasgui.triply.cc"])
    yield server.url
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_sparqlwrapper_select_ask_construct(endpoint, graph):
    sw = SPARQLWrapper(endpoint)
    sw.setQuery("PREFIX kg: <https://w3id.org/kg-survey/ontology#> "
                "SELECT ?w WHERE { ?w kg:arxivId \"2406.09400\" }")
    sw.setReturnFormat(JSON)
    rows = sw.query().convert()["results"]["bindings"]
    assert rows == [{"w": {"type": "uri", "value": WORK}}]
    sw.setQuery("ASK { ?s ?p ?o }")
    assert sw.query().convert()["boolean"] is True
    sw.setMethod(POST)
    sw.setQuery(f"CONSTRUCT {{ <{WORK}> ?p ?o }} WHERE {{ <{WORK}> ?p ?o }}")
    sw.setReturnFormat(TURTLE)
    g = rdflib.Graph().parse(data=sw.query().convert(), format="turtle")
    local = graph.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ <{WORK}> ?p ?o }}", trusted=True).records()[0]["n"]
    assert len(g) == local
    sw.setQuery(PAPERS)  # the kg prefixes are predeclared here too
    sw.setReturnFormat(XML)
    doc = sw.query().convert()
    assert int(doc.getElementsByTagName("literal")[0].firstChild.data) == graph.query(PAPERS).records()[0]["n"]


def test_rdflib_sparqlstore(endpoint, graph):
    g = rdflib.Graph(store=SPARQLStore(endpoint))
    fabio = rdflib.Namespace("http://purl.org/spar/fabio/")
    works = set(g.subjects(rdflib.RDF.type, fabio.ScholarlyWork))
    assert rdflib.URIRef(WORK) in works
    assert len(works) == graph.query(PAPERS).records()[0]["n"]
    rows = list(g.query("SELECT ?title WHERE { ?w <http://purl.org/dc/terms/title> ?title }",
                        initBindings={"w": rdflib.URIRef(WORK)}))
    assert len(rows) == 1 and "LLaVA" in str(rows[0][0])
    assert g.query("ASK { ?s ?p ?o }").askAnswer is True


@pytest.mark.parametrize("accept, ctype", [
    ("application/sparql-results+json", "application/sparql-results+json"),
    ("application/sparql-results+xml", "application/sparql-results+xml"),
    ("text/csv", "text/csv"),
    ("text/tab-separated-values", "text/tab-separated-values"),
    ("*/*", "application/sparql-results+json"),
    ("text/html, application/xml;q=0.9, */*;q=0.8", "application/xml"),
    ("", "application/sparql-results+json"),
])
def test_content_negotiation_for_results(endpoint, accept, ctype):
    q = 'SELECT ?w ?id WHERE { ?w kg:arxivId ?id FILTER(?id = "2406.09400") }'
    r = requests.get(endpoint, params={"query": q}, headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200
    assert r.headers["Content-Type"].startswith(ctype)
    body = r.text
    if "json" in ctype:
        assert json.loads(body)["results"]["bindings"][0]["id"]["value"] == "2406.09400"
    elif "xml" in ctype:
        ns = {"s": "http://www.w3.org/2005/sparql-results#"}
        assert ET.fromstring(body).find(".//s:binding[@name='w']/s:uri", ns).text == WORK
    elif ctype == "text/csv":
        assert list(csv.reader(io.StringIO(body))) == [["w", "id"], [WORK, "2406.09400"]]
    else:
        assert body.splitlines() == ["?w\t?id", f"<{WORK}>\t\"2406.09400\""]


@pytest.mark.parametrize("accept, fmt", [("text/turtle", "turtle"), ("application/n-triples", "nt"),
                                         ("application/rdf+xml", "xml"), ("application/ld+json", "json-ld")])
def test_content_negotiation_for_graphs(endpoint, accept, fmt):
    q = f"DESCRIBE <{WORK}>"
    r = requests.post(endpoint, data={"query": q}, headers={"Accept": accept}, timeout=10)
    assert r.status_code == 200 and r.headers["Content-Type"].startswith(accept)
    g = rdflib.Graph().parse(data=r.content, format=fmt)
    assert (rdflib.URIRef(WORK), None, None) in g


def test_post_bodies_and_format_parameter(endpoint):
    r = requests.post(endpoint, data=PAPERS.encode(), headers={"Content-Type": "application/sparql-query"}, timeout=10)
    assert r.status_code == 200 and r.json()["results"]["bindings"][0]["n"]["value"]
    r = requests.get(endpoint, params={"query": PAPERS, "format": "csv"}, timeout=10)
    assert r.headers["Content-Type"].startswith("text/csv")
    r = requests.get(endpoint, params={"query": PAPERS}, headers={"Accept": "image/png"}, timeout=10)
    assert r.status_code == 406


def test_cors_for_browser_tools(endpoint):
    pre = requests.options(endpoint, headers={"Origin": "https://yasgui.triply.cc",
                                              "Access-Control-Request-Method": "POST",
                                              "Access-Control-Request-Headers": "content-type"}, timeout=10)
    assert pre.status_code == 204
    assert pre.headers["Access-Control-Allow-Origin"] == "https://yasgui.triply.cc"
    assert "Origin" in pre.headers["Vary"]
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]
    assert "Content-Type" in pre.headers["Access-Control-Allow-Headers"]
    # what YASGUI sends: a form POST with its Accept header
    r = requests.post(endpoint, data={"query": PAPERS}, timeout=10,
                      headers={"Origin": "https://yasgui.triply.cc", "Accept": "application/sparql-results+json,*/*;q=0.9",
                               "Content-Type": "application/x-www-form-urlencoded; charset=UTF-8"})
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "https://yasgui.triply.cc"


def test_refusals_and_errors(endpoint, graph):
    before = graph.triple_count()
    cases = [
        ({"update": "INSERT DATA { <http://ex/a> <http://ex/b> <http://ex/c> }"}, 403, "read-only"),
        ({"query": "# harmless?\nDELETE WHERE { ?s ?p ?o }"}, 403, "read-only"),
        ({"query": "SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }"}, 403, "SERVICE"),
        ({"query": "SELECT ?s WHERE {\n ?s ?p }"}, 400, "line 2"),
        ({"query": "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"}, 503, "time limit"),
        ({"query": PAPERS, "default-graph-uri": "http://ex/g"}, 400, "default graph"),
    ]
    for data, status, text in cases:
        started = time.monotonic()
        r = requests.post(endpoint, data=data, timeout=30)
        assert r.status_code == status, (data, r.text)
        assert text in r.text
        assert "Access-Control-Allow-Origin" not in r.headers  # no Origin sent: no CORS answer
        assert time.monotonic() - started < 5
    r = requests.post(endpoint, data=b"INSERT DATA {}", headers={"Content-Type": "application/sparql-update"}, timeout=10)
    assert r.status_code == 403
    assert requests.put(endpoint, data=b"x", timeout=10).status_code == 405
    assert requests.get(endpoint.replace("/sparql", "/nothing"), timeout=10).status_code == 404
    assert graph.triple_count() == before


def test_row_limit_is_announced(endpoint):
    r = requests.get(endpoint, params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=10)
    assert len(r.json()["results"]["bindings"]) == 500
    assert "500" in r.headers["X-KG-Truncated"]


def test_service_page_without_a_query(endpoint):
    r = requests.get(endpoint, timeout=10)
    assert r.status_code == 200 and "read-only" in r.text.lower() and r.headers["Content-Type"].startswith("text/html")


def test_negotiate():
    offered = ["application/sparql-results+json", "text/csv"]
    assert negotiate("text/csv;q=0.5, application/sparql-results+json", offered, offered[0]) == offered[0]
    assert negotiate("text/*", offered, offered[0]) == "text/csv"
    assert negotiate("text/csv;q=0", offered, offered[0]) is None
    assert negotiate(None, offered, offered[1]) == "text/csv"


def test_a_rebuild_is_served_without_restart(store_copy):
    server, thread = _start(store_copy)
    try:
        def count():
            r = requests.get(server.url, params={"query": PAPERS}, timeout=10)
            return int(r.json()["results"]["bindings"][0]["n"]["value"])

        before = count()
        write_bundle(StoreDir(store_copy).records_dir / "extra.jsonl",
                     Bundle(sources=[Source("extra", "extra", "tester")],
                            works=[Work(ids={"arxiv": "2501.99999"}, sources=["extra"], title="A served new paper")]))
        build(store_copy)
        deadline = time.monotonic() + 10
        while count() != before + 1 and time.monotonic() < deadline:
            time.sleep(0.3)
        assert count() == before + 1
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_kg_serve_command(built_store):
    """The real command: starts, prints its URL, answers SPARQLWrapper, stops on Ctrl-C."""
    proc = subprocess.Popen([sys.executable, "-c", "from kg.cli import main; main()", "--store", str(built_store),
                             "serve", "--port", "0", "--timeout", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert "SPARQL endpoint: http://127.0.0.1:" in line, proc.stderr.read() if proc.poll() is not None else line
        url = line.split("SPARQL endpoint: ", 1)[1].split()[0]
        sw = SPARQLWrapper(url)
        sw.setQuery("SELECT ?id WHERE { ?w kg:arxivId ?id } ORDER BY ?id LIMIT 1")
        sw.setReturnFormat(JSON)
        assert sw.query().convert()["results"]["bindings"][0]["id"]["value"]
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(10) == 0


def test_kg_serve_without_a_graph_says_so(kg, tmp_path):
    result = kg("serve", "--port", "0", store=tmp_path / "empty")
    assert result.exit_code == 1 and "kg build" in result.message
    bad = kg("serve", "--port", "70000", store=tmp_path / "empty")
    assert bad.exit_code == 2
