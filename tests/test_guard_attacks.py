"""The attack corpus against the query guard: SERVICE disguises over every channel, checks that
must not evaluate, answers too large to send, and the worker's network wall.

A listener on 127.0.0.1 stands for any address an attacker would make kg fetch: it must see
no connection at all, whatever channel the query came through.
"""

from __future__ import annotations

import resource
import subprocess
import sys
import threading
import time

import pytest
import requests

from kg.errors import KgError, QueryLimitExceeded, QueryRefused
from kg.sparql.guard import QueryLimits, check_query, inspect_query
from kg.store.sandbox import QuerySandbox
from kg.serve import make_server

from net_support import Listener

# Each disguise holds {url}; every one is a SERVICE call an engine would make.
SERVICE_DISGUISES = [
    "SELECT * WHERE { ?s ?p ?o .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p ?o.SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s kg:a\\' ?o . SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s kg:a\\\" ?o . SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s kg:a\\# ?o . SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s kg:a\\. ?o . SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s kg:a%20 ?o .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { { ?s ?p ?o }SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { FILTER(true)SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p \"a\\\"\" .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p '''a'b''' .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p \"x\"@en .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p 1 .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { [] ?p ?o .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { _:b ?p $o .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?é ?p ?o .SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { sErViCe SiLeNt <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE {\tSERVICE\t<{url}>\t{ ?a ?b ?c } }",
    "SELECT * WHERE {\nSERVICE\r\n<{url}>\n{ ?a ?b ?c } }",
    "SELECT * WHERE { SERVICE#comment\n<{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { # SERVICE in a comment\n SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { VALUES ?e { <{url}> } SERVICE ?e { ?a ?b ?c } }",
    "SELECT * WHERE { BIND(<{url}> AS ?e) SERVICE ?e { ?a ?b ?c } }",
    "BASE <{url}> SELECT * WHERE { SERVICE <x> { ?a ?b ?c } }",
    "PREFIX e: <{url}> SELECT * WHERE { SERVICE e:x { ?a ?b ?c } }",
    "SELECT * WHERE { ?x ?y ?z FILTER EXISTS { SERVICE <{url}> { ?a ?b ?c } } }",
    "SELECT * WHERE { ?x ?y ?z FILTER NOT EXISTS { SERVICE <{url}> { ?a ?b ?c } } }",
    "SELECT * WHERE { { SELECT * WHERE { OPTIONAL { SERVICE SILENT <{url}> { ?a ?b ?c } } } } }",
    "SELECT * WHERE { { ?s ?p ?o } UNION { SERVICE <{url}> { ?a ?b ?c } } }",
    "SELECT * WHERE { ?s ?p ?o MINUS { SERVICE <{url}> { ?a ?b ?c } } }",
    "SELECT * WHERE { GRAPH ?g { SERVICE <{url}> { ?a ?b ?c } } }",
    "CONSTRUCT { ?a ?b ?c } WHERE { SERVICE <{url}> { ?a ?b ?c } }",
    "CONSTRUCT WHERE { ?s ?p ?o .SERVICE <{url}> { ?s ?p ?o } }",
    "ASK { SERVICE <{url}> { ?a ?b ?c } }",
    "ASK { ?s ?p ?o .SERVICE <{url}> { ?a ?b ?c } }",
    "DESCRIBE ?a WHERE { SERVICE <{url}> { ?a ?b ?c } }",
    "SELECT (COUNT(*) AS ?n) WHERE { SERVICE <{url}> { ?a ?b ?c } } GROUP BY ?a",
    "SELECT * WHERE { \\u0053ERVICE <{url}> { ?a ?b ?c } }",
    "SELECT * WHERE { ?s ?p ?o . SERV\\u0049CE <{url}> { ?a ?b ?c } }",
]


@pytest.fixture(scope="module")
def listener():
    lis = Listener()
    yield lis
    lis.close()


def disguises(listener) -> list[str]:
    return [d.replace("{url}", listener.url) for d in SERVICE_DISGUISES]


