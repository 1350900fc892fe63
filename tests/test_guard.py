"""The one query guard: read-only, no SERVICE, real time/memory/row limits, tested with hostile queries."""

from __future__ import annotations

import os
import threading
import time

import pytest

from kg.errors import QueryLimitExceeded, QueryRefused, QuerySyntaxError
from kg.sparql.guard import QueryLimits, check_query, query_form
from kg.sparql.text import strip
from kg.store import LocalGraph

from net_support import Listener

CARTESIAN_COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
CARTESIAN_ORDER = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i } ORDER BY ?c ?f ?i"

HIDDEN_UPDATES = [
    "INSERT DATA { <http://ex/a> <http://ex/b> <http://ex/c> }",
    "insert data { <http://ex/a> <http://ex/b> <http://ex/c> }",
    "# just a comment\nDELETE WHERE { ?s ?p ?o }",
    "SELECT * WHERE { ?s ?p ?o } # comment }\n; DROP ALL",
    "PREFIX ex: <http://ex/>INSERT DATA { ex:a ex:b ex:c }",
    "PREFIX ex: <http://ex/#SELECT>\nDELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "BASE <http://ex/> PREFIX p: <p#> CLEAR DEFAULT",
    'SELECT * WHERE { ?s ?p "x" } ; LOAD <http://ex/data.ttl>',
    "DROP GRAPH <http://ex/g>",
    "CREATE GRAPH <http://ex/g>",
    "ADD DEFAULT TO <http://ex/g>",
    "MOVE DEFAULT TO <http://ex/g>",
    "COPY DEFAULT TO <http://ex/g>",
    "WITH <http://ex/g> DELETE { ?s ?p ?o } WHERE { ?s ?p ?o }",
    "SELECT * WHERE { { SELECT * WHERE { ?s ?p ?o } } } ;\n\n  # sneaky\n  DeLeTe   WHERE{?s ?p ?o}",
]

NESTED_SERVICE = [
    "SELECT * WHERE { SERVICE <http://127.0.0.1:{port}/sparql> { ?s ?p ?o } }",
    "SELECT * WHERE { { SELECT * WHERE { OPTIONAL { service silent <http://127.0.0.1:{port}/> { ?s ?p ?o } } } } }",
    "PREFIX ex: <http://ex/>\nSELECT * WHERE { ?x ?y ?z FILTER EXISTS { SERVICE ?endpoint { ?s ?p ?o } } }",
    "SELECT * WHERE { # SERVICE in a comment does not hide the real one\n SeRvIcE <http://127.0.0.1:{port}/> { ?s ?p ?o } }",
    r"SELECT * WHERE { \u0053ERVICE <http://127.0.0.1:{port}/> { ?s ?p ?o } }",
]

HARMLESS = [
    'SELECT ?insert WHERE { ?insert <http://ex/DELETE> "DROP ALL; INSERT DATA {}" . } # delete everything',
    "PREFIX load: <http://ex/load#> PREFIX service: <http://ex/s#> SELECT * WHERE { ?s load:clear ?o . ?o service:x ?z }",
    "SELECT * WHERE { ?s ?p \"x\"@add . ?s <http://ex/create?with=copy> ?o }",
    "SELECT * WHERE { ?s ?p '''multi\nline INSERT DATA and SERVICE <http://ex/>''' }",
    'SELECT * WHERE { ?s ?p "escaped \\" quote then INSERT" }',
    "SELECT $delete ?move WHERE { ?delete ?move _:drop }",
    "ASK { ?s <http://ex/path#SERVICE> ?o }",
    "SELECT * WHERE { ?s ?p <http://ex/\\u0041INSERT> }",
    "DESCRIBE <http://ex/load>",
    "CONSTRUCT { ?s <http://ex/insert> ?o } WHERE { ?s ?p ?o }",
]


@pytest.mark.parametrize("text", HIDDEN_UPDATES)
def test_updates_are_refused_wherever_they_hide(text, graph):
    before = graph.triple_count()
    with pytest.raises(QueryRefused, match="read-only|not a query"):
        check_query(text)
    with pytest.raises(QueryRefused):
        graph.query(text)
    assert graph.triple_count() == before


@pytest.mark.parametrize("text", HARMLESS)
def test_keywords_inside_strings_iris_names_and_comments_are_not_refused(text, graph):
    check_query(text)  # no error
    graph.query(text)  # and the engine answers


def test_the_stripper_keeps_lines_and_blanks_only_literals_iris_and_comments():
    text = 'SELECT ?x WHERE { ?x <http://a/INSERT> "DELETE" } # DROP\nLIMIT 1'
    out = strip(text)
    assert len(out) == len(text) and out.count("\n") == 1
    assert "INSERT" not in out and "DELETE" not in out and "DROP" not in out
    assert "SELECT ?x WHERE" in out and "LIMIT 1" in out


@pytest.fixture
def listener():
    lis = Listener()
    yield lis
    lis.close()


@pytest.mark.parametrize("template", NESTED_SERVICE)
def test_service_is_refused_and_no_request_leaves_the_process(template, graph, listener):
    text = template.replace("{port}", str(listener.port))
    with pytest.raises(QueryRefused, match="SERVICE|codepoint"):
        graph.query(text)
    time.sleep(0.1)
    assert listener.connections == 0


