"""Exporting the graph's works as references a reference manager opens: RIS (Zotero,
Mendeley, EndNote) and CSL-JSON (Zotero, citeproc, pandoc).

One reference per work that has a title (unresolved citations, which have only a
citation key, are left out and counted): title, authors in byline order, year and date,
venue, DOI, arXiv id, abstract, links, and the citation key as the RIS `ID` / CSL `id`.
The graph keeps no item type, so the kind of reference follows the venue: arXiv -> a
preprint, no venue -> a generic item, proceedings / conference / workshop -> a conference
paper, a journal (journal, transactions, letters, TPAMI ...) -> a journal article, a
handbook or encyclopedia -> a book chapter, any other name (CVPR 2024, ACL) -> a conference
paper.

`kg import ris` / `kg import csljson` read these files back to the same titles, authors,
years and identifiers; rispy writes the RIS lines.
"""

from __future__ import annotations

import json
import re

from ..records import ids
from ..records.dates import year_of
from ..importers.references import iso_date, split_name
from ..sparql.named import NamedQuery, all_pages, sort_rows, split_order

_WORKS = NamedQuery(
    name="reference-works",
    title="Works as references",
    answers="One row per work: what a reference manager keeps of it.",
    text="""SELECT ?work ?label (SAMPLE(?t) AS ?title) (SAMPLE(?y) AS ?year) (SAMPLE(?d) AS ?date)
       (SAMPLE(?v) AS ?venue) (SAMPLE(?a) AS ?arxiv) (SAMPLE(?o) AS ?doi) (SAMPLE(?c) AS ?cite)
       (SAMPLE(?u) AS ?url) (SAMPLE(?h) AS ?page) (SAMPLE(?ab) AS ?abstract) (SAMPLE(?al) AS ?authors)
WHERE {
  { SELECT ?work WHERE { ?work a fabio:ScholarlyWork } LIMIT 1000 OFFSET 0 }
  ?work rdfs:label ?label .
  OPTIONAL { ?work dcterms:title ?t }
  OPTIONAL { ?work fabio:hasPublicationYear ?y }
  OPTIONAL { ?work dcterms:issued ?d }
  OPTIONAL { ?work prism:publicationName ?v }
  OPTIONAL { ?work kg:arxivId ?a }
  OPTIONAL { ?work kg:doi ?o }
  OPTIONAL { ?work kg:citationKey ?c }
  OPTIONAL { ?work schema:url ?u }
  OPTIONAL { ?work foaf:homepage ?h }
  OPTIONAL { ?work dcterms:abstract ?ab }
  OPTIONAL { ?work kg:authorList ?al }
}
GROUP BY ?work ?label
ORDER BY ?label ?work
""",
    page_size=1000,
)

_CONFERENCE = re.compile(r"\b(proc\.|proceedings|conference|workshops?|symposium|congress)\b", re.I)
_JOURNAL = re.compile(r"\b(journal|transactions|trans\.|tmlr|tpami|tkdd|tois|tkde|ijcv|jmlr|letters|review|magazine|"
                      r"nature|science|neural networks|neurocomputing|pattern recognition)\b", re.I)
_BOOK = re.compile(r"\b(handbook|encyclopedia|encyclopaedia|book)\b", re.I)
_SPACE = re.compile(r"\s+")


def works(graph) -> tuple[list[dict], int]:
    """(the graph's works with a title, as plain dicts; how many works have none)."""
    if getattr(graph, "reads_in_pages", False):
        result = all_pages(graph, _WORKS)
    else:  # a remote endpoint: the listing in one request (see kg.sparql.named.run_named)
        text, order = split_order(_WORKS.whole_text())
        result = graph.query(text, trusted=True)
        sort_rows(result.rows, order)
    out, untitled = [], 0
    for row in result.records():
        if not _clean(row["title"]):
            untitled += 1
            continue
        out.append({
            "work": str(row["work"]),
            "title": _clean(row["title"]),
            "authors": [a for a in (_clean(x) for x in str(row["authors"] or "").split("; ")) if a],
            "year": year_of(row["year"]),
            "date": _clean(row["date"]),
            "venue": _clean(row["venue"]),
            "arxiv": _clean(row["arxiv"]),
            "doi": _clean(row["doi"]),
            "cite": _clean(row["cite"]),
            "url": _clean(row["url"]) or _clean(row["page"]),
            "abstract": _clean(row["abstract"]),
        })
    return out, untitled


def _clean(value) -> str | None:
    """One line of text (RIS has no multi-line values; CSL keeps the same text)."""
    if value is None:
        return None
    text = _SPACE.sub(" ", str(value)).strip()
    return text or None


def kind(work: dict) -> str:
    """preprint | journal | chapter | conference | generic, from the venue."""
    venue = (work.get("venue") or "").strip()
    if venue.lower() in ("arxiv", "corr") or (not venue and work.get("arxiv")):
        return "preprint"
    if not venue:
        return "generic"
    if _CONFERENCE.search(venue):
        return "conference"
    if _JOURNAL.search(venue):
        return "journal"
    if _BOOK.search(venue):
        return "chapter"
    return "conference"  # most venues of the field are conferences named by acronym (CVPR 2024, ACL)


