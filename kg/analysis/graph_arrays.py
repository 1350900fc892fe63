"""The citation graph as integer arrays, and the graph algorithms on it (python-igraph).

`citation_arrays(corpus)` numbers the corpus's works 0..n-1 (in `Corpus.works` order) and
turns its in-corpus citations (the analysis-citation-edges query, read once by load_corpus)
into two integer arrays, citing -> cited, without self-citations or repeats: the graph
networkx's `citation_graph` holds, without a Python object per node and edge. PageRank
(PRPACK) and Louvain communities (`community_multilevel`) run on it in C.

Results are cached within the process, keyed by the graph's content (a digest of the work
IRIs and the edge arrays), so the app, the report and the CLI asking again for the same
store generation, or the same slice of it, reuse them; a new generation or another slice is
another graph and is computed afresh.
"""

from __future__ import annotations

import hashlib
import random
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .data import Corpus, load_corpus

CACHE_SIZE = 16  # results kept (graphs x parameters); a 100k-paper graph's PageRank is under 1 MB


@dataclass(frozen=True)
class CitationArrays:
    """works[i] is node i's IRI; citing[k] -> cited[k] is edge k (int32, no self-loops, no repeats,
    sorted); key is a digest of all three (equal graphs, equal keys)."""

    works: tuple[str, ...]
    citing: np.ndarray
    cited: np.ndarray
    key: str

    @property
    def nodes(self) -> int:
        return len(self.works)

    def in_degree(self) -> np.ndarray:
        return np.bincount(self.cited, minlength=self.nodes)

    def out_degree(self) -> np.ndarray:
        return np.bincount(self.citing, minlength=self.nodes)


def citation_arrays(source) -> CitationArrays:
    """The corpus's citation graph as integer arrays (see CitationArrays)."""
    corpus: Corpus = load_corpus(source)
    return arrays_from_links(corpus.works["work"], corpus.edges["citing"], corpus.edges["cited"])


def arrays_from_links(works, citing, cited) -> CitationArrays:
    """Works numbered in the order given; links (citing[k] -> cited[k], IRIs) between two of
    them kept, once each, self-citations dropped."""
    works = tuple(works)
    index = pd.Index(works)
    a = index.get_indexer(pd.Index(citing))
    b = index.get_indexer(pd.Index(cited))
    return arrays_from_positions(works, a, b)


def arrays_from_positions(works, citing, cited) -> CitationArrays:
    """arrays_from_links with the links given as node numbers (positions in `works`; -1: not a
    work, such a link is left out)."""
    works = tuple(works)
    a = np.asarray(citing, dtype=np.int64)
    b = np.asarray(cited, dtype=np.int64)
    keep = (a >= 0) & (b >= 0) & (a != b)
    n = max(len(works), 1)
    pairs = np.unique(a[keep] * n + b[keep])
    citing, cited = (pairs // n).astype(np.int32), (pairs % n).astype(np.int32)
    digest = hashlib.blake2b(digest_size=16)
    digest.update("\n".join(works).encode("utf-8"))
    digest.update(citing.tobytes())
    digest.update(cited.tobytes())
    return CitationArrays(works, citing, cited, digest.hexdigest())


_cache: OrderedDict = OrderedDict()


def _cached(key: tuple, compute):
    if key in _cache:
        _cache.move_to_end(key)
        return _cache[key]
    value = compute()
    _cache[key] = value
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return value


def clear_cache() -> None:
    """Forget every cached PageRank and partition."""
    _cache.clear()


def _igraph(arrays: CitationArrays, directed: bool = True):
    import igraph

    return igraph.Graph(n=arrays.nodes, edges=np.column_stack([arrays.citing, arrays.cited]).tolist(),
                        directed=directed)


def pagerank_array(arrays: CitationArrays, alpha: float = 0.85) -> np.ndarray:
    """PageRank of every node (sums to 1; empty for an empty graph), as networkx defines it:
    a work citing nothing spreads its score over all works."""
    if arrays.nodes == 0:
        return np.zeros(0)

    def compute():
        scores = np.asarray(_igraph(arrays).pagerank(damping=alpha, directed=True, implementation="prpack"))
        return scores / scores.sum()

    return _cached(("pagerank", arrays.key, alpha), compute)


def community_membership(arrays: CitationArrays, seed: int = 0, resolution: float = 1.0) -> list[list[int]]:
    """Louvain communities of the undirected citation graph (node numbers), largest first, ties
    by their smallest work IRI; nodes without any citation link are left out."""

    def compute():
        import igraph

        linked = np.unique(np.concatenate([arrays.citing, arrays.cited]))
        if linked.size == 0:
            return []
        local = np.full(arrays.nodes, -1, dtype=np.int64)
        local[linked] = np.arange(linked.size)
        graph = igraph.Graph(n=int(linked.size), directed=False,
                             edges=np.column_stack([local[arrays.citing], local[arrays.cited]]).tolist())
        graph.simplify(multiple=True, loops=True)  # a -> b and b -> a are one undirected link, as in networkx
        igraph.set_random_number_generator(random.Random(seed))  # the node order Louvain visits
        try:
            parts = graph.community_multilevel(resolution=resolution)
        finally:
            igraph.set_random_number_generator(random)
        groups = [[int(linked[i]) for i in part] for part in parts if part]
        return sorted(groups, key=lambda c: (-len(c), min(arrays.works[i] for i in c)))

    return _cached(("communities", arrays.key, seed, resolution), compute)
