"""What the classifier reads from the graph, through named queries.

Works with their text and identifiers (classify-works), every label assertion
with its provenance (classify-labels) and dataset names (classify-datasets).
Training labels are a work's effective labels computed from every assertion
that is not a prediction: the survey table, the list's modalities, curation.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote

from ..records.labels import effective_labels, is_predicted
from ..sparql.named import run_named
from ..records import Label
from ..vocab import AXES as AXIS_PROPERTIES
from ..vocab import ID
from .model import AXES, Example

_ID_COLUMNS = ("arxiv", "doi", "s2", "corpus", "openalex", "cite", "url")
_AXIS_BY_LOCAL = {str(prop).rsplit("#", 1)[-1]: axis for axis, prop in AXIS_PROPERTIES.items()}
_SOURCE_PREFIX = f"{ID}source/"


@dataclass
class GraphWork:
    iri: str
    title: str = ""
    abstract: str = ""
    short_name: str | None = None
    year: int | None = None
    ids: dict[str, str] = field(default_factory=dict)
    review: bool = False
    candidate: bool = False
    labels: list[Label] = field(default_factory=list)
    scope: str | None = None  # in | out | undecided (kg:scopeStatus; None in a graph built before scopes)
    relevance: float | None = None  # the scope model's, in [0, 1]

    @property
    def display(self) -> str:
        return self.short_name or self.title or self.ids.get("cite") or self.iri

    def given_labels(self) -> dict[str, list[str]]:
        """Effective labels per axis from everything but predictions (curation wins)."""
        return effective_labels([lab for lab in self.labels if not is_predicted(lab)])


def source_id(iri: str) -> str:
    return unquote(iri[len(_SOURCE_PREFIX):]) if iri.startswith(_SOURCE_PREFIX) else iri


_SOME_WORKS = """SELECT ?work ?title ?abstract ?shortName ?year ?arxiv ?doi ?s2 ?corpus ?openalex ?cite ?url ?review
       ?candidate ?scope ?relevance WHERE {
  VALUES ?work { %s }
  ?work a fabio:ScholarlyWork .
  OPTIONAL { ?work dcterms:title ?title }
  OPTIONAL { ?work dcterms:abstract ?abstract }
  OPTIONAL { ?work kg:shortName ?shortName }
  OPTIONAL { ?work fabio:hasPublicationYear ?year }
  OPTIONAL { ?work kg:arxivId ?arxiv }
  OPTIONAL { ?work kg:doi ?doi }
  OPTIONAL { ?work kg:s2PaperId ?s2 }
  OPTIONAL { ?work kg:s2CorpusId ?corpus }
  OPTIONAL { ?work kg:openalexId ?openalex }
  OPTIONAL { ?work kg:citationKey ?cite }
  OPTIONAL { ?work schema:url ?url }
  OPTIONAL { ?work kg:scopeStatus ?scope }
  OPTIONAL { ?work kg:relevance ?relevance }
  BIND(EXISTS { ?work a fabio:ReviewArticle } AS ?review)
  BIND(EXISTS { ?work kg:isCandidate true } AS ?candidate)
}"""
_COLUMNS = ("work", "title", "abstract", "shortName", "year", "arxiv", "doi", "s2", "corpus", "openalex", "cite",
            "url", "review", "candidate", "scope", "relevance")


def _some_rows(graph, iris: list[str], part: int = 500):
    """classify-works' rows for the works `iris` alone (without their labels), as plain values."""
    for i in range(0, len(iris), part):
        values = " ".join(f"<{iri}>" for iri in iris[i:i + part] if ">" not in iri and " " not in iri)
        for row in graph.values(_SOME_WORKS % values):
            yield {k: v for k, v in zip(_COLUMNS, row) if v is not None}


def read_works(graph, iris: list[str] | None = None) -> list[GraphWork]:
    """Every work of the graph with its text, identifiers and labels; `iris`: those works alone,
    their text and identifiers (not their labels: kg.classify.keys holds what they decide)."""
    works: dict[str, GraphWork] = {}
    rows = run_named(graph, "classify-works").records() if iris is None else _some_rows(graph, iris)
    for row in rows:
        if iris is not None:
            row = {**row, "review": row.get("review") == "true", "candidate": row.get("candidate") == "true"}
        iri = row["work"]
        if iri in works:
            continue
        works[iri] = GraphWork(
            iri=iri,
            title=row.get("title") or "",
            abstract=row.get("abstract") or "",
            short_name=row.get("shortName"),
            year=int(row["year"]) if row.get("year") else None,
            ids={k: str(row[k]) for k in _ID_COLUMNS if row.get(k)},
            review=bool(row.get("review")),
            candidate=bool(row.get("candidate")),
            scope=str(row["scope"]) if row.get("scope") else None,
            relevance=float(row["relevance"]) if row.get("relevance") is not None else None,
        )
    if iris is not None:
        return list(works.values())
    for row in run_named(graph, "classify-labels").records():
        work = works.get(row["work"])
        axis = _AXIS_BY_LOCAL.get(row["axis"])
        if work is None or axis is None:
            continue
        work.labels.append(Label(axis, row["notation"], source_id(row["source"]),
                                 confidence=float(row.get("confidence") or 0.0), agent=row.get("agent"),
                                 at=str(row["at"]) if row.get("at") else None,
                                 needs_review=bool(row.get("needsReview"))))
    return list(works.values())


def training_examples(works: list[GraphWork]) -> list[Example]:
    """Labelled papers with some text, labelled on at least one classifier axis."""
    out = []
    for w in works:
        if w.review or not (w.title.strip() or w.abstract.strip()):
            continue
        given = {axis: set(values) for axis, values in w.given_labels().items() if axis in AXES}
        if given:
            out.append(Example(w.iri, w.title, w.abstract, given))
    return out


def dataset_names(graph) -> dict[str, list[str]]:
    """Dataset name -> aliases (its other titles and alternative labels)."""
    names: dict[str, list[str]] = {}
    by_dataset: dict[str, list[str]] = {}
    for row in run_named(graph, "classify-datasets").records():
        by_dataset.setdefault(row["dataset"], [])
        if row["name"] not in by_dataset[row["dataset"]]:
            by_dataset[row["dataset"]].append(row["name"])
    for labels in by_dataset.values():
        names[labels[0]] = labels[1:]
    return names
