"""Semantic Scholar Graph API: batch metadata, references, citations, search.

Metadata goes through POST /paper/batch (up to 500 ids a call), so N papers
cost ceil(N/500) requests. References and citations are paged with offset and
limit until the answer has no `next`. The API key comes from KG_S2_API_KEY
(header x-api-key; 1 request/s with it, one every 3 s without). The base URL
comes from KG_S2_API_URL.

Every paper object S2 answers (batch entries, search hits, the citingPaper /
citedPaper of citation and reference rows) is read with the `semanticscholar`
package's models (`Paper`, its `Author` and `Tldr` objects; rows through its
`Citation` and `Reference`), and `paper_to_work` maps a Paper to a kg Work.
The transport is ours, not the package's `SemanticScholar` client: that one
retries only HTTP 429, ignores Retry-After and never retries 5xx, keeps no
cache and cannot resume. Our `PoliteClient` does all of that and gives the
same pacing to every source.
"""

from __future__ import annotations

import os
import re
from datetime import datetime

from semanticscholar.Citation import Citation as S2Citation
from semanticscholar.Paper import Paper
from semanticscholar.Reference import Reference as S2Reference

from ..records import ids
from ..importers.text import plain_text
from ..records import Author, Work
from .http import BadBody, HarvestError, Policy, PoliteClient, Reply, error_text

DEFAULT_URL = "https://api.semanticscholar.org/graph/v1"
BATCH_SIZE = 500
EDGE_PAGE = 1000  # the API's maximum page for references/citations
SEARCH_PAGE = 100
SEARCH_LIMIT = 1000  # relevance search pages stop at offset 1000

PAPER_FIELDS = ("paperId,corpusId,externalIds,title,abstract,venue,year,publicationDate,authors,"
                "citationCount,fieldsOfStudy,s2FieldsOfStudy,openAccessPdf,tldr,url")
EDGE_FIELDS = ("paperId,corpusId,externalIds,title,abstract,venue,year,publicationDate,authors,"
               "citationCount,fieldsOfStudy,openAccessPdf,url")
_EXTERNAL = {"ArXiv": "arxiv", "DOI": "doi", "CorpusId": "corpus"}
# further external ids S2 gives, kept as extra identifiers of the work (dcterms:identifier "kind:value")
_EXTRA = {"MAG": "mag", "ACL": "acl", "PubMed": "pubmed", "PubMedCentral": "pmc", "Medline": "medline",
          "DBLP": "dblp"}


def base_url() -> str:
    return (os.environ.get("KG_S2_API_URL") or DEFAULT_URL).rstrip("/")


def api_key() -> str | None:
    return os.environ.get("KG_S2_API_KEY") or None


def policy(key: str | None) -> Policy:
    return Policy("Semantic Scholar", min_interval=1.0 if key else 3.0, timeout=30.0)


AUTH_HINT = ("Check KG_S2_API_KEY: Semantic Scholar answers 403 to a wrong or expired key. "
             "Unset it to use the slower public rate.")


def s2_query_id(kind: str, value: str) -> str | None:
    """An identifier as the S2 API takes it: ARXIV:.., DOI:.., CorpusId:.., or the paper id."""
    return {"arxiv": f"ARXIV:{value}", "doi": f"DOI:{value}", "corpus": f"CorpusId:{value}",
            "s2": value}.get(kind)


def parse_user_id(text: str) -> str | None:
    """What a user types (2406.09400, a DOI, CorpusId:123, an S2 id, a URL) as an S2 API id."""
    parsed = ids.parse_any(text)
    return s2_query_id(*parsed) if parsed else None


def _extra_kind(name: str) -> str | None:
    kind = _EXTRA.get(name) or re.sub(r"[^a-z0-9]+", "", str(name).lower())
    return kind if kind and kind not in ("s2", "openalex", "cite", "url", *_EXTERNAL.values()) else None


def _date(value) -> str | None:
    try:
        return datetime.strptime(value, "%Y-%m-%d").date().isoformat()
    except (TypeError, ValueError):
        return None


def to_paper(data) -> Paper | None:
    """One S2 paper JSON object as the package's Paper model (None when it is not an object).

    The models trust the JSON's shape, so values of the wrong type are left out
    first: a non-list `authors` and non-object author entries, a `tldr`, `journal`
    or `publicationVenue` that is not an object, a `publicationDate` that is not
    YYYY-MM-DD (the model would raise), nested `citations`/`references` lists.
    """
    if isinstance(data, Paper):
        return data
    if not isinstance(data, dict):
        return None
    clean = dict(data)
    if "authors" in clean:
        authors = clean["authors"]
        clean["authors"] = [a for a in authors if isinstance(a, dict)] if isinstance(authors, list) else None
    for key in ("tldr", "journal", "publicationVenue"):
        if key in clean and not isinstance(clean[key], (dict, type(None))):
            del clean[key]
    if "publicationDate" in clean and clean["publicationDate"] is not None and not _date(clean["publicationDate"]):
        del clean["publicationDate"]
    for key in ("citations", "references"):  # never asked for; a paper's edges come as separate rows
        clean.pop(key, None)
    return Paper(clean)


def row_paper(row, kind: str) -> Paper | None:
    """The other paper of one /references or /citations row (citedPaper / citingPaper)."""
    key = "citedPaper" if kind == "references" else "citingPaper"
    if not isinstance(row, dict) or not isinstance(row.get(key), dict):
        return None
    model = S2Reference if kind == "references" else S2Citation
    return model({**row, key: to_paper(row[key]).raw_data}).paper


