"""Citation analytics: in-corpus counts, PageRank, communities, bridges, co-citation,
bibliographic coupling, and the coverage audit (papers the survey may have missed).

Pure functions: a graph or a kg.analysis.Corpus in, networkx graphs / DataFrames out.
No betweenness here: it takes minutes on big graphs and these run interactively.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from itertools import combinations

import networkx as nx
import numpy as np
import pandas as pd

from .data import Corpus, int_column, load_corpus, none_column
from .graph_arrays import CitationArrays, citation_arrays, community_membership, pagerank_array

PAIR_COLUMNS = ["a", "b", "a_label", "b_label", "count"]
# PageRank scores this close (relative) are one score: works the graph cannot tell apart
# (say, every work the survey alone cites once) differ only by the power iteration's rounding.
TIE_TOLERANCE = 1e-6
GROW_CITATIONS = "kg harvest s2 --from-graph --references --citations"


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


def _arrays(source) -> CitationArrays:
    """The citation graph as integer arrays, from a graph, a Corpus or a citation_graph DiGraph."""
    if not isinstance(source, nx.DiGraph):
        return citation_arrays(source)
    import hashlib

    import numpy as np

    works = tuple(source.nodes)
    index = {w: i for i, w in enumerate(works)}
    pairs = sorted({(index[a], index[b]) for a, b in source.edges() if a != b})
    citing = np.array([a for a, _ in pairs], dtype=np.int32)
    cited = np.array([b for _, b in pairs], dtype=np.int32)
    digest = hashlib.blake2b("\n".join(works).encode("utf-8") + citing.tobytes() + cited.tobytes(), digest_size=16)
    return CitationArrays(works, citing, cited, digest.hexdigest())


def pagerank_scores(source, alpha: float = 0.85) -> dict[str, float]:
    """PageRank of every work on the citation graph (sums to 1; {} for an empty graph)."""
    arrays = _arrays(source)
    return dict(zip(arrays.works, pagerank_array(arrays, alpha).tolist()))


def pagerank_scores_networkx(source, alpha: float = 0.85) -> dict[str, float]:
    """pagerank_scores computed by networkx (the reference `kg bench` and the tests compare with)."""
    g = source if isinstance(source, nx.DiGraph) else citation_graph(source)
    if g.number_of_nodes() == 0:
        return {}
    return nx.pagerank(g, alpha=alpha)


def tied_ranks(scores: dict[str, float], tolerance: float = TIE_TOLERANCE) -> dict[str, tuple[int, int]]:
    """work -> (rank, tied): competition ranks of scores, highest first, where scores within
    `tolerance` (relative to the group's highest) share one rank; `tied` is how many works
    share it (1 = alone). Four works tied at the top and one below: ranks 1, 1, 1, 1, 5."""
    order = sorted(scores, key=lambda w: (-scores[w], w))
    groups: list[list[str]] = []
    top = None
    for w in order:
        v = scores[w]
        if groups and top is not None and top - v <= tolerance * max(abs(top), 1e-12):
            groups[-1].append(w)
        else:
            groups.append([w])
            top = v
    out: dict[str, tuple[int, int]] = {}
    position = 1
    for group in groups:
        for w in group:
            out[w] = (position, len(group))
        position += len(group)
    return out


def rank_text(rank: int, tied: int) -> str:
    """A rank as people should read it: "3", or "tied at 1 (32 works)" when several share it."""
    return f"tied at {rank} ({tied} works)" if tied > 1 else str(rank)


def citation_sources(source) -> dict:
    """Who the in-graph citations come from, and what that lets the citation analyses say.

    Keys: citations (links), citing_works (works citing at least one other), from_surveys
    (links whose citing work is a survey or review), surveys_citing, survey_only (every link
    comes from a survey: the graph knows only which works the survey cites), note (what the
    data cannot show and how to grow it, or None when the links come from the works themselves).
    """
    if isinstance(source, nx.DiGraph):
        links = set(source.edges())
        reviews = {w for w in source if source.nodes[w].get("review")}
    else:  # the links and flags as they are, without a networkx graph of every work
        corpus = load_corpus(source)
        links = {(a, b) for a, b in zip(corpus.edges["citing"], corpus.edges["cited"]) if a != b}
        reviews = set(corpus.works["work"][corpus.works["review"].astype(bool)])
    citing = {a for a, _ in links}
    surveys = citing & reviews
    from_surveys = sum(1 for a, _ in links if a in surveys)
    n = len(links)
    survey_only = n > 0 and from_surveys == n
    return {"citations": n, "citing_works": len(citing), "from_surveys": from_surveys,
            "surveys_citing": len(surveys), "survey_only": survey_only,
            "note": sources_note(n, len(citing), len(surveys), survey_only)}


def sources_note(n: int, citing: int, surveys: int, survey_only: bool) -> str | None:
    """What citation data of `n` links (from `citing` works, `surveys` of them surveys) cannot
    show and how to grow it; None when the links come from the works themselves."""
    if n == 0:
        return (f"The graph holds no citation links between its works yet, so nothing here ranks them. "
                f"Fetch the works' references and citations with `{GROW_CITATIONS}`.")
    if not survey_only:
        return None
    who = "the survey" if surveys == 1 else f"{surveys} surveys"
    one = surveys == 1
    rank = ("PageRank therefore ties every work it cites" if one else
            "PageRank therefore only counts how many of them cite each work")
    return (f"All {n} citation links come from {who} ({citing} citing "
            f"{'work' if citing == 1 else 'works'}): the graph knows which works {who} "
            f"{'cites' if one else 'cite'}, not how those works cite one another. {rank}, and communities "
            "and co-citation only restate the reference list. Fetch the works' own references and "
            f"citations with `{GROW_CITATIONS}`.")


def communities(source, seed: int = 0, resolution: float = 1.0) -> list[set[str]]:
    """Louvain communities of the undirected citation graph, largest first (python-igraph's
    multilevel algorithm; kg.analysis.graph_arrays).

    Works without any citation link are left out (each would be its own community).
    """
    arrays = _arrays(source)
    return [{arrays.works[i] for i in group} for group in community_membership(arrays, seed, resolution)]


def communities_networkx(source, seed: int = 0, resolution: float = 1.0) -> list[set[str]]:
    """communities computed by networkx's Louvain (the reference `kg bench` and the tests compare with)."""
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
    (in-corpus citations), references (in-corpus), pagerank, rank and tied (PageRank's
    competition rank, equal scores within TIE_TOLERANCE sharing one, and how many works
    share it: tied works are a tie, not an order; see tied_ranks), community (index into
    communities(), -1 when unlinked or with_communities=False), citation_count
    (external, from harvest, or None). PageRank and Louvain run in python-igraph on the
    graph as integer arrays (kg.analysis.graph_arrays), cached per graph within the process;
    pass with_communities=False when communities are not needed.
    """
    corpus = load_corpus(source)
    arrays = citation_arrays(corpus)
    works = corpus.works
    frame = ranked_frame(arrays, {
        "label": list(works["label"]), "year": list(works["year"]), "category": list(works["category"]),
        "candidate": [bool(v) for v in works["candidate"]], "surveyed": [bool(v) for v in works["surveyed"]],
        "review": [bool(v) for v in works["review"]], "citation_count": list(works["citation_count"])},
        ["work", "label", "year", "category", "candidate", "surveyed", "review", "cited_by", "references",
         "pagerank", "rank", "tied", "community", "citation_count"], seed=seed, with_communities=with_communities)
    return none_column(int_column(frame, "year", "citation_count"), "category")


def ranked_frame(arrays: CitationArrays, columns: dict, order: list[str], *, seed: int = 0,
                 with_communities: bool = True) -> pd.DataFrame:
    """One row per work of `arrays` with its figures, most central first (rank, then most cited,
    then label): `columns` (name -> one value per work, in the arrays' order, e.g. label) and
    the computed cited_by, references (in-corpus), pagerank (6 decimals), rank and tied
    (tied_ranks) and community (Louvain; -1 when unlinked or with_communities=False), in
    `order`. What citation_metrics and the stored citation table (kg.analysis.citation_store)
    are both made of."""
    scores = pagerank_array(arrays)
    ties = tied_ranks(dict(zip(arrays.works, scores.tolist())))
    member = np.full(arrays.nodes, -1, dtype=np.int64)
    if with_communities:
        for i, group in enumerate(community_membership(arrays, seed)):
            member[list(group)] = i
    computed = {
        "work": list(arrays.works), "cited_by": arrays.in_degree().astype(np.int64),
        "references": arrays.out_degree().astype(np.int64),
        "pagerank": np.round(scores, 6) if arrays.nodes else np.zeros(0),
        "rank": np.array([ties[w][0] for w in arrays.works], dtype=np.int64),
        "tied": np.array([ties[w][1] for w in arrays.works], dtype=np.int64), "community": member}
    frame = pd.DataFrame({c: columns[c] if c in columns else computed[c] for c in order}, columns=order)
    return frame.sort_values(["rank", "cited_by", "label"], ascending=[True, False, True],
                             kind="stable").reset_index(drop=True)


def bridge_papers(source, min_categories: int = 2) -> pd.DataFrame:
    """Works whose citation neighbours (citing or cited) sit in several categories.

    Columns: work, label, category, review, degree (placed neighbours), categories
    ({category: neighbours}), spread (number of categories), bridge (participation
    coefficient 1 - sum((k_c / k)^2): 0 = one category, up to 1 - 1/C). Highest first.
    Counted on the citation graph's integer arrays (each neighbour once, whichever way the
    link runs), not a Python object per link.
    """
    corpus = load_corpus(source)
    arrays = citation_arrays(corpus)
    columns = ["work", "label", "category", "review", "degree", "categories", "spread", "bridge"]
    n = arrays.nodes
    codes, names = pd.factorize(pd.Series(list(corpus.works["category"]), dtype=object))  # no category: -1
    if n == 0 or not len(arrays.citing):
        return none_column(pd.DataFrame([], columns=columns), "category")
    ends = np.concatenate([arrays.citing, arrays.cited]).astype(np.int64)
    others = np.concatenate([arrays.cited, arrays.citing]).astype(np.int64)
    pairs = np.unique(ends * n + others)  # a -> b and b -> a make b one neighbour of a
    work, neighbour = pairs // n, pairs % n
    placed = codes[neighbour] >= 0
    counts = (pd.DataFrame({"work": work[placed], "category": codes[neighbour[placed]]})
              .value_counts().rename("n").reset_index())
    spread = counts.groupby("work")["category"].nunique()
    chosen = set(spread[spread >= min_categories].index)
    counts = counts[counts["work"].isin(chosen)]
    per_work: dict[int, dict[str, int]] = defaultdict(dict)
    for w, c, k in zip(counts["work"].tolist(), counts["category"].tolist(), counts["n"].tolist()):
        per_work[w][str(names[c])] = k
    labels, categories = corpus.works["label"].tolist(), corpus.works["category"].tolist()
    reviews = corpus.works["review"].tolist()
    rows = []
    for i, per_cat in per_work.items():
        k = sum(per_cat.values())
        rows.append({"work": arrays.works[i], "label": labels[i], "category": categories[i],
                     "review": bool(reviews[i]), "degree": k, "categories": dict(sorted(per_cat.items())),
                     "spread": len(per_cat), "bridge": round(1 - sum((v / k) ** 2 for v in per_cat.values()), 4)})
    frame = none_column(pd.DataFrame(rows, columns=columns), "category")
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
