"""Importing a BibTeX file (a survey's bibliography) into Work records.

The file is read by bibtexparser (1.x). Each entry keeps its key (`ids["cite"]`), which the
reports use as the entry's BibTeX key, so a survey's `\\cite{}` keys stay valid. bibtexparser
is lenient: an entry it cannot read becomes a comment and is silently skipped, so every
`@type{` that starts a line is compared with what it parsed, and each entry that did not
come through is named with its line and key (and, where it can be told, why) while every
other entry is imported. LaTeX (accents, commands, math) is turned into Unicode text with
pylatexenc and HTML in any field is dropped; "and others" at the end of an author list is
kept as `Work.et_al`; venues are normalised by kg.records.venues (the venue as written is kept in
`venue_original`, remarks in `note`). A file that is not UTF-8 is read as Windows-1252
(else Latin-1), with a note saying so.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..records import ids
from ..errors import UsageError
from ..records import Author, Bundle, Source, Work
from ..records.resolve import keys_of
from ..records.venues import parse_venue
from ..vocab import slug
from .text import plain_text, web_url

# an entry starts a line: "@article{key," or "@Article(key,"
_ENTRY_START = re.compile(r"^[ \t]*(@)[ \t]*([A-Za-z]+)[ \t]*([{(])[ \t]*([^\s,{}()=\"#%']*)", re.MULTILINE)
_NOT_ENTRIES = ("comment", "preamble", "string")
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s/]*(?:abs/)?([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?", re.IGNORECASE)
# \"u in a quoted value ends the value for BibTeX itself; braced ({\"u}) it is an umlaut anywhere
_UNBRACED_UMLAUT = re.compile(r'(?<!\\)\\"(\{[^{}]*\}|\\?[A-Za-z])')
_OTHERS = ("others", "et al", "et al.")


@dataclass
class Problem:
    line: int
    entry: str | None
    message: str

    def __str__(self) -> str:
        return f"line {self.line}" + (f" ({self.entry})" if self.entry else "") + f": {self.message}"


@dataclass
class RawEntry:
    kind: str
    key: str
    fields: dict[str, str]  # field names in lower case, values as written (LaTeX), macros expanded
    line: int


@dataclass
class ImportResult:
    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    entries: int = 0  # entries read (before skipping)


# ------------------------------------------------------------------ reading the file
def read_bib_text(path: Path) -> tuple[str, list[Problem]]:
    """A .bib file's text: UTF-8 (with or without BOM), else Windows-1252, else Latin-1, with a
    note naming the line of the first byte that is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig"), []
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        bad = raw[exc.start:exc.start + 1].hex()
    for codec, name in (("cp1252", "Windows-1252"), ("latin-1", "Latin-1")):
        try:
            text = raw.decode(codec)
        except UnicodeDecodeError:
            continue
        return text, [Problem(line, None, f"the file is not UTF-8 (byte 0x{bad}); read as {name}, "
                                          "check its accented letters")]
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


class _Macros(dict):
    """@string macros; a macro no @string defines reads as its own name (and is reported)."""

    def __init__(self, known, undefined: list[str]):
        super().__init__(known)
        self.undefined = undefined

    def __missing__(self, name):
        self.undefined.append(name)
        return name


def _parse(text: str) -> tuple[list[dict], list[int], list[tuple[int, str]]]:
    """bibtexparser's entries, the offset of each entry's '@', and (offset, name) of every
    undefined macro an entry uses."""
    from bibtexparser.bparser import BibTexParser

    parser = BibTexParser(common_strings=True, ignore_nonstandard_types=False, interpolate_strings=True)
    parser.expect_multiple_parse = True
    undefined: list[str] = []
    parser.bib_database.strings = _Macros(parser.bib_database.strings, undefined)
    offsets: list[int] = []
    missing: list[tuple[int, str]] = []

    def seen(_s, loc, _t):  # runs after bibtexparser's own action has added (and expanded) the entry
        offsets.append(loc)
        missing.extend((loc, name) for name in undefined)
        undefined.clear()

    def defined(_s, loc, _t):  # an @string whose value uses an undefined macro
        missing.extend((loc, name) for name in undefined)
        undefined.clear()

    parser._expr.entry.add_parse_action(seen)
    parser._expr.string_def.add_parse_action(defined)
    database = parser.parse(text, partial=True)
    return database.entries, offsets, missing


