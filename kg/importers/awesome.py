"""Importing an awesome-list README (Markdown) into Work and Dataset records.

The Markdown is read with a real parser (markdown-it-py, CommonMark with GitHub's
tables; HTML blocks with the standard library's html.parser), so any layout a list
uses gives the same structure: headings, tables, bullet (-, *, +) and numbered lists,
paragraphs, HTML tables and lists, and `<details>` blocks.

Understood:
- Tables with a title column under any usual name (Title, Paper, Paper Title, Name,
  Method, Model, ...), venue ('Published At', 'Conference'), year or date
  (`2024`, `2026.03`, `2024-11`, `2024-03-21`), input / output modality and link
  columns (Code, Link, Resources, Demo), in any order; a second name-like column
  (Method, Model, Name beside a Title) is the work's short name. Group rows inside a
  table ('─── Vision Language Model ───'). A table under a 'Datasets' heading without
  a paper title column, or with a concepts column, gives datasets; a dataset's
  'with [paper](link)' note links it to the paper that introduced it.
- Bullet and numbered lists, and paragraphs, one paper per item or line.
- Titles as link text, bold, italic or plain text. A title is never a generic link
  text ("Paper", "PDF", "arXiv", a badge: kg.records.titles): then the title is the entry's
  other text (bold or italic text, else the text around the links) without venue
  tags (`[2026 Arxiv-2602]`, `EMNLP'23 Findings`, `NeurIPS 2024`, `Arxiv24`), dates
  and punctuation. Badges (shields.io images inside links) name their link's kind.
- Paper links: arXiv (abs, pdf, html, with versions), DOIs, and proceedings (ACL
  Anthology, OpenReview, CVF, NeurIPS, PMLR, ...). GitHub links are the work's code,
  project pages its page. One entry gives one work with one arXiv id; a paper listed
  twice is one record (a note says so). An entry that links no paper (only its code or
  page) is given a citation key (kg.importers.keys), so the work has an identifier; a
  note names the key.
- Section headings (and `<details>` summaries, and list items that only group other
  items) are kept as the work's list section: the heading path below the list's title.
  Modalities are matched against the taxonomy's modality concepts (label, notation,
  synonyms), never against a list in code.

A table without a header row is read row by row like a list when its rows hold
paper links; otherwise a note says it was skipped. Stray separator rows are no rows.
Every entry with a link that is skipped is named in a note with the reason.

An entry's inline text and links are read by kg.importers.list_inline, its title, venue, year
and authors by kg.importers.list_fields; this module walks the document and makes the records.

Text is repaired first (UTF-8 that was decoded as Mac Roman or Windows-1252)
and every stored string is plain text (no HTML, no script). Only web links
(http, https) are stored; any other link (javascript:, data:, file:, relative)
is left out with a note.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path

from markdown_it.tree import SyntaxTreeNode

from ..records import ids
from ..records import Bundle, Dataset, Label, Source, Work
from ..records.titles import is_generic_title
from ..vocab import slug
from .bibtex import Problem
from .keys import KeyMaker
from .text import plain_text, read_text_file, repair_mojibake, web_url
from .list_fields import (LETTER, choose_title, good_title, is_tag, split_segments, strip_brackets, tidy_title,
                          venue_year, year_date)
from .list_inline import (Inline, InlineBuilder, clean, fix_delimiters, header_key, link_kind, link_words,
                          markdown_parser, split_row)

_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_WORD = re.compile(r"\w")
_DECOR = re.compile(r"^[\s\-─━—–=*_~:|]+|[\s\-─━—–=*_~:|]+$")
_BLOCKY = re.compile(r"^\s{0,3}(?:[-*+]\s+\S|\d{1,3}[.)]\s+\S|\||#{1,6}\s)", re.M)  # Markdown blocks in HTML text
# Headings that only hold the list's papers: not part of a work's section
_CONTAINER_HEADINGS = {"papers", "paper", "paper list", "papers list", "list of papers", "awesome papers", "awesome list",
                       "contents", "table of contents", "publications", "research papers", "paper collection",
                       "reading list", "literature", "all papers"}

COLUMN_NAMES = {
    "title": ("title", "titles", "papertitle", "papertitles", "papername", "titleofpaper", "paper", "papers", "work",
              "works", "article", "articles"),
    "name": ("name", "names", "method", "methods", "model", "models", "abbr", "abbreviation", "acronym", "shortname",
             "alias", "framework", "system", "approach", "dataset", "datasets", "benchmark", "benchmarks"),
    "venue": ("venue", "venues", "conference", "journal", "published", "publishedat", "publishedin", "publication",
              "conf", "proceedings", "conferencejournal", "venueyear"),
    "year": ("year", "date", "time", "month", "released", "releasedate", "publishdate", "publicationdate", "yearmonth"),
    "input": ("input", "inputs", "inputmodality", "in"),
    "output": ("output", "outputs", "outputmodality", "out"),
    "links": ("link", "links", "code", "linkcode", "resources", "resource", "repo", "github", "url", "project",
              "demo", "demos", "homepage", "page", "website", "pdf", "arxiv", "materials", "paperlink", "paperlinks",
              "codes", "repository", "implementation", "officialcode", "projectpage"),
    "concepts": ("concepts", "concept", "nconcepts", "numconcepts", "ofconcepts"),
    "notes": ("notes", "note", "description", "remarks", "comment", "comments", "summary", "tldr"),
}
_TITLE_SCORE = {"title": 3, "titles": 3, "papertitle": 3, "papertitles": 3, "papername": 3, "titleofpaper": 3}


@dataclass
class AwesomeResult:
    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    repaired: int = 0  # text runs whose mojibake was repaired
    skipped: int = 0


@lru_cache(maxsize=8192)
def _column(header: str) -> str | None:
    key = header_key(header)
    for name, options in COLUMN_NAMES.items():
        if key in options:
            return name
    words = re.findall(r"[a-z]+", header.lower())
    for name in ("title", "venue", "year", "input", "output", "concepts", "links", "name", "notes"):
        if any(w in COLUMN_NAMES[name] for w in words):
            return name
    return None


def _columns(headers: list[str]) -> list[str | None]:
    """Each header's role. The best title-like column is the title; a second one (Method, Model,
    Name beside a Title) is the short name, a 'Paper' column beside a 'Title' holds links."""
    roles = [_column(h) for h in headers]
    candidates = [(n, _TITLE_SCORE.get(header_key(h), 2 if roles[n] == "title" else 1))
                  for n, h in enumerate(headers) if roles[n] in ("title", "name")]
    if candidates:
        best = max(candidates, key=lambda c: (c[1], -c[0]))[0]
        named = False
        for n, _score in candidates:
            if n == best:
                roles[n] = "title"
            elif roles[n] == "title" and header_key(headers[n]) in ("paper", "papers"):
                roles[n] = "links"
            elif not named:
                roles[n], named = "name", True
            else:
                roles[n] = None
    return roles


def _norm_url(url: str) -> str:
    u = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    u = re.sub(r"[?#].*$", "", u)
    return u.rstrip("/")


# ---------------------------------------------------------------- the importer

class ModalityMatcher:
    """Modality words -> taxonomy notations, from the taxonomy's labels and synonyms."""

    def __init__(self, taxonomy):
        self.names: dict[str, str] = {}
        for concept in taxonomy.axis("modality"):
            for name in [concept.notation, concept.label, *concept.synonyms]:
                self.names.setdefault(self._key(name), concept.notation)

    @staticmethod
    def _key(text: str) -> str:
        return re.sub(r"[^a-z0-9]+", " ", text.lower().replace("behavior", "behaviour")).strip()

    def match(self, cell: str) -> tuple[list[str], list[str]]:
        found, unknown = [], []
        for part in re.split(r"[,/;&+]|\band\b", cell or ""):
            word = clean(part) or ""
            if not word.strip() or word.strip() in ("-", "--", "—"):
                continue
            key = self._key(word)
            notation = self.names.get(key) or self.names.get(key.rstrip("s"))
            if notation:
                if notation not in found:
                    found.append(notation)
            else:
                unknown.append(word.strip())
        return found, unknown


