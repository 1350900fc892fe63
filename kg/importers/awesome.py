"""Importing an awesome-list README (Markdown) into Work and Dataset records.

Understood: Markdown tables (title / venue / year / input / output / link
columns, in any order, named loosely), group rows inside a table
('─── Vision Language Model ───'), bullet lists of links, and headings as
section hints. A table under a 'Datasets' heading, or with a concepts column,
gives datasets; a dataset's 'with [paper](link)' note links it to the paper
that introduced it. Modalities are matched against the taxonomy's modality
concepts (label, notation, synonyms), never against a list in code.

A table without a header row (no '|---|' line under its first row), or with
columns none of which is understood, is read row by row like a bullet list
when its rows hold paper links; otherwise a note says it was skipped. Stray
separator rows are no rows.

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
from pathlib import Path

from .. import ids
from ..records import Bundle, Dataset, Label, Source, Work
from ..vocab import slug
from .bibtex import Problem
from .text import plain_text, read_text_file, repair_mojibake, web_url

# [label](url), [label](<url>), [label](url "title"); a url may hold balanced parentheses
_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(?:<([^>\n]*)>|((?:[^()\s]|\([^()\s]*\))+))"
                   r"(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+(.*)$")
_WORD = re.compile(r"\w")
_LETTER = re.compile(r"[^\W\d_]")
_DECOR = re.compile(r"^[\s\-─━—–=*_~:|]+|[\s\-─━—–=*_~:|]+$")
_PAPER_HOSTS = ("arxiv.org", "doi.org", "openreview.net", "aclanthology.org", "aclweb.org", "semanticscholar.org",
                "openaccess.thecvf.com", "proceedings.", "ieeexplore.ieee.org", "dl.acm.org", "springer.com",
                "papers.nips.cc", "neurips.cc", "ojs.aaai.org", "ijcai.org", "sciencedirect.com")

COLUMN_NAMES = {
    "title": ("title", "paper", "papers", "name", "method", "model", "work"),
    "venue": ("venue", "conference", "journal", "published", "publication", "conf"),
    "year": ("year", "date"),
    "input": ("input", "inputs", "inputmodality", "in"),
    "output": ("output", "outputs", "outputmodality", "out"),
    "links": ("link", "links", "code", "linkcode", "resources", "repo", "github", "url", "project"),
    "concepts": ("concepts", "concept", "nconcepts", "numconcepts", "ofconcepts"),
    "notes": ("notes", "note", "description", "remarks", "comment"),
}


@dataclass
class AwesomeResult:
    bundle: Bundle
    problems: list[Problem] = field(default_factory=list)
    repaired: int = 0  # text runs whose mojibake was repaired
    skipped: int = 0


def _column(header: str) -> str | None:
    key = re.sub(r"[^a-z]", "", header.lower().replace("#", "n"))
    for name, options in COLUMN_NAMES.items():
        if key in options:
            return name
    return None


def split_row(line: str) -> list[str]:
    """Cells of a Markdown table row ('|' inside links and code, and '\\|', stay in their cell)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    cells, current, depth, code = [], [], 0, False
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if c == "`":
            code = not code
        elif c in "[(" and not code:
            depth += 1
        elif c in "])" and not code and depth:
            depth -= 1
        if c == "|" and not code and depth == 0:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    cells.append("".join(current).strip())
    return cells


def links_in(text: str) -> list[tuple[str, str]]:
    """[(label, url)] of the Markdown links (not images) in a piece of text."""
    return [(m.group(1), m.group(2) if m.group(2) is not None else m.group(3))
            for m in _LINK.finditer(text) if not m.group(0).startswith("!")]


def clean(text: str | None) -> str | None:
    """Markdown cell -> plain text: links keep their label, images/HTML/emphasis go."""
    if text is None:
        return None
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](\S(?:.*?\S)?)[*_](?!\w)", r"\1", text)
    return plain_text(text)


def _norm_url(url: str) -> str:
    u = re.sub(r"^https?://(www\.)?", "", url.strip().lower())
    u = re.sub(r"[?#].*$", "", u)
    return u.rstrip("/")


