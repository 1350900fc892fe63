"""What the reference-manager importers (RIS, CSL-JSON) share: reading a file whatever its
encoding, author names, and turning one reference into a Work record.

ris.py and csljson.py each read their format into `Reference`s (the fields kg keeps, as
the file gives them) and name what they cannot read; `collect` turns the references into a
bundle the way the BibTeX importer does: an untitled reference is named and skipped,
unusable fields (a DOI that is not one, a `javascript:` link, a year that is not a year)
are named and left out, duplicate keys are merged, and references that name the same work
are noted. A reference with a title and no identifier (no key, DOI, arXiv id or web link) is
given a citation key (kg.importers.keys), as every BibTeX entry has one. No note says so: a
reference manager's record without a DOI or link (a book, a thesis, a work an exported graph
knows only by its title) is nothing to fix, and an export opens back without notes.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import date as _date
from pathlib import Path

from ..records import ids
from ..errors import UsageError
from ..records import Author, Bundle, Source, Work
from ..records.resolve import keys_of
from .keys import KeyMaker
from .text import plain_text, web_url

# 'arXiv:2406.09400v2', 'arXiv: 2406.09400 [cs]', 'arxiv.org/abs/astro-ph/0601001', 'arXiv preprint arXiv:...'
ARXIV_IN_TEXT = re.compile(r"arxiv(?:\.org)?[:\s/]*(?:abs/|pdf/)?([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?",
                           re.I)
_YEAR = re.compile(r"(?<!\d)(1[89]\d\d|20\d\d|2100)(?!\d)")
_OTHERS = {"others", "et al", "et al.", "and others", "et. al."}
# Name particles that belong to the family name ('Ana de la Cruz' -> family 'de la Cruz').
PARTICLES = {"da", "das", "de", "del", "della", "der", "des", "di", "do", "dos", "du", "la", "le", "st", "st.",
             "te", "ten", "ter", "van", "von", "zu"}
SUFFIXES = {"jr", "jr.", "sr", "sr.", "ii", "iii", "iv"}


@dataclass
class Problem:
    """Something in the file that could not be imported as it stands, and where it is."""

    where: str  # "line 12", "lines 4-6", "item 3"
    entry: str | None
    message: str
    order: int = 0  # the line or item number, to list problems in file order

    def __str__(self) -> str:
        return self.where + (f" ({self.entry})" if self.entry else "") + f": {self.message}"


@dataclass
class ImportResult:
    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    entries: int = 0  # references read (before skipping)


@dataclass
class Reference:
    """One reference as a reference manager keeps it, before it becomes a Work."""

    where: str  # "line 12" or "item 3": how problems name it
    order: int
    key: str | None = None  # the citation key / item id
    title: str | None = None
    authors: list[str] = field(default_factory=list)  # display names, byline order
    year: str | None = None  # as written ('2024', '2024///', 'n.d.')
    date: str | None = None  # ISO 'YYYY-MM' or 'YYYY-MM-DD' when the file gives a month
    venue: str | None = None
    doi: str | None = None
    urls: list[str] = field(default_factory=list)
    arxiv_texts: list[str] = field(default_factory=list)  # fields that may name an arXiv id ('arXiv:2406.09400')
    arxiv_bare: list[str] = field(default_factory=list)  # fields that are an arXiv id when the archive is arXiv
    abstract: str | None = None

    @property
    def name(self) -> str | None:
        """How problems name the reference: its key, else the start of its title."""
        if self.key:
            return self.key
        if self.title:
            return repr(self.title if len(self.title) <= 40 else self.title[:39] + "…")
        return None


def read_file(path: Path, problems: list[Problem]) -> str:
    """A file's text: UTF-8 (BOM or not), UTF-16 with a BOM, else Windows-1252 (noted)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = raw.decode("utf-16", errors="replace")
    else:
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw.count(b"\n", 0, exc.start) + 1
            problems.append(Problem(f"line {line}", None, "the file is not UTF-8; read as Windows-1252", 0))
            text = raw.decode("cp1252", errors="replace")
    return text


def is_others(name: str) -> bool:
    """'others' / 'et al.': BibTeX's 'and others' as a reference manager keeps it, not a person."""
    return name.strip().lower() in _OTHERS


def join_name(*parts: str | None) -> str:
    return " ".join(" ".join(p.split()) for p in parts if p and p.strip())


def ris_name(value: str) -> str | None:
    """'Müller, Jörg' / 'Smith, John, Jr.' / 'World Health Organization' -> a display name."""
    value = plain_text(value) or ""
    if not value or is_others(value):
        return None
    pieces = [p.strip() for p in value.split(",")]
    if len(pieces) == 2 and pieces[1]:
        return join_name(pieces[1], pieces[0])
    if len(pieces) >= 3 and pieces[1]:
        return join_name(pieces[1], pieces[0], ", ".join(pieces[2:]))
    return join_name(value.strip(", "))


def split_name(name: str) -> tuple[str, str, str]:
    """A display name -> (family, given, suffix) for RIS and CSL, the inverse of the readers:
    'Jörg Müller' -> ('Müller', 'Jörg', ''), 'Ana de la Cruz' -> ('de la Cruz', 'Ana', ''),
    'John Smith Jr' -> ('Smith', 'John', 'Jr'), 'Plato' -> ('Plato', '', '')."""
    words = name.split()
    suffix = ""
    if len(words) > 2 and words[-1].lower().rstrip(",") in SUFFIXES:
        suffix = words.pop()
    if len(words) < 2:
        return " ".join(words), "", suffix
    start = len(words) - 1
    while start > 1 and words[start - 1].lower() in PARTICLES:
        start -= 1
    return " ".join(words[start:]), " ".join(words[:start]), suffix