@dataclass
class _Cell:
    raw: str
    inline: Inline
    column: str = ""  # the header it sits under

    @property
    def text(self) -> str:
        return self.inline.text()

    def links(self) -> list[tuple[str, str]]:
        return [(words, href) for words, href, _ in self.inline.link_list()]


def _md_cell(raw: str, line: int = 0) -> _Cell:
    builder = InlineBuilder(raw, line)
    builder.markdown(raw)
    return _Cell(raw, builder.inline)


@dataclass
class _Found:
    work: Work
    line: int


class _Importer:
    def __init__(self, source: Source, matcher: ModalityMatcher, has_ref: Callable[[str], bool], title: str | None):
        self.source = source
        self.matcher = matcher
        self.has_ref = has_ref
        self.list_title = title
        self.works: list[Work] = []
        self.datasets: list[tuple[Dataset, list[tuple[str, str]], int]] = []
        self.problems: list[Problem] = []
        self.headings: dict[int, str] = {}
        self.hints: list[str | None] = []  # <details> summaries and grouping list items
        self.skipped = 0
        self.seen: dict[str, _Found] = {}
        self.keys = KeyMaker()  # citation keys for works with no paper link (kg.importers.keys)
        self.fresh_heading: tuple[str, int, int] | None = None  # a heading just before this block: text, line, level
        self.html = _Html(self)

    # ------------------------------------------------------------ context
    @property
    def section(self) -> str | None:
        path = [self.headings[k] for k in sorted(self.headings)] + [h for h in self.hints if h]
        path = [p for p in path if link_words(p) not in _CONTAINER_HEADINGS]
        return " / ".join(path) or None

    def in_datasets(self) -> bool:
        return any("dataset" in h.lower() or "benchmark" in h.lower()
                   for h in [*self.headings.values(), *(x for x in self.hints if x)])

    def heading(self, level: int, text: str) -> None:
        for lvl in [k for k in self.headings if k >= level]:
            del self.headings[lvl]
        title = plain_text(text)
        if title:
            title = re.sub(r"^[^\w\"'“(]+", "", title).strip()  # leading emoji and symbols
            if level == 1 and not self.headings and title == self.list_title and not self.works:
                return  # the list's own name
            if title:
                self.headings[level] = title

    def problem(self, line: int, entry: str | None, message: str) -> None:
        self.problems.append(Problem(line, entry, message))

    def web_links(self, line: int, name: str | None, links):
        """The links that are web addresses (http, https); the others are named in a note. Items are
        (label, url) or (label, url, extra...) tuples."""
        kept = []
        for item in links:
            label, url, *rest = item
            url = (url or "").strip()
            nested = re.fullmatch(r"\[[^\]]*\]\((\S+)\)", url)  # [![Paper](badge)]([old](new)): the new address
            if nested and web_url(nested.group(1)):
                self.problem(line, name, f"a link written inside a link's address; {nested.group(1)} used")
                url = nested.group(1)
            if web_url(url):
                kept.append((label, web_url(url), *rest))
            elif not url.startswith("#") and url:  # an anchor in the page itself is no link to keep
                shown = url if len(url) <= 80 else url[:77] + "..."
                self.problem(line, name, f"link {shown!r} is not a web address (http or https); left out")
        return kept

    # ------------------------------------------------------------ works
    def _year(self, line: int, name: str, text: str | None) -> tuple[int | None, str | None]:
        text = clean(text) or ""
        if not text or text.lower() in ("-", "--", "xx", "—", "n/a", "tbd", "?"):
            return None, None
        year, date = year_date(text)
        if year is None:
            self.problem(line, name, f"year {text!r} is not a year; left out")
        return year, date

    def add_work(self, line: int, title: str, links: list[tuple[str, str, str]], title_link: str | None,
                 venue: str | None = None, year: int | None = None, date: str | None = None,
                 labels: list[Label] | None = None, short_name: str | None = None, group: str | None = None) -> None:
        """One work from an entry's title and its web links [(words, url, kind)]."""
        found: dict[str, str] = {}
        for label, url, kind in ([("", title_link, "paper")] if title_link else []) + links:
            arxiv = ids.arxiv_id(url)
            if arxiv and not found.get("arxiv"):
                found["arxiv"] = arxiv
            elif arxiv and arxiv != found["arxiv"]:
                self.problem(line, title, f"a second arXiv id {arxiv} in the same entry; left out "
                                          f"(one entry, one work: {found['arxiv']})")
            doi = ids.doi(url)
            if doi and not found.get("doi") and not ids.arxiv_from_doi(doi):
                found["doi"] = doi
        url = title_link or next((u for _, u, k in links if k == "paper"), None) \
            or next((u for _, u, k in links if k == "other"), None)
        code = next((u for _, u, k in links if k == "code"), None)
        page = next((u for _, u, k in links if k == "page"), None)
        if url:
            found["url"] = url
        section = " / ".join(x for x in (self.section, group) if x) or None
        work = Work(ids=found, sources=[self.source.id], title=title, year=year, date=date,
                    venue=venue if venue and venue.lower() not in ("xx", "-", "--", "—") else None,
                    code=code, page=page, labels=labels or [], list_section=section,
                    short_name=short_name if short_name and short_name != title else None)
        keys = [f"arxiv:{found['arxiv']}"] if found.get("arxiv") else []
        keys += [f"doi:{found['doi']}"] if found.get("doi") else []
        keys += [f"url:{_norm_url(url)}"] if url and not found.get("arxiv") else []
        for key in keys:
            earlier = self.seen.get(key)
            if earlier is None:
                continue
            other = earlier.work
            if other.ids.get("arxiv") and found.get("arxiv") and other.ids["arxiv"] != found["arxiv"]:
                continue  # two papers under one DOI or page: two works
            for attr in ("year", "date", "venue", "code", "page", "short_name"):
                if getattr(other, attr) in (None, "") and getattr(work, attr):
                    setattr(other, attr, getattr(work, attr))
            for kind, value in found.items():
                other.ids.setdefault(kind, value)
            for lab in work.labels:
                if (lab.axis, lab.value) not in {(x.axis, x.value) for x in other.labels}:
                    other.labels.append(lab)
            if ids.normalise_title(other.title) != ids.normalise_title(title):
                self.problem(line, title, f"the same paper ({key}) as line {earlier.line}, listed there as "
                                          f"{other.title!r}; merged, that title kept")
            else:
                self.problem(line, title, f"listed again (first at line {earlier.line}); merged")
            return
        self.give_key(line, work)
        self.works.append(work)
        for key in keys:
            self.seen.setdefault(key, _Found(work, line))

    def give_key(self, line: int, work: Work) -> None:
        """A citation key for a work whose entry links no paper (only code, a project page, or links
        that are no web addresses): a work needs an identifier (kg.importers.keys); noted."""
        key = self.keys.give(work)
        if key:
            self.problem(line, work.title, f"no arXiv, DOI or paper link; given the citation key {key!r}")

    # ------------------------------------------------------------ tables
    def table(self, header: list[_Cell] | None, rows: list[tuple[int, list[_Cell], int]], html: bool = False) -> None:
        """A table: its header cells (None: no header row) and rows (line, cells, cells in the source)."""
        rows = [(n, cells, count) for n, cells, count in rows if not _is_separator(cells)]
        if header is None:
            self.headerless_table(rows, html)
            return
        if not rows:
            return
        names = [c.text for c in header]
        columns = _columns(names)
        if "title" not in columns and columns and columns[0] is None:
            columns[0] = "title"
        if "title" not in columns or sum(c is not None for c in columns) < 2:  # a layout table (images, captions)
            for n, cells, _ in rows:
                if any(link_kind(u, w) == "paper" for c in cells for w, u in c.links()):
                    self.loose_row(n, cells)
            return
        titled = any(c == "title" and _TITLE_SCORE.get(header_key(h), 2 if _column(h) == "title" else 0) >= 2
                     for c, h in zip(columns, names))
        datasets = "concepts" in columns or (self.in_datasets() and not titled)
        if not datasets and not self._paper_table(columns, rows):
            return
        group = None
        for n, cells, count in rows:
            for cell, name in zip(cells, names):
                cell.column = name
            filled = [c for c in cells if c.text.strip() or c.links()]
            if len(filled) == 1 and not filled[0].links() and count < len(columns):
                group = _DECOR.sub("", filled[0].text) or None  # a group row
                continue
            named: dict[str, _Cell] = {}
            for cell, col in zip(cells, columns):
                if col and (col not in named or not named[col].text.strip()):
                    named[col] = cell
            if count > len(columns):
                self.problem(n, tidy_title(named["title"].text) if "title" in named else None,
                             f"{count} cells for {len(columns)} columns; extra cells ignored")
            if datasets:
                self.dataset(n, named)
            else:
                self.paper(n, named, cells, group)

    def _paper_table(self, columns, rows) -> bool:
        """False (with a note) for a table whose rows link only pages or code and no paper (events, tools)."""
        some_link = False
        for _, cells, _ in rows:
            for cell, col in zip(cells, columns):
                for words, url in cell.links():
                    some_link = True
                    if link_kind(url, words) == "paper" or (col == "title" and good_title(tidy_title(words))):
                        return True
        if some_link:
            self.problem(rows[0][0], None, f"a table whose {len(rows)} row(s) link no paper (only pages or code, "
                                           "no linked title); skipped")
            self.skipped += len(rows)
            return False
        return True

    def paper(self, line: int, named: dict[str, _Cell], cells: list[_Cell], group: str | None) -> None:
        title_cell = named.get("title") or _Cell("", Inline())
        raw = title_cell.raw.strip()
        kinds = {i: link_kind(href.href, title_cell.inline.words(i)) for i, href in enumerate(title_cell.inline.links)}
        title, at = choose_title(title_cell.inline, kinds)
        raw_links = [(w, title_cell.inline.links[i].href, title_cell.column, i == at)
                     for w, _, i in title_cell.inline.link_list()]
        raw_links += [(w, u, c.column, False) for c in _ordered(cells, title_cell)[1:] for w, u in c.links()]
        links = self.web_links(line, title or tidy_title(title_cell.text) or None, raw_links)
        title_link = next((u for _, u, _, is_title in links if is_title), None)
        classified = [(w, u, link_kind(u, w, column)) for w, u, column, is_title in links if not is_title]
        short = tidy_title(named["name"].text) if "name" in named else None
        short = short if good_title(short) or (short and LETTER.search(short) and not is_generic_title(short)
                                          and not is_tag(short)) else None
        if not title_cell.text.strip() and not title_cell.inline.links and not short:
            if classified:
                self.problem(line, None, "a row with links but no title; skipped")
                self.skipped += 1
            return
        if not title_cell.inline.links and re.fullmatch(r"\s*\[[^\]]*\]\s*", raw):
            self.problem(line, clean(raw), "a template row (no link); skipped")
            self.skipped += 1
            return
        if not title:
            if short and len(short.split()) >= 1 and not title_cell.text.strip():
                title, short = short, None
            elif not _WORD.search(title_cell.text):
                self.problem(line, title_cell.text or None, "no title (only punctuation); skipped")
                self.skipped += 1
                return
            else:
                self.problem(line, title_cell.text, "no title (only a generic link text or a venue tag); skipped")
                self.skipped += 1
                return
        labels = []
        for column, axis in (("input", "input_modality"), ("output", "output_modality")):
            if column not in named:
                continue
            notations, unknown = self.matcher.match(named[column].text)
            for value in notations:
                labels.append(Label(axis, value, self.source.id, at=self.source.retrieved,
                                    evidence=f"{column} column of the list"))
            for word in unknown:
                self.problem(line, title, f"{column} modality {word!r} is not in the taxonomy; left out")
        venue = plain_text(named["venue"].text) if "venue" in named else None
        year, date = self._year(line, title, named["year"].text) if "year" in named else (None, None)
        if year is None and venue and "year" not in named:
            year = venue_year(venue)[1] or year_date(venue)[0]
        if venue and "@" not in venue and is_tag(venue):  # "EMNLP'23 Findings" -> EMNLP Findings
            venue = venue_year(venue)[0] or venue
        self.add_work(line, title, classified, title_link, venue, year, date, labels, short, group)

    def dataset(self, line: int, named: dict[str, _Cell]) -> None:
        name_cell = named.get("title") or _Cell("", Inline())
        name = tidy_title(name_cell.text) if name_cell.text else None
        if not name:
            return
        links = self.web_links(line, name, (named["links"].links() if "links" in named else []) + name_cell.links())
        notes_cell = named.get("notes") or _Cell("", Inline())
        hints = self.web_links(line, name, notes_cell.links())
        notes = clean(re.sub(r"^\s*(with|from|by|in)\s+\[[^\]]*\]\([^)]*\)\s*,?", "", notes_cell.raw, flags=re.I))
        concepts = None
        raw = plain_text(named["concepts"].text) if "concepts" in named else None
        if raw and raw not in ("-", "--", "—", "n/a", "?"):
            m = re.search(r"\d[\d,]*", raw)
            if m:
                concepts = int(m.group(0).replace(",", ""))
            else:
                self.problem(line, name, f"concept count {raw!r} is not a number; left out")
        year = self._year(line, name, named["year"].text)[0] if "year" in named else None
        dataset = Dataset(name=name, sources=[self.source.id], year=year, concepts=concepts,
                          url=links[0][1] if links else None, notes=notes)
        self.datasets.append((dataset, hints, line))

    def loose_row(self, line: int, cells: list[_Cell]) -> bool:
        """A table row without usable columns, read like a list entry: the first cell with a title is
        the title; venue tags and dates in the other cells give venue and year. True if it gave a record."""
        cells = [c for c in cells if c.text.strip() or c.inline.links]
        if not any(c.links() for c in cells):
            return False
        where, title, at = None, None, None
        for n, cell in enumerate(cells):
            title, at = choose_title(cell.inline)
            if title:
                where = n
                break
        if where is None:
            return False
        venue = year = date = None
        for n, cell in enumerate(cells):
            if n != where and is_tag(cell.text):
                v, y = venue_year(cell.text)
                venue, year = venue or v, year or y
                if date is None:
                    date = year_date(cell.text)[1]
        before = len(self.works) + len(self.datasets)
        links = [(w, cells[n].inline.links[i].href, "", n == where and i == at)
                 for n in range(len(cells)) for w, _, i in cells[n].inline.link_list()]
        self._entry(line, title, links, venue, year, date, "row")
        return len(self.works) + len(self.datasets) > before

    def headerless_table(self, rows: list[tuple[int, list[_Cell], int]], html: bool = False) -> None:
        """Rows of a table with no header row (no '|---|' line under its first row, or no <th> cells)."""
        if not rows:
            return
        imported = sum(self.loose_row(n, cells) for n, cells, _ in rows)
        what = ("an HTML table without a header row (no <th> cells and no column names)" if html else
                "a table without a header row (no '|---|' line under its first row)")
        if imported:
            self.problem(rows[0][0], None, f"{what}: {imported} of its {len(rows)} row(s) read as links")
        else:
            self.problem(rows[0][0], None, f"{what} and no paper links in its {len(rows)} row(s); skipped")
            self.skipped += 1

    # ------------------------------------------------------------ list items and paragraphs
    def entry(self, line: int, inline: Inline, kind: str) -> None:
        """A list item ('bullet') or a line of a paragraph ('paragraph')."""
        listed = inline.link_list()
        if not listed:
            return  # prose, or a table of contents entry
        if kind == "paragraph" and not any(link_kind(u, w) == "paper" for w, u, _ in listed):
            return  # prose that links something
        title, at = choose_title(inline)
        venue, year, date = _venue_of(inline, title)
        raw_links = [(w, u, "", i == at) for w, u, i in listed]
        self._entry(line, title, raw_links, venue, year, date, kind, inline)

    def _entry(self, line, title, raw_links, venue, year, date, kind, inline: Inline | None = None):
        """A list entry or a loose table row: its title and links [(words, url, column, is the title's link)]."""
        label = raw_links[0][0]
        papers = [u for w, u, _, _ in raw_links if link_kind(u, w) == "paper"]
        if self.in_datasets() and not papers:
            name = title or tidy_title(label) or None
            web = self.web_links(line, name or raw_links[0][1], raw_links[:1])
            name = name or (web[0][1] if web else None)
            if name:
                notes = tidy_title(inline.outside()) if inline is not None else None
                self.datasets.append((Dataset(name=name, sources=[self.source.id], url=web[0][1] if web else None,
                                              notes=notes if notes and notes != name else None), [], line))
            return
        shown = title or tidy_title(label) or tidy_title(inline.text() if inline else "") or raw_links[0][1]
        if not (papers or year):
            self.problem(line, shown, "not a paper link (no arXiv/DOI/proceedings link or year); skipped")
            self.skipped += 1
            return
        heading = tidy_title(self.fresh_heading[0]) if self.fresh_heading else None
        if not title and good_title(heading) and len(heading.split()) >= 2 and papers:
            title = heading  # '### Title' with the paper's links below it: a title, not a section
            self.headings.pop(self.fresh_heading[2], None)
            self.fresh_heading = None
        if not title:
            words = tidy_title(label) or raw_links[0][1]
            self.problem(line, None, f"a paper link ({words}: {papers[0] if papers else raw_links[0][1]}) with no "
                                     "title beside it (only generic link texts, badges or venue tags); skipped")
            self.skipped += 1
            return
        links = self.web_links(line, title, raw_links)
        title_link = next((u for _, u, _, is_title in links if is_title), None)
        classified = [(w, u, link_kind(u, w, column)) for w, u, column, is_title in links if not is_title]
        self.add_work(line, title, classified, title_link, venue, year, date)

    def paragraph_lines(self, line: int, inline: Inline, kind: str) -> None:
        """A paragraph or list item: one entry, or one per line when several lines link a paper
        (lines without a paper link go with the next line that has one)."""
        parts = inline.lines()
        with_paper = [p for p in parts if any(link_kind(u, w) == "paper" for w, u, _ in p.link_list())]
        if len(with_paper) < 2:
            self.entry(line + inline.first_line(), inline, kind)
            return
        chunk = Inline()
        for part in parts:
            chunk.extend(part)
            if part in with_paper:
                self.entry(line + chunk.first_line(), chunk, kind)
                chunk = Inline()

    # ------------------------------------------------------------ datasets -> papers
    def link_datasets(self) -> list[Dataset]:
        by_url: dict[str, Work] = {}
        for work in self.works:
            for link in (work.ids.get("url"), work.page, work.code):
                if link:
                    by_url.setdefault(_norm_url(link), work)
        out = []
        for dataset, hints, line in self.datasets:
            refs: list[str] = []
            for label, url in hints:
                work = by_url.get(_norm_url(url))
                if work is not None:
                    refs.append(_ref(work))
                    continue
                arxiv = ids.arxiv_id(url)
                if arxiv and self.has_ref(f"arxiv:{arxiv}"):
                    refs.append(f"arxiv:{arxiv}")
                    continue
                for ref in (f"name:{plain_text(label)}", f"name:{dataset.name}"):
                    if plain_text(label) and self.has_ref(ref):
                        refs.append(ref)
                        break
                else:
                    self.problem(line, dataset.name, f"the paper behind {url} is not in the list or the graph; "
                                                     "kept as a note")
                    dataset.notes = "; ".join(x for x in (dataset.notes, f"with {plain_text(label)} ({url})") if x)
            dataset.introduced_by = list(dict.fromkeys(refs))
            out.append(dataset)
        return out


