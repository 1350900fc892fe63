"""The one guard for every place that takes a user's SPARQL (CLI, app, server, remote stores).

What a user query may do is decided in three walls:

1. `check_query` (in the caller, no evaluation, linear in the text): the query
   is lexed the way the grammar lexes it (kg.sparql.text), and any bare word
   that is an update keyword (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD,
   MOVE, COPY, WITH) or SERVICE is refused wherever it hides (after a dot, in
   sub-queries, FILTER EXISTS, after prefixed names with escaped quotes); the
   same words inside strings, IRIs, prefixed names, variables and comments are
   left alone. Codepoint escapes outside strings and IRIs are refused.
2. `inspect_query` (in the query worker, inside its time and memory limits):
   the text is parsed, and only parsed, by rdflib's SPARQL parser; the parse
   tree is walked and any SERVICE pattern anywhere is refused, as is anything
   that is not a SELECT, ASK, CONSTRUCT or DESCRIBE query.
3. The worker that evaluates user queries cannot reach the network at all
   (kg.store.netwall: a seccomp filter, or an empty network namespace), so even a
   query that got past both checks cannot make a request.

Limits (`QueryLimits`): rows, bytes of answer, wall-clock time and memory.
The sandbox (kg.store.sandbox) runs queries in killable worker processes and
enforces them there. `within` says whether a limit is in its range (NaN never is).
"""

from __future__ import annotations

import math
import re
import time
from dataclasses import dataclass

from . import text as sparql_text
from ..errors import QueryLimitExceeded, QueryRefused, QuerySyntaxError, UsageError
from .text import QUERY_FORMS, REMOTE_KEYWORDS, UPDATE_KEYWORDS

_PARSED_FORMS = {"SelectQuery": "SELECT", "AskQuery": "ASK", "ConstructQuery": "CONSTRUCT",
                 "DescribeQuery": "DESCRIBE"}

# Prefixes people reach for that kg does not predeclare: offered when a query uses one undeclared.
WELL_KNOWN_PREFIXES = {
    "owl": "http://www.w3.org/2002/07/owl#",
    "dc": "http://purl.org/dc/elements/1.1/",
    "bibo": "http://purl.org/ontology/bibo/",
    "sh": "http://www.w3.org/ns/shacl#",
    "void": "http://rdfs.org/ns/void#",
    "wd": "http://www.wikidata.org/entity/",
    "wdt": "http://www.wikidata.org/prop/direct/",
    "dbo": "http://dbpedia.org/ontology/",
    "geo": "http://www.opengis.net/ont/geosparql#",
    "time": "http://www.w3.org/2006/time#",
}

_POS = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.S)


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a (checked) query.

    The first query-form keyword anywhere, not only right after the prologue
    (sparql_text.query_form): a query whose prologue is malformed then reaches
    the engine, whose syntax error says where it is."""
    for word, _ in sparql_text.keywords(text):
        if word in QUERY_FORMS:
            return word
    raise QueryRefused("not a query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")


def check_query(text: str) -> str:
    """Wall 1: raise QueryRefused for anything but a read-only, local query; return its form.

    Reads tokens only (never evaluates, linear in the text), so it is safe in any process."""
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused("empty query: send a SELECT, ASK, CONSTRUCT or DESCRIBE query")
    if "\x00" in text:
        raise QueryRefused("refused: the query contains a NUL character")
    toks = sparql_text.tokens(text)
    for tok in toks:
        if tok.kind in ("word", "error", "punct", "number", "var") and "\\" in tok.text:
            raise QueryRefused("refused: \\u/\\U codepoint escapes are only accepted inside strings and IRIs "
                               "(outside them some engines decode them into keywords)")
    words = {t.keyword for t in toks if t.kind == "word"}
    updates = sorted(words & UPDATE_KEYWORDS)
    if updates:
        raise QueryRefused(
            f"refused: {', '.join(updates)} would change the graph; queries here are read-only "
            "(SELECT, ASK, CONSTRUCT, DESCRIBE)")
    if words & REMOTE_KEYWORDS:
        raise _service_refused()
    return query_form(text)


def _service_refused() -> QueryRefused:
    return QueryRefused("refused: SERVICE would make this process call another server; federated queries are off")


def inspect_query(text: str) -> str | None:
    """Wall 2: parse `text` (parse only, nothing is evaluated) and walk the parse tree.

    Refuses any SERVICE pattern anywhere and anything but a query; returns the
    query form, or None when this parser cannot read the text (SPARQL it does not
    know, or no SPARQL at all): then the token check decides here too, and the
    engine's own parser has the last word on syntax."""
    from pyparsing import ParseBaseException
    from rdflib.plugins.sparql.parser import parseQuery

    try:
        parsed = parseQuery(text)
    except (ParseBaseException, ValueError, TypeError, RecursionError, Exception):  # noqa: BLE001
        check_query(text)  # a parser gap must not let a query through unchecked
        return None
    form = None
    for node in _walk(parsed):
        name = getattr(node, "name", None)
        if name == "ServiceGraphPattern":
            raise _service_refused()
        if name in _PARSED_FORMS and form is None:
            form = _PARSED_FORMS[name]
    if form is None:
        raise QueryRefused("not a query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")
    return form


