"""Importing a RIS file (Zotero, Mendeley, EndNote and most databases export it) into Work records.

RIS is one `XX  - value` line per field, each reference from `TY  - ` to `ER  - `. A
tolerant pass of kg's own reads the lines with their numbers: a broken line (a tag that
is not two capitals followed by `  - `), tag lines outside any reference, and a reference
that is never closed are named with their line and skipped or kept as they stand, while
every other reference is imported. The well-formed lines of each reference are then read
by rispy, so tag names (TI/T1, AU/A1, PY/Y1/DA, T2/JO/JF, DO, UR, AB/N2, ID ...) mean what
they mean everywhere else.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .references import ImportResult, Problem, Reference, collect, iso_date, new_source, read_file, ris_name

# What readers accept: two capitals (or a capital and a digit), one or two spaces, '-', then a
# space and the value (or nothing: 'ER  -'). Zotero writes exactly two spaces.
_TAG_LINE = re.compile(r"^([A-Z][A-Z0-9]) {1,2}-(?: (.*))?$")
# What looks like an attempt at a tag line and is not one ('AU -Smith', 'au  - x', 'TI- x', 'PY   - 2020'),
# but not prose that goes on from the line before ('In-context learning ...').
_ALMOST_TAG = re.compile(r"^[A-Za-z][A-Za-z0-9](?:[ \t]+-|-(?:[ \t]|$))")
_RIS_DATE = re.compile(r"^\s*(\d{4})(?:[/-](\d{0,2})(?:[/-](\d{0,2}))?)?")
_VENUE_TAGS = ("secondary_title", "journal_name", "alternate_title3", "custom3", "tertiary_title",
               "alternate_title1", "alternate_title2")
# Fields that may name an arXiv id ('arXiv:2406.09400', 'arXiv preprint arXiv:...', an arXiv link).
_ARXIV_FIELDS = ("accession_number", "note", "notes", "type_of_work", "secondary_title", "journal_name",
                 "alternate_title3", "alternate_title1", "volume", "number", "issn", "call_number")


@dataclass
class _Record:
    line: int  # the TY line
    lines: list[str]  # well-formed tag lines, normalised to 'XX  - value'
    closed: bool = False


def read_records(text: str, problems: list[Problem]) -> list[_Record]:
    """The references of a RIS text, each with the line of its `TY  - `; broken lines become problems."""
    records: list[_Record] = []
    current: _Record | None = None
    orphans: list[int] = []  # tag lines outside a reference, reported as one run

    def flush_orphans() -> None:
        if orphans:
            where = f"line {orphans[0]}" if len(orphans) == 1 else f"lines {orphans[0]}-{orphans[-1]}"
            problems.append(Problem(where, None, "tag line(s) outside a reference (no 'TY  - ' before them); "
                                                 "skipped", orphans[0]))
            orphans.clear()

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n").replace("\x00", "")
        if number == 1:
            line = line.lstrip("\ufeff")
        m = _TAG_LINE.match(line.rstrip())
        if m:
            tag, value = m.group(1), (m.group(2) or "").strip()
            if tag == "TY":
                flush_orphans()
                if current is not None:  # the previous reference never got its ER
                    problems.append(Problem(f"line {current.line}", _label(current),
                                            f"not closed with 'ER  - ' before the next 'TY  - ' (line {number}); "
                                            "imported as it stands", current.line))
                current = _Record(number, [f"TY  - {value}"])
                records.append(current)
            elif current is None:
                orphans.append(number)
            elif tag == "ER":
                current.closed = True
                current.lines.append("ER  - ")
                current = None
            else:
                current.lines.append(f"{tag}  - {value}")
            continue
        if not line.strip():
            continue
        if current is None:
            if _ALMOST_TAG.match(line):
                orphans.append(number)
            continue  # headers and prose between references ('1.', 'Provider: ...') are not data
        if _ALMOST_TAG.match(line):
            shown = line if len(line) <= 60 else line[:57] + "..."
            problems.append(Problem(f"line {number}", _label(current),
                                    f"not a RIS line (a tag is two capitals, two spaces, '-', a space): {shown!r}; "
                                    "skipped", number))
            continue
        if len(current.lines) > 1:  # a value that goes on over several lines (abstracts, notes)
            current.lines[-1] += " " + line.strip()
    flush_orphans()
    if current is not None:
        problems.append(Problem(f"line {current.line}", _label(current),
                                "not closed with 'ER  - ' at the end of the file; imported as it stands",
                                current.line))
    return records


def _label(record: _Record) -> str | None:
    for line in record.lines:
        if line.startswith("ID  - ") and line[6:].strip():
            return line[6:].strip()
    for line in record.lines:
        if line[:2] in ("TI", "T1") and line[6:].strip():
            title = line[6:].strip()
            return repr(title if len(title) <= 40 else title[:39] + "…")
    return None


def _strings(value) -> list[str]:
    if value is None:
        return []
    if isinstance(value, dict):  # rispy's unknown tags: {tag: [values]}
        return [v for values in value.values() for v in values]
    return [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str)]


def _first(entry: dict, *names: str) -> str | None:
    for name in names:
        for value in _strings(entry.get(name)):
            if value.strip():
                return value.strip()
    return None


def _date(entry: dict) -> tuple[str | None, str | None]:
    """(year text, ISO date) from PY / Y1 / DA ('2024', '2024///', '2024/06/13/', '2024-06-13')."""
    year = _first(entry, "year", "publication_year")
    date = None
    for text in (_first(entry, "date"), year):
        m = _RIS_DATE.match(text or "")
        if m and date is None:
            date = iso_date(m.group(1), m.group(2), m.group(3))
    return year or _first(entry, "date"), date


def entry_to_reference(entry: dict, record: _Record) -> Reference:
    """One rispy entry (tag names as rispy gives them) -> a Reference."""
    authors = []
    for name in _strings(entry.get("authors")) + _strings(entry.get("first_authors")):
        shown = ris_name(name)
        if shown and shown not in authors:
            authors.append(shown)
    year, date = _date(entry)
    kind = (entry.get("type_of_reference") or "").upper()
    venue = _first(entry, *_VENUE_TAGS)
    publisher = _first(entry, "publisher") or ""
    database = _first(entry, "name_of_database") or ""
    on_arxiv = "arxiv" in f"{publisher} {database} {venue or ''}".lower()
    if not venue and on_arxiv and kind in ("GEN", "UNPB", "MANSCPT", "INPR", "EJOUR", "JOUR", "ELEC", "RPRT"):
        venue = "arXiv"  # a preprint: its server is where it appeared
    urls = [u.strip() for u in _strings(entry.get("urls")) if u.strip()]  # UR lines ('a; b' split by rispy)
    texts = [t for name in _ARXIV_FIELDS for t in _strings(entry.get(name))] + _strings(entry.get("unknown_tag"))
    bare = [_first(entry, "accession_number"), _first(entry, "number"), _first(entry, "note")] if on_arxiv else []
    return Reference(
        where=f"line {record.line}", order=record.line,
        key=_first(entry, "id"),
        title=_first(entry, "title", "primary_title"),
        authors=authors, year=year, date=date, venue=venue,
        doi=_first(entry, "doi"), urls=urls, arxiv_texts=texts, arxiv_bare=[b for b in bare if b],
        abstract=_first(entry, "abstract", "notes_abstract"),
    )


def import_ris(path: str | Path, source_id: str | None = None) -> ImportResult:
    """Read a .ris file: every reference that can be read becomes a Work; the rest are problems."""
    import rispy

    path = Path(path)
    problems: list[Problem] = []
    text = read_file(path, problems)
    records = read_records(text, problems)
    parser = rispy.RisParser()
    refs = []
    for record in records:
        lines = record.lines if record.closed else [*record.lines, "ER  - "]
        (entry,) = parser.parse_lines(iter(lines))
        refs.append(entry_to_reference(entry, record))
    source = new_source("ris", "RIS", path, source_id, len(records))
    return collect(refs, source, problems)