def _ordered(cells: list[_Cell], first: _Cell) -> list[_Cell]:
    """The title cell first, then link columns, then the rest (where a row's links are looked for)."""
    rest = [c for c in cells if c is not first]
    linky = [c for c in rest if _column(c.column) == "links"]
    return [first, *linky, *[c for c in rest if c not in linky]]


class _SourceCount:
    """The number of cells a table row has in the source, counted only when asked (compared)."""

    def __init__(self, line: str):
        self.line, self.n = line, None

    def value(self) -> int:
        if self.n is None:
            self.n = len(split_row(self.line))
        return self.n

    def __lt__(self, other: int) -> bool:
        return self.value() < other

    def __gt__(self, other: int) -> bool:
        return self.line.count("|") + 1 > other and self.value() > other

    def __str__(self) -> str:
        return str(self.value())


def _is_separator(cells: list[_Cell]) -> bool:
    texts = [c.text.strip() for c in cells]
    return any(texts) and all(re.fullmatch(r":?-{2,}:?", t) or not t for t in texts)


def _venue_of(inline: Inline, title: str | None) -> tuple[str | None, int | None, str | None]:
    """Venue, year and date of a list entry, from its venue tags ('[2026 Arxiv-2602]', 'NeurIPS 2024')."""
    pieces = []
    text = inline.text()
    pieces += re.findall(r"[\[(【]([^\[\]()【】]*)[\])】]", text)
    pieces += [t for attr in ("bold", "italic") for t, _ in inline.runs(attr)]
    pieces += [label for label in map(inline.label, range(len(inline.links)))  # [CVPR 2024](...), [arXiv 2024](...)
               if not is_generic_title(label) or (re.search(r"\d", label) and is_tag(label))]
    outside = inline.outside()
    if title:
        outside = outside.replace(title, " ")
    pieces += [s for s in split_segments(strip_brackets(outside)) if s.strip()]
    venues, years, date = [], [], None
    for piece in pieces:
        if is_tag(piece, bracketed=True) or is_tag(piece):
            v, y = venue_year(piece)
            venues += [v] if v else []
            years += [y] if y else []
            date = date or year_date(piece)[1]
    venue = next((v for v in venues if v != "arXiv"), venues[0] if venues else None)
    year = min(years) if years else None
    if year is None:
        rest = outside
        m = re.search(r"\b(19\d\d|20\d\d)\b", rest)
        year = int(m.group(1)) if m else None
    return venue, year, date


