"""Named SPARQL queries shipped in kg/queries/*.rq.

Each file starts with comment lines: `# title:`, `# answers:` (may continue on
indented comment lines) and optionally `# params: a, b` for variables a caller
must bind.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from .errors import UsageError
from .paths import queries_dir


@dataclass(frozen=True)
class NamedQuery:
    name: str
    title: str
    answers: str
    text: str
    params: tuple[str, ...] = field(default_factory=tuple)


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
    return NamedQuery(name, meta.get("title", name), meta.get("answers", ""), text, params)


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


def run_named(graph, name: str, bindings: dict | None = None, limits=None):
    """Run a named query; every declared parameter must be bound."""
    query = get_query(name)
    bindings = dict(bindings or {})
    missing = [p for p in query.params if p not in bindings]
    if missing:
        raise UsageError(f"query {name!r} needs --bind {missing[0]}=VALUE", hint=query.answers)
    return graph.query(query.text, bindings, limits, trusted=True)
