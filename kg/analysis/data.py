"""The analyses' input: a few named SPARQL queries run once, kept as plain DataFrames.

`load_corpus(graph)` runs the `analysis-*` named queries (kg/queries/) and returns a
`Corpus`, a picklable bundle of DataFrames. Every analysis function accepts either a
graph (anything with `.query`, e.g. kg.store.LocalGraph) or a Corpus, so callers that
run several analyses (the report, the app) query the graph only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from ..named import run_named

# Kinds of things a work can be linked to (analysis-work-concepts ?kind values).
KINDS = ("category", "mechanism", "input", "output", "task", "metric", "dataset", "method")
# Taxonomy axes (analysis-taxonomy ?axis values).
AXES = ("category", "mechanism", "modality", "task", "metric")

WORK_COLUMNS = ["work", "label", "title", "year", "venue", "arxiv", "doi", "cite", "url", "code",
                "citation_count", "category", "candidate", "review", "surveyed", "authors"]
LINK_COLUMNS = ["work", "kind", "concept", "notation", "label"]
CONCEPT_COLUMNS = ["axis", "concept", "notation", "label", "order"]
EDGE_COLUMNS = ["citing", "cited"]
DATASET_COLUMNS = ["dataset", "name", "year"]
MATCH_COLUMNS = ["work", "match"]


@dataclass
class Corpus:
    """What the analyses read from the graph (one query each, done once).

    works:    one row per work (WORK_COLUMNS); year is an int or None, flags are bools,
              authors a list of names in byline order.
    links:    one row per (work, kind, concept) (LINK_COLUMNS); kind in KINDS.
    concepts: taxonomy concepts (CONCEPT_COLUMNS), in survey order per axis.
    edges:    in-corpus citations (EDGE_COLUMNS).
    datasets: every dataset (DATASET_COLUMNS).
    matches:  possible-match pairs (MATCH_COLUMNS): `work` may be the same as `match`.
    """

    works: pd.DataFrame
    links: pd.DataFrame
    concepts: pd.DataFrame
    edges: pd.DataFrame
    datasets: pd.DataFrame
    matches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MATCH_COLUMNS))

    # ------------------------------------------------------------ helpers
    def labels(self) -> dict[str, str]:
        """work IRI -> display label."""
        return dict(zip(self.works["work"], self.works["label"]))

    def axis(self, name: str) -> pd.DataFrame:
        """The concepts of one taxonomy axis, in survey order."""
        return self.concepts[self.concepts["axis"] == name].reset_index(drop=True)

    def notation_labels(self, axis: str) -> dict[str, str]:
        frame = self.axis(axis)
        return dict(zip(frame["notation"], frame["label"]))

    def kind(self, name: str) -> pd.DataFrame:
        """The links of one kind (e.g. 'mechanism')."""
        return self.links[self.links["kind"] == name].reset_index(drop=True)

    def concepts_by_work(self, kind: str) -> dict[str, list[str]]:
        """work IRI -> notations of one kind (sorted)."""
        out: dict[str, list[str]] = {}
        for work, notation in zip(*(self.kind(kind)[c] for c in ("work", "notation"))):
            out.setdefault(work, []).append(notation)
        return {w: sorted(set(v)) for w, v in out.items()}

    @property
    def is_empty(self) -> bool:
        return self.works.empty


def _frame(rows: list[dict], columns: list[str], rename: dict | None = None) -> pd.DataFrame:
    frame = pd.DataFrame(rows)
    if rename:
        frame = frame.rename(columns=rename)
    for col in columns:
        if col not in frame.columns:
            frame[col] = None
    return frame[columns].astype(object).where(frame[columns].notna(), None)


def int_column(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Keep integer columns with gaps as Python ints and None (pandas would make them floats)."""
    for col in columns:
        frame[col] = pd.Series([None if v is None or v != v else int(v) for v in frame[col]],
                               dtype=object, index=frame.index)
    return frame


def none_column(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """Keep missing values in object columns as None (pandas would turn an all-missing column into NaN)."""
    for col in columns:
        frame[col] = pd.Series([None if v is None or (isinstance(v, float) and v != v) else v for v in frame[col]],
                               dtype=object, index=frame.index)
    return frame


def _year(value) -> int | None:
    try:
        return int(str(value)[:4])
    except (TypeError, ValueError):
        return None


def _flag(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def load_corpus(source) -> Corpus:
    """Run the analysis queries once; a Corpus passes through unchanged."""
    if isinstance(source, Corpus):
        return source
    works = _frame(run_named(source, "analysis-works").records(), WORK_COLUMNS,
                   {"citationCount": "citation_count"})
    works["year"] = pd.Series([_year(y) for y in works["year"]], dtype=object)
    works["citation_count"] = pd.Series([None if c is None else int(c) for c in works["citation_count"]], dtype=object)
    for col in ("candidate", "review", "surveyed"):
        works[col] = [_flag(v) for v in works[col]]
    works["authors"] = [[a for a in str(v).split("; ") if a] if v else [] for v in works["authors"]]
    links = _frame(run_named(source, "analysis-work-concepts").records(), LINK_COLUMNS)
    links = links.drop_duplicates(["work", "kind", "notation"]).reset_index(drop=True)
    concepts = _frame(run_named(source, "analysis-taxonomy").records(), CONCEPT_COLUMNS)
    concepts["order"] = [float(o) if o not in (None, "") else 0.0 for o in concepts["order"]]
    concepts = concepts.sort_values(["axis", "order", "notation"], kind="stable").reset_index(drop=True)
    edges = _frame(run_named(source, "analysis-citation-edges").records(), EDGE_COLUMNS)
    datasets = _frame(run_named(source, "analysis-datasets").records(), DATASET_COLUMNS)
    datasets["year"] = pd.Series([_year(y) for y in datasets["year"]], dtype=object)
    matches = _frame(run_named(source, "analysis-possible-matches").records(), MATCH_COLUMNS)
    return Corpus(works, links, concepts, edges, datasets, matches)