def _ref(work: Work) -> str:
    for kind in ("arxiv", "doi"):
        if work.ids.get(kind):
            return f"{kind}:{work.ids[kind]}"
    return f"title:{work.title}"


# ---------------------------------------------------------------- HTML blocks

class _Html(HTMLParser):
    """HTML blocks: tables, lists, headings, <details>/<summary> and links. Its state lasts from one
    HTML block to the next (a <details>, <table> or <li> may hold Markdown between its tags)."""

    _SKIP = ("script", "style", "template", "iframe", "object", "embed", "noscript")
    _BLOCKS = ("p", "div", "blockquote", "section", "center", "hr", "dl", "dt", "dd")

    def __init__(self, importer: _Importer):
        super().__init__(convert_charrefs=True)
        self.imp = importer
        self.tables: list[dict] = []  # open tables: {"rows": [...], "row": {...} | None}
        self.stack: list[dict] = []  # open cells, list items, headings and summaries, innermost last
        self.depth = 0  # open <ul>/<ol>
        self.loose: InlineBuilder | None = None  # text outside all of them
        self.loose_raw: list[str] = []
        self.loose_line = 0
        self.details: list[bool] = []  # per open <details>: whether its summary is a hint
        self.base = 0
        self.skip = 0

    # -- where text goes
    def _line(self) -> int:
        return self.base + self.getpos()[0]

    def capturing(self) -> InlineBuilder | None:
        return self.stack[-1]["builder"] if self.stack else None

    def _target(self) -> InlineBuilder:
        target = self.capturing()
        if target is not None:
            return target
        if self.loose is None:
            self.loose = InlineBuilder(line=0)
            self.loose_line = self._line()
        return self.loose

    def flush(self) -> None:
        loose, raw, line = self.loose, "".join(self.loose_raw), self.loose_line
        self.loose, self.loose_raw = None, []
        if loose is None:
            return
        if _BLOCKY.search(raw):  # Markdown written inside an HTML block
            first = len(raw) - len(raw.lstrip("\n"))
            _walk_text(self.imp, raw, line - 1 + raw[:first].count("\n"))
        elif loose.inline.links:
            self.imp.paragraph_lines(line, loose.inline, "paragraph")

    def block(self, content: str, line: int) -> None:
        self.reset()
        self.base = line - 1
        self.feed(content)
        self.close()
        if not self.stack:
            self.flush()

    # -- opening and closing
    def _push(self, kind: str, **extra) -> None:
        self.stack.append({"kind": kind, "builder": InlineBuilder(line=0), "line": self._line(), **extra})

    def _end_cell(self) -> None:
        while self.stack and self.stack[-1]["kind"] != "cell":
            self._pop()
        if self.stack:
            self._pop()

    def _end_row(self) -> None:
        if not self.tables:
            return
        if any(x["kind"] == "cell" for x in self.stack):
            self._end_cell()
        table = self.tables[-1]
        if table["row"] is not None and table["row"]["cells"]:
            table["rows"].append(table["row"])
        table["row"] = None

    def _pop(self) -> None:
        entry = self.stack.pop()
        kind, builder = entry["kind"], entry["builder"]
        if kind == "cell":
            if self.tables:
                table = self.tables[-1]
                if table["row"] is None:
                    table["row"] = {"line": entry["line"], "cells": []}
                table["row"]["cells"].append((builder, entry["th"]))
        elif kind == "li":
            outer = self.stack[-1] if self.stack else None
            if outer is not None and outer["kind"] == "cell":
                outer["builder"].inline.extend(builder.inline)  # a list inside a table cell: the cell's text
            elif builder.inline.pieces:
                self.imp.paragraph_lines(entry["line"], builder.inline, "bullet")
        elif kind == "summary":
            text = builder.inline.text()
            if self.details and not self.details[-1] and text:
                self.imp.hints.append(tidy_title(text) or text)
                self.details[-1] = True
        else:  # a heading
            self.imp.heading(int(kind[1]), builder.inline.text())
            self.imp.fresh_heading = (builder.inline.text(), entry["line"], int(kind[1]))

    def _close(self, kind: str) -> None:
        if any(x["kind"] == kind for x in self.stack):
            while self.stack[-1]["kind"] != kind:
                self._pop()
            self._pop()

    def handle_starttag(self, tag, attrs):
        attrs = {k: v or "" for k, v in attrs}
        if tag in self._SKIP:
            self.skip += 1
            return
        if self.skip:
            return
        if tag == "table":
            if not self.stack:
                self.flush()
            self.tables.append({"rows": [], "row": None, "stack": len(self.stack)})
        elif tag == "tr" and self.tables:
            self._end_row()
            self.tables[-1]["row"] = {"line": self._line(), "cells": []}
        elif tag in ("td", "th") and self.tables:
            if any(x["kind"] == "cell" for x in self.stack[self.tables[-1]["stack"]:]):
                self._end_cell()
            if self.tables[-1]["row"] is None:
                self.tables[-1]["row"] = {"line": self._line(), "cells": []}
            self._push("cell", th=tag == "th")
        elif tag in ("ul", "ol"):
            if not self.stack:
                self.flush()
            self.depth += 1
        elif tag == "li":
            while self.stack and self.stack[-1]["kind"] == "li" and self.stack[-1]["depth"] >= self.depth:
                self._pop()  # an <li> left open
            if not self.stack:
                self.flush()
            self._push("li", depth=self.depth)
        elif re.fullmatch(r"h[1-6]", tag) or tag == "summary":
            if not self.stack:
                self.flush()
            self._push(tag)
        elif tag == "details":
            self.flush()
            self.details.append(False)
        elif tag in self._BLOCKS:
            target = self.capturing()
            if target is not None:
                target.brk(newline=False)
            else:
                self.flush()
        else:
            self._target().tag(tag, attrs, False)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag in ("a", "b", "strong", "i", "em"):
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in self._SKIP:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag in ("td", "th"):
            self._end_cell()
        elif tag == "tr":
            self._end_row()
        elif tag == "table" and self.tables:
            self._end_row()
            while len(self.stack) > self.tables[-1]["stack"]:
                self._pop()
            table = self.tables.pop()
            self.imp_table(table["rows"], table_line=table["rows"][0]["line"] if table["rows"] else 0)
        elif tag in ("ul", "ol"):
            while self.stack and self.stack[-1]["kind"] == "li" and self.stack[-1]["depth"] >= self.depth:
                self._pop()
            self.depth = max(0, self.depth - 1)
        elif tag == "li":
            self._close("li")
        elif re.fullmatch(r"h[1-6]", tag) or tag == "summary":
            self._close(tag)
        elif tag == "details":
            if not self.stack:
                self.flush()
            if self.details and self.details.pop() and self.imp.hints:
                self.imp.hints.pop()
        elif tag in self._BLOCKS:
            target = self.capturing()
            if target is not None:
                target.brk(newline=False)
            else:
                self.flush()
        else:
            target = self.capturing() or self.loose
            if target is not None:
                target.tag(tag, {}, True)

    def handle_data(self, data):
        if self.skip or not data:
            return
        target = self.capturing()
        if target is not None:
            if re.search(r"[\[*_`]", data):
                target.markdown(data)
            else:
                target.text(data)
            return
        if not data.strip() and self.loose is None:
            return
        loose = self._target()
        self.loose_raw.append(data)
        loose.markdown(data)

    def imp_table(self, rows: list[dict], table_line: int) -> None:
        if not rows:
            return
        made = [(r["line"], [_Cell(b.inline.text(), b.inline) for b, _ in r["cells"]], len(r["cells"]),
                 all(th for _, th in r["cells"])) for r in rows]
        first = made[0]
        if not any(c.inline.link_list() for _, cells, _, _ in made for c in cells):
            return  # a layout table (a table of contents, images)
        header, body = None, made
        roles = _columns([c.text for c in first[1]])
        no_paper = not any(link_kind(u, w) == "paper" for c in first[1] for w, u in c.links())
        if first[3] or (no_paper and "title" in roles and sum(r is not None for r in roles) >= 2 and len(made) > 1):
            header, body = first[1], made[1:]
        self.imp.table(header, [(n, cells, count) for n, cells, count, _ in body], html=True)

    def finish(self) -> None:
        """The end of the document: what is still open (an unclosed <table>, <li> or <details>) is read."""
        while self.tables:
            self.handle_endtag("table")
        while self.stack:
            self._pop()
        self.flush()
        self.imp.hints.clear()

    def absorb(self, node: SyntaxTreeNode) -> None:
        """Markdown inside an open HTML cell or list item (between blank lines): its text joins it."""
        target = self.capturing()
        for inline in _inlines(node):
            target.brk(newline=False)
            target.tokens(inline.children)


