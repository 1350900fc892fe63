"""Every export format round-trips."""

from __future__ import annotations

import csv

import networkx as nx
import pytest
import rdflib
from rdflib.compare import isomorphic

from kg.output.export import FORMATS, export
from kg.sparql.stats import graph_stats


@pytest.fixture(scope="module")
def reference(graph):
    g = rdflib.Graph()
    g.parse(data=graph.dump(__import__("pyoxigraph").RdfFormat.N_TRIPLES), format="nt")
    return g


@pytest.mark.parametrize("fmt,parser", [("ttl", "turtle"), ("nt", "nt"), ("jsonld", "json-ld")])
def test_rdf_formats_are_isomorphic(graph, reference, tmp_path, fmt, parser):
    out = tmp_path / f"graph.{fmt}"
    export(graph, fmt, out)
    back = rdflib.Graph().parse(out, format=parser)
    assert len(back) == len(reference)
    assert isomorphic(back, reference)


def test_graphml_round_trips(graph, tmp_path):
    out = tmp_path / "graph.graphml"
    summary = export(graph, "graphml", out)
    g = nx.read_graphml(out)
    assert f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges" in summary
    kinds = {d["kind"] for _, d in g.nodes(data=True)}
    assert {"work", "person", "dataset", "concept"} <= kinds
    cites = [e for e in g.edges(data=True) if e[2]["relation"] == "cites"]
    assert len(cites) == graph_stats(graph)["citations"]


def test_csv_round_trips(graph, tmp_path):
    out = tmp_path / "papers.csv"
    export(graph, "csv", out)
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert len(rows) == graph_stats(graph)["papers"]
    yollava = [r for r in rows if r["arxiv"] == "2406.09400"]
    assert yollava and yollava[0]["category"] == "retrieval"
    assert set(yollava[0]["inputModalities"].split(";")) == {"image", "text"}


def test_formats_listed():
    assert FORMATS == ("ttl", "nt", "jsonld", "graphml", "csv")


@pytest.mark.parametrize("fmt", ["nt", "csv"])
def test_output_dash_writes_to_standard_output(kg, graph, built_store, tmp_path, monkeypatch, fmt):
    monkeypatch.chdir(tmp_path)
    result = kg("export", "--format", fmt, "--output", "-", store=built_store)
    assert result.exit_code == 0, result.output + result.message
    assert not (tmp_path / "-").exists()
    if fmt == "nt":
        assert len(rdflib.Graph().parse(data=result.stdout, format="nt")) == graph.triple_count()
    else:
        assert len(list(csv.reader(result.stdout.splitlines()))) == graph_stats(graph)["papers"] + 1
    assert "wrote standard output" in result.stderr
