"""Named SPARQL queries shipped in kg/queries/*.rq.

Each file starts with comment lines: `# title:`, `# answers:` (may continue on
indented comment lines) and optionally `# params: a, b` for variables a caller
must bind (and the only ones it may). A parameter named after a taxonomy axis
(category, mechanism, modality, task, metric: AXIS_PARAMS) takes a notation of
that axis, as papers-by-cell lists them; `check_notations` refuses any other
value, where the query would quietly answer nothing.

A listing (one row per work, edge or label, as many as the graph holds) is
paged: `# pages: N` and one sub-select `{ SELECT ... LIMIT N OFFSET 0 }` that
picks the page's works (the driver). The text as shipped answers page one and
stays plain SPARQL; `page_text(k)` moves the offset, and `run_named` reads every
page (from a remote endpoint: `whole_text()`, the listing as one query) and puts
the rows in the query's ORDER BY order, as the unpaged query would. A page is
one small request (0.2 s or less at 100,000 papers, where a whole listing takes
5-15 s), which is what `kg query --name` and the bench's latency figures use.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from functools import cache

from ..errors import UsageError
from ..paths import queries_dir
from .results import QueryResult, Term
from .text import Outline, Select, iri_list, split_order

# A whole listing is read in pages of this many driver rows: fewer, larger requests than
# the interactive page (each OFFSET skips every earlier row again; 6 s against 11 s for
# 137,000 labels at 100,000 papers)
ALL_PAGES_SIZE = 10_000


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    answers: str
    text: str
    params: tuple[str, ...] = field(default_factory=tuple)
    page_size: int | None = None  # a paged listing: the text answers its first page

    def page_text(self, number: int, size: int | None = None) -> str:
        """The query for page `number` (1-based) of a paged listing, `size` driver rows a page."""
        if self.page_size is None:
            raise UsageError(f"query {self.name!r} is not paged; it answers in one piece")
        if number < 1:
            raise UsageError(f"pages count from 1, not {number}")
        size = size or self.page_size
        return _driver(self.text).with_page(size, (number - 1) * size)

    def count_text(self) -> str:
        """A query counting the works (or other driver rows) the pages go through."""
        driver = _driver(self.text)
        pattern, var = driver.pattern, "?" + driver.variables[-1]  # the last projected: ?work
        params = [f"?{p}" for p in self.params]  # projected, so that they can be bound
        group = f" GROUP BY {' '.join(params)}" if params else ""
        return f"SELECT {' '.join([*params, f'(COUNT(DISTINCT {var}) AS ?n)'])} WHERE {{ {pattern} }}{group}"

    def whole_text(self) -> str:
        """The whole listing in one query: the page's sub-select becomes its plain pattern."""
        if self.page_size is None:
            return self.text
        return _driver(self.text).flattened()

    def driven_by(self, pattern: str = "", *, works=None) -> str:
        """This listing's text with its page's driver (the sub-select that picks a page's works)
        replaced, the rest of the query (its columns, joins and ORDER BY) as shipped:

        - `works` given (IRIs): a VALUES block of exactly those works (for the driver's variable,
          its last projected one: ?work), e.g. the fields of the works a report lists;
        - else `pattern`: a group graph pattern that binds the driver's variable itself, e.g.
          another selection of works (screening's head: the undecided works above a relevance);
        - neither: nothing at all, so the query answers for every row the rest of its pattern
          matches, in one scan (not limited to the driver's kind of works).
        """
        if self.page_size is None:
            raise UsageError(f"query {self.name!r} is not paged; it has no driver to replace")
        driver = _driver(self.text)
        start, end = driver.wrapped
        if works is not None:
            pattern = f"VALUES ?{driver.variables[-1]} {{ {iri_list(works)} }}"
        return self.text[:start] + "{ " + pattern.strip() + " }" + self.text[end:]

    def order(self) -> list[tuple[str, bool]]:
        """The outer ORDER BY as (variable, descending) pairs (empty when the engine must sort)."""
        return split_order(self.text)[1]


