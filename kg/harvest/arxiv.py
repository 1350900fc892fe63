"""arXiv: the Atom query API (search pages and look-ups by id) into Work records.

arXiv asks for one request every 3 seconds; the client keeps to it. The base
URL (the query endpoint) comes from KG_ARXIV_API_URL for mirrors and tests.
"""

from __future__ import annotations

import os
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from .. import ids
from ..importers.text import plain_text
from ..records import Author, Work
from .http import BadBody, HarvestError, Policy, PoliteClient, Reply

DEFAULT_URL = "https://export.arxiv.org/api/query"
POLICY = Policy("arXiv", min_interval=3.0, timeout=30.0)
LOOKUP_CHUNK = 100  # ids per look-up request

_NS = {"a": "http://www.w3.org/2005/Atom", "arxiv": "http://arxiv.org/schemas/atom",
       "os": "http://a9.com/-/spec/opensearch/1.1/"}
_ERROR_ID = "arxiv.org/api/errors"


def base_url() -> str:
    return os.environ.get("KG_ARXIV_API_URL") or DEFAULT_URL


@dataclass
class Feed:
    """One page of an arXiv answer."""

    total: int
    start: int
    works: list[Work] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _text(node, path: str) -> str | None:
    found = node.find(path, _NS)
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split()) or None


def parse_feed(text: str, source_id: str = "arxiv") -> Feed:
    """Atom XML -> Feed. Raises BadBody when the XML is broken or is not an Atom feed."""
    try:
        root = ET.fromstring(text.encode("utf-8") if isinstance(text, str) else text)
    except ET.ParseError as exc:
        raise BadBody(f"malformed Atom feed ({exc})") from None
    if root.tag != f"{{{_NS['a']}}}feed":
        raise BadBody(f"not an Atom feed (root element {root.tag})")
    try:
        total = int(_text(root, "os:totalResults") or 0)
        start = int(_text(root, "os:startIndex") or 0)
    except ValueError as exc:
        raise BadBody(f"bad paging numbers in the feed ({exc})") from None
    feed = Feed(total, start)
    for entry in root.findall("a:entry", _NS):
        entry_id = _text(entry, "a:id") or ""
        if _ERROR_ID in entry_id:
            feed.errors.append(_text(entry, "a:summary") or entry_id)
            continue
        work = entry_to_work(entry, source_id)
        if work is not None:
            feed.works.append(work)
    return feed


def entry_to_work(entry, source_id: str) -> Work | None:
    arxiv = ids.arxiv_id(_text(entry, "a:id"))
    if not arxiv:
        return None
    found = {"arxiv": arxiv}
    doi = ids.doi(_text(entry, "arxiv:doi"))
    if doi:
        found["doi"] = doi
    published = _text(entry, "a:published") or ""
    date = published[:10] if re.match(r"\d{4}-\d{2}-\d{2}", published) else None
    pdf = None
    for link in entry.findall("a:link", _NS):
        if link.get("title") == "pdf" or link.get("type") == "application/pdf":
            pdf = link.get("href")
    authors = []
    for author in entry.findall("a:author", _NS):
        name = plain_text(_text(author, "a:name"))
        if name:
            authors.append(Author(name))
    categories = [c.get("term") for c in entry.findall("a:category", _NS) if c.get("term")]
    return Work(
        ids=found,
        sources=[source_id],
        title=plain_text(_text(entry, "a:title")),
        abstract=plain_text(_text(entry, "a:summary")),
        year=int(date[:4]) if date else None,
        date=date,
        venue=plain_text(_text(entry, "arxiv:journal_ref")),
        authors=authors,
        page=f"https://arxiv.org/abs/{arxiv}",
        pdf=pdf,
        fields_of_study=list(dict.fromkeys(categories)),
    )