def _inlines(node: SyntaxTreeNode):
    if node.type == "inline":
        yield node.token
        return
    for child in node.children:
        yield from _inlines(child)


# ---------------------------------------------------------------- walking the document

def _inline_of(node: SyntaxTreeNode, line: int = 0) -> Inline:
    builder = InlineBuilder(node.content if node.type == "inline" else "", line)
    for n, inline in enumerate(_inlines(node)):
        if n:
            builder.brk()
        builder.tokens(inline.children)
    return builder.inline


def _walk_text(importer: _Importer, text: str, offset: int) -> None:
    tokens = markdown_parser().parse(fix_delimiters(text))
    _Walker(importer, text.split("\n"), offset).walk(SyntaxTreeNode(tokens).children)


class _Walker:
    def __init__(self, importer: _Importer, lines: list[str], offset: int):
        self.imp = importer
        self.lines = lines
        self.offset = offset

    def line(self, node: SyntaxTreeNode) -> int:
        return (node.map[0] if node.map else 0) + 1 + self.offset

    def walk(self, nodes) -> None:
        for node in nodes:
            self.node(node)

    def node(self, node: SyntaxTreeNode) -> None:
        kind = node.type
        if kind == "html_block":
            self.imp.html.block(node.content, self.line(node))
            return
        if self.imp.html.capturing() is not None and kind in ("paragraph", "bullet_list", "ordered_list",
                                                              "heading", "blockquote"):
            self.imp.html.absorb(node)
            return
        if kind == "heading":
            text = _inline_of(node).text()
            self.imp.heading(int(node.tag[1]), text)
            listed = node.tag == "h1" and plain_text(text) == self.imp.list_title
            self.imp.fresh_heading = None if listed else (text, self.line(node), int(node.tag[1]))
            return
        self.imp.fresh_heading = None if kind != "paragraph" else self.imp.fresh_heading
        if kind == "table":
            self.table(node)
        elif kind in ("bullet_list", "ordered_list"):
            for item in node.children:
                self.item(item)
        elif kind == "paragraph":
            self.paragraph(node)
            self.imp.fresh_heading = None
        elif kind == "blockquote":
            self.walk(node.children)

    def table(self, node: SyntaxTreeNode) -> None:
        header, rows = None, []
        for part in node.children:
            for tr in part.children:
                cells = [_Cell(cell.children[0].content if cell.children else "",
                               _inline_of(cell.children[0]) if cell.children else Inline())
                         for cell in tr.children]
                if part.type == "thead":
                    header = cells
                else:
                    n = tr.map[0] if tr.map else 0
                    source = self.lines[n] if n < len(self.lines) else ""
                    rows.append((n + 1 + self.offset, cells, _SourceCount(source)))
        self.imp.table(header, rows)

    def paragraph(self, node: SyntaxTreeNode) -> None:
        start, end = node.map if node.map else (0, 0)
        source = [x for x in self.lines[start:end] if x.strip()]
        if source and all(x.strip().startswith("|") for x in source):  # a table without a header row
            rows = [(start + n + 1 + self.offset, [_md_cell(c) for c in split_row(x)], len(split_row(x)))
                    for n, x in enumerate(self.lines[start:end]) if x.strip()]
            self.imp.table(None, rows)
            return
        self.imp.paragraph_lines(self.line(node), _inline_of(node), "paragraph")

    def item(self, item: SyntaxTreeNode) -> None:
        own = [c for c in item.children if c.type == "paragraph"]
        lists = [c for c in item.children if c.type in ("bullet_list", "ordered_list")]
        others = [c for c in item.children if c not in own and c not in lists]
        inline = Inline()
        for p in own:
            inline.extend(_inline_of(p, (p.map[0] - item.map[0]) if p.map and item.map else 0))
        subs = [li for lst in lists for li in lst.children]
        own_links = inline.link_list()
        if own and subs and not any(link_kind(u, w) == "paper" for w, u, _ in own_links):
            subs_inlines = [_inline_of(li) for li in subs]
            if inline.text() and all(s.link_list() and choose_title(s)[0] is None for s in subs_inlines):
                for s in subs_inlines:  # '- **Title**' with its links in sub-items: one entry
                    inline.extend(s)
                self.imp.paragraph_lines(self.line(item), inline, "bullet")
                for o in others:
                    self.node(o)
                return
        if own:
            self.imp.paragraph_lines(self.line(item), inline, "bullet")
        hint = None
        if subs and not own_links and inline.text() and len(inline.text().split()) <= 12:
            hint = tidy_title(inline.text())  # an item that only groups the items below it
        if hint:
            self.imp.hints.append(hint)
        for li in subs:
            self.item(li)
        if hint:
            self.imp.hints.pop()
        for o in others:
            self.node(o)