def year_of(text: str | None) -> int | None:
    m = _YEAR.search(text or "")
    return int(m.group(1)) if m else None


def iso_date(year, month=None, day=None) -> str | None:
    """'YYYY-MM-DD' or 'YYYY-MM' from parts (numbers or digit strings); None if not a real date."""
    try:
        y = int(year)
        if month in (None, "", 0, "0"):
            return None
        m = int(month)
        if day in (None, "", 0, "0"):
            _date(y, m, 1)
            return f"{y:04d}-{m:02d}"
        d = int(day)
        return _date(y, m, d).isoformat()
    except (TypeError, ValueError):
        return None


def is_arxiv_venue(venue: str | None) -> bool:
    v = (venue or "").strip().lower()
    return v.startswith("arxiv") or v in ("corr", "computing research repository") or bool(ARXIV_IN_TEXT.search(v))


def _shown(value: str) -> str:
    return repr(value if len(value) <= 80 else value[:77] + "...")


def to_work(ref: Reference, source_id: str, problems: list[Problem]) -> Work | None:
    """One reference -> a Work; None (and a problem) when it has no title."""

    def note(message: str) -> None:
        problems.append(Problem(ref.where, ref.name, message, ref.order))

    found: dict[str, str] = {"cite": ref.key} if ref.key else {}
    doi = ids.doi(ref.doi or "")
    if ref.doi and not doi:
        note(f"doi {_shown(ref.doi)} is not a DOI; left out")
    page = None
    arxiv = None
    for url in ref.urls:
        if not web_url(url):  # only web links are stored (no javascript:, data:, file:)
            note(f"url {_shown(url)} is not a web address (http or https); left out")
            continue
        if ids.arxiv_id(url):
            arxiv = arxiv or ids.arxiv_id(url)
        elif ids.doi(url):
            doi = doi or ids.doi(url)
        elif page is None:
            page = url.strip()
    for text in ref.arxiv_texts:
        if arxiv:
            break
        m = ARXIV_IN_TEXT.search(text or "")
        arxiv = ids.arxiv_id(m.group(1)) if m else None
    for text in ref.arxiv_bare:
        arxiv = arxiv or ids.arxiv_id(text or "")
    arxiv = arxiv or ids.arxiv_from_doi(doi)
    if arxiv:
        found["arxiv"] = arxiv
    if doi:
        found["doi"] = doi
    if page:
        found["url"] = page
    title = plain_text(ref.title)
    if not title:
        note("no title; not imported")
        return None
    year = year_of(ref.year) if ref.year else None
    if ref.year and year is None:
        note(f"year {_shown(ref.year)} is not a year; left out")
    if year is None and ref.date:
        year = year_of(ref.date)
    venue = plain_text(ref.venue)
    if venue and is_arxiv_venue(venue):
        venue = "arXiv"
    return Work(ids=found, sources=[source_id], title=title, abstract=plain_text(ref.abstract), year=year,
                date=ref.date if ref.date and year_of(ref.date) == year else None, venue=venue,
                authors=[Author(n) for n in ref.authors if n], page=page)


def collect(refs: list[Reference], source: Source, problems: list[Problem]) -> ImportResult:
    """References -> a bundle: duplicate keys merged into the first, same works noted, and a work
    with no identifier at all given a citation key (kg.importers.keys), so the graph holds no
    work its shapes refuse."""
    bundle = Bundle(sources=[source])
    by_key: dict[str, tuple[Work, str]] = {}
    by_id: dict[str, tuple[str, str]] = {}
    keys = KeyMaker(ref.key for ref in refs)
    for ref in refs:
        work = to_work(ref, source.id, problems)
        if work is None:
            continue
        if ref.key and ref.key in by_key:
            first, where = by_key[ref.key]
            problems.append(Problem(ref.where, ref.name, f"duplicate key (first at {where}); merged into it",
                                    ref.order))
            for kind, value in work.ids.items():
                first.ids.setdefault(kind, value)
            for attr in ("title", "abstract", "year", "date", "venue", "page"):
                if getattr(first, attr) is None:
                    setattr(first, attr, getattr(work, attr))
            if not first.authors:
                first.authors = work.authors
            continue
        for key in keys_of(work):
            if key.startswith(("doi:", "arxiv:")) and key in by_id:
                other, where = by_id[key]
                problems.append(Problem(ref.where, ref.name, f"same work as {other} ({where}, {key}); "
                                                             "they become one node", ref.order))
                break
        for key in keys_of(work):
            by_id.setdefault(key, (ref.name or "an earlier reference", ref.where))
        if ref.key:
            by_key[ref.key] = (work, ref.where)
        keys.give(work)
        bundle.works.append(work)
    return ImportResult(bundle, sorted(problems, key=lambda p: p.order), len(refs))


def new_source(kind: str, label: str, path: Path, source_id: str | None, count: int) -> Source:
    from ..vocab import slug

    return Source(id=source_id or f"{kind}-{slug(path.stem)}", title=f"{label} file {path.name}",
                  agent=f"{label} import", retrieved=time.strftime("%Y-%m-%d"),
                  note=f"{count} references read from {path.name}")
