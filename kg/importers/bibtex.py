"""Importing a BibTeX file (a survey's bibliography) into Work records.

A tolerant reader of its own: each entry is read on its own, so one broken
entry (unbalanced braces, a missing comma, no title) is reported with its line
and key while every other entry is imported. LaTeX (accents, commands, math) is
turned into Unicode text with pylatexenc, and HTML in any field is dropped.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from .. import ids
from ..records import Author, Bundle, Source, Work
from ..resolve import keys_of
from ..vocab import slug
from .text import plain_text, read_text_file, web_url

_ENTRY_START = re.compile(r"^[ \t]*@[ \t]*([A-Za-z]+)[ \t]*([{(])", re.M)
_MONTHS = {m: m.capitalize() for m in ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct",
                                        "nov", "dec")}
_ARXIV_IN_TEXT = re.compile(r"arxiv[:\s/]*(?:abs/)?([a-z\-]+(?:\.[A-Z]{2})?/\d{7}|\d{4}\.\d{4,5})(v\d+)?", re.I)


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
    fields: dict[str, str]
    line: int


@dataclass
class ImportResult:
    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    entries: int = 0  # entries read (before skipping)


class _EntryError(ValueError):
    pass


class _Reader:
    """Reads one entry's body: key, then `name = value # value ...` pairs."""

    def __init__(self, text: str, pos: int, end: int, close: str, macros: dict[str, str]):
        self.text, self.pos, self.end, self.close, self.macros = text, pos, end, close, macros

    def skip(self) -> None:
        while self.pos < self.end and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip()
        return self.text[self.pos] if self.pos < self.end else ""

    def name(self) -> str:
        self.skip()
        m = re.compile(r"[^\s,={}()\"#]+").match(self.text, self.pos, self.end)
        if not m:
            raise _EntryError(f"expected a name at {self._here()}")
        self.pos = m.end()
        return m.group(0)

    def _here(self) -> str:
        snippet = self.text[self.pos:min(self.pos + 20, self.end)].split("\n")[0]
        return f"{snippet!r}" if snippet.strip() else "the end of the entry (unbalanced braces?)"

    def braced(self) -> str:
        depth, start = 0, self.pos
        while self.pos < self.end:
            c = self.text[self.pos]
            if c == "\\":
                self.pos += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
                if depth == 0:
                    self.pos += 1
                    return self.text[start + 1:self.pos - 1]
            self.pos += 1
        raise _EntryError("unbalanced braces: a '{' is never closed")

    def quoted(self) -> str:
        depth, start = 0, self.pos
        self.pos += 1
        while self.pos < self.end:
            c = self.text[self.pos]
            if c == "\\":
                self.pos += 2
                continue
            if c == "{":
                depth += 1
            elif c == "}":
                depth -= 1
            elif c == '"' and depth <= 0:
                self.pos += 1
                return self.text[start + 1:self.pos - 1]
            self.pos += 1
        raise _EntryError('a quoted value is never closed with "')

    def value(self) -> str:
        parts = []
        while True:
            c = self.peek()
            if c == "{":
                parts.append(self.braced())
            elif c == '"':
                parts.append(self.quoted())
            elif c.isdigit():
                m = re.compile(r"\d+").match(self.text, self.pos, self.end)
                parts.append(m.group(0))
                self.pos = m.end()
            elif c and c not in ",})":
                word = self.name()
                parts.append(self.macros.get(word.lower(), _MONTHS.get(word.lower(), word)))
            else:
                raise _EntryError(f"expected a value at {self._here()}")
            if self.peek() == "#":
                self.pos += 1
                continue
            return "".join(parts)

    def fields(self) -> dict[str, str]:
        out: dict[str, str] = {}
        while True:
            c = self.peek()
            if c == self.close:
                self.pos += 1
                return out
            if c == ",":
                self.pos += 1
                continue
            if not c:
                raise _EntryError(f"the entry is never closed with '{self.close}' (unbalanced braces?)")
            name = self.name().lower()
            if self.peek() != "=":
                raise _EntryError(f"expected '=' after field '{name}', found {self._here()}")
            self.pos += 1
            value = self.value()
            out.setdefault(name, value)
            c = self.peek()
            if c not in (",", self.close):
                raise _EntryError(f"expected ',' after field '{name}', found {self._here()}")


def read_entries(text: str) -> tuple[list[RawEntry], list[Problem]]:
    """Every entry of a BibTeX text with its line; broken entries become problems."""
    starts = list(_ENTRY_START.finditer(text))
    entries: list[RawEntry] = []
    problems: list[Problem] = []
    macros: dict[str, str] = {}
    for i, m in enumerate(starts):
        kind = m.group(1).lower()
        end = starts[i + 1].start() if i + 1 < len(starts) else len(text)
        line = text.count("\n", 0, m.start()) + 1
        close = "}" if m.group(2) == "{" else ")"
        if kind in ("comment", "preamble"):
            continue
        reader = _Reader(text, m.end(), end, close, macros)
        key = None
        try:
            if kind == "string":
                name = reader.name().lower()
                if reader.peek() != "=":
                    raise _EntryError("expected '=' in @string")
                reader.pos += 1
                macros[name] = reader.value()
                continue
            key = reader.name()
            if reader.peek() != ",":
                raise _EntryError(f"expected ',' after the key {key!r}")
            reader.pos += 1
            entries.append(RawEntry(kind, key, reader.fields(), line))
        except _EntryError as exc:
            problems.append(Problem(line, key, f"not imported: {exc}"))
    return entries, problems


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


def split_authors(value: str) -> list[str]:
    """'Müller, Jörg and Doe, J. and {Barack Obama} and others' -> names in reading order."""
    parts, depth, current = [], 0, []
    tokens = re.split(r"(\s+and\s+|[{}])", value, flags=re.I)
    for tok in tokens:
        if tok == "{":
            depth += 1
        elif tok == "}":
            depth -= 1
        if depth == 0 and re.fullmatch(r"\s+and\s+", tok or "", flags=re.I):
            parts.append("".join(current))
            current = []
        else:
            current.append(tok or "")
    parts.append("".join(current))
    names = []
    for raw in parts:
        name = latex_text(raw.strip())
        if not name or name.lower() in ("others", "et al", "et al."):
            continue
        pieces = [p.strip() for p in name.split(",")]
        if len(pieces) == 2 and pieces[1]:
            name = f"{pieces[1]} {pieces[0]}"
        elif len(pieces) == 3:
            name = f"{pieces[2]} {pieces[0]} {pieces[1]}"
        names.append(" ".join(name.split()))
    return names


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
    venue = latex_text(f.get("journal") or f.get("booktitle") or f.get("series"))
    if venue and _ARXIV_IN_TEXT.search(venue) or (venue or "").lower().startswith("arxiv"):
        venue = "arXiv"
    return Work(
        ids=found,
        sources=[source_id],
        title=title,
        abstract=latex_text(f.get("abstract")),
        year=year,
        venue=venue,
        authors=[Author(n) for n in split_authors(f.get("author") or "")],
        page=url or None,
    )


def import_bibtex(path: str | Path, source_id: str | None = None) -> ImportResult:
    """Read a .bib file: every entry that can be read becomes a Work; the rest are problems."""
    path = Path(path)
    text = read_text_file(path, "latin-1")
    entries, problems = read_entries(text)
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
            for attr in ("title", "abstract", "year", "venue", "page"):
                if getattr(first, attr) is None:
                    setattr(first, attr, getattr(work, attr))
            if not first.authors:
                first.authors = work.authors
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
