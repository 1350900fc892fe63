"""Fields read from a list entry's text: venue and year tags (`[2026 Arxiv-2602]`, `EMNLP'23
Findings`, `NeurIPS 2024`), dates, author lists, and the entry's title (`choose_title`: the link
text, bold or italic text, else the text around the links, never a generic link text)."""

from __future__ import annotations

import re
from functools import lru_cache

from ..records.titles import is_generic_title
from .list_inline import Inline, link_kind
from .text import plain_text

LETTER = re.compile(r"[^\W\d_]")
_QUALIFIERS = {"findings", "workshop", "workshops", "oral", "spotlight", "poster", "demo", "demos", "main", "long",
               "short", "track", "conference", "journal", "proceedings", "best", "paper", "award", "accepted",
               "submission", "submissions", "under", "review", "preprint", "in", "at", "the", "of", "on", "and",
               "student", "highlight", "industry", "tutorial", "volume", "vol", "no", "pp", "early", "access"}
_ABBREVIATIONS = re.compile(r"(?:\b(?:vs|e\.g|i\.e|al|etc|fig|no|st|dr|mr|ms|vol|cf|approx)|\b[A-Z])$", re.I)
_PARTICLES = {"van", "von", "de", "der", "den", "di", "da", "le", "la", "du", "del", "dos", "bin", "al", "el"}


def _tag_tokens(text: str) -> list[str]:
    s = (text or "").strip().strip("[]()【】{}<> ").strip()
    return [t for t in (x.strip(".:;,'’\"!?*()[]") for x in re.split(r"[\s,/@|·\-–—&+]+", s)) if t]


@lru_cache(maxsize=8192)
def _token_kind(tok: str) -> str | None:
    if re.fullmatch(r"(?:19|20)\d\d(?:[.]\d{1,2}){0,2}", tok):
        return "year"
    if re.fullmatch(r"\d{2}|\d{4}", tok):
        return "num"
    if re.fullmatch(r"(?i)arxiv(?:['’]?\d{2,4})?", tok):
        return "arxiv"
    m = re.fullmatch(r"([A-Za-z]+)['’]?\d{2,4}", tok)
    if m and m.group(1).lower() in _QUALIFIERS:
        return "qual"  # Workshop'23
    if re.fullmatch(r"[A-Z][A-Za-z]*[A-Z][A-Za-z]*(?:['’]?\d{2,4})?|[A-Z][a-z]+['’]?\d{2,4}", tok):
        return "venue"
    if tok.lower() in _QUALIFIERS:
        return "qual"
    return None


@lru_cache(maxsize=8192)
def is_tag(text: str | None, bracketed: bool = False) -> bool:
    """A venue or date tag: '[2026 Arxiv-2602]', "EMNLP'23 Findings", 'NeurIPS 2024', 'Arxiv24', '2024-03-21'."""
    if not text or not text.strip():
        return False
    if _DATE.fullmatch(text.strip().strip("[]() ")):
        return True
    toks = _tag_tokens(text)
    if not toks or len(toks) > 6:
        return False
    kinds = [_token_kind(t) for t in toks]
    anchored = ("year" in kinds or "arxiv" in kinds or ("num" in kinds and "venue" in kinds)
                or any(k in ("venue", "qual") and re.search(r"\d", t) for k, t in zip(kinds, toks)))
    if bracketed and len(toks) <= 4 and ("year" in kinds or "arxiv" in kinds):
        return True
    return anchored and None not in kinds


