"""The citation network page's table: every work's citation figures with what the page filters
and draws on, and the copy of it `kg build` keeps with the generation it publishes.

`network_table(graph)` joins the citation table (kg.analysis.citation_store: PageRank, rank,
community, degrees; kept per generation) to five attributes of every work, each read from the
store by one lean pattern: year, category notation, candidate, review (a survey or review
article) and external citation count. At 100,000 papers those five reads take 1.6-3 s, so
`kg build`, which writes every work, keeps the whole table beside the generation it publishes
(`tables_from_links`: made from what its writer wrote, kg.rdf.quads.WorkFacts), and the first
visit of the Citation network page after a build reads it instead. Unlike the citation table,
a generation `kg classify` publishes as a delta does not carry it over: the classifier's labels
may place a work in a category and so change its category and candidate columns. The table is
kept by the build only; one computed on an ask is not written (the app keeps its own view of it,
kg.app.view_cache).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd

from ..derived import UNREADABLE, derived_path, packed_strings, unpacked_strings
from .citation_store import arrays as citation_arrays, citation_table, columns_of as citation_columns, encode
from .citation_store import filename as citation_file, table_from_links
from .counting import flag, year_of

FORMAT = 2  # bumped when the kept table's meaning changes: older files are then recomputed
FILENAME = f"network-v{FORMAT}.npz"
NETWORK_COLUMNS = ["work", "label", "year", "category", "candidate", "review", "cited_by", "references",
                   "pagerank", "rank", "tied", "community", "citation_count"]

# the works' attributes the citation network filters and draws on, read lean: one simple pattern
# each (a join of OPTIONALs over every work costs more than the five scans together)
_YEARS = "SELECT ?w ?v WHERE { ?w fabio:hasPublicationYear ?v }"
_CATEGORIES = "SELECT ?w ?v WHERE { ?w kg:category/skos:notation ?v }"
_CANDIDATES = "SELECT ?w ?v WHERE { ?w kg:isCandidate ?v }"
_REVIEWS = "SELECT ?w WHERE { ?w a fabio:ReviewArticle }"
_CITATION_COUNTS = "SELECT ?w ?v WHERE { ?w kg:citationCount ?v }"


def network_table(graph) -> pd.DataFrame:
    """Every work's citation figures (kg.analysis.citation_store.citation_table: PageRank, rank,
    ties, Louvain community, in-corpus degrees) with what the citation network page filters and
    draws on: year, category (notation or None), candidate, review (a survey or review article),
    citation_count (external). Most central first; the columns of citation_metrics that the page
    reads (NETWORK_COLUMNS), without loading the analysis corpus. Read from the copy kg build
    kept with the generation when there is one, else computed."""
    path = derived_path(graph, FILENAME)
    if path is not None and path.is_file():
        try:
            return _load(path)
        except UNREADABLE:  # damaged or foreign: computed
            pass
    return compute_network_table(graph)


def compute_network_table(graph) -> pd.DataFrame:
    """network_table computed from the store: the citation table and five lean reads."""
    read: dict = {}

    def attributes() -> None:
        read.update(_attributes(graph.values(_YEARS), graph.values(_CATEGORIES), graph.values(_CANDIDATES),
                                (w for (w,) in graph.values(_REVIEWS)), graph.values(_CITATION_COUNTS)))

    table = citation_table(graph, meanwhile=attributes)  # a table computed now reads them while Louvain runs
    if not read:
        attributes()
    return _joined(table, **read)


def _attributes(years, categories, candidates, reviews, counts) -> dict:
    """The five attributes of the works, each from (work, value as the store writes it) pairs
    (`reviews`: works), the first value of a work kept: the one way both the store's answers and
    kg build's facts become the table's columns."""
    def first(pairs, convert=lambda v: v) -> dict:
        found: dict = {}
        for w, v in pairs:
            if w not in found and v not in (None, ""):
                found[w] = convert(v)
        return found

    return {"years": first(years, year_of), "categories": first(categories),
            "candidates": {w for w, v in candidates if flag(v)}, "reviews": set(reviews),
            "counts": first(counts, lambda v: int(float(v)))}


def _joined(table: pd.DataFrame, years: dict, categories: dict, candidates: set, reviews: set,
            counts: dict) -> pd.DataFrame:
    works = table["work"]
    out = table.assign(year=pd.Series([years.get(w) for w in works], dtype=object),
                       category=pd.Series([categories.get(w) for w in works], dtype=object),
                       candidate=[w in candidates for w in works], review=[w in reviews for w in works],
                       citation_count=pd.Series([counts.get(w) for w in works], dtype=object))
    return out[NETWORK_COLUMNS]


def tables_from_links(works: list[str], labels: list[str], citing, cited, out: set[str] = frozenset(),
                      facts: list | None = None) -> dict[str, bytes]:
    """What kg build keeps with the generation it publishes, made from what its writer wrote (see
    citation_store.table_from_links for `works`, `labels`, `citing`, `cited`, `out`): file name
    under the generation's kept folder -> content. The citation table always; the network table
    too when `facts` (kg.rdf.quads.WorkFacts, one per work in `works`' order) say what the store
    would answer, that is when no work has two categories (the store's first would then be
    its own pick)."""
    table = table_from_links(works, labels, citing, cited, out)

    files = {citation_file(): encode(table)}
    try:
        network = _network_from_facts(table, works, facts)
    except (TypeError, ValueError, OverflowError):  # facts the store would not answer so: computed on first ask
        network = None
    if network is not None:
        files[FILENAME] = network
    return files


def _network_from_facts(table: pd.DataFrame, works: list[str], facts: list | None) -> bytes | None:
    """The network table's file made from the writer's facts (see tables_from_links), or None."""
    if facts is None or len(facts) != len(works) or any(len(f.categories) > 1 for f in facts):
        return None
    pairs = list(zip(works, facts))
    read = _attributes(((w, f.year) for w, f in pairs), ((w, f.categories[0]) for w, f in pairs if f.categories),
                       ((w, "true") for w, f in pairs if f.candidate), (w for w, f in pairs if f.review),
                       ((w, str(f.citation_count)) for w, f in pairs if f.citation_count is not None))
    return _encode(_joined(table, **read))


def _encode(frame: pd.DataFrame) -> bytes:
    """The table as arrays (no pickles): the citation table's columns as kg.analysis.citation_store
    keeps them, the columns that may be empty as values and a mask."""
    buffer = io.BytesIO()
    year, count = frame["year"], frame["citation_count"]
    np.savez(buffer, **citation_arrays(frame),
             year=np.array([0 if v is None else int(v) for v in year], dtype=np.int64),
             year_known=year.notna().to_numpy(dtype=bool),
             **packed_strings("category", ("" if v is None else v for v in frame["category"])),
             category_known=frame["category"].notna().to_numpy(dtype=bool),
             citation_count=np.array([0 if v is None else int(v) for v in count], dtype=np.int64),
             citation_count_known=count.notna().to_numpy(dtype=bool),
             candidate=frame["candidate"].to_numpy(dtype=bool), review=frame["review"].to_numpy(dtype=bool))
    return buffer.getvalue()


def _load(path: Path) -> pd.DataFrame:
    with np.load(path, allow_pickle=False) as data:
        def maybe(column: str, values: list) -> pd.Series:
            known = data[f"{column}_known"]
            return pd.Series([v if k else None for v, k in zip(values, known.tolist())], dtype=object)

        # the same column types as compute_network_table's (IRIs, labels, years: Python values)
        frame = pd.DataFrame({**citation_columns(data), "year": maybe("year", data["year"].tolist()),
                              "category": maybe("category", unpacked_strings(data, "category")),
                              "candidate": data["candidate"].tolist(), "review": data["review"].tolist(),
                              "citation_count": maybe("citation_count", data["citation_count"].tolist())})
    return frame[NETWORK_COLUMNS]
