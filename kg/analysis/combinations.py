"""Method combinations: which mechanisms, modalities, datasets, tasks and methods occur
together in papers, and which common pairs never do (candidate research directions),
scored by link prediction on the concept co-occurrence graph.

Concepts are keyed "kind:notation" (e.g. "mechanism:alignment", "input:audio",
"dataset:<dataset IRI>"); kinds are those of kg.analysis.data.KINDS.

A pair the taxonomy's own structure rules out (kg.rdf.taxonomy.read_structure: two values of
a single-valued axis, a declared exclusion, or one implying a value that cannot go with
the other) is no gap, and neither is a pair one of which implies the other: both are set
aside, counted in the result's `attrs["set_aside"]` and listed by `set_aside_combinations`.
"""

from __future__ import annotations

from collections import Counter
from itertools import combinations

import networkx as nx
import pandas as pd

from ..errors import UsageError
from ..rdf.taxonomy import SET_ASIDE_REASONS, Structure, read_structure
from .data import KINDS, Corpus, load_corpus

DEFAULT_KINDS = ("category", "mechanism", "input", "output", "task", "dataset", "method")
METHODS = ("adamic_adar", "resource_allocation", "jaccard")

SCORE_EXPLANATION = (
    "A combination is two concepts (mechanism, input or output modality, task, dataset, "
    "method, category) that each occur in at least min_support papers but never in the same "
    "paper. Its score is the Adamic-Adar index on the concept co-occurrence graph: the sum "
    "over concepts co-occurring with both of 1 / log(number of concepts that one co-occurs "
    "with), so shared specific neighbours weigh more than shared generic ones; 'expected' is "
    "how many papers would combine them if the two occurred independently. Pairs that cannot "
    "occur together by the taxonomy's declared structure (two values of a single-valued axis such "
    "as two categories, a declared exclusion, or one part implying a value that excludes the "
    "other) are set aside, and so are pairs one part of which implies the other by definition; "
    "the result says how many."
)

OCCURRENCE_COLUMNS = ["work", "kind", "key", "notation", "label"]
SET_ASIDE_COLUMNS = ["a", "b", "a_kind", "b_kind", "a_label", "b_label", "a_count", "b_count", "reason", "because"]
COMBINATION_COLUMNS = ["a", "b", "a_kind", "b_kind", "a_label", "b_label", "a_count", "b_count",
                       "expected", "common", "adamic_adar", "resource_allocation", "jaccard", "score"]


def _kinds(kinds) -> tuple[str, ...]:
    kinds = tuple(kinds) if kinds else DEFAULT_KINDS
    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise UsageError(f"unknown concept kind {unknown[0]!r}; valid: {', '.join(KINDS)}")
    return kinds


def concept_occurrences(source, kinds=None) -> pd.DataFrame:
    """One row per (work, concept): columns work, kind, key ("kind:notation"), notation, label."""
    corpus = load_corpus(source)
    links = corpus.links[corpus.links["kind"].isin(_kinds(kinds))].copy()
    links["key"] = links["kind"] + ":" + links["notation"]
    return links[OCCURRENCE_COLUMNS].drop_duplicates(["work", "key"]).reset_index(drop=True)


def _labels(occ: pd.DataFrame) -> dict[str, str]:
    return dict(zip(occ["key"], occ["label"]))


def cooccurrence_matrix(source, kinds=None) -> pd.DataFrame:
    """Square DataFrame over concept keys: papers holding both (diagonal: papers holding one)."""
    occ = concept_occurrences(source, kinds)
    if occ.empty:
        return pd.DataFrame()
    table = pd.crosstab(occ["work"], occ["key"])
    table = (table > 0).astype(int)
    matrix = table.T @ table
    matrix.index.name, matrix.columns.name = None, None
    return matrix


def cooccurrence_graph(source, kinds=None) -> nx.Graph:
    """Concepts as nodes (attributes kind, label, count = papers), edges weighted by
    the number of papers holding both (attribute weight)."""
    occ = concept_occurrences(source, kinds)
    g = nx.Graph()
    counts = Counter(occ["key"])
    labels = _labels(occ)
    kind_of = dict(zip(occ["key"], occ["kind"]))
    for key, n in counts.items():
        g.add_node(key, kind=kind_of[key], label=labels[key], count=n)
    keys_of: dict[str, set[str]] = {}
    for work, key in zip(occ["work"], occ["key"]):
        keys_of.setdefault(work, set()).add(key)
    pairs = Counter(pair for keys in keys_of.values() for pair in combinations(sorted(keys), 2))
    g.add_edges_from((a, b, {"weight": n}) for (a, b), n in pairs.items())
    return g