class ArxivClient:
    """Search pages and id look-ups; one request at a time, 3 s apart."""

    def __init__(self, http: PoliteClient, url: str | None = None):
        self.http = http
        self.url = url or base_url()

    def _get(self, params: dict, source_id: str, *, expect_start: int | None = None) -> Feed:
        def parse(reply: Reply) -> Feed:
            feed = parse_feed(reply.text, source_id)
            # arXiv sometimes answers a page inside the results with no entries; that is transient.
            if expect_start is not None and not feed.works and not feed.errors and expect_start < feed.total:
                raise BadBody(f"empty page at {expect_start} of {feed.total} results")
            return feed

        answer = self.http.get(self.url, params=params, parse=parse, accept=(200, 400))
        if isinstance(answer, Reply):  # HTTP 400: arXiv explains in an Atom error entry
            try:
                errors = parse_feed(answer.text, source_id).errors
            except BadBody:
                errors = []
            raise HarvestError(f"arXiv refused the query: {'; '.join(errors) or 'HTTP 400'}",
                               url=answer.url, status=400)
        return answer

    def search_page(self, query: str, start: int, size: int, *, by_date: bool = False,
                    source_id: str = "arxiv") -> Feed:
        params = {"search_query": query, "id_list": "",
                  "sortBy": "submittedDate" if by_date else "relevance", "sortOrder": "descending",
                  "start": start, "max_results": size}
        feed = self._get(params, source_id, expect_start=start)
        if feed.errors:
            raise HarvestError(f"arXiv refused the query {query!r}: {'; '.join(feed.errors)}")
        return feed

    def lookup(self, arxiv_ids: list[str], source_id: str = "arxiv") -> Feed:
        """Look up ids as given (with or without versions); unknown ids are simply absent."""
        if not 0 < len(arxiv_ids) <= LOOKUP_CHUNK:
            raise ValueError(f"look up 1 to {LOOKUP_CHUNK} ids at a time")
        params = {"search_query": "", "id_list": ",".join(arxiv_ids), "sortBy": "relevance",
                  "sortOrder": "descending", "start": 0, "max_results": LOOKUP_CHUNK}
        return self._get(params, source_id)


def since_clause(since: str) -> str:
    """'2024-06-01' -> an arXiv submittedDate range from that day on."""
    day = since.replace("-", "")
    return f"submittedDate:[{day}0000 TO 299912312359]"


def split_words(label: str) -> list[str]:
    return re.findall(r"[\w'-]+", label)


def profile_queries(taxonomy, axes: tuple[str, ...] = ("category", "modality")) -> list[tuple[str, str]]:
    """arXiv queries generated from the taxonomy's labels: [(name, query)].

    The anchor is the word every category label shares ('Personalized ...' in the
    bundled taxonomy); each category gives one query (its label and anchored
    synonyms, anchor removed, as phrases), each non-text modality another. A
    different taxonomy file gives different queries.
    """
    categories = taxonomy.axis("category")
    if not categories:
        return []
    common = None
    for concept in categories:
        words = {w.lower() for w in split_words(concept.label)}
        common = words if common is None else common & words
    anchor = None
    if common:
        first = split_words(categories[0].label)
        anchor = next((w for w in first if w.lower() in common), None)

    def strip_anchor(text: str) -> str | None:
        words = split_words(text)
        if anchor and (not words or words[0].lower() != anchor.lower()):
            return None
        rest = [w for w in words if not anchor or w.lower() != anchor.lower()]
        return " ".join(rest) or None

    def clause(phrases: list[str]) -> str:
        parts = [f'abs:"{p}"' if " " in p else f"abs:{p}" for p in dict.fromkeys(phrases)]
        return parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"

    head = f"(ti:{anchor} OR abs:{anchor})" if anchor else None
    out: list[tuple[str, str]] = []
    for concept in categories:
        phrases = [p for p in [strip_anchor(concept.label)] if p]
        phrases += [p for p in (strip_anchor(s) for s in concept.synonyms) if p]
        phrases = [p for p in phrases if len(p) > 2][:6]
        if phrases:
            out.append((f"category/{concept.notation}", " AND ".join(x for x in (head, clause(phrases)) if x)))
    if "modality" in axes:
        for concept in taxonomy.axis("modality"):
            if concept.notation == "text":
                continue  # text is everywhere; it does not narrow a search
            phrases = [concept.label] + [s for s in concept.synonyms if len(s.split()) <= 2][:2]
            out.append((f"modality/{concept.notation}", " AND ".join(x for x in (head, clause(phrases)) if x)))
    return out
