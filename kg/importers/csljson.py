"""Importing CSL-JSON (Zotero's, Mendeley's and citeproc's format) into Work records.

CSL-JSON is a JSON array of items (the CSL 1.0.2 data schema): `id`, `type`, `title`,
`author` ([{family, given} | {literal}]), `issued` ({"date-parts": [[2024, 6, 13]]}),
`container-title`, `DOI`, `URL`, `abstract`, `note`, `number` (an arXiv id with
`publisher`/`archive` arXiv) ... Each item is read on its own: an item that is not an
object or has no title is named (its number and id) and skipped, and when the file is
not valid JSON, the items that still parse are imported and the broken stretch is named
with its line and column.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from .references import (ImportResult, Problem, Reference, collect, is_others, iso_date, join_name, new_source,
                         read_file)
from .text import plain_text

_ID_IN_TEXT = re.compile(r'"id"\s*:\s*("(?:[^"\\]|\\.)*"|\d+)')


def _line_col(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


def _looks_like_item(value) -> bool:
    return isinstance(value, dict) and any(k in value for k in ("id", "type", "title"))


def read_items(text: str, problems: list[Problem]) -> list[tuple[object, int | None]]:
    """The items of a CSL-JSON text with the line each starts on (None when the whole file
    parsed). Invalid JSON: every item that still parses is kept, and each broken stretch
    between them becomes a problem with its line and column."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _salvage(text, problems)
    if isinstance(data, dict) and isinstance(data.get("items"), list):  # {"items": [...]} wrappers
        data = data["items"]
    if isinstance(data, dict):
        return [(data, None)]
    if not isinstance(data, list):
        problems.append(Problem("line 1", None, f"CSL-JSON is an array of items, not a {type(data).__name__}", 0))
        return []
    return [(item, None) for item in data]


def _salvage(text: str, problems: list[Problem]) -> list[tuple[object, int | None]]:
    decoder = json.JSONDecoder()
    items: list[tuple[object, int | None]] = []
    pos, bad_from = 0, None
    while True:
        start = text.find("{", pos)
        if start < 0:
            break
        try:
            value, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError:
            value, end = None, start + 1
        if _looks_like_item(value):
            if bad_from is not None:
                _broken(text, bad_from, start, problems, decoder)
                bad_from = None
            elif text[pos:start].strip(" \t\r\n,[") and items:
                _broken(text, pos, start, problems, decoder)
            items.append((value, _line_col(text, start)[0]))
            pos = end
            continue
        if bad_from is None:
            bad_from = start
        pos = end
    if bad_from is not None:
        _broken(text, bad_from, len(text), problems, decoder)
    elif text[pos:].strip(" \t\r\n,]"):
        _broken(text, pos, len(text), problems, decoder)
    if not items and not any(p.message.startswith("not valid JSON") for p in problems):
        _broken(text, 0, len(text), problems, decoder)
    return items


def _broken(text: str, start: int, end: int, problems: list[Problem], decoder: json.JSONDecoder) -> None:
    """Name a stretch of text that is not valid JSON: where the parser stopped, and the item's id."""
    try:
        decoder.raw_decode(text[:end], start)
        error_at, reason = end, "unexpected text"
    except json.JSONDecodeError as exc:
        error_at, reason = exc.pos, exc.msg
    line, col = _line_col(text, start)
    err_line, err_col = _line_col(text, error_at)
    m = _ID_IN_TEXT.search(text, start, end)
    entry = None
    if m:
        try:
            entry = str(json.loads(m.group(1)))
        except json.JSONDecodeError:
            entry = None
    problems.append(Problem(f"line {line}", entry, f"not valid JSON ({reason} at line {err_line}, column {err_col}); "
                                                   "this part is skipped", line))


def _text(value) -> str | None:
    """A CSL text variable: a string (numbers too); the first string of a list."""
    if isinstance(value, list):
        value = next((v for v in value if isinstance(v, (str, int, float)) and not isinstance(v, bool)), None)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return value if isinstance(value, str) and value.strip() else None