def paper_to_work(paper, source_id: str) -> Work | None:
    """One S2 paper (a Paper model or its JSON object) -> a Work (None when S2 gave no paper id)."""
    paper = to_paper(paper)
    if paper is None or not isinstance(paper.paperId, str) or not paper.paperId:
        return None
    found = {"s2": paper.paperId.lower()}
    external = dict(paper.externalIds) if isinstance(paper.externalIds, dict) else {}
    if paper.corpusId is not None:
        external.setdefault("CorpusId", paper.corpusId)
    for name, kind in _EXTERNAL.items():
        value = ids.normalise(kind, external.get(name))
        if value:
            found[kind] = value
    if "arxiv" not in found and ids.arxiv_from_doi(found.get("doi")):
        found["arxiv"] = ids.arxiv_from_doi(found["doi"])
    for name, value in external.items():
        kind = None if name in _EXTERNAL else _extra_kind(name)
        value = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
        if kind and value:
            found.setdefault(kind, value)
    authors = []
    for author in paper.authors or []:
        name = plain_text(author.name) if isinstance(author.name, str) else None
        if name:
            author_id = author.authorId
            authors.append(Author(name, {"s2": str(author_id)} if author_id not in (None, "") else {}))
    fields = [f for f in _list(paper.fieldsOfStudy) if isinstance(f, str)]
    fields += [item["category"] for item in _list(paper.s2FieldsOfStudy)
               if isinstance(item, dict) and isinstance(item.get("category"), str)]
    pdf = paper.openAccessPdf.get("url") if isinstance(paper.openAccessPdf, dict) else None
    tldr = paper.tldr.text if paper.tldr is not None and isinstance(paper.tldr.text, str) else None
    date = paper.publicationDate.date().isoformat() if paper.publicationDate else None
    year = paper.year
    count = paper.citationCount
    url = getattr(paper, "url", None)  # the model raises AttributeError when the answer has no url
    return Work(
        ids=found,
        sources=[source_id],
        title=_plain(paper.title),
        abstract=_plain(paper.abstract),
        year=year if isinstance(year, int) and not isinstance(year, bool) and 1000 < year < 3000 else None,
        date=date,
        venue=_plain(paper.venue),
        authors=authors,
        page=url if isinstance(url, str) and url else None,
        pdf=pdf if isinstance(pdf, str) and pdf else None,
        fields_of_study=list(dict.fromkeys(fields)),
        citation_count=count if isinstance(count, int) and not isinstance(count, bool) else None,
        tldr=_plain(tldr),
    )


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _plain(value) -> str | None:
    return plain_text(value) if isinstance(value, str) else None


def _json_list(reply: Reply):
    data = reply.json()
    if not isinstance(data, list):
        raise BadBody("expected a JSON list")
    return data


def _json_page(reply: Reply):
    data = reply.json()
    if not isinstance(data, dict) or not isinstance(data.get("data", []), list):
        raise BadBody("expected a JSON object with 'data'")
    return data


class S2Client:
    def __init__(self, http: PoliteClient, url: str | None = None):
        self.http = http
        self.url = (url or base_url()).rstrip("/")

    def batch(self, query_ids: list[str], fields: str = PAPER_FIELDS) -> list[dict | None]:
        """Metadata for up to 500 ids in one POST; unknown ids give None in their place."""
        if not 0 < len(query_ids) <= BATCH_SIZE:
            raise ValueError(f"a batch takes 1 to {BATCH_SIZE} ids")
        data = self.http.post(f"{self.url}/paper/batch", params={"fields": fields},
                              body={"ids": list(query_ids)}, parse=_json_list, accept=(200, 400))
        if isinstance(data, Reply):
            raise HarvestError(f"Semantic Scholar refused the batch: {error_text(data)}", url=data.url, status=400)
        if len(data) != len(query_ids):
            raise HarvestError(f"Semantic Scholar answered {len(data)} papers for {len(query_ids)} ids")
        return data

    def edges_page(self, paper_id: str, kind: str, offset: int, limit: int = EDGE_PAGE,
                   fields: str = EDGE_FIELDS) -> dict | None:
        """One page of a paper's references or citations; None when S2 does not know the paper."""
        if kind not in ("references", "citations"):
            raise ValueError("kind is references or citations")
        data = self.http.get(f"{self.url}/paper/{paper_id}/{kind}",
                             params={"fields": fields, "offset": offset, "limit": limit},
                             parse=_json_page, accept=(200, 400, 404))
        if isinstance(data, Reply):
            if data.status == 404:
                return None
            raise HarvestError(f"Semantic Scholar refused {kind} of {paper_id} at offset {offset}: "
                               f"{error_text(data)}", url=data.url, status=data.status)
        return data

    def search_page(self, query: str, offset: int, limit: int = SEARCH_PAGE, fields: str = EDGE_FIELDS) -> dict:
        data = self.http.get(f"{self.url}/paper/search",
                             params={"query": query, "fields": fields, "offset": offset, "limit": limit},
                             parse=_json_page, accept=(200, 400))
        if isinstance(data, Reply):
            raise HarvestError(f"Semantic Scholar refused the search: {error_text(data)}", url=data.url, status=400)
        return data

    def paper(self, query_id: str, fields: str = PAPER_FIELDS) -> dict | None:
        """One paper by id (None when unknown: HTTP 404)."""
        data = self.http.get(f"{self.url}/paper/{query_id}", params={"fields": fields},
                             parse=lambda r: r.json(), accept=(200, 400, 404))
        if isinstance(data, Reply):
            if data.status == 404:
                return None
            raise HarvestError(f"Semantic Scholar refused paper {query_id}: {error_text(data)}",
                               url=data.url, status=data.status)
        return data
