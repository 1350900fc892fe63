"""Slices of the analysis corpus for interactive views (filters), and tables of works.

Selection only, no analysis: `restrict_corpus` keeps the works that pass a filter (and
the links and citations among them) and returns a kg.analysis.Corpus, so every
analysis function (gap_matrix, citation_metrics, ...) then runs on the slice exactly as
on the whole graph. The taxonomy, datasets and methods stay complete, so empty cells
remain visible.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from .data import Corpus
from .network_store import NETWORK_COLUMNS, network_table  # noqa: F401  (the app's entry to them)
from ..errors import UsageError

WORK_TABLE_COLUMNS = ["label", "year", "venue", "category", "title", "work"]


def year_span(corpus: Corpus) -> tuple[int, int] | None:
    """(first, last) publication year of the works, or None when no work has a year."""
    years = [int(y) for y in corpus.works["year"] if y is not None and not pd.isna(y)]
    return (min(years), max(years)) if years else None


def modalities(corpus: Corpus) -> dict[str, str]:
    """notation -> label of every taxonomy modality, in taxonomy order."""
    return corpus.notation_labels("modality")


def restrict_corpus(corpus: Corpus, *, modality: str | None = None, years: tuple[int, int] | None = None,
                    categories: list[str] | None = None, candidates: bool = True) -> Corpus:
    """The corpus limited to works that pass every given filter.

    modality: works with that input or output modality; years: (first, last) inclusive,
    works without a year left out; categories: works whose category is one of them;
    candidates=False: candidates (works not yet placed in the taxonomy) left out.
    """
    works = corpus.works
    keep = pd.Series(True, index=works.index)
    if modality:
        known = modalities(corpus)
        if modality not in known:
            raise UsageError(f"unknown modality {modality!r}; valid: {', '.join(known)}")
        links = corpus.links
        with_mod = set(links[links["kind"].isin(["input", "output"]) & (links["notation"] == modality)]["work"])
        keep &= works["work"].isin(with_mod)
    if years is not None:
        first, last = years
        if first > last:
            raise UsageError(f"the year range {first}-{last} is empty; give the earlier year first")
        keep &= works["year"].map(lambda y: y is not None and not pd.isna(y) and first <= int(y) <= last)
    if categories is not None:
        keep &= works["category"].isin(list(categories))
    if not candidates:
        keep &= ~works["candidate"].astype(bool)
    kept = works[keep].reset_index(drop=True)
    ids = set(kept["work"])
    edges = corpus.edges[corpus.edges["citing"].isin(ids) & corpus.edges["cited"].isin(ids)].reset_index(drop=True)
    return replace(corpus, works=kept,
                   links=corpus.links[corpus.links["work"].isin(ids)].reset_index(drop=True),
                   edges=edges,
                   matches=corpus.matches[corpus.matches["work"].isin(ids)].reset_index(drop=True))


def works_table(corpus: Corpus, works) -> pd.DataFrame:
    """The given works (IRIs, in that order) as rows: label, year, venue, category, title, work."""
    order = {w: i for i, w in enumerate(dict.fromkeys(works))}
    frame = corpus.works[corpus.works["work"].isin(order)].copy()
    frame["_order"] = frame["work"].map(order)
    frame = frame.sort_values("_order", kind="stable")
    return frame[WORK_TABLE_COLUMNS].reset_index(drop=True)


def cooccurrence_pairs(corpus: Corpus, kinds=None, top: int = 30) -> pd.DataFrame:
    """The co-occurrence matrix (kg.analysis.cooccurrence_matrix) of the `top` most frequent
    concepts in long form: a, b, a_label, b_label, a_kind, b_kind, papers; concepts ordered by
    kind, then frequency. Labels shared by two kinds (input and output Text) get the kind added."""
    from . import concept_occurrences, cooccurrence_matrix

    columns = ["a", "b", "a_label", "b_label", "a_kind", "b_kind", "papers"]
    matrix = cooccurrence_matrix(corpus, kinds)
    if matrix.empty:
        return pd.DataFrame(columns=columns)
    occ = concept_occurrences(corpus, kinds)
    kind_of = dict(zip(occ["key"], occ["kind"]))
    label_of = dict(zip(occ["key"], occ["label"]))
    repeated = {lab for lab, n in pd.Series(list(label_of.values())).value_counts().items() if n > 1}
    display = {k: f"{lab} ({kind_of[k]})" if lab in repeated else lab for k, lab in label_of.items()}
    kinds_order = {k: i for i, k in enumerate(dict.fromkeys(kinds or occ["kind"]))}
    counts = {k: int(matrix.loc[k, k]) for k in matrix.index}
    chosen = sorted(counts, key=lambda k: (-counts[k], k))[:max(1, top)]
    chosen.sort(key=lambda k: (kinds_order.get(kind_of[k], 99), -counts[k], display[k]))
    rows = [{"a": a, "b": b, "a_label": display[a], "b_label": display[b], "a_kind": kind_of[a],
             "b_kind": kind_of[b], "papers": int(matrix.loc[a, b])} for a in chosen for b in chosen]
    return pd.DataFrame(rows, columns=columns)


def with_kinds(combinations: pd.DataFrame) -> pd.DataFrame:
    """An unexplored_combinations frame with `concept` and `with` columns reading "label (kind)"."""
    out = combinations.copy()
    out["concept"] = [f"{label} ({kind})" for label, kind in zip(out["a_label"], out["a_kind"])]
    out["with"] = [f"{label} ({kind})" for label, kind in zip(out["b_label"], out["b_kind"])]
    return out


def network_sources(graph, table: pd.DataFrame) -> dict:
    """kg.analysis.citations.citation_sources for the graph, from network_table's degrees: the
    links of survey or review works only are read (when every link comes from them)."""
    import networkx as nx

    from .citations import citation_sources

    links = int(table["references"].sum())
    citing = table[table["references"] > 0]
    surveys = citing[citing["review"].astype(bool)]
    from_surveys = int(surveys["references"].sum())
    if links and from_surveys < links:  # the works themselves cite: no caveat to compute
        return {"citations": links, "citing_works": int(len(citing)), "from_surveys": from_surveys,
                "surveys_citing": int(len(surveys)), "survey_only": False, "note": None}
    g = nx.DiGraph()  # no link, or every link from a survey: those links read, the note said by citation_sources
    g.add_nodes_from((w, {"review": True}) for w in surveys["work"])
    if len(surveys):
        values = " ".join(f"<{w}>" for w in surveys["work"])
        keep = set(table["work"])
        g.add_edges_from((a, b) for a, b in graph.values(
            f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} ?a cito:cites ?b }}") if b in keep and a != b)
    return citation_sources(g)


def links_among(graph, works) -> list[tuple[str, str]]:
    """The citation links among the given works (a few hundred: the ones drawn), read from the store."""
    works = list(dict.fromkeys(works))
    if not works:
        return []
    values = " ".join(f"<{w}>" for w in works)
    keep = set(works)
    found = graph.values(f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} ?a cito:cites ?b }}")
    return sorted({(a, b) for a, b in found if b in keep and a != b})
