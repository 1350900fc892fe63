"""kg against Virtuoso 7 (Debian's virtuoso-opensource) started by hand on 127.0.0.1.

Skipped, with the install hint, where Virtuoso is not installed (.ci/run installs it).
"""

from __future__ import annotations

import json

import pyoxigraph as ox
import pytest
import requests

from kg.build import build
from kg.errors import QueryRefused
from kg.sparql.named import run_named
from kg.analysis.link_graph import build_link_graph
from kg.store.remote import Endpoint, RemoteGraph, generations
from kg.sparql.stats import graph_stats

from remote_support import VirtuosoServer, normalise, virtuoso_binaries

pytestmark = pytest.mark.skipif(virtuoso_binaries() is None,
                                reason="Virtuoso is not installed (apt-get install -y virtuoso-opensource)")

# The core named queries; kg's README lists which other queries Virtuoso 7.2 answers differently.
CORE = ["papers-by-cell", "cell-papers", "paper", "citations", "datasets", "papers", "stats", "graph-edges",
        "node-labels", "sources", "work-ids"]


@pytest.fixture(scope="module")
def virtuoso(tmp_path_factory):
    server = VirtuosoServer(tmp_path_factory.mktemp("virtuoso"))
    build(server.url)
    yield server
    server.stop()


def test_build_on_virtuoso_gives_the_local_graph(virtuoso, graph):
    g = RemoteGraph(virtuoso.url)
    assert g.generation is not None
    assert g.triple_count() == graph.triple_count()
    assert graph_stats(g) == graph_stats(graph)
    dumped = list(ox.parse(g.dump(ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES))
    assert len(dumped) == graph.triple_count()


def test_virtuoso_takes_data_through_the_graph_store_protocol(virtuoso):
    endpoint = Endpoint(virtuoso.url)
    assert endpoint.gsp_post("http://ex/gsp-probe", b'<http://ex/s> <http://ex/p> "o" .\n')
    assert endpoint.gsp_url.endswith("/sparql-graph-crud")
    assert endpoint.gsp_get("http://ex/gsp-probe").strip().endswith(b'"o" .')
    endpoint.update("DROP SILENT GRAPH <http://ex/gsp-probe>")


@pytest.mark.parametrize("name", CORE)
def test_core_named_queries_on_virtuoso(name, virtuoso, graph):
    g = RemoteGraph(virtuoso.url)
    bindings = ({"id": "2406.09400"} if name in ("paper", "citations") else
                {"category": "retrieval", "mechanism": "fine_tuning"} if name == "cell-papers" else {})
    assert normalise(run_named(g, name, bindings), distinct=True) == normalise(run_named(graph, name, bindings),
                                                                                distinct=True)


def test_network_views_on_virtuoso(virtuoso, graph):
    a, b = build_link_graph(RemoteGraph(virtuoso.url)), build_link_graph(graph)
    assert sorted(a.edges(keys=True)) == sorted(b.edges(keys=True))


def test_the_guard_protects_virtuoso(virtuoso, kg, graph):
    """Virtuoso runs an update sent in the query parameter; kg refuses it before sending."""
    update = "INSERT DATA { GRAPH <http://ex/scratch> { <http://ex/a> <http://ex/b> <http://ex/c> } }"
    raw = requests.post(virtuoso.url, data={"query": update}, timeout=30)
    assert raw.status_code == 200  # the server itself would have changed data
    g = RemoteGraph(virtuoso.url)
    with pytest.raises(QueryRefused):
        g.query(update.replace("scratch", "scratch2"))
    result = kg("query", "# looks harmless\nDROP SILENT GRAPH <http://ex/scratch>", store=virtuoso.url)
    assert result.exit_code == 2
    assert g.triple_count() == graph.triple_count()


def test_cli_queries_virtuoso(virtuoso, kg):
    result = kg("query", "--name", "paper", "--bind", "id=2406.09400", "--format", "json", store=virtuoso.url)
    assert result.exit_code == 0, result.output
    props = {b["property"]["value"] for b in json.loads(result.output)["results"]["bindings"]}
    assert {"arxivId", "category", "title"} <= props


def test_bound_values_stay_values_on_virtuoso(virtuoso):
    g = RemoteGraph(virtuoso.url)
    before = g.triple_count()
    q = "SELECT ?w WHERE { ?w kg:shortName ?name }"
    assert g.query(q, {"name": 'x" } } ; DROP SILENT GRAPH <http://ex/scratch> ; #'}).rows == []
    assert g.query(q, {"name": "Yo'LLaVA"}).records() == [{"w": "https://w3id.org/kg-survey/id/work/arxiv/2406.09400"}]
    assert g.triple_count() == before


def test_rebuild_swaps_generations_on_virtuoso(virtuoso):
    old = RemoteGraph(virtuoso.url)
    build(virtuoso.url)
    new = RemoteGraph(virtuoso.url)
    assert new.generation != old.generation and old.is_stale()
    assert old.triple_count() == new.triple_count()  # the previous generation is still whole
    assert {g["iri"] for g in generations(new.endpoint)} >= {old.generation, new.generation}
