"""Exporting the graph: RDF serialisations, GraphML for network tools, CSV for spreadsheets
(spreadsheet-safe cells: see kg.output.csvfile), and its works as RIS or CSL-JSON references for
Zotero, Mendeley and EndNote (see kg.output.references)."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pyoxigraph as ox

from ..analysis.link_graph import build_link_graph
from .csvfile import writer as csv_writer
from ..errors import UsageError
from ..fileio import atomic_file, output_path, write_atomic, writing_output
from ..sparql.named import run_named
from ..vocab import PREFIXES

RDF_FORMATS = {"ttl": ox.RdfFormat.TURTLE, "nt": ox.RdfFormat.N_TRIPLES, "jsonld": ox.RdfFormat.JSON_LD}
FORMATS = (*RDF_FORMATS, "graphml", "csv")  # the graph, its links, its papers as a table
REFERENCE_FORMATS = ("ris", "csljson")  # its works as reference-manager records
ALL_FORMATS = (*FORMATS, *REFERENCE_FORMATS)


def export(graph, fmt: str, output: Path) -> str:
    """Write the graph to `output` in `fmt`; returns a one-line summary."""
    if fmt not in ALL_FORMATS:
        raise UsageError(f"unknown export format {fmt!r}; valid: {', '.join(ALL_FORMATS)}")
    output = output_path(output, f"graph.{fmt}")
    # the graph is read first, then the file written: only a failure to write is said as one
    if fmt in RDF_FORMATS:
        data = _serialise(graph, RDF_FORMATS[fmt])
        with writing_output(output):
            write_atomic(output, data)
        summary = f"{graph.triple_count()} triples"
    elif fmt in REFERENCE_FORMATS:
        from .references import render

        text, summary = render(graph, fmt)
        with writing_output(output):
            write_atomic(output, text, newline="")  # line ends as written (RIS: CRLF)
    elif fmt == "graphml":
        g = build_link_graph(graph)
        with writing_output(output), atomic_file(output, "wb") as fh:
            nx.write_graphml(g, fh)
        summary = f"{g.number_of_nodes()} nodes, {g.number_of_edges()} edges"
    else:
        result = run_named(graph, "papers")
        with writing_output(output), atomic_file(output, newline="") as fh:
            writer = csv_writer(fh)  # formulas neutralised, bidi controls dropped
            writer.writerow(result.vars)
            for row in result.records():
                writer.writerow([row[v] for v in result.vars])
        summary = f"{len(result.rows)} papers"
    return f"wrote {output} ({fmt}, {summary})"


def _serialise(graph, fmt: ox.RdfFormat) -> bytes:
    if fmt == ox.RdfFormat.TURTLE:
        triples = ox.parse(graph.dump(ox.RdfFormat.N_TRIPLES), format=ox.RdfFormat.N_TRIPLES)
        return ox.serialize(triples, format=fmt, prefixes=PREFIXES)
    return graph.dump(fmt)