def test_the_corpus_is_large_and_every_disguise_is_refused_by_the_token_check(listener):
    texts = disguises(listener)
    assert len(texts) >= 30
    for text in texts:
        with pytest.raises(QueryRefused, match="SERVICE|codepoint"):
            check_query(text)
    assert listener.connections == 0


def test_the_parse_tree_check_finds_service_without_the_token_check(listener):
    """Wall 2 on its own: the parsed query is walked, whatever the words look like."""
    parsed = 0
    for text in disguises(listener):
        if "\\u" in text:
            continue  # not SPARQL for a parser: wall 1 refuses these
        with pytest.raises(QueryRefused, match="SERVICE"):
            inspect_query("PREFIX kg: <https://w3id.org/kg-survey/ontology#>\n" + text)
        parsed += 1
    assert parsed >= 30
    assert inspect_query("SELECT * WHERE { ?s <http://ex/SERVICE> 'SERVICE' }") == "SELECT"


def test_every_disguise_is_refused_through_the_graph_and_the_app(graph, listener, built_store, monkeypatch):
    from kg.app import data

    monkeypatch.setenv("KG_STORE", str(built_store))
    for text in disguises(listener):
        with pytest.raises(QueryRefused):
            graph.query(text)
        with pytest.raises(QueryRefused):
            data.query(text, {}, 100, 5.0)
    time.sleep(0.2)
    assert listener.connections == 0


def test_every_disguise_is_refused_by_the_cli(kg, built_store, listener):
    for text in disguises(listener):
        result = kg("query", text, store=built_store)
        assert result.exit_code == 2, (text, result.output)
        assert "SERVICE" in result.message or "codepoint" in result.message
    time.sleep(0.2)
    assert listener.connections == 0


@pytest.fixture(scope="module")
def server(built_store):
    srv = make_server(str(built_store), port=0, quiet=True, limits=QueryLimits(max_rows=100, timeout_s=5.0))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()
    thread.join(5)


def test_every_disguise_is_refused_over_http(server, listener):
    for text in disguises(listener):
        answers = [
            requests.get(server.url, params={"query": text}, timeout=10),
            requests.post(server.url, data={"query": text}, timeout=10),
            requests.post(server.url, data=text.encode(), headers={"Content-Type": "application/sparql-query"},
                          timeout=10),
        ]
        for resp in answers:
            assert resp.status_code == 403, (text, resp.status_code, resp.text)
            assert "127.0.0.1" not in resp.text or listener.url in text  # nothing about what answered
    time.sleep(0.2)
    assert listener.connections == 0


def test_every_disguise_is_refused_before_a_remote_store_sees_it(listener):
    """The remote channel: a SPARQL endpoint (here a recorder) must never receive a SERVICE query."""
    from kg.store.remote import Endpoint, RemoteGraph

    class Recorder(Endpoint):
        sent: list = []

        def query(self, text, form, *, default_graph, limits):
            self.sent.append(text)
            raise AssertionError("a refused query reached the endpoint")

    remote = RemoteGraph("http://127.0.0.1:9/sparql", generation=None, endpoint=Recorder("http://127.0.0.1:9/sparql"))
    try:
        for text in disguises(listener):
            with pytest.raises(QueryRefused):
                remote.query(text)
    finally:
        remote.close()
    assert Recorder.sent == [] and listener.connections == 0


