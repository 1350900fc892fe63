"""kg against a SPARQL endpoint (a real Oxigraph server on 127.0.0.1): build, query, analyses,
exports, bound values, the atomic generation swap, failures, and the guard."""

from __future__ import annotations

import json
import time

import pyoxigraph as ox
import pytest
import requests

import kg.store.remote as remote
from kg.build import build
from kg.errors import KgError, QueryLimitExceeded, QueryRefused, UsageError
from kg.sparql.guard import QueryLimits
from kg.sparql.named import named_queries, run_named
from kg.records.file import write_bundle
from kg.records import Bundle, Source, Work
from kg.store.remote import RemoteGraph, generations, sparql_term, substitute
from kg.sparql.stats import graph_stats
from kg.store import StoreDir, open_graph

from remote_support import OxigraphServer, normalise

WORK = "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"


@pytest.fixture(scope="session")
def oxigraph_built(tmp_path_factory, built_store):
    """An Oxigraph server holding the bundled graph built through kg (shared, read-only)."""
    server = OxigraphServer(tmp_path_factory.mktemp("oxigraph-shared"))
    build(server.url)
    yield server
    server.stop()


@pytest.fixture
def fresh_server(tmp_path):
    server = OxigraphServer(tmp_path / "oxigraph")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def remote_graph(oxigraph_built):
    return RemoteGraph(oxigraph_built.url)


def test_open_graph_dispatches_on_urls(remote_graph, oxigraph_built):
    graph = open_graph(oxigraph_built.url)
    assert isinstance(graph, RemoteGraph)
    assert graph.generation and graph.generation.startswith(remote.GRAPH_BASE + "gen-")
    assert graph.location == oxigraph_built.url