def _pages(text: str) -> list[Select]:
    """The sub-selects of `text` that page a listing: alone in their braces, ending LIMIT n OFFSET 0."""
    return [s for s in Outline(text).selects
            if s.wrapped and s.offset_value == 0 and s.limit_value is not None and s.limit < s.offset]


def _driver(text: str) -> Select:
    """The sub-select that picks a page's works (or other driver rows) in a paged listing."""
    return _pages(text)[0]


def sort_rows(rows: list[dict], order: list[tuple[str, bool]]) -> None:
    """Sort result rows in place as SPARQL's ORDER BY on these variables would."""
    groups: list[tuple[list[str], bool]] = []  # runs of keys sorted the same way: one pass each
    for var, descending in order:
        if groups and groups[-1][1] == descending:
            groups[-1][0].append(var)
        else:
            groups.append(([var], descending))
    for names, descending in reversed(groups):  # stable sorts, last keys first
        rows.sort(key=lambda row, names=names: tuple(sort_key(row.get(v)) for v in names), reverse=descending)


def _parse(name: str, text: str) -> NamedQuery:
    meta: dict[str, str] = {}
    key = None
    for line in text.splitlines():
        if not line.startswith("#"):
            break
        body = line[1:].strip()
        if ":" in body and not line.startswith("#  "):
            key, _, value = body.partition(":")
            key = key.strip().lower()
            meta[key] = value.strip()
        elif key:
            meta[key] += " " + body
    params = tuple(p.strip() for p in meta.get("params", "").split(",") if p.strip())
    page_size = None
    if "pages" in meta:
        page_size = int(meta["pages"])
        found = [s.limit_value for s in _pages(text)]
        if found != [page_size]:
            raise ValueError(f"{name}.rq: '# pages: {page_size}' needs one sub-select ending "
                             f"'LIMIT {page_size} OFFSET 0', found limits {found}")
    return NamedQuery(name, meta.get("title", name), meta.get("answers", ""), text, params, page_size)


@cache
def named_queries() -> dict[str, NamedQuery]:
    out = {}
    for path in sorted(queries_dir().glob("*.rq")):
        out[path.stem] = _parse(path.stem, path.read_text(encoding="utf-8"))
    return out


def get_query(name: str) -> NamedQuery:
    queries = named_queries()
    if name not in queries:
        raise UsageError(f"unknown query name {name!r}; valid: {', '.join(queries)}")
    return queries[name]


def run_named(graph, name: str, bindings: dict | None = None, limits=None, *, page: int | None = None):
    """Run a named query; every declared parameter must be bound.

    A paged listing answers every page unless `page` picks one. Rows come in the
    query's ORDER BY order, sorted here rather than by the engine (see _sorted_query).
    """
    query = get_query(name)
    bindings = dict(bindings or {})
    require_params(query, bindings)
    if query.page_size is not None and page is None:
        if getattr(graph, "reads_in_pages", False):
            return all_pages(graph, query, bindings, limits)
        # a remote endpoint: one request, since OFFSET without ORDER BY is only stable on
        # an engine that scans its own indexes the same way every time, as the local one does
        return _sorted_query(graph, query.whole_text(), bindings, limits)
    return _sorted_query(graph, query.text if page is None else query.page_text(page), bindings, limits)


# Whether a bound ?id names a work, found the way the queries taking an id (paper,
# citations, paper-labels) find it: an identifier, citation key or short name, or its IRI.
WORK_BY_ID = """ASK {
  { ?work kg:arxivId|kg:doi|kg:s2PaperId|kg:s2CorpusId|kg:openalexId|kg:citationKey|kg:shortName ?id }
  UNION
  { { BIND(IRI(STR(?id)) AS ?work) FILTER(BOUND(?work)) } ?work a fabio:ScholarlyWork . }
}"""


def names_a_work(graph, value) -> bool:
    """True when `value` (a bound ?id) names a work of the graph."""
    return bool(graph.query(WORK_BY_ID, {"id": value}, trusted=True).boolean)


