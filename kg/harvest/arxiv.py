"""arXiv: the Atom query API (search pages and look-ups by id) into Work records.

Built on the `arxiv` package (4.x): `arxiv.Search` describes a request,
`arxiv.Client` formats its URLs (its `query_url_format` is our base URL, from
KG_ARXIV_API_URL for mirrors and tests), fetches and parses each page with the
package's own Atom parser into `arxiv.Result` objects, which `result_to_work`
maps to kg Works. The transport stays ours: the client's session is a
`PoliteSession`, so every GET goes through the harvest's `PoliteClient` (the
cache and --offline/--refresh, one request every 3 s as arXiv asks, Retry-After,
bounded retries, timeouts). The package's own pacing and retries are off
(`delay_seconds=0`, `num_retries=0`); its HTTP call has no timeout of its own.

Where the package does not fit, and what this module does instead:
- `Client.results()` hides page boundaries and the result total; the harvest
  checkpoints one unit per page and stops `--since` searches by date, so pages
  are fetched one at a time through the client's page methods (`_format_url`,
  `_parse_feed`: arxiv 4.x, hence the `<5` pin).
- Its parser recovers from broken XML (a truncated page parses as an empty,
  valid-looking one) and drops arXiv's error entries (they have no
  <published>), so the session checks each answer strictly before it is
  cached: malformed Atom, a page that is not Atom, or an empty page inside the
  results raise BadBody (retried, never cached); arXiv's error entries become a
  HarvestError carrying arXiv's own words.
- Its parser also drops entries without <updated>; arXiv always sends one, but
  mirrors and hand-made feeds may not, so such an entry gets its <published>
  date as <updated> instead of being lost.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from urllib.parse import parse_qs, urlsplit

import arxiv
import requests
from arxiv import _feed as arxiv_feed
from lxml import etree

from ..errors import KgError
from ..records import ids
from ..importers.text import plain_text
from ..records import Author, Work
from .http import BadBody, HarvestError, Policy, PoliteClient, Reply

DEFAULT_URL = "https://export.arxiv.org/api/query"
POLICY = Policy("arXiv", min_interval=3.0, timeout=30.0)
LOOKUP_CHUNK = 100  # ids per look-up request

_ATOM = "http://www.w3.org/2005/Atom"
_NS = {"a": _ATOM, "os": "http://a9.com/-/spec/opensearch/1.1/"}
_ERROR_ID = "arxiv.org/api/errors"


def base_url() -> str:
    return os.environ.get("KG_ARXIV_API_URL") or DEFAULT_URL


@dataclass
class Feed:
    """One page of an arXiv answer, as kg Works (and the arxiv.Result objects they came from)."""

    total: int
    start: int
    works: list[Work] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    results: list[arxiv.Result] = field(default_factory=list)


@dataclass
class Page:
    """An answer checked strictly: paging numbers, entry count, arXiv's error entries, and the body
    the package's parser gets (error entries taken out, entries without <updated> completed)."""

    total: int
    start: int
    entries: int
    errors: list[str]
    body: bytes


_STRICT = dict(resolve_entities=False, no_network=True, huge_tree=False, recover=False)


def _text(node, path: str) -> str | None:
    found = node.find(path, _NS)
    if found is None or found.text is None:
        return None
    return " ".join(found.text.split()) or None


def check_page(text: str | bytes) -> Page:
    """Atom XML -> Page. Raises BadBody when the XML is broken or is not an Atom feed."""
    body = text.encode("utf-8") if isinstance(text, str) else bytes(text)
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(**_STRICT))
    except etree.XMLSyntaxError as exc:
        raise BadBody(f"malformed Atom feed ({exc})") from None
    if root is None:
        raise BadBody("malformed Atom feed (empty document)")
    if root.tag != f"{{{_ATOM}}}feed":
        raise BadBody(f"not an Atom feed (root element {root.tag})")
    try:
        total = int(_text(root, "os:totalResults") or 0)
        start = int(_text(root, "os:startIndex") or 0)
    except ValueError as exc:
        raise BadBody(f"bad paging numbers in the feed ({exc})") from None
    entries, errors, changed = 0, [], False
    for entry in list(root.iterfind("a:entry", _NS)):
        entry_id = _text(entry, "a:id") or ""
        if _ERROR_ID in entry_id:  # kept as words, not handed to the parser (it would log and drop it)
            errors.append(_text(entry, "a:summary") or entry_id)
            root.remove(entry)
            changed = True
            continue
        entries += 1
        published = entry.find("a:published", _NS)
        if entry.find("a:updated", _NS) is None and published is not None and published.text:
            etree.SubElement(entry, f"{{{_ATOM}}}updated").text = published.text
            changed = True
    return Page(total, start, entries, errors, etree.tostring(root) if changed else body)


def parse_feed(text: str | bytes, source_id: str = "arxiv") -> Feed:
    """Atom XML -> Feed, parsed by the arxiv package. Raises BadBody when the XML is broken or not Atom."""
    page = check_page(text)
    return _feed_of(page.total, page.start, arxiv_feed.parse(page.body).results, source_id, page.errors)