@lru_cache(maxsize=8192)
def venue_year(text: str | None) -> tuple[str | None, int | None]:
    """('EMNLP Findings', 2023) from "EMNLP'23 Findings"; ('arXiv', 2026) from '[2026 Arxiv-2602]';
    ('ICTIR', 2024) from "(Arxiv'24) ICTIR'25": the venue that is not arXiv, the earliest year."""
    venues, years, quals = [], [], []
    toks = _tag_tokens(text or "")
    n = 0
    while n < len(toks):
        tok, kind = toks[n], _token_kind(toks[n])
        m = re.fullmatch(r"(.*?)['’]?(\d{2}|\d{4})?", tok)
        base, digits = m.group(1), m.group(2)
        two = (lambda d: int(d) if len(d) == 4 else 2000 + int(d)) if digits else None
        if kind == "year":
            years.append(int(tok[:4]))
        elif kind == "arxiv":
            venues.append("arXiv")
            if digits:
                years.append(2000 + int(digits[:2]))
            elif n + 1 < len(toks) and re.fullmatch(r"\d{4}", toks[n + 1]) and _token_kind(toks[n + 1]) == "num":
                years.append(2000 + int(toks[n + 1][:2]))  # Arxiv-2602: the yymm of an arXiv id (not a year)
                n += 1
        elif kind == "venue":
            if n and _token_kind(toks[n - 1]) == "venue" and not re.search(r"\d", toks[n - 1]) and venues:
                venues[-1] = f"{venues[-1]} {base}"  # IEEE TMC'26
            else:
                venues.append(base)
            if digits:
                years.append(two(digits))
        elif kind == "qual":
            if base.lower() in ("findings", "workshop", "workshops", "demo") and venues:
                quals.append(base.capitalize())
            if digits:
                years.append(two(digits))
        elif kind == "num" and len(tok) == 2 and venues:
            years.append(2000 + int(tok))
        n += 1
    venue = next((v for v in venues if v != "arXiv"), venues[0] if venues else None)
    if venue and venue != "arXiv" and quals:
        venue = " ".join([venue, *dict.fromkeys(quals)])
    years = [y for y in years if 1900 <= y <= 2099]
    return venue, (min(years) if years else None)


_DATE = re.compile(r"((?:19|20)\d\d)(?:[-./](0?[1-9]|1[0-2])(?:[-./](0?[1-9]|[12]\d|3[01]))?)?")


@lru_cache(maxsize=8192)
def year_date(text: str | None) -> tuple[int | None, str | None]:
    """(2024, '2024-03-21') from '2024-03-21'; (2026, '2026-03') from '2026.03'; (2023, None) from "EMNLP'23"."""
    text = (text or "").strip()
    m = re.search(r"(?<!\d)" + _DATE.pattern + r"(?!\d)", text)
    if m:
        year = int(m.group(1))
        if m.group(3):
            return year, f"{year}-{int(m.group(2)):02d}-{int(m.group(3)):02d}"
        if m.group(2) and re.search(r"[-./]", m.group(0)):
            return year, f"{year}-{int(m.group(2)):02d}"
        return year, None
    return venue_year(text)[1], None


@lru_cache(maxsize=8192)
def looks_like_authors(text: str | None) -> bool:
    """'Alice Smith, Bob Jones and C. Lee' or 'Smith et al.' -> True."""
    t = (text or "").strip().rstrip(".")
    if not t:
        return False
    if re.search(r"\bet\s+al\b", t):
        return True
    parts = [p.strip() for p in re.split(r",|;|\band\b|&", t) if p.strip()]
    if len(parts) < 2:
        return False
    for part in parts:
        tokens = part.split()
        if not 2 <= len(tokens) <= 4 or re.search(r"\d", part):
            return False
        if not all(re.fullmatch(r"[A-Z][\w'’\-]*\.?|[A-Z]\.(?:[A-Z]\.)*", tok) or tok.lower() in _PARTICLES
                   for tok in tokens):
            return False
    return True


def strip_brackets(text: str) -> str:
    """Bracketed venue tags, dates, generic link words and empty brackets go: '[2026 Arxiv-2602] X ()' -> 'X'."""
    def drop(m):
        inner = m.group(2)
        if not inner.strip() or not LETTER.search(inner) and not re.search(r"\d", inner):
            return " "
        if is_tag(inner, bracketed=True) or is_generic_title(inner):
            return " "
        return m.group(0)
    prev = None
    while prev != text:
        prev = text
        text = re.sub(r"([\[(【{])([^\[\]()【】{}]*)([\])】}])", drop, text)
    return text


def split_segments(text: str) -> list[str]:
    return re.split(r"(\s+[-–—|•·]\s+|\s*[|•·]\s*|;\s+|,\s+(?=[A-Z\d'])|(?<=[\w)\]])\.\s+(?=[A-Z\d\[(\"“']))", text)


