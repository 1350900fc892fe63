"""The one guard for every place that takes a user's SPARQL (CLI, app, server).

Read-only: updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE, COPY)
and SERVICE (outbound requests from our process) are refused before the query
reaches the engine, wherever they hide (after comments, prefixes, in
sub-queries). Results are capped in rows and time.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

from .errors import QueryLimitExceeded, QueryRefused, QuerySyntaxError

UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
REMOTE_KEYWORDS = {"SERVICE"}

_WORD = re.compile(r"(?<![?$:_\w\-])([A-Za-z]+)(?![\w:\-])")
_POS = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.S)


def strip_sparql(text: str) -> str:
    """The query with comments, string literals and IRIs blanked out (same length)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c in "'\"":
            quote = text[i:i + 3] if text[i:i + 3] in ("'''", '"""') else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            blank(i, j + len(quote))
            i = j + len(quote)
        elif c == "<":
            m = re.match(r"<[^<>\"{}|^`\\\s]*>", text[i:])
            if m:
                blank(i, i + m.end())
                i += m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def check_query(text: str) -> None:
    """Raise QueryRefused for anything but a read-only, local query."""
    if not text or not text.strip():
        raise QueryRefused("empty query")
    words = {w.upper() for w in _WORD.findall(strip_sparql(text))}
    updates = sorted(words & UPDATE_KEYWORDS)
    if updates:
        raise QueryRefused(
            f"refused: {', '.join(updates)} would change the graph; queries here are read-only "
            "(SELECT, ASK, CONSTRUCT, DESCRIBE)")
    if words & REMOTE_KEYWORDS:
        raise QueryRefused("refused: SERVICE would make this process call another server; federated queries are off")


def parse_error(message: str) -> QuerySyntaxError:
    """Turn an engine's parse message into an error with line and column."""
    m = _POS.search(message)
    if m:
        return QuerySyntaxError(m.group(3).strip(), int(m.group(1)), int(m.group(2)))
    return QuerySyntaxError(message.strip())


@dataclass
class QueryLimits:
    max_rows: int = 10_000
    timeout_s: float = 30.0

    @classmethod
    def unbounded(cls) -> "QueryLimits":
        return cls(max_rows=10**12, timeout_s=float("inf"))

    def start(self) -> "_Clock":
        return _Clock(self.timeout_s)


class _Clock:
    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s

    def tick(self, done: int) -> None:
        if done % 256 == 0 and time.monotonic() > self.deadline:
            raise QueryLimitExceeded(f"the query ran past the {self.timeout_s:g} s time limit; narrow it or add LIMIT")