def _feed_of(total: int, start: int, results: list[arxiv.Result], source_id: str,
             errors: list[str] | None = None) -> Feed:
    works = [w for w in (result_to_work(r, source_id) for r in results) if w is not None]
    return Feed(total, start, works, list(errors or []), list(results))


def result_to_work(result: arxiv.Result, source_id: str) -> Work | None:
    """One arxiv.Result -> a Work (None when its entry id is not an arXiv id)."""
    arxiv_id = ids.arxiv_id(result.entry_id)
    if not arxiv_id:
        return None
    found = {"arxiv": arxiv_id}
    doi = ids.doi(result.doi)
    if doi:
        found["doi"] = doi
    published = result.published if result.published and result.published.year > 1 else None
    date = published.date().isoformat() if published else None
    pdf = result.pdf_url or next((link.href for link in result.links
                                  if link.content_type == "application/pdf"), None)
    authors = [Author(name) for name in (plain_text(a.name) for a in result.authors) if name]
    return Work(
        ids=found,
        sources=[source_id],
        title=plain_text(result.title),
        abstract=plain_text(result.summary),
        year=published.year if published else None,
        date=date,
        venue=plain_text(result.journal_ref),
        authors=authors,
        page=f"https://arxiv.org/abs/{arxiv_id}",
        pdf=pdf,
        fields_of_study=list(dict.fromkeys(c for c in result.categories if c)),
    )


def _start_of(url: str) -> int | None:
    value = parse_qs(urlsplit(url).query).get("start")
    try:
        return int(value[0]) if value else None
    except ValueError:
        return None


def _refused(errors: list[str], url: str, status: int | None) -> HarvestError:
    return HarvestError(f"arXiv refused the query: {'; '.join(errors) or f'HTTP {status}'}", url=url, status=status)


class PoliteSession:
    """What `arxiv.Client` needs of a requests.Session (`get`), served by our PoliteClient.

    Each answer is checked before it is cached (see the module docstring); arXiv's
    HTTP 400 answers and error entries raise HarvestError with arXiv's words. The
    client's own User-Agent header is replaced by ours (kg/version, KG_MAILTO).
    """

    def __init__(self, http: PoliteClient):
        self.http = http

    def get(self, url: str, headers: dict | None = None, **_ignored) -> requests.Response:
        start = _start_of(url)

        def check(reply: Reply) -> Page:
            page = check_page(reply.text)
            if page.errors:  # a refusal inside a 200 answer: reported, not cached
                raise _refused(page.errors, reply.url, None)
            # arXiv sometimes answers a page inside the results with no entries; that is transient.
            if start is not None and not page.entries and start < page.total:
                raise BadBody(f"empty page at {start} of {page.total} results")
            return page

        answer = self.http.get(url, parse=check, accept=(200, 400))
        if isinstance(answer, Reply):  # HTTP 400: arXiv explains in an Atom error entry
            try:
                errors = check_page(answer.text).errors
            except BadBody:
                errors = []
            raise _refused(errors, answer.url, 400)
        response = requests.Response()
        response.status_code = 200
        response.url = url
        response.encoding = "utf-8"
        response._content = answer.body
        return response


def make_client(http: PoliteClient, url: str | None = None, page_size: int = LOOKUP_CHUNK) -> arxiv.Client:
    """An arxiv.Client for `url` whose every request goes through `http`; no pacing or retries of its own."""
    base = url or base_url()
    client = arxiv.Client(page_size=page_size, delay_seconds=0, num_retries=0)
    client.query_url_format = base.replace("{", "{{").replace("}", "}}") + ("&" if "?" in base else "?") + "{}"
    client._session = PoliteSession(http)
    return client


class ArxivClient:
    """Search pages and id look-ups; one request at a time, 3 s apart."""

    def __init__(self, http: PoliteClient, url: str | None = None):
        self.http = http
        self.url = url or base_url()
        self.client = make_client(http, self.url)

    def page(self, search: arxiv.Search, start: int, size: int, source_id: str = "arxiv") -> Feed:
        """One page of `search` (`size` results from `start`) through the arxiv package's client."""
        url = self.client._format_url(search, start, size)
        try:
            # first_page=True: emptiness was judged in the session, before the answer was cached
            parsed = self.client._parse_feed(url, first_page=True)
        except arxiv.ArxivError as exc:
            raise HarvestError(f"arXiv: {exc.message}", url=exc.url) from None
        return _feed_of(parsed.header.total_results, parsed.header.start_index, parsed.results, source_id)

    def search_page(self, query: str, start: int, size: int, *, by_date: bool = False,
                    source_id: str = "arxiv") -> Feed:
        search = arxiv.Search(query=query, max_results=start + size,
                              sort_by=arxiv.SortCriterion.SubmittedDate if by_date else arxiv.SortCriterion.Relevance,
                              sort_order=arxiv.SortOrder.Descending)
        return self.page(search, start, size, source_id)

    def lookup(self, arxiv_ids: list[str], source_id: str = "arxiv") -> Feed:
        """Look up ids as given (with or without versions); unknown ids are simply absent."""
        if not 0 < len(arxiv_ids) <= LOOKUP_CHUNK:
            raise ValueError(f"look up 1 to {LOOKUP_CHUNK} ids at a time")
        search = arxiv.Search(id_list=list(arxiv_ids), max_results=LOOKUP_CHUNK)
        return self.page(search, 0, LOOKUP_CHUNK, source_id)


