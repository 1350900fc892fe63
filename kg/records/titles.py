"""What counts as a work's title: link texts such as "Paper" or "PDF" never do.

Community lists link a paper as `[Paper](https://arxiv.org/pdf/...)`, `[arXiv]`,
`[PDF]`, `[Code]`, badges or emoji; importers must not take those words for the
paper's title, and the resolver must never merge two works because they share one.
"""

from __future__ import annotations

import re
from functools import lru_cache

from .ids import MEMO  # answers remembered (a build asks about each title several times)

GENERIC_LINK_TEXTS = {
    "paper", "papers", "pdf", "arxiv", "link", "links", "code", "github", "project", "project page",
    "page", "homepage", "website", "web", "site", "demo", "video", "slides", "poster", "blog", "post",
    "dataset", "data", "benchmark", "model", "models", "weights", "checkpoint", "checkpoints",
    "huggingface", "hugging face", "hf", "openreview", "acl", "acl anthology", "doi", "abs", "html",
    "url", "here", "this", "official", "repo", "repository", "source", "preprint", "publication",
    "proceedings", "springer", "ieee", "acm", "semantic scholar", "google scholar", "bib", "bibtex",
    "citation", "cite", "download", "read", "more", "details", "leaderboard", "colab", "notebook",
    "twitter", "x", "youtube", "zhihu", "medium", "talk", "tutorial", "survey", "n/a", "na", "-", "tbd",
    "home", "survey paper", "arxiv pdf", "openreview pdf", "paper page", "demo page", "github stars", "stars",
    "dataset hub", "hugging face dataset hub", "code and data", "paper and code", "pdf and code", "paper title",
    "abstract", "arxiv paper", "paper link", "pdf link", "paper pdf", "full paper", "full text", "code link",
    "official code", "project website", "supplementary", "supp", "appendix", "open access", "cvf", "journal",
    "conference", "reference", "ref", "view", "view paper", "link to paper", "read paper", "preprint pdf",
}
_DECOR = re.compile(r"[\W_]+", re.UNICODE)


@lru_cache(maxsize=MEMO)
def is_generic_title(text: str | None) -> bool:
    """True when `text` cannot be a work's title: empty, punctuation only, a bare identifier
    (an arXiv id, a URL), or a generic link text like "Paper", "[PDF]", "Code 💻"."""
    if text is None:
        return True
    stripped = text.strip()
    if not stripped:
        return True
    words = _DECOR.sub(" ", stripped).strip().lower()
    if not words:
        return True
    if words in GENERIC_LINK_TEXTS or re.sub(r"\s(?:19|20)\d\d$", "", words) in GENERIC_LINK_TEXTS:
        return True  # "Paper", "[PDF]", also with a year: "arXiv 2024"
    if re.fullmatch(r"(?:arxiv\s*)?\d{4}\s\d{4,5}(?:\s?v\d+)?", words):
        return True  # an arXiv id written as the link text
    if stripped.lower().startswith(("http://", "https://", "www.")):
        return True
    return False
