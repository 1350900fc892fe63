"""Citation results kept with the store generation they were computed from.

`citation_table(graph)` gives every work's PageRank, rank (ties shared), Louvain community and
in-corpus degrees, the columns `citation_metrics` computes, without loading the analysis
corpus: two lean reads (the works with their labels, the citation links) feed the integer
arrays of kg.analysis.graph_arrays, and python-igraph does the rest. A published generation
never changes, so the table is written once beside it (`kg-derived/` in the generation's
folder) and every later process (the app, the report, the CLI) reads it in milliseconds
instead of recomputing; a new build is a new generation and computes afresh. A store that
cannot be written to (or a remote endpoint) computes the table and keeps nothing.

`kg build` keeps the table with the generation it publishes (kg.analysis.network_store's
`tables_from_links`: `table_from_links` over the works, labels, scopes and citation links its
writer wrote, not read back from the store),
so the first report or Citation network page after a build reads it too; a generation `kg
classify` publishes as a delta carries it over from the one it is made from (a delta changes
no work's label, scope or citation: kg.derived.CLASSIFIER_INDEPENDENT).

The works are numbered as the analysis corpus numbers them (by label, then IRI, works out of
scope left out), so the table equals citation_metrics(load_corpus(graph)) on these columns
(a test checks it).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pandas as pd

from ..derived import derived_path, kept, packed_strings, unpacked_strings
from .graph_arrays import CitationArrays, arrays_from_positions, community_membership, pagerank_array

FORMAT = 2  # bumped when the stored table's meaning changes: older files are then recomputed
COLUMNS = ["work", "label", "pagerank", "rank", "tied", "community", "cited_by", "references"]

# the works with their labels: the two lists read whole and joined by hash (in one pattern the
# engine looks each work's label up: 3.1 s against 1.5 s at 100,000 papers); the few works out of
# scope are read apart and left out in Python (a FILTER NOT EXISTS per work costs the engine more)
_WORKS = """SELECT ?work ?label WHERE {
  { SELECT ?work WHERE { ?work a fabio:ScholarlyWork } } { SELECT ?work ?label WHERE { ?work rdfs:label ?label } }
}"""
_OUT = 'SELECT ?work WHERE { ?work kg:scopeStatus "out" }'
# the links grouped by cited work, the citing ones in one text: the engine decodes each cited
# IRI once per work instead of once per link (an IRI has no space in it). A group whose text
# cannot be made (a citing end that is not an IRI: never written by kg) is read link by link
_LINKS = """SELECT ?cited (GROUP_CONCAT(STR(?citing); separator=" ") AS ?citing) WHERE {
  ?citing cito:cites ?cited
} GROUP BY ?cited"""
_CITING = "SELECT ?citing WHERE { ?citing cito:cites <%s> }"


def filename(seed: int = 0) -> str:
    """The name of the kept table under a generation's kept folder (kg.derived)."""
    return f"citations-v{FORMAT}-seed{seed}.npz"


def stored_path(graph, seed: int = 0) -> Path | None:
    """Where the table of `graph`'s generation lives (None: an endpoint or a graph in memory)."""
    return derived_path(graph, filename(seed))


def read_arrays(graph) -> tuple[CitationArrays, list[str]]:
    """The citation graph as arrays, read lean from the store; also each work's label."""
    out = {w for (w,) in graph.values(_OUT)}
    pairs = sorted({(label, work) for work, label in graph.values(_WORKS) if work not in out})
    works = [w for _, w in pairs]
    labels = [label for label, _ in pairs]
    position = {w: i for i, w in enumerate(works)}
    citing: list[int] = []
    cited: list[int] = []
    for work, sources in graph.values(_LINKS):
        j = position.get(work)
        if j is None:
            continue
        ends = sources.split(" ") if sources is not None else [a for (a,) in graph.values(_CITING % work)]
        citing += [position.get(a, -1) for a in ends]
        cited += [j] * len(ends)
    return arrays_from_positions(works, citing, cited), labels


def compute_table(graph, seed: int = 0, meanwhile: Callable[[], object] | None = None) -> pd.DataFrame:
    """The table computed afresh (see citation_table). Louvain runs in a thread of its own:
    python-igraph lets the interpreter go while it runs, so PageRank, the ranks and
    `meanwhile()`, when given (a caller's own reading of the graph), run beside it."""
    arrays, labels = read_arrays(graph)
    return _ranked(arrays, labels, seed, meanwhile)


def table_from_links(works: list[str], labels: list[str], citing, cited, out: set[str] = frozenset(),
                     seed: int = 0) -> pd.DataFrame:
    """The table of a graph the caller already holds (kg build: what its writer wrote), equal to
    compute_table's on that graph: `works[i]` with its rdfs:label `labels[i]`, the links
    works[citing[k]] cito:cites works[cited[k]] (integer positions), `out`: the works out of
    scope, left out with their links. The works are numbered as read_arrays numbers them."""
    # (label, IRI, position): a work is written once, so its position never decides the order
    ordered = sorted((label, work, i) for i, (work, label) in enumerate(zip(works, labels)) if work not in out)
    new = np.full(len(works), -1, dtype=np.int64)  # position in `works` -> node number (-1: left out)
    new[np.array([i for _, _, i in ordered], dtype=np.int64)] = np.arange(len(ordered))
    citing, cited = np.asarray(citing, dtype=np.int64), np.asarray(cited, dtype=np.int64)
    arrays = arrays_from_positions([w for _, w, _ in ordered], new[citing], new[cited])
    return _ranked(arrays, [label for label, _, _ in ordered], seed)


def _ranked(arrays: CitationArrays, labels: list[str], seed: int,
            meanwhile: Callable[[], object] | None = None) -> pd.DataFrame:
    from .citations import ranked_frame

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-louvain") as pool:
        communities = pool.submit(community_membership, arrays, seed)  # cached: ranked_frame reads it back
        pagerank_array(arrays)
        if meanwhile is not None:
            meanwhile()
        communities.result()
    return ranked_frame(arrays, {"label": labels}, COLUMNS, seed=seed)


def arrays(frame: pd.DataFrame) -> dict:
    """The citation table's columns of `frame` as the arrays of an .npz file (columns_of reads
    them back); kg.analysis.network_store keeps its table's citation columns the same way."""
    return {**packed_strings("work", frame["work"]), **packed_strings("label", frame["label"]),
            **{c: frame[c].to_numpy() for c in COLUMNS[2:]}}


def columns_of(data) -> dict:
    """The citation table's columns from a loaded .npz file that `arrays` wrote: IRIs and labels
    as Python strings, the same column types as compute_table's."""
    return {c: unpacked_strings(data, c) if c in ("work", "label") else data[c] for c in COLUMNS}


def encode(frame: pd.DataFrame) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays(frame))
    return buffer.getvalue()


def _load(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as data:
        return pd.DataFrame(columns_of(data), columns=COLUMNS)


def citation_table(graph, seed: int = 0, meanwhile: Callable[[], object] | None = None) -> pd.DataFrame:
    """Every work's citation figures, most central first: work, label, pagerank, rank, tied,
    community (-1: no citation link), cited_by, references (in-corpus). Read from the
    generation's stored table when there is one, else computed and stored (kg.derived).
    `meanwhile`: called while Louvain runs when the table is computed (not when it is read)."""
    return kept(stored_path(graph, seed), _load, lambda: compute_table(graph, seed, meanwhile), encode)