def structure_of(source) -> Structure:
    """The taxonomy structure for `source`: read from the graph itself when given a graph, the
    one a Corpus read from its graph, else (a Corpus made by hand) the bundled taxonomy file's."""
    if isinstance(source, Corpus):
        if isinstance(source.structure, Exception):
            raise source.structure
        return source.structure if source.structure is not None else read_structure(None)
    return read_structure(source)


def _candidates(corpus, kinds, min_support, structure):
    """(graph, papers, pairs to rank, pairs set aside as (a, b, reason, because))."""
    occ = concept_occurrences(corpus, kinds)
    g = cooccurrence_graph(corpus, kinds)
    papers = occ["work"].nunique()
    return (g, papers, *_pairs_to_rank(g, min_support, structure))


def _pairs_to_rank(g: nx.Graph, min_support: int, structure) -> tuple[list, list]:
    """(pairs of common concepts no paper combines, pairs set aside as (a, b, reason, because))."""
    common_nodes = sorted(n for n, d in g.nodes(data=True) if d["count"] >= min_support)
    pairs, aside = [], []
    for a, b in combinations(common_nodes, 2):
        if g.has_edge(a, b):
            continue
        why = structure.set_aside(a, b)
        if why:
            aside.append((a, b, *why))
        else:
            pairs.append((a, b))
    return pairs, aside


def set_aside_note(frame: pd.DataFrame) -> str:
    """One sentence on how many pairs an unexplored_combinations result set aside by structure."""
    counts = frame.attrs.get("set_aside") or {}
    total = sum(counts.get(r, 0) for r in SET_ASIDE_REASONS)
    if not total:
        return "No pair was set aside by the taxonomy's structure."
    parts = [f"{counts[r]} {text}" for r, text in (
        ("single_valued", "on one single-valued axis (e.g. two categories)"),
        ("excluded", "excluded by definition"),
        ("implied", "where one part implies the other")) if counts.get(r)]
    return (f"{total} pair{'s' if total != 1 else ''} set aside by the taxonomy's structure: "
            + ", ".join(parts) + ".")


def set_aside_combinations(source, kinds=None, *, min_support: int = 2,
                           structure: Structure | None = None) -> pd.DataFrame:
    """The pairs unexplored_combinations sets aside by the taxonomy's structure, and why.

    Columns SET_ASIDE_COLUMNS: keys, kinds, labels, paper counts, reason
    ('single_valued' | 'excluded' | 'implied') and because (the declarations involved).
    """
    corpus = load_corpus(source)
    structure = structure if structure is not None else structure_of(source)
    g, _, _, aside = _candidates(corpus, kinds, min_support, structure)
    rows = [{"a": a, "b": b, "a_kind": g.nodes[a]["kind"], "b_kind": g.nodes[b]["kind"],
             "a_label": g.nodes[a]["label"], "b_label": g.nodes[b]["label"], "a_count": g.nodes[a]["count"],
             "b_count": g.nodes[b]["count"], "reason": reason, "because": because}
            for a, b, reason, because in aside]
    return pd.DataFrame(rows, columns=SET_ASIDE_COLUMNS)


def unexplored_combinations(source, kinds=None, *, min_support: int = 2, method: str = "adamic_adar",
                            top: int | None = None, structure: Structure | None = None) -> pd.DataFrame:
    """Pairs of concepts both in >= min_support papers that no paper combines, best first.

    Columns COMBINATION_COLUMNS: keys, kinds, labels, paper counts, expected papers
    under independence, common (shared co-occurring concepts), the three link-prediction
    scores, and `score` = the one named by `method` (adamic_adar | resource_allocation |
    jaccard).

    Pairs the taxonomy's structure rules out or implies are never ranked (`structure`:
    a kg.rdf.taxonomy.Structure; default: the graph's own declarations, also for a Corpus
    read from a graph). `attrs["set_aside"]` counts them per reason
    ({"single_valued": n, "excluded": n, "implied": n, "total": n}); set_aside_note()
    says it in words.
    """
    if method not in METHODS:
        raise UsageError(f"unknown scoring method {method!r}; valid: {', '.join(METHODS)}")
    corpus = load_corpus(source)
    structure = structure if structure is not None else structure_of(source)
    g, papers, pairs, aside = _candidates(corpus, _kinds(kinds), min_support, structure)
    return _ranked(g, papers, pairs, aside, method, top)