def _walk(root):
    """Every node of an rdflib parse tree (CompValue, ParseResults, lists), iteratively."""
    from pyparsing import ParseResults
    from rdflib.plugins.sparql.parserutils import CompValue

    stack = [root]
    while stack:
        node = stack.pop()
        if isinstance(node, CompValue):
            yield node
            stack.extend(node.values())
        elif isinstance(node, (ParseResults, list, tuple)):
            stack.extend(node)
        elif isinstance(node, dict):
            stack.extend(node.values())


# ---------------------------------------------------------------- syntax errors in words
def parse_error(message: str, text: str | None = None) -> QuerySyntaxError:
    """Turn an engine's parse message into an error with line, column and a readable reason."""
    m = _POS.search(message)
    if not m:
        return QuerySyntaxError(" ".join(message.split())[:300])
    line, column, detail = int(m.group(1)), int(m.group(2)), m.group(3)
    if text:  # a prefix used but never declared is the error, wherever the engine tripped over it
        try:
            check_prefixes(text)
        except QuerySyntaxError as exc:
            return exc
    return QuerySyntaxError(explain(detail, text, line, column), line, column)


def explain(detail: str, text: str | None, line: int, column: int) -> str:
    """What is wrong, in words, from the engine's 'expected one of ...' list."""
    if "Prefix not found" in detail and text:
        undeclared = undeclared_prefix(text)
        if undeclared:
            return undeclared[0]
    items = _expected_items(detail)
    notes = [i for i in items if " " in i and not i.startswith(("[", '"', "'"))]
    if notes:  # the engine's own sentence, e.g. "The SELECT contains a variable that is unbound"
        return notes[0].rstrip(".")
    expected = [_readable(i) for i in items if not i.startswith("[") and i not in notes]
    expected = [e for e in expected if e][:8]
    tok = sparql_text.token_at(text, line, column) if text else None
    unclosed = tok is not None and tok.kind == "error" and tok.text in "\"'"
    if unclosed or '"\\""' in items and tok is None:
        return "a string is not closed (a quote is missing)"
    if tok is None:
        before = _before(text, line, column) if text else ""
        said = "the query ends too early" + (f" after '{before}'" if before else "")
        said += " (a missing } or ), or a misspelt keyword?)"
    else:
        said = f"unexpected '{_short(tok.text)}'"
    if expected:
        said += "; expected " + (expected[0] if len(expected) == 1 else "one of " + ", ".join(expected))
    return said


def _readable(item: str) -> str:
    """An item of the engine's expected list as a user reads it: keywords bare, symbols quoted."""
    if item.startswith('"') and item.endswith('"') and len(item) >= 2:
        sym = item[1:-1].replace('\\"', '"').replace("\\\\", "\\")
        return "" if sym in ("{|", "|}", "~") else f"'{sym}'"
    return item if item.replace("_", "").isalnum() else ""


def _before(text: str, line: int, column: int) -> str:
    lines = text.splitlines(keepends=True)
    offset = sum(len(x) for x in lines[:line - 1]) + column - 1
    toks = [t for t in sparql_text.tokens(text) if t.end <= offset]
    return _short(text[toks[-2].start:toks[-1].end] if len(toks) >= 2 else toks[-1].text) if toks else ""


