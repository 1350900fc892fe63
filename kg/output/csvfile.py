"""CSV for spreadsheets: the one place every CSV kg writes passes its cells through.

Titles and names come from the web, so a cell can hold a spreadsheet formula
(`=HYPERLINK("http://x","click")`, `+cmd|...`, `@SUM(...)`) or bidirectional-text
controls that make a cell read differently from what it holds (U+202E turns
"gpj.exe" into "exe.jpg"). Every cell written here:

- loses its bidi controls (U+061C, U+200E, U+200F, U+202A-U+202E, U+2066-U+2069);
- starts with an apostrophe when it would start with `=`, `+`, `-`, `@`, a tab or a
  carriage return (the OWASP advice for CSV injection), unless it is a plain number such
  as `-3` or `+1.5e3`, which stays a number.

Used by `kg export --format csv`, `kg query --format csv`, the server's text/csv answers
(all through query_result_csv or this writer) and the report's CSV.
"""

from __future__ import annotations

import csv
import io
import re

BIDI_CONTROLS = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
_STRIP_BIDI = dict.fromkeys(map(ord, BIDI_CONTROLS))
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?")


def strip_bidi(text: str) -> str:
    """The text without bidirectional-text control characters."""
    return text.translate(_STRIP_BIDI)


def cell(value) -> str:
    """One CSV cell a spreadsheet shows as the text it holds and never runs as a formula."""
    if value is None:
        return ""
    text = strip_bidi(value if isinstance(value, str) else str(value))
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


class Writer:
    """csv.writer whose every cell goes through `cell`."""

    def __init__(self, handle, lineterminator: str = "\r\n"):
        self._writer = csv.writer(handle, lineterminator=lineterminator)

    def writerow(self, row) -> None:
        self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows) -> None:
        for row in rows:
            self.writerow(row)


def writer(handle, lineterminator: str = "\r\n") -> Writer:
    """A CSV writer on an open text handle (opened with newline="")."""
    return Writer(handle, lineterminator)


def query_result_csv(result) -> str:
    """A query result (kg.sparql.results.QueryResult) as SPARQL 1.1 CSV results, every cell
    spreadsheet-safe (formulas get a leading apostrophe, bidi controls are dropped); the JSON,
    XML and TSV forms keep exact values."""
    buf = io.StringIO()
    out = writer(buf, lineterminator="\r\n")
    if result.kind == "ask":
        out.writerow(["boolean"])
        out.writerow(["true" if result.boolean else "false"])
    elif result.kind == "graph":
        out.writerow(["subject", "predicate", "object"])
        for triple in result.triples:
            out.writerow([t.value for t in triple])
    else:
        out.writerow(result.vars)
        for row in result.rows:
            out.writerow(["" if row.get(v) is None else row[v].value for v in result.vars])
    return buf.getvalue()