def since_clause(since: str) -> str:
    """'2024-06-01' -> an arXiv submittedDate range from that day on."""
    day = since.replace("-", "")
    return f"submittedDate:[{day}0000 TO 299912312359]"


def split_words(label: str) -> list[str]:
    return re.findall(r"[\w'-]+", label)


# Words never used as a scope keyword taken from a taxonomy's title or shared labels.
TITLE_STOPWORDS = frozenset(
    "a an and are as at by for from in into is of on or the to with via towards toward survey surveys "
    "review reviews taxonomy taxonomies overview study studies approach approaches method methods".split())
PROFILE_AXES = ("category", "mechanism", "modality", "method")
MAX_PHRASES = 8  # label phrases per query: arXiv answers long OR lists slowly


def scope_clause(taxonomy) -> tuple[str, list[str]]:
    """The clause that bounds every profile query and the words it holds, from the taxonomy
    (never from code): one of its kg:scopeKeyword values in title or abstract; else the
    word every category label shares ('Personalized ...'); else every content word of the
    taxonomy's title (dcterms:title) in the abstract. A KgError when the taxonomy gives
    none of these, since a query of a label alone would be unbounded."""
    if taxonomy.scope_keywords:
        words = list(dict.fromkeys(taxonomy.scope_keywords))
        return _any([t for k in words for t in (_term("ti", k), _term("abs", k))]), words
    categories = taxonomy.axis("category")
    common = None
    for concept in categories:
        found = {w.lower() for w in split_words(concept.label)}
        common = found if common is None else common & found
    shared = [w for w in split_words(categories[0].label) if w.lower() in (common or set())
              and w.lower() not in TITLE_STOPWORDS] if len(categories) > 1 else []
    if shared:
        return _any([_term("ti", shared[0]), _term("abs", shared[0])]), shared[:1]
    title = list(dict.fromkeys(w for w in split_words(taxonomy.title)
                               if w.lower() not in TITLE_STOPWORDS and len(w) > 2))
    if title:
        terms = [_term("abs", w) for w in title]
        return (terms[0] if len(terms) == 1 else "(" + " AND ".join(terms) + ")"), title
    raise KgError("the taxonomy gives no scope keyword to bound its harvest queries: declare "
                  "kg:scopeKeyword on its category scheme or give it a dcterms:title (see docs/taxonomy.md)",
                  field="taxonomy_file")


def _term(field_: str, phrase: str) -> str:
    return f'{field_}:"{phrase}"' if re.search(r"[^\w-]", phrase) else f"{field_}:{phrase}"


def _any(terms: list[str]) -> str:
    return terms[0] if len(terms) == 1 else "(" + " OR ".join(terms) + ")"


def concept_phrases(concept, keywords: list[str]) -> list[str]:
    """A concept's search phrases: its prefLabel then its altLabels (shortest first), each
    with the scope keywords taken out, without quotes or brackets, at most MAX_PHRASES."""
    drop = {k.lower() for k in keywords}
    out: list[str] = []
    for label in [concept.label, *sorted(concept.alt_labels, key=lambda x: (len(x), x))]:
        words = [w for w in split_words(label) if w.lower() not in drop]
        phrase = " ".join(words)
        if len(phrase) > 1 and phrase.lower() not in {p.lower() for p in out}:
            out.append(phrase)
    return out[:MAX_PHRASES]


def profile_queries(taxonomy, axes: tuple[str, ...] = PROFILE_AXES) -> list[tuple[str, str]]:
    """arXiv queries generated from the taxonomy's labels: [(name, query)].

    Every query is bounded: the taxonomy's scope clause (`scope_clause`: a scope keyword
    in title or abstract) AND one of the concept's phrases in the abstract. One
    query per category, mechanism and named method (its prefLabel and altLabels, see
    `concept_phrases`) and per non-text modality, named 'axis/notation'. Labels need
    share no word: each concept's query stands on its own. A different taxonomy file
    gives different queries.
    """
    head, keywords = scope_clause(taxonomy)
    out: list[tuple[str, str]] = []
    for axis in axes:
        for concept in taxonomy.axis(axis):
            if axis == "modality" and concept.notation == "text":
                continue  # text is everywhere; it does not narrow a search
            phrases = concept_phrases(concept, keywords)
            if phrases:
                out.append((f"{axis}/{concept.notation}", f"{head} AND {_any([_term('abs', p) for p in phrases])}"))
    return out
