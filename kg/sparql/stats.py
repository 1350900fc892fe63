"""Counts of what the graph holds (the `kg stats` answer)."""

from __future__ import annotations

from .named import run_named


def cell_counts(graph) -> dict[str, int]:
    """'category/mechanism' -> number of works, every cell of the taxonomy included."""
    rows = run_named(graph, "papers-by-cell").records()
    return {f"{r['category']}/{r['mechanism']}": int(r["count"]) for r in rows}


def graph_stats(graph) -> dict:
    counts = run_named(graph, "stats").records()[0]
    out = {"triples": graph.triple_count()}
    out.update({k: int(v or 0) for k, v in counts.items()})
    out["cells"] = cell_counts(graph)
    return out
