"""Semantic Scholar Graph API: batch metadata, references, citations, search.

Metadata goes through POST /paper/batch (up to 500 ids a call), so N papers
cost ceil(N/500) requests. References and citations are paged with offset and
limit until the answer has no `next`. The API key comes from KG_S2_API_KEY
(header x-api-key; 1 request/s with it, one every 3 s without). The base URL
comes from KG_S2_API_URL.
"""

from __future__ import annotations

import os

from .. import ids
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


def paper_to_work(paper: dict | None, source_id: str) -> Work | None:
    """One S2 paper object -> a Work (None when S2 gave no paper id)."""
    if not isinstance(paper, dict) or not paper.get("paperId"):
        return None
    found = {"s2": paper["paperId"].lower()}
    external = paper.get("externalIds") or {}
    if paper.get("corpusId") is not None:
        external.setdefault("CorpusId", paper["corpusId"])
    for name, kind in _EXTERNAL.items():
        value = ids.normalise(kind, external.get(name))
        if value:
            found[kind] = value
    if "arxiv" not in found and ids.arxiv_from_doi(found.get("doi")):
        found["arxiv"] = ids.arxiv_from_doi(found["doi"])
    authors = [Author(plain_text(a.get("name")), {"s2": str(a["authorId"])} if a.get("authorId") else {})
               for a in paper.get("authors") or [] if isinstance(a, dict) and plain_text(a.get("name"))]
    fields = list(paper.get("fieldsOfStudy") or [])
    for item in paper.get("s2FieldsOfStudy") or []:
        if isinstance(item, dict) and item.get("category"):
            fields.append(item["category"])
    pdf = (paper.get("openAccessPdf") or {}).get("url") or None
    tldr = (paper.get("tldr") or {}).get("text") if isinstance(paper.get("tldr"), dict) else None
    date = paper.get("publicationDate")
    year = paper.get("year")
    return Work(
        ids=found,
        sources=[source_id],
        title=plain_text(paper.get("title")),
        abstract=plain_text(paper.get("abstract")),
        year=int(year) if isinstance(year, int) and 1000 < year < 3000 else None,
        date=date if isinstance(date, str) and len(date) == 10 else None,
        venue=plain_text(paper.get("venue")) or None,
        authors=authors,
        page=paper.get("url") or None,
        pdf=pdf,
        fields_of_study=list(dict.fromkeys(fields)),
        citation_count=paper.get("citationCount") if isinstance(paper.get("citationCount"), int) else None,
        tldr=plain_text(tldr),
    )


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
