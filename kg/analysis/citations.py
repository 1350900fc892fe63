"""Citation analytics: in-corpus counts, PageRank, communities, bridges, co-citation,
bibliographic coupling, and the coverage audit (papers the survey may have missed).

Pure functions: a graph or a kg.analysis.Corpus in, networkx graphs / DataFrames out.
No betweenness here: it takes minutes on big graphs and these run interactively.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

import networkx as nx
import pandas as pd

from .data import Corpus, int_column, load_corpus, none_column

PAIR_COLUMNS = ["a", "b", "a_label", "b_label", "count"]


def citation_graph(source) -> nx.DiGraph:
    """Works as nodes, in-corpus cito:cites as edges (citing -> cited).

    Node attributes: label, title, year, category (notation or None), candidate,
    surveyed, review (bools), citation_count (external, or None).
    """
    corpus = load_corpus(source)
    g = nx.DiGraph()
    for row in corpus.works.itertuples(index=False):
        g.add_node(row.work, label=row.label, title=row.title, year=row.year, category=row.category,
                   candidate=bool(row.candidate), surveyed=bool(row.surveyed), review=bool(row.review),
                   citation_count=row.citation_count)
    g.add_edges_from((a, b) for a, b in zip(corpus.edges["citing"], corpus.edges["cited"]) if a != b)
    return g


def pagerank_scores(source, alpha: float = 0.85) -> dict[str, float]:
    """PageRank of every work on the citation graph (sums to 1; {} for an empty graph)."""
    g = source if isinstance(source, nx.DiGraph) else citation_graph(source)
    if g.number_of_nodes() == 0:
        return {}
    return nx.pagerank(g, alpha=alpha)


def communities(source, seed: int = 0, resolution: float = 1.0) -> list[set[str]]:
    """Louvain communities of the undirected citation graph, largest first.

    Works without any citation link are left out (each would be its own community).
    """
    g = source if isinstance(source, nx.DiGraph) else citation_graph(source)
    und = g.to_undirected()
    und.remove_nodes_from([n for n in list(und) if und.degree(n) == 0])
    if und.number_of_edges() == 0:
        return []
    found = nx.community.louvain_communities(und, seed=seed, resolution=resolution)
    return sorted((set(c) for c in found), key=lambda c: (-len(c), min(c)))


def citation_metrics(source, seed: int = 0, *, with_communities: bool = True) -> pd.DataFrame:
    """One row per work, most central first.

    Columns: work, label, year, category, candidate, surveyed, review, cited_by
    (in-corpus citations), references (in-corpus), pagerank, community (index into
    communities(), -1 when unlinked or with_communities=False), citation_count
    (external, from harvest, or None). Louvain is the slow part (about 4 s for 5,000
    works and 50,000 citations); pass with_communities=False when it is not needed.
    """
    corpus = load_corpus(source)
    g = citation_graph(corpus)
    rank = pagerank_scores(g)
    found = communities(g, seed=seed) if with_communities else []
    member = {n: i for i, c in enumerate(found) for n in c}
    rows = [{"work": n, "label": d["label"], "year": d["year"], "category": d["category"],
             "candidate": d["candidate"], "surveyed": d["surveyed"], "review": d["review"],
             "cited_by": g.in_degree(n), "references": g.out_degree(n), "pagerank": round(rank.get(n, 0.0), 6),
             "community": member.get(n, -1), "citation_count": d["citation_count"]} for n, d in g.nodes(data=True)]
    frame = pd.DataFrame(rows, columns=["work", "label", "year", "category", "candidate", "surveyed", "review",
                                        "cited_by", "references", "pagerank", "community", "citation_count"])
    frame = none_column(int_column(frame, "year", "citation_count"), "category")
    return frame.sort_values(["pagerank", "cited_by", "label"], ascending=[False, False, True],
                             kind="stable").reset_index(drop=True)


def bridge_papers(source, min_categories: int = 2) -> pd.DataFrame:
    """Works whose citation neighbours (citing or cited) sit in several categories.

    Columns: work, label, category, review, degree (placed neighbours), categories
    ({category: neighbours}), spread (number of categories), bridge (participation
    coefficient 1 - sum((k_c / k)^2): 0 = one category, up to 1 - 1/C). Highest first.
    """
    corpus = load_corpus(source)
    g = citation_graph(corpus)
    rows = []
    for n, d in g.nodes(data=True):
        neighbours = set(g.predecessors(n)) | set(g.successors(n))
        per_cat = Counter(g.nodes[m]["category"] for m in neighbours if g.nodes[m]["category"])
        k = sum(per_cat.values())
        if len(per_cat) < min_categories:
            continue
        rows.append({"work": n, "label": d["label"], "category": d["category"], "review": d["review"],
                     "degree": k, "categories": dict(sorted(per_cat.items())), "spread": len(per_cat),
                     "bridge": round(1 - sum((v / k) ** 2 for v in per_cat.values()), 4)})
    frame = none_column(pd.DataFrame(rows, columns=["work", "label", "category", "review", "degree", "categories",
                                                    "spread", "bridge"]), "category")
    return frame.sort_values(["bridge", "degree", "label"], ascending=[False, False, True],
                             kind="stable").reset_index(drop=True)


def _pairs(groups: dict[str, set[str]], labels: dict[str, str], min_count: int) -> pd.DataFrame:
    counts: Counter = Counter()
    for members in groups.values():
        for a, b in combinations(sorted(members), 2):
            counts[(a, b)] += 1
    rows = [{"a": a, "b": b, "a_label": labels.get(a, a), "b_label": labels.get(b, b), "count": n}
            for (a, b), n in counts.items() if n >= min_count]
    frame = pd.DataFrame(rows, columns=PAIR_COLUMNS)
    return frame.sort_values(["count", "a_label", "b_label"], ascending=[False, True, True],
                             kind="stable").reset_index(drop=True)


def cocitation(source, min_count: int = 1) -> pd.DataFrame:
    """Pairs of works cited together by `count` works (columns PAIR_COLUMNS, a < b)."""
    corpus = load_corpus(source)
    refs: dict[str, set[str]] = defaultdict(set)
    for a, b in zip(corpus.edges["citing"], corpus.edges["cited"]):
        refs[a].add(b)
    return _pairs(refs, corpus.labels(), min_count)


def bibliographic_coupling(source, min_count: int = 1) -> pd.DataFrame:
    """Pairs of works that share `count` references (columns PAIR_COLUMNS, a < b)."""
    corpus = load_corpus(source)
    citers: dict[str, set[str]] = defaultdict(set)
    for a, b in zip(corpus.edges["citing"], corpus.edges["cited"]):
        citers[b].add(a)
    return _pairs(citers, corpus.labels(), min_count)


def coverage_audit(source) -> pd.DataFrame:
    """Candidates (kg:isCandidate: harvested, not in the taxonomy) the survey may have missed.

    Ranked by links to surveyed works: cited_by_surveyed (surveyed works citing it),
    cites_surveyed (surveyed works it cites); score = their sum, plus 1 when the graph
    records it as a possible match of a work the survey cites only by its citation.
    Columns: work, label, title, year, venue, cited_by_surveyed, cites_surveyed,
    possible_match_for (labels), score.
    """
    corpus: Corpus = load_corpus(source)
    works = corpus.works
    surveyed = set(works.loc[works["surveyed"] & ~works["review"], "work"])
    labels = corpus.labels()
    cited_by, cites = Counter(), Counter()
    for a, b in zip(corpus.edges["citing"], corpus.edges["cited"]):
        if a in surveyed:
            cited_by[b] += 1
        if b in surveyed:
            cites[a] += 1
    match_for: dict[str, list[str]] = defaultdict(list)
    for w, m in zip(corpus.matches["work"], corpus.matches["match"]):
        match_for[m].append(labels.get(w, w))
        match_for[w].append(labels.get(m, m))
    rows = []
    for row in works[works["candidate"]].itertuples(index=False):
        matched = sorted(set(match_for.get(row.work, [])))
        rows.append({"work": row.work, "label": row.label, "title": row.title, "year": row.year,
                     "venue": row.venue, "cited_by_surveyed": cited_by[row.work], "cites_surveyed": cites[row.work],
                     "possible_match_for": matched,
                     "score": cited_by[row.work] + cites[row.work] + (1 if matched else 0)})
    frame = pd.DataFrame(rows, columns=["work", "label", "title", "year", "venue", "cited_by_surveyed",
                                        "cites_surveyed", "possible_match_for", "score"])
    frame = none_column(int_column(frame, "year"), "title", "venue")
    frame["_year"] = [y or 0 for y in frame["year"]]
    frame = frame.sort_values(["score", "cited_by_surveyed", "_year", "label"],
                              ascending=[False, False, False, True], kind="stable")
    return frame.drop(columns="_year").reset_index(drop=True)
