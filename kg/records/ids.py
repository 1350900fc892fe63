"""Normalising work identifiers so one work gets one node across sources."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Normalising is pure and a build asks about the same identifiers and titles several times per
# work (grouping the label records, resolving, minting the IRI, writing): answers are remembered
# for as many values as a large corpus holds.
MEMO = 1 << 18

_NEW_ARXIV = re.compile(r"^(\d{4}\.\d{4,5})(v\d+)?$")
_OLD_ARXIV = re.compile(r"^([a-z\-]+(?:\.[A-Z]{2})?/\d{7})(v\d+)?$")
# arXiv pages (abs, pdf, html; a version, '.pdf' or a trailing '/' allowed) and the pages that name an
# arXiv paper by its id (Hugging Face papers, alphaXiv)
_ARXIV_URL = re.compile(r"(?:arxiv\.org/(?:abs|pdf|html)|huggingface\.co/papers|alphaxiv\.org/(?:abs|overview))/"
                        r"([^?#\s]+?)(?:\.pdf)?/?(?:[?#].*)?$", re.I)
_DOI = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.I)
# publishers' pages whose address holds the DOI: dl.acm.org/doi/abs/10.1145/..., link.springer.com/article/10.1007/...
_DOI_IN_URL = re.compile(r"^https?://(?:[\w-]+\.)*(?:dl\.acm\.org|onlinelibrary\.wiley\.com|tandfonline\.com|"
                         r"journals\.sagepub\.com|pubs\.acs\.org|science\.org|pnas\.org|ascelibrary\.org)"
                         r"/doi/(?:abs/|full/|pdf/|epdf/|fullHtml/|book/)?(10\.\d{4,9}/[^?#\s]+?)/?(?:[?#].*)?$|"
                         r"^https?://link\.springer\.com/(?:article|chapter|book)/(10\.\d{4,9}/[^?#\s]+?)/?(?:[?#].*)?$",
                         re.I)
_S2 = re.compile(r"^[0-9a-f]{40}$")
_OPENALEX = re.compile(r"^(?:https?://openalex\.org/)?(W\d+)$", re.I)


def arxiv_id(value: str | None) -> str | None:
    """'arXiv:2402.13587v2', 'https://arxiv.org/abs/astro-ph/0601001' -> the bare id, no version."""
    if not value:
        return None
    v = value.strip()
    m = _ARXIV_URL.search(v)
    if m:
        v = m.group(1)
    v = re.sub(r"^arxiv:\s*", "", v, flags=re.I)
    for pattern in (_NEW_ARXIV, _OLD_ARXIV):
        m = pattern.match(v)
        if m:
            return m.group(1)
    return None


def doi(value: str | None) -> str | None:
    """DOIs compare case-insensitively: store them lowercase, without a resolver prefix. A publisher's
    page whose address holds the DOI (dl.acm.org/doi/abs/10.1145/..., link.springer.com/article/10.1007/...)
    gives it too."""
    if not value:
        return None
    m = _DOI.match(value.strip())
    if m:
        return m.group(1).lower().rstrip(".")
    m = _DOI_IN_URL.match(value.strip())
    return (m.group(1) or m.group(2)).lower().rstrip(".") if m else None


_ARXIV_DOI = re.compile(r"^10\.48550/arxiv\.(.+)$", re.I)


@lru_cache(maxsize=MEMO)
def arxiv_from_doi(value: str | None) -> str | None:
    """arXiv's own DataCite DOI names the same work: '10.48550/arXiv.2406.09400' -> '2406.09400'."""
    d = doi(value)
    m = _ARXIV_DOI.match(d) if d else None
    return arxiv_id(m.group(1)) if m else None


def openalex_id(value: str | None) -> str | None:
    if not value:
        return None
    m = _OPENALEX.match(value.strip())
    return m.group(1).upper() if m else None


def s2_id(value: str | None) -> str | None:
    if value and _S2.match(value.strip().lower()):
        return value.strip().lower()
    return None


@lru_cache(maxsize=MEMO)
def normalise_title(title: str | None) -> str | None:
    """Lowercase, accents and punctuation removed, spaces collapsed."""
    if not title:
        return None
    t = unicodedata.normalize("NFKD", title)
    t = "".join(c for c in t if not unicodedata.combining(c)).lower()
    t = re.sub(r"[^a-z0-9]+", " ", t).strip()
    return t or None


def parse_any(value: str) -> tuple[str, str] | None:
    """Guess an identifier's kind: ('arxiv', id), ('doi', id), ('s2', id), ('openalex', id)."""
    v = value.strip()
    for kind, fn in (("arxiv", arxiv_id), ("doi", doi), ("openalex", openalex_id), ("s2", s2_id)):
        out = fn(v)
        if out:
            return kind, out
    if re.fullmatch(r"(?i)corpusid:\d+", v):
        return "corpus", v.split(":", 1)[1]
    return None


@lru_cache(maxsize=MEMO)
def normalise(kind: str, value) -> str | None:
    """Normalise one identifier of a known kind (None if it is not valid)."""
    if value is None:
        return None
    value = str(value).strip()
    if not value:
        return None
    match kind:
        case "arxiv":
            return arxiv_id(value)
        case "doi":
            return doi(value)
        case "openalex":
            return openalex_id(value)
        case "s2":
            return s2_id(value)
        case "corpus":
            return value if value.isdigit() else None
        case _:
            return value
