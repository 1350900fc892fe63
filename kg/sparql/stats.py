"""Counts of what the graph holds (the `kg stats` answer and the app's Overview tiles).

The counts come from two named queries (`stats`: one index scan per count; `papers-by-cell`)
and the triple count, which the engine can only give by reading every triple (6 s at 100,000
papers). A published generation never changes, so its counts are kept beside it
(kg.derived: `kg-derived/` in the generation's folder, as the citation table is kept) and
every later ask (the app, `kg stats`) reads them in milliseconds; a new build is a new
generation and counts afresh. A graph that is not a published local generation (a draft, a
graph in memory, an endpoint), or a folder that cannot be written, is counted every time.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..derived import beside, derived_path, kept
from .named import run_named

FORMAT = 1  # bumped when the stored counts' meaning changes: older files are then recounted
FILE = f"stats-v{FORMAT}.json"


def cell_counts(graph) -> dict[str, int]:
    """'category/mechanism' -> number of works, every cell of the taxonomy included."""
    rows = run_named(graph, "papers-by-cell").records()
    return {f"{r['category']}/{r['mechanism']}": int(r["count"]) for r in rows}


def count_graph(graph) -> dict:
    """The counts, read from the graph afresh."""
    counts = run_named(graph, "stats").records()[0]
    out = {"triples": graph.triple_count()}
    out.update({k: int(v or 0) for k, v in counts.items()})
    out["cells"] = cell_counts(graph)
    return out


def kept_path(generation: Path) -> Path:
    """Where the counts of the generation folder `generation` are kept (kg build keeps the counts
    its check of the new graph made there)."""
    return beside(generation, FILE)


def stored_path(graph) -> Path | None:
    """Where the counts of `graph`'s generation are kept (None: not a published generation)."""
    return derived_path(graph, FILE)


def _read(path: Path) -> dict:
    counts = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(counts, dict) or not isinstance(counts.get("cells"), dict):
        raise TypeError("not kg stats' counts")
    return counts


def graph_stats(graph) -> dict:
    """The counts of `graph`: kept with its generation after the first ask (see the module)."""
    # cells stay in the survey's order
    return kept(stored_path(graph), _read, lambda: count_graph(graph), json.dumps)
