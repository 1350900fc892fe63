"""The analyses' input: a few named SPARQL queries run once, kept as plain DataFrames.

`load_corpus(graph)` runs the `analysis-*` named queries (kg/queries/) and returns a
`Corpus`, a picklable bundle of DataFrames. Every analysis function accepts either a
graph (anything with `.query`, e.g. kg.store.LocalGraph) or a Corpus, so callers that
run several analyses (the report, the app) query the graph only once.

What counts. Works the graph marks out of scope (`kg:scopeStatus "out"`) are not loaded,
so they count nowhere. Every label is *asserted* (a source other than the classifier
stands behind it: the survey's table, a curated list, a person's curation) or *predicted*
(only the classifier does, with a confidence). A prediction counts only at or above
`min_confidence` (MIN_CONFIDENCE by default); below it the label is set aside in
`Corpus.held` and counts nowhere (a work whose category is such a prediction is not
placed in the taxonomy).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import pandas as pd

from ..sparql.named import run_named
from .counting import AXIS_KINDS, KINDS, MIN_CONFIDENCE, check_min_confidence  # noqa: F401 (re-exported)
from .counting import confidence_of as _confidence, flag as _flag, year_of as _year

# Taxonomy axes (analysis-taxonomy ?axis values).
AXES = ("category", "mechanism", "modality", "task", "metric")

WORK_COLUMNS = ["work", "label", "title", "year", "venue", "arxiv", "doi", "cite", "url", "code",
                "citation_count", "category", "candidate", "review", "surveyed", "authors", "predicted",
                "confidence"]
LINK_COLUMNS = ["work", "kind", "concept", "notation", "label", "predicted", "confidence", "review"]
CONCEPT_COLUMNS = ["axis", "concept", "notation", "label", "order"]
EDGE_COLUMNS = ["citing", "cited"]
DATASET_COLUMNS = ["dataset", "name", "year"]
MATCH_COLUMNS = ["work", "match"]
AXIS_COLUMNS = ["axis", "title", "label", "definition"]


@dataclass
class Corpus:
    """What the analyses read from the graph (one query each, done once).

    works:    one row per work (WORK_COLUMNS); year is an int or None, flags are bools,
              authors a list of names in byline order; `predicted` when its category is
              a prediction (then `confidence` is the classifier's, else None).
    links:    one row per (work, kind, concept) (LINK_COLUMNS); kind in KINDS; `predicted`
              when only the classifier asserts it (`confidence`: its confidence, `review`:
              flagged "needs review"), else asserted (confidence None).
    concepts: taxonomy concepts (CONCEPT_COLUMNS), in survey order per axis.
    edges:    in-corpus citations (EDGE_COLUMNS).
    datasets: every dataset (DATASET_COLUMNS).
    matches:  possible-match pairs (MATCH_COLUMNS): `work` may be the same as `match`.
    held:     predicted links below `min_confidence` (LINK_COLUMNS): they count nowhere.
    axes:     the taxonomy's axes as its schemes name them (AXIS_COLUMNS); see `axis_title`
              (and a row 'taxonomy' with its title; see `taxonomy_title`).
    min_confidence: the lowest confidence at which a predicted link is in `links`.
    structure: what the graph's taxonomy declares about which labels go together
              (kg.rdf.taxonomy.Structure), or the KgError reading it raised; None for a
              Corpus made by hand (then the bundled taxonomy file's).
    """

    works: pd.DataFrame
    links: pd.DataFrame
    concepts: pd.DataFrame
    edges: pd.DataFrame
    datasets: pd.DataFrame
    matches: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=MATCH_COLUMNS))
    held: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=LINK_COLUMNS))
    min_confidence: float = 0.0
    structure: object = None
    axes: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=AXIS_COLUMNS))

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

    def axis_title(self, name: str) -> str:
        """How charts and reports title an axis: its scheme's kg:axisTitle, else the scheme's
        label, else the axis name ('category')."""
        for row in self.axes[self.axes["axis"] == name].itertuples():
            return row.title or row.label or name
        return name

    @property
    def taxonomy_title(self) -> str:
        """The taxonomy's own title (its dcterms:title), or '' when it declares none."""
        for row in self.axes[self.axes["axis"] == "taxonomy"].itertuples():
            return row.title or ""
        return ""

    def kind(self, name: str) -> pd.DataFrame:
        """The links of one kind (e.g. 'mechanism')."""
        return self.links[self.links["kind"] == name].reset_index(drop=True)

    def predicted_links(self, kind: str) -> dict[tuple[str, str], float]:
        """(work, notation) -> the classifier's confidence, for the counted predicted links of one kind."""
        frame = self.links[(self.links["kind"] == kind) & self.links["predicted"].astype(bool)]
        return {(w, n): float(c) for w, n, c in zip(frame["work"], frame["notation"], frame["confidence"])}

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








def _links(records: list[dict], assertions: list[dict], ids: set[str]) -> pd.DataFrame:
    """One row per (work, kind, concept) with who stands behind it (from the label
    assertions): predicted when the classifier gives it and no other source asserts it
    (`confidence`: the classifier's, `review`: its needs-review flag); a link no assertion
    stands behind (a dataset or method a source linked directly) is that source's, so asserted."""
    links = _frame(records, LINK_COLUMNS[:5])
    links = links[links["work"].isin(ids)].drop_duplicates(["work", "kind", "notation"]).reset_index(drop=True)
    asserted: set[tuple] = set()
    guessed: dict[tuple, tuple[float, bool]] = {}
    for row in assertions:
        key = (str(row["work"]), AXIS_KINDS.get(str(row["axis"]), ""), str(row["notation"]))
        if not _flag(row.get("predicted")):
            asserted.add(key)
            continue
        confidence = _confidence(row.get("confidence"))
        if confidence is None:
            continue
        best = guessed.get(key)
        if best is None or confidence > best[0]:
            guessed[key] = (confidence, _flag(row.get("review")))
    found = [guessed.get(k) if k not in asserted else None
             for k in zip(links["work"], links["kind"], links["notation"])]
    links["predicted"] = [f is not None for f in found]
    links["confidence"] = pd.Series([f[0] if f else None for f in found], dtype=object, index=links.index)
    links["review"] = [bool(f and f[1]) for f in found]
    return links




def with_min_confidence(corpus: Corpus, min_confidence: float) -> Corpus:
    """The corpus with predicted links counted only at or above `min_confidence` (the
    others move to `held`); works' categories follow their counted category link."""
    check_min_confidence(min_confidence)
    every = pd.concat([corpus.links, corpus.held], ignore_index=True) if len(corpus.held) else corpus.links
    predicted = every["predicted"].astype(bool)
    low = predicted & pd.Series([c is None or c < min_confidence for c in every["confidence"]], index=every.index)
    links, held = every[~low].reset_index(drop=True), every[low].reset_index(drop=True)
    works = corpus.works.copy()
    placed = links[links["kind"] == "category"]
    category = dict(zip(placed["work"], placed["notation"]))
    guess = {w: (bool(p), c) for w, p, c in zip(placed["work"], placed["predicted"], placed["confidence"])}
    works["category"] = pd.Series([category.get(w) for w in works["work"]], dtype=object, index=works.index)
    works["predicted"] = [guess.get(w, (False, None))[0] for w in works["work"]]
    works["confidence"] = pd.Series([guess[w][1] if guess.get(w, (False,))[0] else None for w in works["work"]],
                                    dtype=object, index=works.index)
    return replace(corpus, works=works, links=links, held=held, min_confidence=float(min_confidence))


def _works(rows: list[dict]) -> pd.DataFrame:
    """analysis-works rows (or a part of their columns) as the Corpus.works frame."""
    works = _frame(rows, WORK_COLUMNS, {"citationCount": "citation_count"})
    works["year"] = pd.Series([_year(y) for y in works["year"]], dtype=object)
    works["citation_count"] = pd.Series([None if c is None else int(c) for c in works["citation_count"]], dtype=object)
    for col in ("candidate", "review", "surveyed"):
        works[col] = [_flag(v) for v in works[col]]
    works["authors"] = [[a for a in str(v).split("; ") if a] if v else [] for v in works["authors"]]
    return works


def load_citation_corpus(source) -> Corpus:
    """What the citation network needs and no more: the works with label, year, category,
    candidate and review flags and external citation count (the network-works query: no
    title, authors, identifiers or surveyed flag), the in-corpus citations and the taxonomy.
    citation_metrics, citation_arrays and citation_sources answer on it as on load_corpus's
    Corpus (the labels of works to other concepts are not read). A Corpus passes through."""
    if isinstance(source, Corpus):
        return source
    works = _works(run_named(source, "network-works").records())
    ids = set(works["work"])
    edges = _frame(run_named(source, "analysis-citation-edges").records(), EDGE_COLUMNS)
    edges = edges[edges["citing"].isin(ids) & edges["cited"].isin(ids)].reset_index(drop=True)
    taxonomy = load_taxonomy(source)
    return Corpus(works, _frame([], LINK_COLUMNS), taxonomy.concepts, edges, _frame([], DATASET_COLUMNS),
                  axes=taxonomy.axes, min_confidence=MIN_CONFIDENCE)


def load_taxonomy(source) -> Corpus:
    """The graph's taxonomy alone, as a Corpus without works (two small queries, whatever the
    graph's size): its concepts and axis names, so that axis_title, notation_labels and
    kg.analysis.views.modalities answer as on the whole corpus. A Corpus passes through."""
    if isinstance(source, Corpus):
        return source
    concepts = _frame(run_named(source, "analysis-taxonomy").records(), CONCEPT_COLUMNS)
    concepts["order"] = [float(o) if o not in (None, "") else 0.0 for o in concepts["order"]]
    concepts = concepts.sort_values(["axis", "order", "notation"], kind="stable").reset_index(drop=True)
    axes = _frame(run_named(source, "analysis-axes").records(), AXIS_COLUMNS)
    return Corpus(_frame([], WORK_COLUMNS), _frame([], LINK_COLUMNS), concepts, _frame([], EDGE_COLUMNS),
                  _frame([], DATASET_COLUMNS), axes=axes, min_confidence=MIN_CONFIDENCE)


def load_corpus(source, min_confidence: float | None = None) -> Corpus:
    """Run the analysis queries once; a Corpus passes through (re-counted when another
    `min_confidence` is asked for). From a graph, predictions count at MIN_CONFIDENCE or
    more unless `min_confidence` says otherwise."""
    if isinstance(source, Corpus):
        if min_confidence is None or min_confidence == source.min_confidence:
            return source
        return with_min_confidence(source, min_confidence)
    works = _works(run_named(source, "analysis-works").records())
    ids = set(works["work"])
    links = _links(run_named(source, "analysis-work-concepts").records(),
                   run_named(source, "analysis-label-assertions").records(), ids)
    concepts = _frame(run_named(source, "analysis-taxonomy").records(), CONCEPT_COLUMNS)
    concepts["order"] = [float(o) if o not in (None, "") else 0.0 for o in concepts["order"]]
    concepts = concepts.sort_values(["axis", "order", "notation"], kind="stable").reset_index(drop=True)
    edges = _frame(run_named(source, "analysis-citation-edges").records(), EDGE_COLUMNS)
    # a work out of scope is not loaded, so links to it go too
    edges = edges[edges["citing"].isin(ids) & edges["cited"].isin(ids)].reset_index(drop=True)
    datasets = _frame(run_named(source, "analysis-datasets").records(), DATASET_COLUMNS)
    datasets["year"] = pd.Series([_year(y) for y in datasets["year"]], dtype=object)
    matches = _frame(run_named(source, "analysis-possible-matches").records(), MATCH_COLUMNS)
    matches = matches[matches["work"].isin(ids) & matches["match"].isin(ids)].reset_index(drop=True)
    from ..errors import KgError
    from ..rdf.taxonomy import read_structure

    try:  # the graph's own taxonomy (a project's), not the bundled file
        structure = read_structure(source)
    except KgError as exc:  # said when an analysis needs it (kg.analysis.combinations)
        structure = exc
    axes = _frame(run_named(source, "analysis-axes").records(), AXIS_COLUMNS)
    corpus = Corpus(works, links, concepts, edges, datasets, matches, structure=structure, axes=axes)
    return with_min_confidence(corpus, MIN_CONFIDENCE if min_confidence is None else min_confidence)