def _line(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def _braces_balance(body: str) -> int:
    unescaped = re.sub(r"\\[{}]", "", body)
    return unescaped.count("{") - unescaped.count("}")


def _why(chunk: str, opener: str, key: str) -> str:
    """Why bibtexparser could not read an entry (its text from '@' to the next entry)."""
    close = "}" if opener == "{" else ")"
    balance = _braces_balance(chunk)
    if balance > 0:
        return "unbalanced braces: a '{' is never closed"
    if not key:
        return "no citation key"
    body = chunk.split(key, 1)[1].lstrip()
    if not body.startswith(","):
        return f"expected ',' after the key {key!r}"
    if balance < 0 and close == "}":
        return "unbalanced braces: a '}' too many"
    quotes = re.sub(r"\\.", "", re.sub(r"\{[^{}]*\}", "", body)).count('"')
    if quotes % 2:
        return 'a quoted value is never closed with "'
    gap = re.search(r"(?:[}\"]|\b\d+)[ \t]*\n?[ \t]*([A-Za-z][\w-]*)\s*=", body)
    if gap:
        return f"a ',' is missing before the field '{gap.group(1).lower()}'"
    if not re.search(r"\b([A-Za-z][\w-]*)\s*=", body):
        return "no fields (expected 'name = value')"
    return "a field could not be read (a missing ',', '=' or quote?)"


def read_entries(text: str) -> tuple[list[RawEntry], list[Problem]]:
    """Every entry of a BibTeX text with its line; entries bibtexparser could not read,
    and macros no @string defines, become problems."""
    text = _UNBRACED_UMLAUT.sub(r'{\\"\1}', text)  # no newline added: line numbers stay
    parsed, offsets, missing = _parse(text)
    entries: list[RawEntry] = []
    problems: list[Problem] = []
    for entry, offset in zip(parsed, offsets):
        fields = {k: v for k, v in entry.items() if k not in ("ID", "ENTRYTYPE")}
        entries.append(RawEntry(entry["ENTRYTYPE"].lower(), entry["ID"], fields, _line(text, offset)))
    read_at = set(offsets)
    by_offset = {offset: e for offset, e in zip(offsets, entries)}
    for offset, name in missing:
        entry = by_offset.get(offset)
        problems.append(Problem(entry.line if entry else _line(text, offset), entry.key if entry else None,
                                f"@string macro {name!r} is not defined; kept as the text {name!r}"))
    starts = list(_ENTRY_START.finditer(text))
    for i, m in enumerate(starts):
        kind, key = m.group(2).lower(), m.group(4)
        if kind in _NOT_ENTRIES or m.start(1) in read_at:
            continue
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        chunk = text[m.start(1):end]
        problems.append(Problem(_line(text, m.start(1)), key or None,
                                f"not imported: {_why(chunk, m.group(3), key)}"))
    return entries, sorted(problems, key=lambda p: p.line)


# ------------------------------------------------------------------ field values as text
_LATEX = None


def latex_text(value: str | None) -> str | None:
    """LaTeX source -> plain Unicode text ('M{\\"u}ller' -> 'Müller', '\\textit{x}' -> 'x')."""
    global _LATEX
    if value is None:
        return None
    if _LATEX is None:
        from pylatexenc.latex2text import LatexNodes2Text

        _LATEX = LatexNodes2Text(math_mode="text", strict_latex_spaces=False)
    value = plain_text(value) or ""  # HTML first (tags out, entities decoded) ...
    value = re.sub(r"(?<!\\)&", r"\\&", value)  # ... so a bare '&' is text, not a LaTeX column separator
    try:
        text = _LATEX.latex_to_text(value)
    except Exception:  # pylatexenc is tolerant; anything it still trips on falls back to stripping braces
        text = re.sub(r"\\[A-Za-z]+\s*|[{}\\]", "", value)
    return plain_text(text)


def _split_names(value: str) -> list[str]:
    parts, depth, current = [], 0, []
    for tok in re.split(r"(\s+and\s+|[{}])", value, flags=re.IGNORECASE):
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", tok or "", flags=re.IGNORECASE):
            parts.append("".join(current))
            current = []
        else:
            current.append(tok or "")
    parts.append("".join(current))
    return parts


def read_authors(value: str) -> tuple[list[str], bool]:
    """(names in reading order, whether the list ends in 'and others'):
    'Müller, Jörg and {Barack Obama} and others' -> (['Jörg Müller', 'Barack Obama'], True)."""
    names, others = [], False
    for raw in _split_names(value):
        name = latex_text(raw.strip())
        if not name:
            continue
        if name.lower() in _OTHERS:
            others = True
            continue
        pieces = [p.strip() for p in name.split(",")]
        if len(pieces) == 2 and pieces[1]:
            name = f"{pieces[1]} {pieces[0]}"
        elif len(pieces) == 3:
            name = f"{pieces[2]} {pieces[0]} {pieces[1]}"
        names.append(" ".join(name.split()))
    return names, others


def split_authors(value: str) -> list[str]:
    """The names of an author field, without a closing 'and others' (see read_authors)."""
    return read_authors(value)[0]


# ------------------------------------------------------------------ entries -> works
def entry_to_work(entry: RawEntry, source_id: str, problems: list[Problem]) -> Work | None:
    f = entry.fields
    title = latex_text(f.get("title"))
    found: dict[str, str] = {"cite": entry.key}
    d = ids.doi(f.get("doi") or "") or ids.doi(f.get("url") or "")
    if f.get("doi") and not d:
        problems.append(Problem(entry.line, entry.key, f"doi {f['doi']!r} is not a DOI; left out"))
    if d:
        found["doi"] = d
    arxiv = None
    prefix = (f.get("archiveprefix") or f.get("eprinttype") or "").lower()
    if f.get("eprint") and (prefix == "arxiv" or not prefix):
        arxiv = ids.arxiv_id(f["eprint"])
    for name in ("url", "journal", "note", "howpublished", "volume"):
        if not arxiv and f.get(name):
            m = _ARXIV_IN_TEXT.search(f[name])
            arxiv = ids.arxiv_id(m.group(1)) if m else ids.arxiv_id(f[name])
    arxiv = arxiv or ids.arxiv_from_doi(d)
    if arxiv:
        found["arxiv"] = arxiv
    url = (f.get("url") or "").strip()
    if url and not web_url(url):  # only web links are stored (no javascript:, data:, file:)
        shown = url if len(url) <= 80 else url[:77] + "..."
        problems.append(Problem(entry.line, entry.key, f"url {shown!r} is not a web address (http or https); "
                                                       "left out"))
        url = ""
    if url and not (ids.arxiv_id(url) or ids.doi(url)):
        found["url"] = url
    if not title:
        problems.append(Problem(entry.line, entry.key, "no title; not imported"))
        return None
    year = None
    if f.get("year"):
        m = re.search(r"\b(1[89]\d\d|20\d\d|2100)\b", f["year"])
        if m:
            year = int(m.group(1))
        else:
            problems.append(Problem(entry.line, entry.key, f"year {f['year']!r} is not a year; left out"))
    venue = parse_venue(latex_text(f.get("journal") or f.get("booktitle") or f.get("series")), year)
    names, others = read_authors(f.get("author") or "")
    return Work(
        ids=found,
        sources=[source_id],
        title=title,
        abstract=latex_text(f.get("abstract")),
        year=year,
        venue=venue.name,
        venue_original=venue.original,
        note=venue.note,
        authors=[Author(n) for n in names],
        et_al=others,
        page=url or None,
    )


def import_bibtex(path: str | Path, source_id: str | None = None) -> ImportResult:
    """Read a .bib file: every entry that can be read becomes a Work; the rest are problems."""
    path = Path(path)
    text, problems = read_bib_text(path)
    entries, unread = read_entries(text)
    problems += unread
    source = Source(id=source_id or f"bibtex-{slug(path.stem)}", title=f"BibTeX file {path.name}",
                    agent="BibTeX import", retrieved=time.strftime("%Y-%m-%d"),
                    note=f"{len(entries)} entries read from {path.name}")
    bundle = Bundle(sources=[source])
    by_key: dict[str, tuple[Work, int]] = {}
    by_id: dict[str, tuple[str, int]] = {}
    for entry in entries:
        work = entry_to_work(entry, source.id, problems)
        if work is None:
            continue
        if entry.key in by_key:
            first, line = by_key[entry.key]
            problems.append(Problem(entry.line, entry.key, f"duplicate key (first at line {line}); merged into it"))
            for kind, value in work.ids.items():
                first.ids.setdefault(kind, value)
            for attr in ("title", "abstract", "year", "note", "page"):
                if getattr(first, attr) is None:
                    setattr(first, attr, getattr(work, attr))
            if first.venue is None:
                first.venue, first.venue_original = work.venue, work.venue_original
            if not first.authors:
                first.authors, first.et_al = work.authors, work.et_al
            continue
        for key in keys_of(work):
            if key.startswith(("doi:", "arxiv:")) and key in by_id and by_id[key][0] != entry.key:
                other, line = by_id[key]
                problems.append(Problem(entry.line, entry.key, f"same work as {other!r} (line {line}, {key}); "
                                                              "they become one node"))
                break
        for key in keys_of(work):
            by_id.setdefault(key, (entry.key, entry.line))
        by_key[entry.key] = (work, entry.line)
        bundle.works.append(work)
    return ImportResult(bundle, sorted(problems, key=lambda p: p.line), len(entries))