@lru_cache(maxsize=8192)
def tidy_title(text: str | None) -> str | None:
    """A title candidate without list numbering, leading symbols, venue tags, dates and end punctuation."""
    t = plain_text(text) or ""
    t = strip_brackets(t)
    t = re.sub(r"^\s*(?:\d{1,3}[.)]\s+|#\d+\s*|\[\d+\]\s*)", "", t)
    t = re.sub(r"^[^\w\"'“‘(\[]+", "", t)
    parts = split_segments(t)
    # leading and trailing venue tags, dates and author lists
    while len(parts) >= 3 and (is_tag(parts[0]) or not parts[0].strip()):
        parts = parts[2:]
    while len(parts) >= 3 and (is_tag(parts[-1]) or not parts[-1].strip() or looks_like_authors(parts[-1])):
        parts = parts[:-2]
    t = "".join(parts)
    t = re.sub(r"\s+", " ", t).strip()
    t = re.sub(r"[\s.,;:|\-–—~*_=>]+$", "", t)
    t = re.sub(r"^[\s,;:|\-–—~*_=<]+", "", t)
    if len(t) >= 2 and t[0] in "\"“'‘" and t[-1] in "\"”'’" and t.count(t[0]) <= 2:
        t = t[1:-1].strip()
    if t.startswith("(") and t.endswith(")") and t.count("(") == 1:
        t = t[1:-1].strip()
    return t or None


@lru_cache(maxsize=8192)
def _first_sentence(text: str) -> str:
    """The first sentence of 'Title. Authors. Venue 2024.' (abbreviations such as 'vs.' do not end one)."""
    for m in re.finditer(r"\.\s+(?=[A-Z\d\[(\"“'])", text):
        before = text[:m.start()]
        if _ABBREVIATIONS.search(before) or len(before.split()) < 2:
            continue
        rest = text[m.end():]
        if looks_like_authors(_first_part(rest)) or is_tag(_first_part(rest)) or len(before.split()) >= 3:
            return before
    return text


def _first_part(text: str) -> str:
    return re.split(r"\.\s+", text, maxsplit=1)[0]


@lru_cache(maxsize=8192)
def good_title(text: str | None) -> bool:
    return bool(text and LETTER.search(text) and not is_generic_title(text) and not is_tag(text)
                and not is_tag(text, bracketed=True) and not looks_like_authors(text))


def _parenthesised(text: str) -> bool:
    t = text.strip()
    return t.startswith("(") and t.endswith(")") and t.count("(") == 1


def choose_title(inline: Inline, kinds: dict[int, str] | None = None) -> tuple[str | None, int | None]:
    """(title, index of the link whose text it is) for a cell or an entry.

    The title is never a generic link text or a badge: the candidates are, in order, the
    text of paper links, bold text, italic text, the text of other links, and the text
    around the links; the first with three words or more wins, else the first."""
    parts = inline.lines()
    if len(parts) > 1:  # 'Old title (in parentheses) <br> New title', 'Title <br> Authors'
        kept = [p for n, p in enumerate(parts) if p.text() and not _parenthesised(p.text())
                and not (n and (looks_like_authors(p.text()) or is_tag(p.text())))]
        for part in kept:
            title, _ = _title_in(part, None)
            if title:
                return title, _link_with(inline, title)
    return _title_in(inline, kinds)


def _link_with(inline: Inline, title: str) -> int | None:
    for i in range(len(inline.links)):
        if tidy_title(inline.label(i)) == title:
            return i
    return None


def _title_in(inline: Inline, kinds: dict[int, str] | None) -> tuple[str | None, int | None]:
    kinds = kinds or {i: link_kind(link.href, inline.words(i)) for i, link in enumerate(inline.links)}
    labelled = [(tidy_title(inline.label(i)), i) for i in range(len(inline.links))
                if inline.label(i) and not inline.links[i].bare]
    candidates: list[tuple[str | None, int | None]] = [(t, i) for t, i in labelled if kinds.get(i) == "paper"]
    rejected: set[int] = set()
    for attr in ("bold", "italic"):
        for text, where in inline.runs(attr):
            if all(inline.pieces[n].link is not None for n in where):
                continue  # a link's own emphasis: the link's text is a candidate already
            t = tidy_title(text)
            if good_title(t):
                candidates.append((t, None))
            elif is_tag(text, bracketed=True) or is_tag(text) or looks_like_authors(text) or not LETTER.search(text):
                rejected |= where
    candidates += [(t, i) for t, i in labelled if kinds.get(i) != "paper"]
    outside = inline.outside(rejected)
    candidates.append((tidy_title(_first_sentence(tidy_title(outside) or "")), None))
    good = [(t, i) for t, i in candidates if good_title(t)]
    if not good:
        return None, None
    long = [(t, i) for t, i in good if len(t.split()) >= 3]
    return (long or good)[0]
