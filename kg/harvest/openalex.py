"""OpenAlex works API: search with cursor paging, look-ups by id or DOI, into Work records.

Base URL from KG_OPENALEX_API_URL (default https://api.openalex.org); KG_MAILTO
joins OpenAlex's polite pool. At most 10 requests a second.
"""

from __future__ import annotations

import os

from ..records import ids
from ..importers.text import plain_text
from ..records import Author, Work
from .http import BadBody, HarvestError, Policy, PoliteClient, Reply, error_text

DEFAULT_URL = "https://api.openalex.org"
POLICY = Policy("OpenAlex", min_interval=0.1, timeout=30.0)
PAGE = 200  # OpenAlex's maximum per-page
LOOKUP_CHUNK = 50  # values OR-ed in one filter


def base_url() -> str:
    return (os.environ.get("KG_OPENALEX_API_URL") or DEFAULT_URL).rstrip("/")


def short_id(value: str | None) -> str | None:
    """'https://openalex.org/W2741809807' -> 'W2741809807' (authors: 'A...')."""
    if not value:
        return None
    return str(value).rstrip("/").rsplit("/", 1)[-1] or None


def abstract_from_index(index: dict | None) -> str | None:
    """OpenAlex ships abstracts as {word: [positions]}; put the words back in order."""
    if not isinstance(index, dict) or not index:
        return None
    slots: dict[int, str] = {}
    for word, positions in index.items():
        for pos in positions or []:
            if isinstance(pos, int):
                slots[pos] = word
    return " ".join(slots[i] for i in sorted(slots)) or None


def work_to_work(item: dict, source_id: str) -> Work | None:
    if not isinstance(item, dict):
        return None
    oa = ids.openalex_id(short_id(item.get("id")))
    if not oa:
        return None
    found = {"openalex": oa}
    doi = ids.doi(item.get("doi") or (item.get("ids") or {}).get("doi"))
    if doi:
        found["doi"] = doi
    arxiv = ids.arxiv_from_doi(doi)
    locations = [item.get("primary_location")] + list(item.get("locations") or [])
    for loc in locations:
        if not arxiv and isinstance(loc, dict):
            arxiv = ids.arxiv_id(loc.get("landing_page_url")) or ids.arxiv_id(loc.get("pdf_url"))
    if arxiv:
        found["arxiv"] = arxiv
    authors = []
    for authorship in item.get("authorships") or []:
        person = (authorship or {}).get("author") or {}
        name = plain_text(person.get("display_name"))
        if name:
            aid = {"openalex": short_id(person["id"])} if person.get("id") else {}
            if person.get("orcid"):
                aid["orcid"] = short_id(person["orcid"])
            authors.append(Author(name, aid))
    primary = item.get("primary_location") or {}
    venue = plain_text(((primary.get("source") or {}).get("display_name"))) if isinstance(primary, dict) else None
    best = item.get("best_oa_location") or {}
    pdf = (best.get("pdf_url") if isinstance(best, dict) else None) or (item.get("open_access") or {}).get("oa_url")
    fields = []
    for topic in item.get("topics") or []:
        name = ((topic or {}).get("field") or {}).get("display_name")
        if name:
            fields.append(name)
    if not fields:
        fields = [c.get("display_name") for c in item.get("concepts") or []
                  if isinstance(c, dict) and c.get("level") == 0 and c.get("display_name")]
    year = item.get("publication_year")
    date = item.get("publication_date")
    return Work(
        ids=found,
        sources=[source_id],
        title=plain_text(item.get("title") or item.get("display_name")),
        abstract=plain_text(abstract_from_index(item.get("abstract_inverted_index"))),
        year=year if isinstance(year, int) and 1000 < year < 3000 else None,
        date=date if isinstance(date, str) and len(date) == 10 else None,
        venue=venue,
        authors=authors,
        page=(primary.get("landing_page_url") if isinstance(primary, dict) else None) or None,
        pdf=pdf or None,
        fields_of_study=list(dict.fromkeys(fields)),
        citation_count=item.get("cited_by_count") if isinstance(item.get("cited_by_count"), int) else None,
    )


def references_of(item: dict) -> list[str]:
    return [x for x in (ids.openalex_id(short_id(r)) for r in item.get("referenced_works") or []) if x]


def _json_results(reply: Reply) -> dict:
    data = reply.json()
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise BadBody("expected a JSON object with 'results'")
    return data


class OpenAlexClient:
    def __init__(self, http: PoliteClient, url: str | None = None):
        self.http = http
        self.url = (url or base_url()).rstrip("/")
        self.mailto = os.environ.get("KG_MAILTO") or None

    def _works(self, params: dict) -> dict:
        if self.mailto:
            params = {**params, "mailto": self.mailto}
        data = self.http.get(f"{self.url}/works", params=params, parse=_json_results, accept=(200, 400, 403))
        if isinstance(data, Reply):
            raise HarvestError(f"OpenAlex refused the request (HTTP {data.status}): {error_text(data)}",
                               url=data.url, status=data.status)
        return data

    def search_page(self, query: str, cursor: str = "*", per_page: int = PAGE, since: str | None = None) -> dict:
        params = {"search": query, "per-page": per_page, "cursor": cursor}
        if since:
            params["filter"] = f"from_publication_date:{since}"
        return self._works(params)

    def lookup(self, kind: str, values: list[str]) -> list[dict]:
        """Works by OpenAlex id (kind 'openalex') or DOI (kind 'doi'), up to 50 at a time."""
        if not 0 < len(values) <= LOOKUP_CHUNK:
            raise ValueError(f"look up 1 to {LOOKUP_CHUNK} works at a time")
        key = {"openalex": "openalex", "doi": "doi"}[kind]
        joined = "|".join(f"https://doi.org/{v}" if kind == "doi" else v for v in values)
        return self._works({"filter": f"{key}:{joined}", "per-page": LOOKUP_CHUNK})["results"]