def test_without_the_guard_the_engine_would_call_out(graph, listener):
    """Why SERVICE must be refused: the embedded engine really makes the request."""
    text = f"SELECT * WHERE {{ SERVICE SILENT <http://127.0.0.1:{listener.port}/sparql> {{ ?s ?p ?o }} }}"
    graph.query(text, trusted=True)
    deadline = time.monotonic() + 5
    while listener.connections == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert listener.connections >= 1


def test_cartesian_count_is_stopped_at_the_time_limit(graph):
    """COUNT over a cartesian product blocks inside the engine before any row: the worker is killed."""
    graph.query("ASK { ?s ?p ?o }")  # the worker is up, so only the query is timed
    pid_before = graph.sandbox.pids
    started = time.monotonic()
    with pytest.raises(QueryLimitExceeded, match="1 s time limit"):
        graph.query(CARTESIAN_COUNT, limits=QueryLimits(timeout_s=1.0))
    elapsed = time.monotonic() - started
    assert 0.9 < elapsed < 2.5, elapsed
    gone = set(pid_before) - set(graph.sandbox.pids)
    assert gone  # the busy worker is gone, not left computing (a warm spare may stay)
    time.sleep(0.2)
    for pid in gone:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)
    # the next query gets a fresh worker and works
    assert graph.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").records()[0]["n"] == graph.triple_count()


def test_cartesian_order_by_is_stopped_by_time_or_memory(graph):
    started = time.monotonic()
    with pytest.raises(QueryLimitExceeded):
        graph.query(CARTESIAN_ORDER, limits=QueryLimits(timeout_s=1.5, max_memory_mb=400))
    assert time.monotonic() - started < 3.5


def test_memory_limit_stops_a_growing_query(graph):
    with pytest.raises(QueryLimitExceeded, match="memory"):
        graph.query(CARTESIAN_ORDER, limits=QueryLimits(timeout_s=60, max_memory_mb=250))


def test_row_limit_truncates(graph):
    result = graph.query("SELECT * WHERE { ?s ?p ?o }", limits=QueryLimits(max_rows=7))
    assert len(result.rows) == 7 and result.truncated
    assert not graph.query("SELECT * WHERE { ?s ?p ?o } LIMIT 3").truncated


def test_bindings_and_results_cross_the_worker(graph):
    rows = graph.query("SELECT ?w ?id WHERE { ?w kg:arxivId ?id }", {"id": "2406.09400"}).records()
    assert rows == [{"w": "https://w3id.org/kg-survey/id/work/arxiv/2406.09400", "id": "2406.09400"}]
    assert graph.query("ASK { ?s ?p ?o }").boolean is True
    graph_result = graph.query("CONSTRUCT WHERE { ?w kg:arxivId ?id } LIMIT 2")
    assert graph_result.kind == "graph" and len(graph_result.triples) == 2


def test_syntax_errors_keep_line_and_column(graph):
    with pytest.raises(QuerySyntaxError) as info:
        graph.query("SELECT ?s WHERE {\n  ?s ?p \n}")
    assert info.value.line == 3


def test_form_and_empty_queries():
    assert query_form("PREFIX a: <http://x/select#> ASK { ?s ?p ?o }") == "ASK"
    for text in ("", "   ", "# only a comment"):
        with pytest.raises(QueryRefused):
            check_query(text)


def test_in_memory_graph_times_out_in_a_thread(built_store):
    import pyoxigraph as ox

    store = ox.Store()
    store.bulk_extend(LocalGraph(built_store).store.quads_for_pattern(None, None, None))
    mem = LocalGraph(built_store, store=store)
    started = time.monotonic()
    with pytest.raises(QueryLimitExceeded):
        mem.query(CARTESIAN_COUNT, limits=QueryLimits(timeout_s=0.5))
    assert time.monotonic() - started < 10  # stopped, not run out: the count alone takes minutes (loose: shared machine)


def test_cli_query_times_out_with_exit_3(kg, built_store):
    started = time.monotonic()
    result = kg("query", CARTESIAN_COUNT, "--timeout", "1", store=built_store)
    assert result.exit_code == 3
    assert "time limit" in result.message
    assert time.monotonic() - started < 5


def test_workers_started_from_short_lived_threads_survive(built_store):
    """A server starts workers from request threads that end; the worker must not die with them."""
    g = LocalGraph(built_store)
    box = {}
    t = threading.Thread(target=lambda: box.setdefault("n", len(g.query("SELECT * WHERE { ?s ?p ?o } LIMIT 5").rows)))
    t.start()
    t.join()
    time.sleep(0.3)
    assert box["n"] == 5
    assert len(g.query("SELECT * WHERE { ?s ?p ?o } LIMIT 3").rows) == 3
    g.close()


def test_workers_do_not_outlive_their_parent(built_store):
    """kill -9 the process that owns a worker busy on a cartesian product: the worker exits too."""
    import subprocess
    import sys

    code = ("import sys, threading\n"
            "from kg.store import LocalGraph\n"
            "from kg.sparql.guard import QueryLimits\n"
            f"g = LocalGraph({str(built_store)!r})\n"
            "g.query('ASK { ?s ?p ?o }')\n"
            "print(g.sandbox.pids[0], flush=True)\n"
            f"g.query({CARTESIAN_COUNT!r}, limits=QueryLimits(timeout_s=600))\n")
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    worker = int(proc.stdout.readline())
    time.sleep(0.5)
    proc.kill()
    proc.wait()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(worker, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    pytest.fail(f"worker {worker} still running after its parent was killed")