def _is_paper_link(url: str) -> bool:
    return any(host in url.lower() for host in _PAPER_HOSTS)


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
class _Table:
    columns: list[str | None]
    datasets: bool
    group: str | None = None


class _Importer:
    def __init__(self, source: Source, matcher: ModalityMatcher, has_ref: Callable[[str], bool]):
        self.source = source
        self.matcher = matcher
        self.has_ref = has_ref
        self.works: list[Work] = []
        self.datasets: list[tuple[Dataset, list[tuple[str, str]], int]] = []
        self.problems: list[Problem] = []
        self.headings: dict[int, str] = {}
        self.skipped = 0

    # ------------------------------------------------------------ context
    @property
    def section(self) -> str | None:
        if not self.headings:
            return None
        return self.headings[max(self.headings)]

    def in_datasets(self) -> bool:
        return any("dataset" in h.lower() or "benchmark" in h.lower() for h in self.headings.values())

    def heading(self, level: int, text: str) -> None:
        for lvl in [k for k in self.headings if k >= level]:
            del self.headings[lvl]
        title = clean(text)
        if title:
            title = re.sub(r"^[^\w\"'“(]+", "", title).strip()  # leading emoji and symbols
            self.headings[level] = title

    def problem(self, line: int, entry: str | None, message: str) -> None:
        self.problems.append(Problem(line, entry, message))

    # ------------------------------------------------------------ rows
    def _year(self, line: int, name: str, text: str | None) -> int | None:
        text = clean(text) or ""
        if not text or text in ("-", "--", "xx"):
            return None
        m = re.search(r"\b(19\d\d|20\d\d)\b", text)
        if not m:
            self.problem(line, name, f"year {text!r} is not a year; left out")
            return None
        return int(m.group(1))

    def paper(self, line: int, cells: dict[str, str], group: str | None) -> None:
        title_cell = cells.get("title", "")
        links = links_in(title_cell)
        title = clean(title_cell)
        if not title:
            return
        if not _WORD.search(title):
            self.problem(line, title, "no title (only punctuation); skipped")
            self.skipped += 1
            return
        if not links and re.fullmatch(r"\s*\[[^\]]*\]\s*", title_cell):
            self.problem(line, title, "a template row (no link); skipped")
            self.skipped += 1
            return
        links = self.web_links(line, title, links)
        url = links[0][1] if links else None
        found: dict[str, str] = {}
        code = page = None
        extra = self.web_links(line, title, links_in(cells.get("links", "")))
        for label, link in ([(lab, u) for lab, u in links] + extra):
            if not found.get("arxiv") and ids.arxiv_id(link):
                found["arxiv"] = ids.arxiv_id(link)
            if not found.get("doi") and ids.doi(link):
                found["doi"] = ids.doi(link)
        for label, link in extra:
            low = (label or "").lower()
            if "code" in low or "github" in low or ("github.com" in link and "page" not in low):
                code = code or link
            elif any(w in low for w in ("page", "project", "website", "homepage", "demo")):
                page = page or link
            elif not url:
                url = link
        if url:
            found["url"] = url
        labels = []
        for column, axis in (("input", "input_modality"), ("output", "output_modality")):
            if column not in cells:
                continue
            notations, unknown = self.matcher.match(cells[column])
            for value in notations:
                labels.append(Label(axis, value, self.source.id, at=self.source.retrieved,
                                    evidence=f"{column} column of the list"))
            for word in unknown:
                self.problem(line, title, f"{column} modality {word!r} is not in the taxonomy; left out")
        venue = clean(cells.get("venue"))
        self.works.append(Work(
            ids=found,
            sources=[self.source.id],
            title=title,
            year=self._year(line, title, cells.get("year")),
            venue=venue if venue and venue.lower() not in ("xx", "-", "--") else None,
            code=code,
            page=page,
            labels=labels,
            list_section=" / ".join(x for x in (self.section, group) if x) or None,
        ))

    def dataset(self, line: int, cells: dict[str, str]) -> None:
        name_cell = cells.get("title", "")
        name = clean(name_cell)
        if not name:
            return
        links = self.web_links(line, name, links_in(cells.get("links", "")) + links_in(name_cell))
        notes_cell = cells.get("notes", "")
        hints = self.web_links(line, name, links_in(notes_cell))
        notes = clean(re.sub(r"^\s*(with|from|by|in)\s+\[[^\]]*\]\([^)]*\)\s*,?", "", notes_cell, flags=re.I))
        concepts = None
        raw = clean(cells.get("concepts"))
        if raw and raw not in ("-", "--", "—", "n/a", "?"):
            m = re.search(r"\d[\d,]*", raw)
            if m:
                concepts = int(m.group(0).replace(",", ""))
            else:
                self.problem(line, name, f"concept count {raw!r} is not a number; left out")
        dataset = Dataset(name=name, sources=[self.source.id], year=self._year(line, name, cells.get("year")),
                          concepts=concepts, url=links[0][1] if links else None, notes=notes)
        self.datasets.append((dataset, hints, line))

    def bullet(self, line: int, text: str) -> None:
        links = links_in(text)
        if not links or links[0][1].startswith("#"):
            return  # a table of contents entry or plain prose
        label, url = links[0]
        if self.in_datasets():
            web = self.web_links(line, clean(label) or url, [(label, url)])
            name = clean(label) or (web[0][1] if web else None)
            if name:
                self.datasets.append((Dataset(name=name, sources=[self.source.id], url=web[0][1] if web else None,
                                              notes=clean(_LINK.sub("", text)) or None), [], line))
            return
        rest = _LINK.sub(" ", text)
        year = re.search(r"\b(19\d\d|20\d\d)\b", rest)
        if not (_is_paper_link(url) or year):
            self.problem(line, clean(label), "not a paper link (no arXiv/DOI/proceedings link or year); skipped")
            self.skipped += 1
            return
        venue = re.search(r"\b([A-Z][A-Za-z]*[A-Z][A-Za-z]*|arXiv)\s*'?\s*(19|20)\d\d\b", rest)
        cells = {"title": f"[{label}]({url})",
                 "links": " ".join(f"[{lab}]({u})" for lab, u in links[1:]),
                 "year": year.group(0) if year else "",
                 "venue": venue.group(1) if venue else ""}
        self.paper(line, cells, None)

    def web_links(self, line: int, name: str | None, links: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The links that are web addresses (http, https); the others are named in a note."""
        kept = []
        for label, url in links:
            if web_url(url):
                kept.append((label, web_url(url)))
            elif not url.startswith("#"):  # an anchor in the page itself is no link to keep, nor worth a note
                shown = url if len(url) <= 80 else url[:77] + "..."
                self.problem(line, name, f"link {shown!r} is not a web address (http or https); left out")
        return kept

    def loose_row(self, line: int, row: str) -> bool:
        """A table row without usable columns, read like a bullet: the first cell with words is
        the title (its link, else the row's first paper link, is the paper's). True if it gave a record."""
        cells = [c for c in split_row(row) if c.strip()]
        links = [(lab, u) for c in cells for lab, u in links_in(c) if not u.startswith("#")]
        where = next((n for n, c in enumerate(cells) if _LETTER.search(clean(c) or "")), None)
        if not links or where is None:
            return False
        title_cell, rest = cells[where], cells[:where] + cells[where + 1:]
        if not links_in(title_cell):
            main = next((u for _, u in links if _is_paper_link(u)), links[0][1])
            title_cell = f"[{clean(title_cell)}]({main})"
        before = len(self.works) + len(self.datasets)
        self.bullet(line, " ".join([title_cell, *rest]))
        return len(self.works) + len(self.datasets) > before

    def headerless_table(self, rows: list[tuple[int, str]]) -> None:
        """Rows of a table with no header row (no '|---|' line under its first row)."""
        content = [(n, r) for n, r in rows if not _SEPARATOR.match(r)]  # a stray separator is no row
        if not content:
            return
        imported = sum(self.loose_row(n, r) for n, r in content)
        if imported:
            self.problem(content[0][0], None, f"a table without a header row (no '|---|' line under its first "
                                              f"row): {imported} of its {len(content)} row(s) read as links")
        else:
            self.problem(content[0][0], None, f"a table without a header row (no '|---|' line under its first "
                                              f"row) and no paper links in its {len(content)} row(s); skipped")
            self.skipped += 1

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
                for ref in (f"name:{clean(label)}", f"name:{dataset.name}"):
                    if clean(label) and self.has_ref(ref):
                        refs.append(ref)
                        break
                else:
                    self.problem(line, dataset.name, f"the paper behind {url} is not in the list or the graph; "
                                                     "kept as a note")
                    dataset.notes = "; ".join(x for x in (dataset.notes, f"with {clean(label)} ({url})") if x)
            dataset.introduced_by = list(dict.fromkeys(refs))
            out.append(dataset)
        return out


def _ref(work: Work) -> str:
    for kind in ("arxiv", "doi"):
        if work.ids.get(kind):
            return f"{kind}:{work.ids[kind]}"
    return f"title:{work.title}"


def parse_awesome(text: str, source: Source, taxonomy, has_ref: Callable[[str], bool] | None = None) -> AwesomeResult:
    """Markdown text -> records. `has_ref` says whether the graph already knows a work ref."""
    repaired = repair_mojibake(text)
    runs = sum(1 for run in re.findall(r"[^\x00-\x7f]+", text) if repair_mojibake(run) != run)
    text = repaired
    importer = _Importer(source, ModalityMatcher(taxonomy), lambda ref: False)
    lines = text.splitlines()
    table: _Table | None = None
    in_code = False
    i = 0
    while i < len(lines):
        raw = lines[i]
        lineno = i + 1
        stripped = raw.strip()
        if stripped.startswith("```"):
            in_code = not in_code
            i += 1
            continue
        if in_code:
            i += 1
            continue
        m = _HEADING.match(stripped)
        if m:
            importer.heading(len(m.group(1)), m.group(2))
            table = None
            i += 1
            continue
        if stripped.startswith("|"):
            if table is None and not (i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1])):
                rows = []  # a table without a header row: up to the next header row, or its end
                while i < len(lines) and lines[i].strip().startswith("|") and not (
                        rows and i + 1 < len(lines) and _SEPARATOR.match(lines[i + 1])):
                    rows.append((i + 1, lines[i].strip()))
                    i += 1
                importer.headerless_table(rows)
                continue
            if table is None:  # a header row, with its separator below
                header = split_row(stripped)
                columns = [_column(h) for h in header]
                if "title" not in columns and columns:
                    columns[0] = "title" if columns[0] is None else columns[0]
                if "title" in columns and sum(c is not None for c in columns) >= 2:
                    datasets = "concepts" in columns or importer.in_datasets()
                    table = _Table(columns, datasets)
                else:
                    table = _Table([], False)  # a layout table (images, captions): not data
                i += 2
                continue
            if _SEPARATOR.match(stripped):
                pass  # a stray separator row inside a table: no data
            elif not table.columns:  # a layout table (images, captions): only rows with paper links count
                if any(_is_paper_link(u) for _, u in links_in(stripped)):
                    importer.loose_row(lineno, stripped)
            else:
                cells = split_row(stripped)
                filled = [c for c in cells if c.strip()]
                if len(filled) == 1 and not links_in(filled[0]) and len(cells) < len(table.columns):
                    table.group = _DECOR.sub("", clean(filled[0]) or "") or None  # a group row
                else:
                    named = {col: cells[n] for n, col in enumerate(table.columns) if col and n < len(cells)}
                    if len(cells) > len(table.columns) and any(c.strip() for c in cells[len(table.columns):]):
                        importer.problem(lineno, clean(named.get("title")),
                                         f"{len(cells)} cells for {len(table.columns)} columns; extra cells ignored")
                    if table.datasets:
                        importer.dataset(lineno, named)
                    else:
                        importer.paper(lineno, named, table.group)
            i += 1
            continue
        table = None
        b = _BULLET.match(raw)
        if b:
            importer.bullet(lineno, b.group(1))
        i += 1
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
        from ..taxonomy import read_taxonomy

        taxonomy = read_taxonomy(ontology_dir() / "taxonomy.ttl")
    title = list_title(text) or path.name
    source = Source(id=source_id or f"awesome-{slug(path.stem)}", title=title, agent=f"{title} maintainers",
                    retrieved=time.strftime("%Y-%m-%d"), note=f"Imported from the Markdown file {path.name}")
    return parse_awesome(text, source, taxonomy, has_ref)