def parse_awesome(text: str, source: Source, taxonomy, has_ref: Callable[[str], bool] | None = None) -> AwesomeResult:
    """Markdown text -> records. `has_ref` says whether the graph already knows a work ref."""
    repaired = repair_mojibake(text)
    runs = sum(1 for run in re.findall(r"[^\x00-\x7f]+", text) if repair_mojibake(run) != run)
    text = repaired.replace("\r\n", "\n").replace("\r", "\n")
    importer = _Importer(source, ModalityMatcher(taxonomy), lambda ref: False, list_title(text))
    _walk_text(importer, text, 0)
    importer.html.finish()
    importer.has_ref = lambda ref: bool(has_ref and has_ref(ref))
    datasets = importer.link_datasets()
    bundle = Bundle(sources=[source], works=importer.works, datasets=datasets)
    return AwesomeResult(bundle, sorted(importer.problems, key=lambda p: p.line), runs, importer.skipped)


def list_title(text: str) -> str | None:
    """The list's name: its first level-1 heading, badges removed."""
    for line in repair_mojibake(text).splitlines():
        m = _HEADING.match(line.strip())
        if m and len(m.group(1)) == 1:
            title = clean(re.sub(r"\[!\[[^\]]*\]\([^)]*\)\]\([^)]*\)", "", m.group(2)))
            if title:
                return title
    return None


def import_awesome(path: str | Path, taxonomy=None, has_ref: Callable[[str], bool] | None = None,
                   source_id: str | None = None) -> AwesomeResult:
    path = Path(path)
    text = read_text_file(path, "cp1252")
    if taxonomy is None:
        from ..paths import ontology_dir
        from ..rdf.taxonomy import read_taxonomy

        taxonomy = read_taxonomy(ontology_dir() / "taxonomy.ttl")
    title = list_title(text) or path.name
    source = Source(id=source_id or f"awesome-{slug(path.stem)}", title=title, agent=f"{title} maintainers",
                    retrieved=time.strftime("%Y-%m-%d"), note=f"Imported from the Markdown file {path.name}")
    return parse_awesome(text, source, taxonomy, has_ref)
