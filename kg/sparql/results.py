"""Query results in one shape, whatever store answered: SELECT rows, ASK booleans, graphs.

Terms follow the W3C SPARQL 1.1 Query Results JSON format, so JSON output is
a direct dump; local and remote stores' answers become the same objects.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pyoxigraph as ox

XSD = "http://www.w3.org/2001/XMLSchema#"
_INTS = {XSD + t for t in ("integer", "int", "long", "short", "nonNegativeInteger", "positiveInteger", "gYear")}
_FLOATS = {XSD + t for t in ("decimal", "double", "float")}


@dataclass(frozen=True)
class Term:
    type: str  # uri | literal | bnode | triple
    value: str
    datatype: str | None = None
    lang: str | None = None

    @property
    def py(self):
        """The term as a plain Python value (int, float, bool or str)."""
        if self.type == "literal" and self.datatype:
            try:
                if self.datatype in _INTS:
                    return int(self.value)
                if self.datatype in _FLOATS:
                    return float(self.value)
                if self.datatype == XSD + "boolean":
                    return self.value in ("true", "1")
            except ValueError:
                return self.value
        return self.value

    def to_json(self) -> dict:
        out = {"type": self.type, "value": self.value}
        if self.lang:
            out["xml:lang"] = self.lang
        elif self.datatype and self.datatype != XSD + "string":
            out["datatype"] = self.datatype
        return out

    def n3(self) -> str:
        if self.type == "uri":
            return f"<{self.value}>"
        if self.type == "bnode":
            return f"_:{self.value}"
        text = json.dumps(self.value, ensure_ascii=False)
        if self.lang:
            return f"{text}@{self.lang}"
        if self.datatype and self.datatype != XSD + "string":
            return f"{text}^^<{self.datatype}>"
        return text


def term_to_ox(term: Term):
    """The engine term for a result term (the inverse of term_from_ox)."""
    if term.type == "uri":
        return ox.NamedNode(term.value)
    if term.type == "bnode":
        return ox.BlankNode(term.value)
    if term.lang:
        return ox.Literal(term.value, language=term.lang)
    return ox.Literal(term.value, datatype=ox.NamedNode(term.datatype) if term.datatype else None)


def term_from_ox(term) -> Term | None:
    if term is None:
        return None
    if isinstance(term, ox.NamedNode):
        return Term("uri", term.value)
    if isinstance(term, ox.BlankNode):
        return Term("bnode", term.value)
    if isinstance(term, ox.Literal):
        return Term("literal", term.value, term.datatype.value, term.language)
    return Term("triple", str(term))


@dataclass
class QueryResult:
    kind: str  # select | ask | graph
    vars: list[str] = field(default_factory=list)
    rows: list[dict[str, Term | None]] = field(default_factory=list)
    boolean: bool | None = None
    triples: list[tuple[Term, Term, Term]] = field(default_factory=list)
    truncated: bool = False
    note: str | None = None  # why the answer stopped early (row or byte limit), for the user

    def records(self) -> list[dict]:
        """SELECT rows as dicts of plain Python values (None where unbound)."""
        return [{v: (row.get(v).py if row.get(v) is not None else None) for v in self.vars} for row in self.rows]

    def to_json(self) -> dict:
        if self.kind == "ask":
            return {"head": {}, "boolean": bool(self.boolean)}
        if self.kind == "graph":
            return {"triples": [[t.to_json() for t in triple] for triple in self.triples]}
        return {
            "head": {"vars": self.vars},
            "results": {"bindings": [{k: t.to_json() for k, t in row.items() if t is not None} for row in self.rows]},
        }

    def to_ntriples(self) -> str:
        return "".join(f"{s.n3()} {p.n3()} {o.n3()} .\n" for s, p, o in self.triples)
