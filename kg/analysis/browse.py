"""Browsing the graph: paper search, one paper's page, what the graph holds and where from.

Pure functions over a graph (anything with `.query`, e.g. kg.store.LocalGraph); every
fact comes from a named query in kg/queries/. The app's Overview and Papers pages and
any other front end call these.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

from ..records import ids
from ..errors import UsageError
from ..sparql.named import run_named
from .counting import year_of

MAX_SEARCH_CHARS = 300
ARXIV_ABS = "https://arxiv.org/abs/"
DOI_ORG = "https://doi.org/"

# paper-query property -> identifier kind shown on a paper page
_ID_PROPERTIES = {"arxivId": "arXiv", "doi": "DOI", "s2PaperId": "Semantic Scholar", "s2CorpusId": "S2 corpus id",
                  "openalexId": "OpenAlex", "citationKey": "citation in the survey"}
_LINK_PROPERTIES = {"codeRepository": "code", "homepage": "project page", "openAccessPdf": "PDF", "url": "web page"}
# effective label properties -> axis names used on a paper page (and by curation)
LABEL_AXES = {"category": "category", "mechanism": "mechanism", "inputModality": "input_modality",
              "outputModality": "output_modality", "task": "task", "metric": "metric"}


def binding_value(text: str) -> str:
    """A user-typed identifier as the graph stores it ('arXiv:2406.09400v2' -> '2406.09400')."""
    value = text.strip()
    if value.startswith(("http://", "https://")) and "arxiv.org" not in value and "doi.org" not in value:
        return value
    parsed = ids.parse_any(value)
    return parsed[1] if parsed else value


# ---------------------------------------------------------------- search
@dataclass
class SearchHit:
    work: str
    label: str
    title: str | None
    year: int | None
    venue: str | None
    authors: list[str]
    candidate: bool
    matched: str  # what matched: id, title, author, venue
    score: float


def search_index(graph, page: int | None = None) -> list[dict]:
    """One row per work: label, title, year, venue, ids (list), authors (list), candidate.
    `page`: only that page of the search-index listing (1,000 works), else every work."""
    rows = run_named(graph, "search-index", page=page).records()
    for row in rows:
        row["ids"] = [i for i in (row.get("ids") or "").split("|") if i]
        row["authors"] = [a for a in (row.get("authors") or "").split("; ") if a]
        row["candidate"] = row.get("candidate") is True
        row["year"] = year_of(row.get("year"))
    return rows


def _norm(text: str | None) -> str:
    return ids.normalise_title(text) or ""


def search_papers(source, text: str, limit: int = 200) -> list[SearchHit]:
    """Papers matching a title, an author or an identifier, best first.

    `source` is a graph or the rows of search_index(graph). Every word of the text must
    occur in the title, label, authors or venue; an identifier (arXiv id in any spelling,
    DOI, S2 id, citation key, IRI) matches exactly. An empty text lists every paper.
    """
    rows = source if isinstance(source, list) else search_index(source)
    text = (text or "").strip()
    if len(text) > MAX_SEARCH_CHARS:
        raise UsageError(f"the search text is {len(text)} characters long; keep it under {MAX_SEARCH_CHARS}")
    wanted_id = binding_value(text).lower() if text else ""
    words = _norm(text).split()
    hits = []
    for row in rows:
        hit = _score(row, text, wanted_id, words)
        if hit:
            matched, score = hit
            hits.append(SearchHit(row["work"], row["label"], row.get("title"), row.get("year"), row.get("venue"),
                                  row["authors"], row["candidate"], matched, score))
    hits.sort(key=lambda h: (-h.score, h.label.lower(), h.work))
    return hits[:limit]


def _score(row: dict, text: str, wanted_id: str, words: list[str]) -> tuple[str, float] | None:
    if not text:
        return "", 0.0
    if wanted_id and (wanted_id in (i.lower() for i in row["ids"]) or wanted_id == row["work"].lower()):
        return "id", 100.0
    if not words:
        return None
    title = _norm(row.get("title")) + " " + _norm(row.get("label"))
    authors = _norm(" ; ".join(row["authors"]))
    venue = _norm(row.get("venue")) + " " + str(row.get("year") or "")
    every = f"{title} {authors} {venue}"
    if not all(re.search(rf"\b{re.escape(w)}", every) for w in words):
        return None
    phrase = " ".join(words)
    if phrase in title:
        return "title", 60.0 + (10.0 if title.startswith(phrase) else 0.0)
    if all(re.search(rf"\b{re.escape(w)}", title) for w in words):
        return "title", 50.0
    if all(re.search(rf"\b{re.escape(w)}", authors) for w in words):
        return "author", 40.0
    return "title, author or venue", 20.0


# ---------------------------------------------------------------- one paper
@dataclass
class PaperPage:
    """Everything a paper page shows, from the paper, paper-labels and citations queries."""

    work: str
    label: str
    title: str | None = None
    abstract: str | None = None
    tldr: str | None = None
    year: int | None = None
    venue: str | None = None
    authors: list[str] = field(default_factory=list)
    identifiers: list[tuple[str, str]] = field(default_factory=list)  # (kind, value)
    links: list[tuple[str, str]] = field(default_factory=list)  # (name, url)
    labels: dict[str, list[tuple[str, str]]] = field(default_factory=dict)  # axis -> [(notation, label)]
    assertions: list[dict] = field(default_factory=list)  # every label claim with provenance
    cites: list[dict] = field(default_factory=list)  # works this paper cites
    cited_by: list[dict] = field(default_factory=list)  # works citing it
    datasets: list[tuple[str, str]] = field(default_factory=list)  # (dataset label, introduces|uses)
    mentions: list[dict] = field(default_factory=list)  # methods and datasets it names, with evidence (paper-mentions)
    sources: list[str] = field(default_factory=list)
    candidate: bool = False
    resolution: str | None = None
    subsection: str | None = None
    citation_count: int | None = None
    scope: dict = field(default_factory=dict)  # status, relevance, decidedBy, source, at, why (paper-scope query)


def find_work(graph, ref: str) -> str:
    """The IRI of the work an identifier, citation key or IRI names (UsageError if none)."""
    ref = (ref or "").strip()
    if not ref:
        raise UsageError("give a paper: an arXiv id, DOI, Semantic Scholar id, citation key or IRI")
    wanted = binding_value(ref).lower()
    for row in search_index(graph):
        if row["work"].lower() == wanted or wanted in (i.lower() for i in row["ids"]):
            return row["work"]
    raise UsageError(f"no paper in the graph has the identifier {ref!r}",
                     hint="Search by title or author on the Papers page, or run `kg query --name papers`.")


def paper_page(graph, ref: str) -> PaperPage:
    """One paper's page: facts, labels with provenance, citations both ways, links."""
    work = find_work(graph, ref)
    facts = run_named(graph, "paper", {"id": work}).records()
    page = PaperPage(work=work, label=work)
    for row in facts:
        prop, value, vlabel = row["property"], row["value"], row.get("valueLabel")
        if prop == "label":
            page.label = value
        elif prop == "title":
            page.title = value
        elif prop == "abstract":
            page.abstract = value
        elif prop == "tldr":
            page.tldr = value
        elif prop == "hasPublicationYear":
            page.year = year_of(value)
        elif prop == "publicationName":
            page.venue = value
        elif prop == "creator":
            page.authors.append(vlabel or value)
        elif prop in _ID_PROPERTIES:
            page.identifiers.append((_ID_PROPERTIES[prop], str(value)))
        elif prop in _LINK_PROPERTIES:
            page.links.append((_LINK_PROPERTIES[prop], str(value)))
        elif prop in LABEL_AXES:
            page.labels.setdefault(LABEL_AXES[prop], []).append((_notation(value), vlabel or _notation(value)))
        elif prop in ("usesDataset", "introducesDataset"):
            page.datasets.append((vlabel or value, "introduces" if prop == "introducesDataset" else "uses"))
        elif prop == "wasDerivedFrom":
            page.sources.append(vlabel or value)
        elif prop == "isCandidate":
            page.candidate = value is True
        elif prop == "resolution":
            page.resolution = value
        elif prop == "surveySubsection":
            page.subsection = value
        elif prop == "citationCount":
            page.citation_count = int(value)
    for kind, value in page.identifiers:
        if kind == "arXiv":
            page.links.insert(0, ("arXiv", ARXIV_ABS + value))
        elif kind == "DOI":
            page.links.insert(0, ("DOI", DOI_ORG + value))
    seen: set[str] = set()
    page.links = [(name, url) for name, url in page.links if not (url in seen or seen.add(url))]
    page.datasets = sorted(set(page.datasets))
    scope = run_named(graph, "paper-scope", {"id": work}).records()
    if scope:
        page.scope = {k: v for k, v in scope[0].items() if k != "id" and v is not None}
        if "relevance" in page.scope:
            page.scope["relevance"] = float(page.scope["relevance"])
    page.assertions = run_named(graph, "paper-labels", {"id": work}).records()
    for row in page.assertions:
        row["axis"] = LABEL_AXES.get(row["axis"], row["axis"])
    page.mentions = [{**row, "relation": MENTION_RELATIONS.get(row["relation"], row["relation"]),
                      "confidence": float(row["confidence"]) if row.get("confidence") is not None else None}
                     for row in run_named(graph, "paper-mentions", {"id": work}).records() if row.get("relation")]
    for row in run_named(graph, "citations", {"id": work}).records():
        item = {"work": row["other"], "label": row["otherLabel"], "year": year_of(row.get("year")),
                "in_taxonomy": row.get("inTaxonomy") is True}
        (page.cites if row["direction"] == "out" else page.cited_by).append(item)
    return page


