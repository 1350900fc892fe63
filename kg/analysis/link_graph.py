"""networkx views of the graph: its works, people, datasets, methods and concepts as one link
graph, built from named SPARQL queries (pure: graph in, networkx out; kg export writes it as GraphML)."""

from __future__ import annotations

import networkx as nx

from ..sparql.named import run_named
from ..vocab import BASE

_KINDS = (("id/work/", "work"), ("id/person/", "person"), ("id/dataset/", "dataset"),
          ("id/method/", "method"), ("taxonomy/", "concept"))


def node_kind(iri: str) -> str:
    rest = iri[len(BASE):] if iri.startswith(BASE) else iri
    for prefix, kind in _KINDS:
        if rest.startswith(prefix):
            return kind
    return "other"


def build_link_graph(graph) -> nx.MultiDiGraph:
    """Works, people, datasets, methods and concepts, linked by the relations between them."""
    labels = {r["node"]: r["label"] for r in run_named(graph, "node-labels").records()}
    g = nx.MultiDiGraph()
    for row in run_named(graph, "graph-edges").records():
        for node in (row["source"], row["target"]):
            if node not in g:
                g.add_node(node, label=labels.get(node, node), kind=node_kind(node))
        g.add_edge(row["source"], row["target"], key=row["relation"], relation=row["relation"])
    return g
