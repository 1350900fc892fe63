"""Citation results kept with the store generation they were computed from.

`citation_table(graph)` gives every work's PageRank, rank (ties shared), Louvain community and
in-corpus degrees, the columns `citation_metrics` computes, without loading the analysis
corpus: two lean reads (the works with their labels, the citation links) feed the integer
arrays of kg.analysis.graph_arrays, and python-igraph does the rest. A published generation
never changes, so the table is written once beside it (`kg-derived/` in the generation's
folder) and every later process (the app, the report, the CLI) reads it in milliseconds
instead of recomputing; a new build is a new generation and computes afresh. A store that
cannot be written to (or a remote endpoint) computes the table and keeps nothing.

The works are numbered as the analysis corpus numbers them (by label, then IRI, works out of
scope left out), so the table equals citation_metrics(load_corpus(graph)) on these columns
(a test checks it).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..derived import derived_path, kept
from .graph_arrays import CitationArrays, arrays_from_links

FORMAT = 1  # bumped when the stored table's meaning changes: older files are then recomputed
COLUMNS = ["work", "label", "pagerank", "rank", "tied", "community", "cited_by", "references"]

_WORKS = """SELECT ?work ?label WHERE {
  ?work a fabio:ScholarlyWork ; rdfs:label ?label .
  FILTER NOT EXISTS { ?work kg:scopeStatus "out" }
}"""
_LINKS = "SELECT ?citing ?cited WHERE { ?citing cito:cites ?cited }"


def stored_path(graph, seed: int = 0) -> Path | None:
    """Where the table of `graph`'s generation lives (None: an endpoint or a graph in memory)."""
    return derived_path(graph, f"citations-v{FORMAT}-seed{seed}.npz")


def read_arrays(graph) -> tuple[CitationArrays, list[str]]:
    """The citation graph as arrays, read lean from the store; also each work's label."""
    pairs = sorted({(label, work) for work, label in graph.values(_WORKS)})
    works = [w for _, w in pairs]
    labels = [label for label, _ in pairs]
    links = graph.values(_LINKS)
    citing = [a for a, _ in links]
    cited = [b for _, b in links]
    return arrays_from_links(works, citing, cited), labels


def compute_table(graph, seed: int = 0) -> pd.DataFrame:
    """The table computed afresh (see citation_table)."""
    from .citations import ranked_frame

    arrays, labels = read_arrays(graph)
    return ranked_frame(arrays, {"label": labels}, COLUMNS, seed=seed)


def _encode(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, work=frame["work"].to_numpy(dtype=str), label=frame["label"].to_numpy(dtype=str),
             **{c: frame[c].to_numpy() for c in COLUMNS[2:]})
    return buffer.getvalue()


def _load(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as data:
        # IRIs and labels as Python strings: the same column types as compute_table's
        return pd.DataFrame({c: data[c].tolist() if c in ("work", "label") else data[c] for c in COLUMNS},
                            columns=COLUMNS)


def citation_table(graph, seed: int = 0) -> pd.DataFrame:
    """Every work's citation figures, most central first: work, label, pagerank, rank, tied,
    community (-1: no citation link), cited_by, references (in-corpus). Read from the
    generation's stored table when there is one, else computed and stored (kg.derived)."""
    return kept(stored_path(graph, seed), _load, lambda: compute_table(graph, seed), _encode)