MENTION_RELATIONS = {"proposesMethod": "proposes method", "usesMethod": "uses method",
                     "introducesDataset": "introduces dataset", "usesDataset": "uses dataset"}


def _notation(iri: str) -> str:
    return str(iri).rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------- what the graph holds
def papers_per_year(graph) -> list[dict]:
    """Rows {year, group, papers}: works per publication year, split by where they stand
    (in the taxonomy, candidate, other listed or harvested work); works without a year are left
    out. Counted in the store (the papers-per-year query): no work comes back."""
    counts: dict[int, dict[str, int]] = {}
    for row in run_named(graph, "papers-per-year").records():
        year = year_of(row.get("year"))
        if year is not None:
            groups = counts.setdefault(year, {})
            groups[str(row["group"])] = groups.get(str(row["group"]), 0) + int(row["papers"] or 0)
    out = []
    for year in sorted(counts):
        groups = counts[year]
        placed, candidates = groups.get("in the taxonomy", 0), groups.get("candidate", 0)
        split = {"candidate": candidates, "in the taxonomy": placed,
                 "listed or harvested": groups.get("all", 0) - placed - candidates}
        out += [{"year": year, "group": g, "papers": n} for g, n in split.items() if n > 0]
    return out


def latest_additions(graph, n: int = 10) -> list[dict]:
    """The n works (at most 50) that reached the graph last (newest source date, then newest
    year, then label), ranked in the store (the latest-works query)."""
    rows = run_named(graph, "latest-works").records()[:max(0, n)]
    return [{"work": r["work"], "label": r["label"], "year": year_of(r.get("year")), "added": r.get("added"),
             "from": r.get("sources") or ""} for r in rows]


def data_sources(graph) -> list[dict]:
    """Every source of facts with its agent, date, URL and how many works and labels it gave."""
    return [{"title": r["title"], "agent": r.get("agent"), "retrieved": r.get("retrieved"), "url": r.get("url"),
             "works": int(r.get("works") or 0), "labels": int(r.get("labels") or 0), "source": r["source"]}
            for r in run_named(graph, "sources").records()]