def _expected_items(detail: str) -> list[str]:
    detail = " ".join(detail.split())
    body = detail.split("expected one of", 1)[-1] if "expected one of" in detail else detail.split("expected", 1)[-1]
    items, depth, cur, quote = [], 0, "", None
    for ch in body:
        if quote:
            cur += ch
            if ch == quote and not cur.endswith("\\" + quote):
                quote = None
            continue
        if ch in "\"'" and depth == 0 and not cur.strip():
            quote = ch
        elif ch == "[":
            depth += 1
        elif ch == "]":
            depth = max(depth - 1, 0)
        if ch == "," and depth == 0:
            items.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        items.append(cur.strip())
    return [i for i in items if i]


def check_prefixes(text: str) -> None:
    """QuerySyntaxError (with line and column) for the first prefix used but not declared."""
    found = undeclared_prefix(text)
    if found:
        message, offset = found
        line = text.count("\n", 0, offset) + 1
        column = offset - (text.rfind("\n", 0, offset) + 1) + 1
        raise QuerySyntaxError(message, line, column)


def undeclared_prefix(text: str) -> tuple[str, int] | None:
    """('prefix owl: is not declared; add PREFIX owl: <...>', offset) for the first undeclared prefix used."""
    from ..vocab import PREFIXES

    toks = sparql_text.tokens(text)
    declared = set(PREFIXES)
    for i, tok in enumerate(toks):
        if tok.kind == "word" and tok.keyword == "PREFIX" and i + 1 < len(toks) and toks[i + 1].kind == "pname":
            declared.add(toks[i + 1].text.split(":", 1)[0])
    for i, tok in enumerate(toks):
        if tok.kind != "pname" or (i > 0 and toks[i - 1].keyword == "PREFIX"):
            continue
        prefix = tok.text.split(":", 1)[0]
        if prefix in declared:
            continue
        iri = WELL_KNOWN_PREFIXES.get(prefix)
        add = f"add PREFIX {prefix}: <{iri}>" if iri else f"add PREFIX {prefix}: <...> with its namespace IRI"
        known = ", ".join(f"{p}:" for p in PREFIXES)
        return f"prefix {prefix}: is not declared; {add} (kg declares {known})", tok.start
    return None


def _short(value: str, limit: int = 40) -> str:
    value = " ".join(value.split())
    return value if len(value) <= limit else value[:limit - 1] + "…"


# ---------------------------------------------------------------- limits
DEFAULT_MAX_BYTES = 64 << 20


@dataclass
class QueryLimits:
    max_rows: int = 10_000
    timeout_s: float = 30.0
    max_memory_mb: float = 2048.0  # resident memory of the query worker
    max_bytes: float = DEFAULT_MAX_BYTES  # bytes of answer text (values of every term)

    @classmethod
    def unbounded(cls) -> "QueryLimits":
        return cls(max_rows=10**12, timeout_s=math.inf, max_memory_mb=math.inf, max_bytes=math.inf)

    def start(self) -> "_Clock":
        return _Clock(self.timeout_s)

    def check(self) -> None:
        """UsageError naming the first limit that is not above 0 (inf is: no limit). NaN never is,
        and a server given it would fail every query (its clock cannot wait NaN seconds)."""
        for name in ("max_rows", "timeout_s", "max_memory_mb", "max_bytes"):
            value = getattr(self, name)
            if not within(value, 0, strict=True, infinite=True):
                raise UsageError(f"the query limit {name} must be above 0, not {value!r}", field=name)


class _Clock:
    """Checks the deadline between result rows (the sandbox enforces it inside the engine too)."""

    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s

    def tick(self, done: int) -> None:
        if done % 256 == 0 and time.monotonic() > self.deadline:
            raise time_limit_error(self.timeout_s)


def within(number: float, least: float, *, strict: bool, infinite: bool) -> bool:
    """Whether `number` is above `least` (or equal to it unless `strict`) and finite unless
    `infinite`. NaN never is: every comparison with it is false (kg.cli.console's option checks
    use this too)."""
    above = number > least if strict else number >= least
    return above and (infinite or not math.isinf(number))


def time_limit_error(timeout_s: float) -> QueryLimitExceeded:
    return QueryLimitExceeded(f"the query ran past the {timeout_s:g} s time limit and was stopped; "
                              "narrow it or add LIMIT")


def byte_limit_note(max_bytes: float) -> str:
    return (f"the answer was cut at {_size(max_bytes)} (the answer size limit); "
            "select fewer or shorter values, or add LIMIT")


def _size(n: float) -> str:
    return f"{n / 2**20:g} MB" if n >= 2**20 else f"{n / 1024:g} KB" if n >= 1024 else f"{n:g} bytes"