def _date_parts(work: dict) -> list[int]:
    date, year = work.get("date") or "", work.get("year")
    m = re.match(r"^(\d{4})-(\d{2})(?:-(\d{2}))?", date)
    if m and iso_date(*m.groups()) and (year is None or int(m.group(1)) == year):
        return [int(p) for p in m.groups() if p]
    return [year] if year else []


def _links(work: dict) -> list[str]:
    links = [work["url"]] if work.get("url") and work["url"].startswith(("http://", "https://")) else []
    if work.get("arxiv") and not any(ids.arxiv_id(link) == work["arxiv"] for link in links):
        links.append(f"https://arxiv.org/abs/{work['arxiv']}")
    return links


def _key(work: dict) -> str:
    """The CSL id: the citation key; a work without one gets its arXiv id, DOI or the end of its IRI."""
    return work.get("cite") or (f"arXiv:{work['arxiv']}" if work.get("arxiv") else None) or work.get("doi") \
        or work["work"].rstrip("/").rsplit("/", 1)[-1]


# ---------------------------------------------------------------- RIS
RIS_TYPES = {"preprint": "GEN", "generic": "GEN", "journal": "JOUR", "chapter": "CHAP", "conference": "CPAPER"}


def ris_entries(items: list[dict]) -> list[dict]:
    """The works as rispy entries (rispy's field names; TY first, as every reader wants)."""
    entries = []
    for work in items:
        k = kind(work)
        entry: dict = {"type_of_reference": RIS_TYPES[k]}
        if work.get("cite"):
            entry["id"] = work["cite"]
        entry["title"] = work["title"]
        authors = []
        for name in work["authors"]:
            family, given, suffix = split_name(name)
            authors.append(", ".join(p for p in (family, given, suffix) if p))
        if authors:
            entry["authors"] = authors
        if k == "preprint":
            entry["publisher"] = "arXiv"
        elif work.get("venue"):
            entry["secondary_title"] = work["venue"]  # T2: the journal, proceedings or book
        parts = _date_parts(work)
        if parts:
            entry["year"] = str(parts[0])
        if len(parts) > 1:  # RIS dates are YYYY/MM/DD/other: 2024/06/13/, 2024/06//
            month, day = parts[1], parts[2] if len(parts) > 2 else None
            entry["date"] = f"{parts[0]}/{month:02d}/{f'{day:02d}' if day else ''}/"
        if work.get("doi"):
            entry["doi"] = work["doi"]
        if work.get("arxiv"):
            entry["accession_number"] = f"arXiv:{work['arxiv']}"
        links = _links(work)
        if links:
            entry["urls"] = links
        if work.get("abstract"):
            entry["abstract"] = work["abstract"]
        entries.append(entry)
    return entries


def to_ris(items: list[dict]) -> str:
    import rispy

    class Writer(rispy.RisWriter):
        NEWLINE = "\r\n"  # the RIS specification's line end; every reader takes it

        def set_header(self, count):  # rispy numbers references ('1.'); Zotero wants TY first
            return ""

    return rispy.dumps(ris_entries(items), implementation=Writer)


# ---------------------------------------------------------------- CSL-JSON
CSL_TYPES = {"preprint": "article", "generic": "document", "journal": "article-journal", "chapter": "chapter",
             "conference": "paper-conference"}


def csl_name(name: str) -> dict:
    family, given, suffix = split_name(name)
    if not given:
        return {"literal": name}
    out = {"family": family, "given": given}
    if suffix:
        out["suffix"] = suffix
    return out


def csl_items(items: list[dict]) -> list[dict]:
    """The works as CSL-JSON items (CSL 1.0.2 data schema)."""
    out = []
    for work in items:
        k = kind(work)
        item: dict = {"id": _key(work), "type": CSL_TYPES[k], "title": work["title"]}
        if work["authors"]:
            item["author"] = [csl_name(n) for n in work["authors"]]
        parts = _date_parts(work)
        if parts:
            item["issued"] = {"date-parts": [parts]}
        if k == "preprint":
            item["publisher"] = "arXiv"
            if work.get("arxiv"):
                item["number"] = f"arXiv:{work['arxiv']}"
        elif work.get("venue"):
            item["container-title"] = work["venue"]
        if work.get("doi"):
            item["DOI"] = work["doi"]
        links = _links(work)
        if links:
            item["URL"] = links[0]
        if work.get("arxiv") and k != "preprint":
            item["note"] = f"arXiv: {work['arxiv']}"  # where Zotero keeps a published paper's arXiv id
        if work.get("abstract"):
            item["abstract"] = work["abstract"]
        out.append(item)
    return out


def to_csljson(items: list[dict]) -> str:
    return json.dumps(csl_items(items), ensure_ascii=False, indent=2) + "\n"


def render(graph, fmt: str) -> tuple[str, str]:
    """(the file's text, a summary) for `kg export --format ris|csljson`."""
    items, untitled = works(graph)
    text = to_ris(items) if fmt == "ris" else to_csljson(items)
    summary = f"{len(items)} works"
    if untitled:
        summary += f"; {untitled} without a title (unresolved citations) left out"
    return text, summary
