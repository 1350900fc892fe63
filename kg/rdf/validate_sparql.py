"""`kg validate` in the store: the SHACL shapes compiled to whole-graph SPARQL queries.

pySHACL checks a graph one focus node at a time in Python, and re-parses each
`sh:sparql` constraint for every node: hours at 100,000 papers. Here every
constraint of ontology/shapes.ttl becomes one SELECT that the store answers for
the whole graph at once, returning only the nodes that violate it:

- a shape's targets (sh:targetClass, sh:targetNode, sh:targetSubjectsOf,
  sh:targetObjectsOf) become the pattern that binds ?this;
- each core constraint becomes a pattern that matches where it is violated
  (sh:minCount: fewer than n distinct values; sh:datatype: a value of another
  type, or ill-formed; sh:or: a node that conforms to none of the alternatives,
  the targets minus each alternative's conformers ...);
- each `sh:sparql` constraint runs as a sub-select joined with the targets,
  with $this as an ordinary variable (each of kg's constraints binds $this in a
  triple pattern, so this is the per-node meaning evaluated once).

The patterns are written for how Oxigraph evaluates them: it joins two triple
patterns by looking one up again for every row of the other, but two sub-selects
by hashing each once, and evaluates a NOT EXISTS once per row; so targets, a
property's values and the triple patterns of a sh:sparql body are sub-selects of
their own (`_alone`), and negation is MINUS (a hash anti-join) wherever it means
the same. The queries are independent: validate_store runs them in threads.

A shape that uses a constraint this compiler does not know is an error (not a
silent pass), so a new kind of shape needs a line here before `kg validate`
accepts it; `kg validate --engine pyshacl` still runs the reference engine.
The report has the same shape as pySHACL's (kg.rdf.validate.ValidationReport), and
tests compare the two on graphs with a planted violation of every constraint.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import rdflib
from rdflib import RDF, RDFS, Literal, URIRef
from rdflib.collection import Collection

from ..errors import KgError
from ..paths import ontology_dir
from .validate import ValidationReport, Violation
from ..vocab import compact

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")
_TYPE = f"<{RDF.type}>/<{RDFS.subClassOf}>*"
_XSD = "http://www.w3.org/2001/XMLSchema#"
# datatypes whose lexical form the store can check by casting (an ill-formed "abc"^^xsd:integer violates)
_CASTABLE = {_XSD + t for t in ("string", "boolean", "integer", "decimal", "double", "float", "date", "dateTime",
                                 "gYear", "int", "long", "nonNegativeInteger", "positiveInteger")}
# shape parameters that select, name or describe rather than constrain
_NOT_CONSTRAINTS = {RDF.type, RDFS.label, RDFS.comment, SH.message, SH.severity, SH.name, SH.description,
                    SH.order, SH.group, SH.path, SH.targetClass, SH.targetNode, SH.targetSubjectsOf,
                    SH.targetObjectsOf, SH.declare, SH.prefixes, SH.deactivated, SH.property, SH.sparql, SH.flags}
_COMPONENT = {
    SH.minCount: "MinCount", SH.maxCount: "MaxCount", SH.datatype: "Datatype", SH["class"]: "Class",
    SH["in"]: "In", SH.pattern: "Pattern", SH.minInclusive: "MinInclusive", SH.maxInclusive: "MaxInclusive",
    SH.minExclusive: "MinExclusive", SH.maxExclusive: "MaxExclusive", SH.minLength: "MinLength",
    SH.maxLength: "MaxLength", SH["or"]: "Or", SH["and"]: "And", SH["not"]: "Not", SH.node: "Node",
    SH.hasValue: "HasValue", SH.nodeKind: "NodeKind",
}
_COMPARE = {SH.minInclusive: ">=", SH.maxInclusive: "<=", SH.minExclusive: ">", SH.maxExclusive: "<"}
_NODE_KINDS = {
    SH.IRI: "isIRI({v})", SH.Literal: "isLiteral({v})", SH.BlankNode: "isBlank({v})",
    SH.BlankNodeOrIRI: "(isBlank({v}) || isIRI({v}))", SH.BlankNodeOrLiteral: "(isBlank({v}) || isLiteral({v}))",
    SH.IRIOrLiteral: "(isIRI({v}) || isLiteral({v}))",
}


@dataclass
class Check:
    """One constraint of one shape as a whole-graph query: its rows are the violations."""

    shape: str  # the shape the report names (the node shape, or the property shape's path)
    component: str  # SHACL constraint component, e.g. "MinCount" (sh:MinCountConstraintComponent)
    path: str | None  # the property checked (None: the focus node itself)
    message: str
    query: str  # SELECT ?this [?value] [...] : one row per violation
    severity: str = "Violation"
    template: bool = False  # the message has {?var} slots filled from the row (sh:sparql)
    extra: list[str] = field(default_factory=list)


class _Compiler:
    def __init__(self, shapes: rdflib.Graph, subclasses=None, size=None, lookup_below: int = 0):
        self.g = shapes
        self.n = 0
        self.subclasses = subclasses  # class IRI -> the class and its subclasses in the data (None: a path)
        self.size = size  # target pattern -> how many focus nodes, counted up to lookup_below + 1 (None: unknown)
        self.lookup_below = lookup_below

    def instance(self, v: str, cls) -> str:
        """A pattern: `v` is an instance of `cls` (SHACL: rdf:type/rdfs:subClassOf*)."""
        if self.subclasses is None:
            return f"{v} {_TYPE} {_n3(cls)}"
        classes = self.subclasses(str(cls))
        if len(classes) == 1:  # the common case: a plain lookup, no path to walk per node
            return f"{v} <{RDF.type}> {_n3(cls)}"
        t = self.var("t")
        return f"{v} <{RDF.type}> {t} . VALUES {t} {{ {' '.join(f'<{c}>' for c in classes)} }}"

    def var(self, stem: str = "v") -> str:
        self.n += 1
        return f"?_{stem}{self.n}"

    # -- targets ---------------------------------------------------------------------------------
    def targets(self, shape) -> list[str]:
        out = []
        for cls in self.g.objects(shape, SH.targetClass):
            out.append(_alone("?this", self.instance("?this", cls)))
        for node in self.g.objects(shape, SH.targetNode):
            out.append(f"VALUES ?this {{ {_n3(node)} }}")
        for prop in self.g.objects(shape, SH.targetSubjectsOf):
            out.append(f"{{ SELECT DISTINCT ?this WHERE {{ ?this {_n3(prop)} ?_t }} }}")
        for prop in self.g.objects(shape, SH.targetObjectsOf):
            out.append(f"{{ SELECT DISTINCT ?this WHERE {{ ?_t {_n3(prop)} ?this }} }}")
        return out

    # -- violation patterns ----------------------------------------------------------------------
    def violations(self, shape, x: str, top: bool = False, base: str | None = None) -> list[tuple]:
        """(component, where-pattern, value variable or None, path or None, the shape that holds the
        constraint, need) for every constraint of `shape` applied to the node in variable `x`; the
        pattern matches where it is violated. `top`: the pattern follows `base` (the pattern binding
        `x` to the focus nodes) in a query of its own, so counts, class tests and sh:or / sh:and /
        sh:not / sh:node are hash joins over whole properties (sub-selects, MINUS, GROUP BY) instead
        of one lookup per node; nested in an EXISTS they stay lookups. `need` (top only): a pattern
        that every conforming node matches and that binds `x` (sh:minCount, a node's sh:class), or
        None; `conformers` starts from these."""
        out = []
        path = self.g.value(shape, SH.path)
        if path is not None and not isinstance(path, URIRef):
            raise KgError(f"shape {_name(self.g, shape)}: only a single property is supported as sh:path",
                          hint="Run `kg validate --engine pyshacl` for shapes with property paths.")
        for p, o in self.g.predicate_objects(shape):
            if p in _NOT_CONSTRAINTS:
                continue
            if p not in _COMPONENT:
                raise KgError(f"shape {_name(self.g, shape)}: the constraint {compact(str(p))} is not supported by "
                              "the compiled validator",
                              hint="Run `kg validate --engine pyshacl`, or add the constraint to kg/validate_sparql.py.")
            comp = _COMPONENT[p]
            if path is None and top and base:
                where, need = self.node_violation(p, o, x, base)
                out.append((comp, where, None, None, shape, need))
                continue
            if path is None:
                out.append((comp, f"FILTER({self.node_fails(p, o, x)})", None, None, shape, None))
                continue
            if p in (SH.minCount, SH.maxCount):
                if not top:
                    out.append((comp, self.count(path, int(o), x, p == SH.minCount), None, str(path), shape, None))
                    continue
                where, need = self.grouped(path, int(o), x, p == SH.minCount)
                out.append((comp, where, None, str(path), shape, need))
                continue
            if p == SH.hasValue:  # on a property: some value is the one given (not: every value)
                need = _alone(x, f"{x} {_n3(path)} {_n3(o)}")
                where = f"MINUS {{ {need} }}" if top else f"FILTER NOT EXISTS {{ {x} {_n3(path)} {_n3(o)} }}"
                out.append((comp, where, None, str(path), shape, need if top else None))
                continue
            v = self.var()
            if not top:
                out.append((comp, f"{x} {_n3(path)} {v} . FILTER({self.node_fails(p, o, v)})", v, str(path),
                            shape, None))
                continue
            values = _alone(f"{x} {v}", f"{x} {_n3(path)} {v}")
            if p == SH["class"]:
                where = f"{values} MINUS {{ {self.instance(v, o)} }}"
            elif p == SH["or"]:
                where = values + " " + self.none_conform(list(Collection(self.g, o)), v, self.objects_of(path, v))
            else:
                where = f"{values} FILTER({self.node_fails(p, o, v)})"
            out.append((comp, where, v, str(path), shape, None))
        for prop in self.g.objects(shape, SH.property):
            out += self.violations(prop, x, top, base)
        return out

    def objects_of(self, path, v: str) -> str:
        """A pattern binding `v` to every value of `path` (the focus of a value's shape)."""
        return _alone(v, f"{self.var('s')} {_n3(path)} {v}")

    def node_violation(self, p, o, x: str, base: str) -> tuple[str, str | None]:
        """A constraint on the focus node itself in a query of its own: (where, need), see violations."""
        if p == SH["class"]:
            need = _alone(x, self.instance(x, o))
            return f"MINUS {{ {need} }}", need
        if p == SH["or"]:
            return self.none_conform(list(Collection(self.g, o)), x, base), None
        if p == SH["and"]:  # the nodes that conform to every member
            need = _alone(x, " ".join(_alone(x, self.conformers(m, x, base)) for m in Collection(self.g, o)))
            return f"MINUS {{ {need} }}", need
        if p == SH.node:
            need = _alone(x, self.conformers(o, x, base))
            return f"MINUS {{ {need} }}", need
        if p == SH["not"]:
            return _alone(x, self.conformers(o, x, base)), None
        return f"FILTER({self.node_fails(p, o, x)})", None

    def conformers(self, shape, x: str, base: str) -> str:
        """A pattern binding `x` to the nodes of `base` that conform to `shape` (it may also bind
        nodes outside `base`: use it only against nodes of `base`, in a MINUS or a join). It starts
        from what a conforming node must have (its sh:minCount values, its sh:class) and takes away
        each constraint's violators, all hash joins: no lookup per node."""
        found = self.violations(shape, x, top=True, base=base)
        needs = [need for *_, need in found if need]
        head = " ".join(needs) if needs else base
        parts = [head]
        for _, where, _, _, _, need in found:
            if need:
                continue
            if where.lstrip().startswith(("MINUS", "FILTER")):  # needs the nodes it takes from
                parts.append(f"MINUS {{ SELECT {x} WHERE {{ {head} {where} }} }}")
            else:  # binds the violators itself
                parts.append(f"MINUS {{ SELECT {x} WHERE {{ {where} }} }}")
        return " ".join(parts)

    def none_conform(self, alternatives: list, x: str, base: str) -> str:
        """sh:or in a query of its own: the focus nodes minus those that conform to some alternative."""
        return " ".join(f"MINUS {{ {_alone(x, self.conformers(a, x, base))} }}" for a in alternatives)

    def grouped(self, path, n: int, x: str, at_least: bool) -> tuple[str, str | None]:
        """`count` for a query of its own: the values of `path` counted per node in one pass.
        (where, need): see violations."""
        c = self.var("c")
        if at_least:
            if n <= 0:
                return "FILTER(false)", None
            if n == 1:
                need = _alone(x, f"{x} {_n3(path)} {c}")
            else:
                need = (f"{{ SELECT {x} WHERE {{ {x} {_n3(path)} {c} }} GROUP BY {x} "
                        f"HAVING (COUNT(DISTINCT {c}) >= {n}) }}")
            return f"MINUS {{ {need} }}", need
        return (f"{{ SELECT {x} WHERE {{ {x} {_n3(path)} {c} }} GROUP BY {x} "
                f"HAVING (COUNT(DISTINCT {c}) > {n}) }}"), None

    def count(self, path, n: int, x: str, at_least: bool) -> str:
        """Fewer than n (at_least) or more than n distinct values of `path`."""
        need = n if at_least else n + 1
        if need == 0:
            return "FILTER(false)"
        vs = [self.var("c") for _ in range(need)]
        triples = " . ".join(f"{x} {_n3(path)} {v}" for v in vs)
        distinct = " && ".join(f"!sameTerm({a}, {b})" for i, a in enumerate(vs) for b in vs[i + 1:])
        group = triples + (f" . FILTER({distinct})" if distinct else "")
        return f"FILTER NOT EXISTS {{ {group} }}" if at_least else group

    def conforms(self, shape, x: str) -> str:
        """A boolean expression: the node in `x` conforms to `shape`."""
        parts = [f"NOT EXISTS {{ {where} }}" for _, where, *_ in self.violations(shape, x)]
        return "(" + " && ".join(parts) + ")" if parts else "true"

    def node_fails(self, p, o, v: str) -> str:
        """A boolean expression: value node `v` violates constraint (p, o)."""
        if p == SH.datatype:
            ok = f"isLiteral({v}) && sameTerm(datatype({v}), {_n3(o)})"
            if str(o) in _CASTABLE and str(o) != _XSD + "string":  # any lexical form is a string
                ok += f" && COALESCE({_n3(o)}(STR({v})) = {v}, false)"
            return f"!({ok})"
        if p == SH["class"]:
            return f"NOT EXISTS {{ {self.instance(v, o)} }}"
        if p == SH["in"]:
            members = list(Collection(self.g, o))
            return "!(" + " || ".join(f"sameTerm({v}, {_n3(m)})" for m in members) + ")" if members else "true"
        if p == SH.hasValue:
            return f"!sameTerm({v}, {_n3(o)})"
        if p == SH.pattern:
            # sh:flags sit beside the pattern, on the same shape
            flags = next((str(f) for s in self.g.subjects(SH.pattern, o) for f in self.g.objects(s, SH.flags)), "")
            args = f"{_string(str(o))}" + (f", {_string(flags)}" if flags else "")
            return f"(isBlank({v}) || !REGEX(STR({v}), {args}))"
        if p in _COMPARE:
            return f"!COALESCE({v} {_COMPARE[p]} {_n3(o)}, false)"
        if p in (SH.minLength, SH.maxLength):
            op = ">=" if p == SH.minLength else "<="
            return f"(isBlank({v}) || !(STRLEN(STR({v})) {op} {int(o)}))"
        if p == SH.nodeKind:
            if o not in _NODE_KINDS:
                raise KgError(f"unknown sh:nodeKind {o}")
            return "!" + _NODE_KINDS[o].format(v=v)
        if p == SH["or"]:
            return "!(" + " || ".join(self.conforms(s, v) for s in Collection(self.g, o)) + ")"
        if p == SH["and"]:
            return "!(" + " && ".join(self.conforms(s, v) for s in Collection(self.g, o)) + ")"
        if p == SH["not"]:
            return self.conforms(o, v)
        if p == SH.node:
            return "!" + self.conforms(o, v)
        raise KgError(f"the constraint {compact(str(p))} on a property's values is not supported by the compiled "
                      "validator", hint="Run `kg validate --engine pyshacl`.")

    # -- whole-graph queries ---------------------------------------------------------------------
    def checks(self) -> list[Check]:
        out = []
        node_shapes = set(self.g.subjects(RDF.type, SH.NodeShape))
        node_shapes |= {s for s in self.g.subjects() if any(self.g.objects(s, t) for t in
                        (SH.targetClass, SH.targetNode, SH.targetSubjectsOf, SH.targetObjectsOf))}
        for shape in sorted(node_shapes, key=str):
            if self.g.value(shape, SH.deactivated) == Literal(True):
                continue
            targets = self.targets(shape)
            if not targets:
                continue
            target = "{ " + " } UNION { ".join(targets) + " }" if len(targets) > 1 else targets[0]
            size = self.size(target) if self.size else None
            if size == 0:  # no focus node: nothing to check
                continue
            # few focus nodes: a lookup per node beats reading a whole property into a hash table
            top = size is None or size > self.lookup_below
            severity = _severity(self.g, shape) or "Violation"
            for comp, where, v, path, owner, _ in self.violations(shape, "?this", top=top,
                                                                  base=target if top else None):
                value = f" ({v} AS ?value)" if v else ""
                out.append(Check(_name(self.g, shape), comp, path, self.message(owner, shape, comp, path),
                                 f"SELECT DISTINCT ?this{value} WHERE {{ {target} {where} }}",
                                 _severity(self.g, owner) or severity))
            for constraint in self.g.objects(shape, SH.sparql):
                out.append(self.sparql(shape, constraint, target, severity))
        return out

    def message(self, owner, shape, comp: str, path: str | None) -> str:
        for node in (owner, shape) if owner == shape else (owner,):
            text = self.g.value(node, SH.message)
            if text is not None:
                return str(text)
        where = compact(path) if path else "the node"
        return f"{where}: {_DEFAULT_MESSAGES.get(comp, comp + ' constraint not met')}"

    def sparql(self, shape, constraint, target: str, severity: str) -> Check:
        select = self.g.value(constraint, SH.select)
        if select is None:
            raise KgError(f"shape {_name(self.g, shape)}: a sh:sparql constraint needs sh:select")
        prefixes = []
        for decl_owner in self.g.objects(constraint, SH.prefixes):
            for decl in self.g.objects(decl_owner, SH.declare):
                prefixes.append(f"PREFIX {self.g.value(decl, SH.prefix)}: <{self.g.value(decl, SH.namespace)}>")
        body = _not_exists_as_minus(re.sub(r"\$(\w+)", r"?\1", str(select)).strip())
        head = re.match(r"(?is)SELECT\s+(DISTINCT\s+)?(.*?)\s*WHERE", body)
        names = re.findall(r"\?(\w+)", head.group(2)) if head else []
        extra = [n for n in names if n not in ("this", "value", "path")]
        row_vars = " ".join(f"?{n}" for n in ["this", *[n for n in ("value", "path") if n in names], *extra])
        query = "\n".join(prefixes) + f"\nSELECT DISTINCT {row_vars} WHERE {{ {target} {{ {body} }} }}"
        message = self.g.value(constraint, SH.message) or self.g.value(shape, SH.message)
        return Check(_name(self.g, shape), "SPARQL", None, str(message or "SPARQL constraint not met"), query,
                     _severity(self.g, constraint) or severity, template=True, extra=extra)


_NOT_EXISTS = re.compile(r"FILTER\s+NOT\s+EXISTS\s*\{([^{}]*)\}", re.IGNORECASE)
_IN_LIST = re.compile(r"FILTER\s*\(\s*\?(\w+)\s+IN\s*\(([^()]*)\)\s*\)", re.IGNORECASE)
_FILTER = re.compile(r"FILTER\s*\((?:[^()]|\([^()]*\))*\)", re.IGNORECASE)
_GROUP_KEYWORDS = re.compile(r"\b(OPTIONAL|UNION|BIND|VALUES|SERVICE|GRAPH|MINUS|EXISTS|FILTER|SELECT)\b", re.IGNORECASE)
_PNAME = r"(?:[A-Za-z][\w-]*)?:(?:[\w-]|\.(?=[\w-]))*"
_TOKEN = re.compile(r"\s*(?:(?P<term><[^<>\s]*>|\?\w+|" + _PNAME + r"|\"(?:[^\"\\\n]|\\.)*\"(?:@[A-Za-z-]+|\^\^(?:<[^<>\s]*>|"
                    + _PNAME + r"))?|[+-]?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])|true\b|false\b|a\b)|(?P<punct>[;,.]))")


def _not_exists_as_minus(select: str) -> str:
    """A sh:sparql constraint's SELECT rewritten for Oxigraph, where that means the same:
    FILTER NOT EXISTS { triples } as MINUS { triples }, FILTER(?x IN (IRIs)) as VALUES ?x { IRIs },
    and each triple pattern as a sub-select of its own.

    Oxigraph evaluates a NOT EXISTS once per solution and may start it from its least selective
    pattern (minutes on 10,000 papers); MINUS is one hash anti-join. They differ only when the
    block shares no variable with the solution, or a shared variable may be unbound; so the
    rewrite is made only for a block of plain triple patterns sharing a variable with the rest of
    a WHERE clause that binds every variable in triple patterns (no OPTIONAL, UNION, BIND, VALUES
    or nested groups); likewise a list of IRIs becomes VALUES only for a variable bound that way
    (the store then looks up those properties instead of reading every triple). A basic graph
    pattern is the join of its triple patterns, and Oxigraph joins two sub-selects by hashing
    each once, where it looks a pattern up again for every row of the other (the join of two
    whole properties: tens of times faster); so each triple pattern whose property is named (or
    listed by such a VALUES, which then goes inside) becomes `{ SELECT * WHERE { s p o } }`.
    Anything else stays as written."""
    where = select.find("{")
    if where < 0 or not select.rstrip().endswith("}"):
        return select
    body = select[where + 1:select.rstrip().rindex("}")]
    outside = _NOT_EXISTS.sub(" ", body)
    if "{" in outside or _GROUP_KEYWORDS.search(re.sub(r"FILTER\s*\(", "(", outside, flags=re.IGNORECASE)):
        return select
    bound = set(re.findall(r"\?(\w+)", _FILTER.sub(" ", outside)))
    values: dict[str, str] = {}

    def listed(match: re.Match) -> str:
        name, members = match.group(1), [m.strip() for m in match.group(2).split(",")]
        if name not in bound or not all(re.fullmatch(r"<[^<>\s]*>|[A-Za-z][\w-]*:[\w-]+", m) for m in members):
            return match.group(0)
        values[name] = f"VALUES ?{name} {{ {' '.join(members)} }}"
        return " "

    blocks: list[str] = []

    def swap(match: re.Match) -> str:
        block = match.group(1)
        if _GROUP_KEYWORDS.search(block) or not set(re.findall(r"\?(\w+)", block)) & bound:
            return match.group(0)
        blocks.append(block)
        return " "

    rest = _IN_LIST.sub(listed, _NOT_EXISTS.sub(swap, body))
    filters = _FILTER.findall(rest)
    triples = _FILTER.sub(" ", rest)
    joined = _hash_joined(triples, values)
    if joined is None and not values and not blocks:
        return select
    if joined is None:  # triples it does not read: as before, MINUS and VALUES without the sub-selects
        joined = triples + " " + " ".join(values.values())
    minus = [f"MINUS {{ {_hash_joined(block, {}) or block} }}" for block in blocks]
    body = " ".join([joined, *minus, *filters])
    return select[:where + 1] + " " + body + " " + select[select.rstrip().rindex("}"):]


def _hash_joined(text: str, values: dict[str, str]) -> str | None:
    """Triple patterns (Turtle-like, with ; and ,) as a join of one sub-select each, with the
    VALUES of a variable inside every sub-select that names it; None when the text is something
    else, or a pattern's property is a variable without VALUES (a scan of the whole store)."""
    tokens, at = [], 0
    text = text.rstrip()
    while at < len(text):
        match = _TOKEN.match(text, at)
        if match is None or match.end() == at:
            return None
        tokens.append(match.group("term") or match.group("punct"))
        at = match.end()
    triples, i = [], 0
    while i < len(tokens):
        if tokens[i] in ";,.":
            return None
        subject = tokens[i]
        i += 1
        while True:  # predicate-object lists
            if i + 1 >= len(tokens) or tokens[i] in ";,." or tokens[i + 1] in ";,.":
                return None
            predicate = tokens[i]
            i += 1
            while True:  # object lists
                if i >= len(tokens) or tokens[i] in ";,.":
                    return None
                triples.append((subject, predicate, tokens[i]))
                i += 1
                if i < len(tokens) and tokens[i] == ",":
                    i += 1
                    continue
                break
            if i < len(tokens) and tokens[i] == ";":
                i += 1
                if i >= len(tokens) or tokens[i] == ".":
                    break
                continue
            break
        if i < len(tokens) and tokens[i] == ".":
            i += 1
        elif i < len(tokens):
            return None
    if not triples:
        return None
    parts = []
    for triple in triples:
        names = {t[1:] for t in triple if t.startswith("?")}
        if triple[1].startswith("?") and triple[1][1:] not in values:
            return None
        inside = " ".join(values[n] for n in sorted(names) if n in values)
        parts.append(f"{{ SELECT * WHERE {{ {' '.join(triple)} . {inside} }} }}")
    used = {t[1:] for triple in triples for t in triple if t.startswith("?")}
    if set(values) - used:
        return None
    return " ".join(parts)


_DEFAULT_MESSAGES = {
    "MinCount": "too few values", "MaxCount": "too many values", "Datatype": "a value of the wrong datatype",
    "Class": "a value of the wrong class", "In": "a value not among the allowed ones",
    "Pattern": "a value that does not match the pattern", "MinInclusive": "a value below the minimum",
    "MaxInclusive": "a value above the maximum", "MinExclusive": "a value at or below the minimum",
    "MaxExclusive": "a value at or above the maximum", "MinLength": "a value too short",
    "MaxLength": "a value too long", "Or": "none of the alternatives holds", "And": "not all conditions hold",
    "Not": "a condition that must not hold holds", "Node": "a value that does not conform to its shape",
    "HasValue": "the required value is missing", "NodeKind": "a value of the wrong kind",
}


def _alone(variables: str, pattern: str) -> str:
    """`pattern` as a sub-select of `variables`: Oxigraph then joins it with the rest by hashing
    both sides once, where it would otherwise look the pattern up again for every row (a join of
    two whole properties: tens of times faster)."""
    return f"{{ SELECT {variables} WHERE {{ {pattern} }} }}"


def _n3(term) -> str:
    if isinstance(term, URIRef):
        return f"<{term}>"
    if isinstance(term, Literal):
        text = _string(str(term))
        if term.language:
            return f"{text}@{term.language}"
        if term.datatype and str(term.datatype) != _XSD + "string":
            return f"{text}^^<{term.datatype}>"
        return text
    raise KgError(f"a blank node ({term}) cannot be a value in a compiled shape")


def _string(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r") + '"'


def _name(g: rdflib.Graph, shape) -> str:
    return compact(str(shape)) if isinstance(shape, URIRef) else str(g.value(shape, RDFS.label) or "a shape")


def _severity(g: rdflib.Graph, node) -> str | None:
    value = g.value(node, SH.severity)
    return str(value).rsplit("#", 1)[-1] if value is not None else None


def load_shapes() -> rdflib.Graph:
    return rdflib.Graph().parse(ontology_dir() / "shapes.ttl")


LOOKUP_BELOW = 2_000  # a shape with at most this many focus nodes is checked by lookups per node


def compile_shapes(shapes: rdflib.Graph | None = None, graph=None, lookup_below: int = LOOKUP_BELOW) -> list[Check]:
    """Every constraint of the shapes as a whole-graph query (see the module's text). Given the
    `graph`, a class's subclasses are read from it once, so a class test is a lookup, not a path;
    and each shape's focus nodes are counted (up to `lookup_below` + 1): a shape with none is not
    checked, one with at most `lookup_below` gets lookups per node instead of hash joins over
    whole properties (at 100k papers a thousand datasets would otherwise read every
    prov:wasDerivedFrom of the graph)."""
    subclasses = size = None
    if graph is not None:

        def size(target: str) -> int:
            rows = graph.query(f"SELECT (COUNT(*) AS ?n) WHERE {{ {{ SELECT ?this WHERE {{ {target} }} "
                               f"LIMIT {lookup_below + 1} }} }}", trusted=True).rows
            return int(rows[0]["n"].value)

        known: dict[str, list[str]] = {}

        def subclasses(cls: str) -> list[str]:
            if cls not in known:
                rows = graph.query(f"SELECT DISTINCT ?c WHERE {{ ?c <{RDFS.subClassOf}>* <{cls}> }}", trusted=True).rows
                known[cls] = sorted({cls, *(r["c"].value for r in rows if r["c"].type == "uri")})
            return known[cls]
    return _Compiler(shapes if shapes is not None else load_shapes(), subclasses, size, lookup_below).checks()


def validate_store(graph, shapes: rdflib.Graph | None = None, timings: dict | None = None,
                   workers: int | None = None, lookup_below: int = LOOKUP_BELOW) -> ValidationReport:
    """Validate a graph in its store (local or remote): one query per constraint, the same
    report as kg.rdf.validate.validate_graph (pySHACL). The queries are independent and the store
    answers them without holding Python's lock, so `workers` threads (default: one per core, at
    most 4) run them side by side. `timings` (if given) gets seconds per check (each query's own
    wall time, so with several workers they add up to more than the whole). `lookup_below`: see
    compile_shapes (0: hash joins for every shape that has a focus node)."""
    import os
    import time
    from concurrent.futures import ThreadPoolExecutor

    checks = compile_shapes(shapes, graph, lookup_below)

    def run(check: Check):
        started = time.perf_counter()
        rows = graph.query(check.query, trusted=True).rows
        return rows, time.perf_counter() - started

    workers = workers or min(4, os.cpu_count() or 1)
    with ThreadPoolExecutor(max(1, workers)) as pool:
        answers = list(pool.map(run, checks))
    found = []
    for check, (rows, seconds) in zip(checks, answers):
        if timings is not None:
            key = f"{check.shape} {check.component} {compact(check.path) if check.path else '(node)'}"
            timings[key] = timings.get(key, 0.0) + seconds
        for row in rows:
            this = row["this"]
            message = check.message
            if check.template:
                for name, term in row.items():
                    if term is not None:
                        message = re.sub(r"\{[?$]" + name + r"\}", lambda _m, t=term: t.value, message)
            path_term = row.get("path")
            path = path_term.value if path_term is not None else check.path
            value = row.get("value")
            if value is None and check.path is None:  # a constraint on the node itself: the node is the value
                value = this
            found.append((this, path, message, check.severity, check.component, value.value if value else None))
    labels = _labels(graph, {this for this, *_ in found if this.type == "uri"})
    violations = []
    for this, path, message, severity, component, value in found:
        label = labels.get(this.value)
        focus = f"{label} <{this.value}>" if label else this.value
        violations.append(Violation(focus=focus, path=compact(path) if path else "(node)", message=message,
                                    severity=severity, component=component, value=value))
    violations.sort(key=lambda v: (v.focus, v.path, v.message, v.value or ""))
    return ValidationReport(not violations, violations)


def _labels(graph, iris: set, chunk: int = 500) -> dict[str, str]:
    """One rdfs:label per node (the least, so the report is the same on every run)."""
    out: dict[str, str] = {}
    ordered = sorted(i.value for i in iris)
    for start in range(0, len(ordered), chunk):
        values = " ".join(f"<{iri}>" for iri in ordered[start:start + chunk])
        rows = graph.query(f"SELECT ?n (MIN(STR(?l)) AS ?label) WHERE {{ VALUES ?n {{ {values} }} ?n rdfs:label ?l }} "
                           "GROUP BY ?n", trusted=True).rows
        for row in rows:
            if row.get("label") is not None:
                out[row["n"].value] = row["label"].value
    return out