def test_the_worker_cannot_reach_the_network_even_unchecked(listener):
    """Wall 3: the engine inside a query worker, with both checks skipped, still makes no request."""
    code = (
        "from kg.store.netwall import deny_network\n"
        "wall = deny_network()\n"
        "import pyoxigraph as ox\n"
        f"q = 'SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?s ?p ?o }} }}'\n"
        "try:\n"
        "    list(ox.Store().query(q))\n"
        "    print(wall, 'answered')\n"
        "except Exception as exc:\n"
        "    print(wall, type(exc).__name__)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    wall, outcome = out.stdout.split()
    assert wall in ("seccomp", "netns"), out
    assert outcome != "answered"
    time.sleep(0.2)
    assert listener.connections == 0


def test_sandbox_workers_report_their_wall(graph):
    graph.query("ASK { ?s ?p ?o }")
    sandbox = graph.sandbox
    assert sandbox.pids
    assert all(w.wall in ("seccomp", "netns") for w in sandbox._all)


def _values_cross_product(n: int) -> str:
    values = " ".join(str(i) for i in range(n))
    return f"SELECT * WHERE {{ VALUES ?a {{ {values} }} VALUES ?b {{ {values} }} }} ORDER BY DESC(?a) ?b"


def _rss_mb() -> float:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * resource.getpagesize() / 2**20


def test_a_huge_values_cross_product_is_stopped_within_the_time_limit(graph):
    text = _values_cross_product(3000)
    graph.query("ASK { ?s ?p ?o }")
    before = _rss_mb()
    started = time.monotonic()
    with pytest.raises(QueryLimitExceeded):
        graph.query(text, limits=QueryLimits(max_rows=10, timeout_s=2.0))
    assert time.monotonic() - started < 6
    assert _rss_mb() - before < 150  # nothing was evaluated in this process


def test_the_remote_check_of_a_huge_query_stays_within_the_time_limit():
    sandbox = QuerySandbox(None)
    try:
        started = time.monotonic()
        try:
            sandbox.check(_values_cross_product(3000), QueryLimits(timeout_s=3.0))
        except QueryLimitExceeded:
            pass
        assert time.monotonic() - started < 8
    finally:
        sandbox.close()


# 8 characters doubled 21 times: one literal of 16 MB from a query of a few hundred bytes
DOUBLING = ("SELECT ?x WHERE { BIND(\"xxxxxxxx\" AS ?v0) "
            + " ".join(f"BIND(CONCAT(?v{i}, ?v{i}) AS ?v{i + 1})" for i in range(21))
            + " BIND(?v21 AS ?x) }")


def test_a_small_query_with_a_huge_answer_is_cut_with_a_message(graph):
    assert len(DOUBLING) < 1200
    result = graph.query(DOUBLING, limits=QueryLimits(max_bytes=1 << 20, timeout_s=20))
    assert result.truncated and result.rows == []
    assert "size limit" in result.note


def test_the_cli_says_the_answer_was_cut(kg, built_store):
    result = kg("query", DOUBLING, "--max-mb", "1", "--format", "csv", store=built_store)
    assert result.exit_code == 0, result.output
    assert "size limit" in result.output and "--max-mb" in result.output
    assert len(result.output) < 10_000


def test_the_server_sends_a_bounded_answer(built_store):
    srv = make_server(str(built_store), port=0, quiet=True,
                      limits=QueryLimits(max_rows=100, timeout_s=20.0, max_bytes=1 << 20))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        resp = requests.get(srv.url, params={"query": DOUBLING}, timeout=60)
        assert resp.status_code == 200
        assert len(resp.content) < 1 << 20
        assert "size limit" in resp.headers.get("X-KG-Truncated", "")
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)


def test_an_unparseable_query_for_a_remote_store_gets_the_engines_message():
    sandbox = QuerySandbox(None)
    try:
        with pytest.raises(KgError, match="line 1"):
            sandbox.check("SELECT ?x WHERE { ?x a owl:Class }", QueryLimits(timeout_s=10))
        assert sandbox.check("SELECT ?x WHERE { ?x ?p ?o }", QueryLimits(timeout_s=10)) == "SELECT"
    finally:
        sandbox.close()


def test_the_server_stops_a_huge_values_check_on_time_with_bounded_memory(built_store):
    srv = make_server(str(built_store), port=0, quiet=True, limits=QueryLimits(max_rows=100, timeout_s=2.0))
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        assert requests.get(srv.url, params={"query": "ASK { ?s ?p ?o }"}, timeout=30).ok
        before = _rss_mb()
        started = time.monotonic()
        resp = requests.post(srv.url, data=_values_cross_product(3000).encode(),
                             headers={"Content-Type": "application/sparql-query"}, timeout=60)
        assert resp.status_code == 503 and "time limit" in resp.text
        assert time.monotonic() - started < 6
        assert _rss_mb() - before < 150  # the server process evaluated nothing
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