def unexplored_from_graph(g: nx.Graph, papers: int, structure: Structure, *, min_support: int = 2,
                          method: str = "adamic_adar", top: int | None = None) -> pd.DataFrame:
    """unexplored_combinations on a co-occurrence graph built elsewhere (cooccurrence_graph's
    nodes and edges, e.g. counted in the store: kg.analysis.report_counts) of `papers` works."""
    if method not in METHODS:
        raise UsageError(f"unknown scoring method {method!r}; valid: {', '.join(METHODS)}")
    return _ranked(g, papers, *_pairs_to_rank(g, min_support, structure), method, top)


def top_unexplored(g: nx.Graph, papers: int, structure: Structure, top: int, *, min_support: int = 2,
                   involving: str | None = None) -> pd.DataFrame:
    """unexplored_from_graph(g, papers, structure).head(top) by Adamic-Adar (only pairs with the
    concept `involving` when given), without scoring every pair one by one: the scores of all
    pairs of common concepts come from one product of the adjacency matrix (numpy), the pairs
    within 0.001 of the top `top` are scored again exactly (networkx) and ranked as
    unexplored_combinations ranks them, so the result is the same. No attrs["set_aside"]."""
    import numpy as np

    nodes = list(g.nodes)
    pos = {n: i for i, n in enumerate(nodes)}
    adj = np.zeros((len(nodes), len(nodes)))
    for u, v in g.edges():
        if u != v:
            adj[pos[u], pos[v]] = adj[pos[v], pos[u]] = 1.0
    degree = adj.sum(axis=1)
    weight = np.zeros(len(nodes))
    weight[degree > 1] = 1.0 / np.log(degree[degree > 1])
    common = sorted(n for n, d in g.nodes(data=True) if d["count"] >= min_support)
    at = np.array([pos[n] for n in common], dtype=np.int64)
    rows = adj[at] if len(at) else np.zeros((0, len(nodes)))
    scores = (rows * weight) @ rows.T
    first, second = np.triu_indices(len(common), k=1)
    keep = adj[at[first], at[second]] == 0 if len(at) else np.zeros(0, dtype=bool)
    if involving is not None:
        names = np.array(common, dtype=object)
        keep &= (names[first] == involving) | (names[second] == involving)
    first, second = first[keep], second[keep]
    pair_scores = scores[first, second]
    chosen, floor = [], None
    for k in np.argsort(-pair_scores, kind="stable"):
        if floor is not None and pair_scores[k] < floor:
            break
        a, b = common[first[k]], common[second[k]]
        if structure.set_aside(a, b):
            continue
        chosen.append((a, b))
        if len(chosen) == top:
            floor = pair_scores[k] - 1e-3
    if not chosen:
        return pd.DataFrame(columns=COMBINATION_COLUMNS)
    return _ranked(g, papers, chosen, [], "adamic_adar", top)


def _ranked(g, papers, pairs, aside, method, top) -> pd.DataFrame:
    counts = {r: sum(1 for *_, reason, _ in aside if reason == r) for r in SET_ASIDE_REASONS}
    counts["total"] = len(aside)
    if not pairs:
        frame = pd.DataFrame(columns=COMBINATION_COLUMNS)
        frame.attrs["set_aside"] = counts
        return frame
    aa = {(a, b): s for a, b, s in nx.adamic_adar_index(g, pairs)}
    ra = {(a, b): s for a, b, s in nx.resource_allocation_index(g, pairs)}
    jc = {(a, b): s for a, b, s in nx.jaccard_coefficient(g, pairs)}
    rows = []
    for a, b in pairs:
        na, nb = g.nodes[a], g.nodes[b]
        scores = {"adamic_adar": round(aa[(a, b)], 4), "resource_allocation": round(ra[(a, b)], 4),
                  "jaccard": round(jc[(a, b)], 4)}
        rows.append({"a": a, "b": b, "a_kind": na["kind"], "b_kind": nb["kind"], "a_label": na["label"],
                     "b_label": nb["label"], "a_count": na["count"], "b_count": nb["count"],
                     "expected": round(na["count"] * nb["count"] / papers, 3) if papers else 0.0,
                     "common": len(set(g[a]) & set(g[b])), **scores, "score": scores[method]})
    frame = pd.DataFrame(rows, columns=COMBINATION_COLUMNS)
    frame = frame.sort_values(["score", "expected", "a", "b"], ascending=[False, False, True, True],
                              kind="stable").reset_index(drop=True)
    frame = frame.head(top) if top else frame
    frame.attrs["set_aside"] = counts
    return frame