def test_remote_build_gives_the_local_graph(remote_graph, graph):
    assert remote_graph.triple_count() == graph.triple_count()
    assert graph_stats(remote_graph) == graph_stats(graph)
    local = sorted(ox.parse(graph.dump(ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES), key=str)
    there = sorted(ox.parse(remote_graph.dump(ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES), key=str)
    assert there == local


@pytest.mark.parametrize("name", sorted(named_queries()))
def test_every_named_query_answers_the_same_remotely(name, remote_graph, graph):
    params = named_queries()[name].params
    if name == "cell-papers":
        cases = [{"category": "retrieval", "mechanism": "fine_tuning"}, {"category": "text_generation", "mechanism": "instruction"}]
    else:
        cases = [{p: value for p in params} for value in ["2406.09400", WORK, "Nguyen et al. (2024)"]] if params else [{}]
    for bindings in cases:
        value = bindings
        assert normalise(run_named(remote_graph, name, bindings)) == normalise(run_named(graph, name, bindings)), value


def test_analyses_run_against_the_remote_store(remote_graph, graph):
    analysis = pytest.importorskip("kg.analysis")
    from kg.analysis.link_graph import build_link_graph

    a, b = analysis.load_corpus(remote_graph), analysis.load_corpus(graph)
    assert a.works.sort_values("work").reset_index(drop=True).equals(b.works.sort_values("work").reset_index(drop=True))
    cells_a = analysis.gap_matrix(a)[["category", "mechanism", "count", "status"]]
    cells_b = analysis.gap_matrix(b)[["category", "mechanism", "count", "status"]]
    assert cells_a.equals(cells_b)
    assert analysis.pagerank_scores(a) == pytest.approx(analysis.pagerank_scores(b))
    la, lb = build_link_graph(remote_graph), build_link_graph(graph)
    assert sorted(la.edges(keys=True)) == sorted(lb.edges(keys=True))


def test_citation_results_from_the_remote_store_equal_the_local_ones(remote_graph, graph):
    from kg.analysis.citation_store import citation_table, compute_table, stored_path

    assert stored_path(remote_graph) is None  # nothing kept: the endpoint's generation is not ours to write in
    remote = citation_table(remote_graph)
    assert remote.drop(columns="pagerank").equals(compute_table(graph).drop(columns="pagerank"))
    assert list(remote["pagerank"]) == pytest.approx(list(compute_table(graph)["pagerank"]))


def test_report_from_the_remote_store(remote_graph, graph):
    report = pytest.importorskip("kg.report")
    a = json.loads(report.render(report.build_report(remote_graph), "json"))
    b = json.loads(report.render(report.build_report(graph), "json"))
    for key in ("generated", "generated_at", "created"):
        a.pop(key, None), b.pop(key, None)
    assert a == b


def test_cli_against_the_remote_store(kg, oxigraph_built, graph, tmp_path, monkeypatch):
    result = kg("stats", "--json", store=oxigraph_built.url)
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == graph_stats(graph)
    monkeypatch.setenv("KG_STORE", oxigraph_built.url)  # the environment variable works the same
    result = kg("query", "--name", "paper", "--bind", "id=2406.09400", "--format", "json")
    assert result.exit_code == 0
    assert any(b["property"]["value"] == "arxivId" for b in json.loads(result.output)["results"]["bindings"])
    out = tmp_path / "g.nt"
    assert kg("export", "--format", "nt", "--output", str(out)).exit_code == 0
    assert len(out.read_text().splitlines()) == graph.triple_count()
    refused = kg("query", "INSERT DATA { <http://ex/a> <http://ex/b> <http://ex/c> }")
    assert refused.exit_code == 2 and "read-only" in refused.message
    assert RemoteGraph(oxigraph_built.url).triple_count() == graph.triple_count()


# ---------------------------------------------------------------- bound values
HOSTILE_VALUES = ['x" } ; DROP ALL ; #', "line\nbreak", 'back\\slash \\" quote', "tab\tand \x01 control",
                  "ünïcödé ✓", "<http://ex/not-an-iri-here>", "?id", "'''"]


@pytest.mark.parametrize("value", HOSTILE_VALUES)
def test_bound_values_stay_values(value, remote_graph, graph):
    before = remote_graph.triple_count()
    q = "SELECT ?w ?id WHERE { ?w kg:arxivId|kg:shortName ?id }"
    assert remote_graph.query(q, {"id": value}).rows == []
    assert graph.query(q, {"id": value}).rows == []
    assert remote_graph.triple_count() == before


def test_bound_values_with_quotes_find_their_match(remote_graph, graph):
    q = "SELECT ?w ?name WHERE { ?w kg:shortName ?name }"
    for g in (remote_graph, graph):
        assert g.query(q, {"name": "Yo'LLaVA"}).records() == [{"w": WORK, "name": "Yo'LLaVA"}]
    rows = remote_graph.query("SELECT ?p WHERE { ?w ?p ?o } LIMIT 1", {"w": ox.NamedNode(WORK)}).rows
    assert len(rows) == 1


def test_sparql_terms_are_escaped_and_checked():
    assert sparql_term('a"b\\c\n') == '"a\\"b\\\\c\\n"'
    assert sparql_term(3) == '"3"^^<http://www.w3.org/2001/XMLSchema#integer>'
    assert sparql_term(True) == '"true"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    assert sparql_term(ox.Literal("chat", language="fr")) == '"chat"@fr'
    assert sparql_term(ox.NamedNode("http://ex/a")) == "<http://ex/a>"
    assert sparql_term("\x00") == '"\\u0000"'
    from kg.sparql.results import Term

    with pytest.raises(UsageError):
        sparql_term(Term("uri", "http://ex/a> } DROP ALL <http://ex/b"))
    with pytest.raises(UsageError):
        sparql_term(Term("literal", "x", lang="en} DROP"))


def test_substitution_keeps_the_variable_in_the_answer():
    v = {"id": "x"}
    assert substitute("SELECT ?w ?id WHERE { ?w ?p ?id }", v) == 'SELECT ?w ("x" AS ?id) WHERE { ?w ?p "x" }'
    # a sub-query providing ?id: the outer projection keeps the variable
    sub = substitute("SELECT ?id ?w WHERE { { SELECT ?id ?w WHERE { ?w ?p ?id } } }", v)
    assert sub == 'SELECT ?id ?w WHERE { { SELECT ("x" AS ?id) ?w WHERE { ?w ?p "x" } } }'
    assert substitute("SELECT * WHERE { ?w ?p ?id }", v) == 'SELECT * WHERE {BIND("x" AS ?id)  ?w ?p "x" }'
    assert substitute("SELECT ?id (COUNT(*) AS ?n) WHERE { ?w ?p ?id } GROUP BY ?id ORDER BY ?id", v) == \
        'SELECT ("x" AS ?id) (COUNT(*) AS ?n) WHERE { ?w ?p "x" } GROUP BY ("x") ORDER BY ("x")'
    assert substitute('SELECT ?w WHERE { ?w ?p "?id" } # ?id', v) == 'SELECT ?w WHERE { ?w ?p "?id" } # ?id'
    for assigns in ("SELECT ?w WHERE { BIND(1 AS ?id) }", "SELECT ?w WHERE { VALUES ?id { 1 } }"):
        with pytest.raises(UsageError, match="assigns"):
            substitute(assigns, v)


# ---------------------------------------------------------------- generations and failures
def _records(store_url: str, n: int) -> None:
    """n extra works in the records folder the remote store is built from."""
    works = [Work(ids={"arxiv": f"2501.{90000 + i:05d}"}, sources=["extra"], title=f"Extra paper number {i}",
                  year=2025) for i in range(n)]
    write_bundle(StoreDir(store_url).records_dir / "extra.jsonl",
                 Bundle(sources=[Source("extra", "extra records", "tester")], works=works))


def test_builds_swap_atomically_and_keep_the_previous_generation(fresh_server, graph):
    url = fresh_server.url
    build(url)
    first = RemoteGraph(url)
    papers = graph_stats(first)["papers"]
    _records(url, 3)
    build(url)
    second = RemoteGraph(url)
    assert second.generation != first.generation
    assert graph_stats(second)["papers"] == papers + 3
    # a reader that opened the first generation still reads it, whole, and knows it is stale
    assert graph_stats(first)["papers"] == papers and first.is_stale() and not second.is_stale()
    build(url)
    third = RemoteGraph(url)
    live = {g["iri"] for g in generations(second.endpoint)}
    assert live == {second.generation, third.generation}  # the oldest one was dropped
    assert first.triple_count() == 0  # ... and its triples are gone from the server


def test_a_failed_build_leaves_the_published_graph(fresh_server, monkeypatch):
    url = fresh_server.url
    build(url)
    before = RemoteGraph(url)
    count = before.triple_count()
    real_upload = remote.upload

    def broken(endpoint, gen, quads):
        real_upload(endpoint, gen, quads[: len(quads) // 2])  # half the graph arrives ...
        raise KgError("connection lost (simulated)")  # ... then the network fails

    monkeypatch.setattr(remote, "upload", broken)
    with pytest.raises(KgError, match="simulated"):
        build(url)
    after = RemoteGraph(url)
    assert after.generation == before.generation and after.triple_count() == count
    assert {g["iri"] for g in generations(after.endpoint)} == {before.generation}


def test_a_short_upload_is_caught_before_publishing(fresh_server, monkeypatch):
    url = fresh_server.url
    real_upload = remote.upload
    monkeypatch.setattr(remote, "upload", lambda e, g, quads: real_upload(e, g, quads[:-5]))
    with pytest.raises(KgError, match="stored .* of .* triples"):
        build(url)
    assert RemoteGraph(url).generation is None


def test_sparql_update_is_used_when_the_graph_store_protocol_is_missing(fresh_server, monkeypatch, graph):
    monkeypatch.setenv("KG_STORE_GSP_URL", fresh_server.base + "/no-such-endpoint")
    monkeypatch.setattr(remote, "UPDATE_CHUNK", 700)  # several INSERT DATA requests
    build(fresh_server.url)
    g = RemoteGraph(fresh_server.url)
    assert g.endpoint.gsp_url is None
    assert graph_stats(g) == graph_stats(graph)


def test_an_endpoint_without_kg_generations_is_read_as_is(fresh_server):
    requests.post(fresh_server.base + "/store", params={"default": ""},
                  data=b'<http://ex/s> <http://ex/p> "o" .\n', headers={"Content-Type": "application/n-triples"},
                  timeout=10).raise_for_status()
    g = RemoteGraph(fresh_server.url)
    assert g.generation is None and g.triple_count() == 1


def test_unreachable_endpoint_is_a_clear_error(kg):
    result = kg("stats", store="http://127.0.0.1:9/sparql")
    assert result.exit_code == 1
    assert "cannot reach the SPARQL endpoint" in result.message


# ---------------------------------------------------------------- the guard, remotely
def test_remote_queries_pass_the_guard_and_the_time_limit(remote_graph):
    with pytest.raises(QueryRefused):
        remote_graph.query("SELECT * WHERE { SERVICE <http://127.0.0.1:9/> { ?s ?p ?o } }")
    with pytest.raises(QueryRefused):
        remote_graph.query("# hidden\nCLEAR ALL")
    started = time.monotonic()
    with pytest.raises(QueryLimitExceeded):
        remote_graph.query("SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }",
                           limits=QueryLimits(timeout_s=1.0))
    assert time.monotonic() - started < 2.5
    truncated = remote_graph.query("SELECT * WHERE { ?s ?p ?o }", limits=QueryLimits(max_rows=5))
    assert len(truncated.rows) == 5 and truncated.truncated


def test_remote_workspace_keeps_records_locally(oxigraph_built, tmp_path):
    d = StoreDir(oxigraph_built.url)
    assert d.url == oxigraph_built.url
    assert "remote" in d.path.parts and not str(d.path).startswith("http")


def test_blank_nodes_travel_together(fresh_server, monkeypatch):
    """Blank-node labels hold within one request: a blank node's triples must arrive together."""
    monkeypatch.setenv("KG_STORE_GSP_URL", fresh_server.base + "/no-such-endpoint")
    monkeypatch.setattr(remote, "UPDATE_CHUNK", 3)
    endpoint = remote.Endpoint(fresh_server.url)
    b, ex = ox.BlankNode(), "http://ex/"
    quads = [ox.Quad(ox.NamedNode(ex + f"s{i}"), ox.NamedNode(ex + "p"), ox.Literal(str(i))) for i in range(7)]
    quads += [ox.Quad(ox.NamedNode(ex + "s0"), ox.NamedNode(ex + "q"), b),
              ox.Quad(b, ox.NamedNode(ex + "r"), ox.Literal("one")), ox.Quad(b, ox.NamedNode(ex + "r"), ox.Literal("two"))]
    remote.upload(endpoint, "http://ex/g", quads)
    g = RemoteGraph(fresh_server.url, generation="http://ex/g")
    rows = g.query("SELECT ?v WHERE { <http://ex/s0> <http://ex/q> ?b . ?b <http://ex/r> ?v }", trusted=True)
    assert sorted(r["v"] for r in rows.records()) == ["one", "two"]
    assert g.triple_count() == 10
