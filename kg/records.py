"""Plain records every source produces and the graph builder consumes.

A record says what one source claims about one work, dataset or citation, and
where that claim came from. Records are merged into graph nodes by kg.resolve.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields


@dataclass
class Source:
    """Where facts came from (a survey table, a list, an API response, a person)."""

    id: str
    title: str
    agent: str
    url: str | None = None
    retrieved: str | None = None  # ISO date or date-time
    request: str | None = None
    note: str | None = None


@dataclass
class Label:
    """One claim that a work belongs to a taxonomy concept on one axis."""

    axis: str  # category | mechanism | input_modality | output_modality | task | metric
    value: str  # the concept's skos:notation
    source: str  # Source.id
    confidence: float = 1.0
    agent: str | None = None  # overrides the source's agent (classifier version, curator)
    at: str | None = None  # when the claim was made
    evidence: str | None = None
    needs_review: bool = False  # a prediction below the review threshold


@dataclass
class Author:
    name: str
    ids: dict[str, str] = field(default_factory=dict)  # e.g. {"s2": "1741101"}


@dataclass
class Work:
    ids: dict[str, str]  # arxiv, doi, s2, corpus, openalex, cite, url
    sources: list[str]
    title: str | None = None
    short_name: str | None = None
    abstract: str | None = None
    year: int | None = None
    date: str | None = None
    venue: str | None = None
    authors: list[Author] = field(default_factory=list)
    code: str | None = None
    page: str | None = None
    pdf: str | None = None
    fields_of_study: list[str] = field(default_factory=list)
    citation_count: int | None = None
    tldr: str | None = None
    labels: list[Label] = field(default_factory=list)
    resolution: str | None = None  # verified | background_only | unresolved | candidate
    subsection: str | None = None
    list_section: str | None = None
    is_survey: bool = False  # the survey itself (typed fabio:ReviewArticle)
    candidate: bool = False  # known to the graph but not (yet) placed in the taxonomy
    possible_matches: list[tuple[str, str]] = field(default_factory=list)  # (work ref, confidence)


@dataclass
class Dataset:
    name: str
    sources: list[str]
    year: int | None = None
    concepts: int | None = None
    url: str | None = None
    notes: str | None = None
    introduced_by: list[str] = field(default_factory=list)  # work refs "arxiv:..", "title:.."
    used_by: list[str] = field(default_factory=list)


@dataclass
class Citation:
    citing: str  # work ref
    cited: str  # work ref
    source: str


@dataclass
class Bundle:
    """Everything one source contributed."""

    sources: list[Source] = field(default_factory=list)
    works: list[Work] = field(default_factory=list)
    datasets: list[Dataset] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)

    def extend(self, other: "Bundle") -> None:
        self.sources += other.sources
        self.works += other.works
        self.datasets += other.datasets
        self.citations += other.citations


def to_dict(record) -> dict:
    """A record as plain JSON-ready data, without empty fields."""
    return {k: v for k, v in asdict(record).items() if v not in (None, [], {}, False)}


def work_from_dict(data: dict) -> Work:
    """The inverse of to_dict for a Work (used by record files)."""
    known = {f.name for f in fields(Work)}
    unknown = set(data) - known
    if unknown:
        raise ValueError(f"unknown field(s) {sorted(unknown)}")
    data = dict(data)
    data.setdefault("ids", {})  # to_dict leaves out an empty mapping (a work known by its title only)
    data["authors"] = [Author(**a) for a in data.get("authors", [])]
    data["labels"] = [Label(**lab) for lab in data.get("labels", [])]
    data["possible_matches"] = [tuple(m) for m in data.get("possible_matches", [])]
    return Work(**data)