def _name(person) -> str | None:
    """{family, given, suffix, particles} | {literal} -> a display name; None for 'others'."""
    name = None
    if isinstance(person, dict):
        literal = _text(person.get("literal"))
        if literal:
            name = plain_text(literal)
        else:
            name = plain_text(join_name(_text(person.get("given")), _text(person.get("dropping-particle")),
                                        _text(person.get("non-dropping-particle")), _text(person.get("family")),
                                        _text(person.get("suffix"))))
    return None if not name or is_others(name) else name


def _issued(value) -> tuple[str | None, str | None]:
    """(year text, ISO date) from a CSL date: date-parts, raw, literal, or a plain string."""
    if isinstance(value, dict):
        parts = value.get("date-parts")
        if isinstance(parts, list) and parts and isinstance(parts[0], list) and parts[0]:
            first = [p for p in parts[0] if isinstance(p, (int, str)) and not isinstance(p, bool)]
            if first:
                return str(first[0]), iso_date(*first[:3]) if len(first) > 1 else None
        value = _text(value.get("raw")) or _text(value.get("literal"))
    text = _text(value)
    if not text:
        return None, None
    m = re.match(r"^\s*(\d{4})-(\d{1,2})(?:-(\d{1,2}))?", text)
    return text, iso_date(*m.groups()) if m else None


def item_to_reference(item: dict, number: int, line: int | None, problems: list[Problem]) -> Reference:
    where = f"item {number}" + (f", line {line}" if line else "")
    key = _text(item.get("id"))
    authors = []
    people = item.get("author")
    for i, person in enumerate(people if isinstance(people, list) else [], start=1):
        if not isinstance(person, dict):
            problems.append(Problem(where, key, f"author {i} is not a name object "
                                                f"({{family, given}} or {{literal}}); left out", line or number))
            continue
        name = _name(person)
        if name and name not in authors:
            authors.append(name)
    year, date = _issued(item.get("issued"))
    publisher = " ".join(filter(None, (_text(item.get(k)) for k in ("publisher", "archive", "source", "genre"))))
    venue = (_text(item.get("container-title")) or _text(item.get("event-title")) or _text(item.get("event"))
             or _text(item.get("collection-title")))
    on_arxiv = "arxiv" in f"{publisher} {venue or ''}".lower()
    if not venue and on_arxiv:
        venue = "arXiv"  # a preprint: its server is where it appeared
    texts = [_text(item.get(k)) for k in ("number", "archive_location", "note", "container-title", "eprint",
                                          "arxiv", "arXiv")]
    bare = [_text(item.get(k)) for k in ("number", "archive_location")] if on_arxiv else []
    return Reference(
        where=where, order=line or number, key=key.strip() if key else None,
        title=_text(item.get("title")),
        authors=authors, year=year, date=date, venue=venue,
        doi=_text(item.get("DOI")) or _text(item.get("doi")),
        urls=[u for u in (_text(item.get("URL")), _text(item.get("url"))) if u],
        arxiv_texts=[t for t in texts if t], arxiv_bare=[b for b in bare if b],
        abstract=_text(item.get("abstract")),
    )


def import_csljson(path: str | Path, source_id: str | None = None) -> ImportResult:
    """Read a CSL-JSON file: every item that can be read becomes a Work; the rest are problems."""
    path = Path(path)
    problems: list[Problem] = []
    text = read_file(path, problems)
    items = read_items(text, problems)
    refs = []
    for number, (item, line) in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(Problem(f"item {number}", None, f"not a JSON object but {_kind(item)}; skipped", number))
            continue
        refs.append(item_to_reference(item, number, line, problems))
    source = new_source("csljson", "CSL-JSON", path, source_id, len(items))
    return collect(refs, source, problems)


def _kind(value) -> str:
    return {list: "a list", str: "a text", int: "a number", float: "a number", bool: "true or false",
            type(None): "null"}.get(type(value), type(value).__name__)