def require_params(query: NamedQuery, bindings: dict) -> None:
    """Every parameter the query declares must be bound, and nothing else: its `# params:` are what
    it takes (another variable would reach the engine, which refuses it in words of its own)."""
    missing = [p for p in query.params if p not in bindings]
    if missing:
        raise UsageError(f"query {query.name!r} needs a value for {missing[0]}", hint=query.answers, field="bindings")
    extra = [b for b in bindings if b not in query.params]
    if extra:
        takes = f"its parameters are {', '.join(query.params)}" if query.params else "it takes none"
        raise UsageError(f"query {query.name!r} has no parameter {extra[0]}; {takes}", hint=query.answers,
                         field="bindings")


# A named query's parameter of one of these names takes a notation of that taxonomy axis (the
# axes of the analysis-taxonomy query, whose rows say which notations each axis has).
AXIS_PARAMS = ("category", "mechanism", "modality", "task", "metric")


def check_notations(graph, query: NamedQuery, bindings: dict) -> None:
    """Refuse a bound axis parameter (AXIS_PARAMS) that is no notation of its axis in the graph's
    taxonomy, naming the valid ones, as kg gaps refuses an unknown --category: the query would
    answer no rows, as if the cell were empty. One small read of the taxonomy, only when the
    query has such a parameter."""
    axes = [p for p in query.params if p in AXIS_PARAMS and p in bindings]
    if not axes:
        return
    concepts = run_named(graph, "analysis-taxonomy").records()
    for axis in axes:
        valid = list(dict.fromkeys(str(r["notation"]) for r in concepts if str(r["axis"]) == axis))
        value = str(getattr(bindings[axis], "value", bindings[axis]))  # a string or a Term
        if value not in valid:
            raise UsageError(f"unknown {axis} {value!r} for query {query.name!r}; "
                             f"valid: {', '.join(valid) or '(none in this taxonomy)'}", field="bindings")


def _sorted_query(graph, text: str, bindings: dict | None, limits) -> QueryResult:
    """Run `text` with its final ORDER BY taken off, and sort the rows here instead.

    kg sorts a plain list of variables far cheaper than the engine does (Oxigraph
    reads every compared string back from disk: 29 s for 452,000 citation links at
    100,000 papers, against 0.3 s in Python); anything else split_order leaves to
    the engine."""
    engine_text, order = split_order(text)
    result = graph.query(engine_text, bindings, limits, trusted=True)
    sort_rows(result.rows, order)
    return result


def page_count(graph, query: NamedQuery, bindings: dict | None = None, size: int | None = None) -> int:
    """How many pages a paged listing has on this graph (at least one)."""
    rows = graph.query(query.count_text(), bindings, trusted=True).records()
    total = rows[0]["n"] if rows else 0  # grouped by parameters that match nothing: no row
    return max(1, -(-int(total) // (size or query.page_size)))


def all_pages(graph, query: NamedQuery, bindings: dict | None = None, limits=None) -> QueryResult:
    """Every page of a listing as one result, sorted as the query's ORDER BY sorts.

    `limits` hold for the listing as a whole: rows stop at max_rows (the result says it
    was truncated) and the pages share one time limit.
    """
    from .guard import time_limit_error

    started = time.monotonic()
    result = None
    pages = page_count(graph, query, bindings, ALL_PAGES_SIZE)
    for number in range(1, pages + 1):
        if limits and time.monotonic() - started > limits.timeout_s:
            raise time_limit_error(limits.timeout_s)
        part = graph.query(split_order(query.page_text(number, ALL_PAGES_SIZE))[0], bindings, limits, trusted=True)
        if result is None:
            result = part
        else:
            result.rows += part.rows
            result.truncated = result.truncated or part.truncated
        if limits and len(result.rows) >= limits.max_rows:
            result.truncated = result.truncated or len(result.rows) > limits.max_rows or number < pages
            del result.rows[limits.max_rows:]
            break
    sort_rows(result.rows, query.order())
    return result


def sort_key(term: Term | None) -> tuple:
    """SPARQL's ORDER BY order: unbound, blank nodes, IRIs, then literals (numbers by value)."""
    if term is None:
        return (0, 0, "")
    if term.type != "literal":
        return (1 if term.type == "bnode" else 2, 0, term.value)
    value = term.py
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return (3, 0, value)
    return (3, 1, term.value)
