"""The survey taxonomy, read from the SKOS file in ontology/ (never from code).

Axis names used throughout kg: category, mechanism, modality, task, metric, method
(named base models and methods works build on).
Which scheme is which comes from `kg:forProperty` on the concept schemes.

The taxonomy also declares its structure as data (terms in ontology/schema.ttl), read by
`read_structure`: `kg:singleValued true` on a scheme whose concepts never go together in
one work, and `kg:implies` / `kg:excludes` between concepts (or `kg:AxisValue` nodes, a
concept on one property, where a scheme serves several, like modalities for input and
output). Nothing about a particular survey is written in code.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from rdflib.namespace import OWL

from ..errors import KgError
from ..paths import ontology_dir
from ..vocab import KG, PREFIXES

SCHEME_AXES = {
    str(KG.category): "category",
    str(KG.mechanism): "mechanism",
    str(KG.inputModality): "modality",
    str(KG.outputModality): "modality",
    str(KG.task): "task",
    str(KG.metric): "metric",
    str(KG.buildsOnMethod): "method",
}



@dataclass
class Concept:
    iri: str
    notation: str
    label: str
    axis: str
    definition: str = ""
    synonyms: list[str] = field(default_factory=list)  # altLabel + hiddenLabel
    order: float = 0.0  # survey section for categories, subsection index for mechanisms
    alt_labels: list[str] = field(default_factory=list)  # altLabel only (hiddenLabels are spelling variants)


@dataclass
class Taxonomy:
    concepts: dict[str, dict[str, Concept]]  # axis -> notation -> concept
    # kg:scopeKeyword values of the schemes: words marking a paper of the survey's field
    scope_keywords: list[str] = field(default_factory=list)
    # the taxonomy's title: dcterms:title of its owl:Ontology node or of its category scheme
    title: str = ""

    def axis(self, name: str) -> list[Concept]:
        return sorted(self.concepts.get(name, {}).values(), key=lambda c: (c.order, c.notation))

    def get(self, axis: str, notation: str) -> Concept | None:
        return self.concepts.get(axis, {}).get(notation)

    def vocabulary(self) -> dict[str, set[str]]:
        return {axis: set(items) for axis, items in self.concepts.items()}


_QUERY = """
SELECT ?prop ?c ?notation ?label ?def ?synProp ?syn ?section ?index WHERE {
  ?scheme kg:forProperty ?prop .
  ?c skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label .
  OPTIONAL { ?c skos:definition ?def }
  OPTIONAL { VALUES ?synProp { skos:altLabel skos:hiddenLabel } ?c ?synProp ?syn }
  OPTIONAL { ?c kg:surveySection ?section }
  OPTIONAL { ?c kg:subsectionIndex ?index }
}
"""
_SCOPE_QUERY = """
SELECT DISTINCT ?keyword WHERE { ?scheme kg:forProperty ?prop ; kg:scopeKeyword ?keyword } ORDER BY ?keyword
"""
_TITLE_QUERY = """
SELECT ?title WHERE {
  { ?top a owl:Ontology ; dcterms:title ?title } UNION { ?top kg:forProperty kg:category ; dcterms:title ?title }
} ORDER BY ?title LIMIT 1
"""


def read_taxonomy(source: ox.Store | Path | None = None) -> Taxonomy:
    """Concepts per axis from a store holding the taxonomy, or from a taxonomy file."""
    if isinstance(source, ox.Store):
        store = source
    else:
        path = Path(source) if source else ontology_dir() / "taxonomy.ttl"
        store = ox.Store()
        try:
            store.load(path=str(path), format=ox.RdfFormat.TURTLE)
        except (SyntaxError, OSError) as exc:
            raise KgError(f"{path}: cannot read the taxonomy: {exc}") from None
    concepts: dict[str, dict[str, Concept]] = {}
    for row in store.query(_QUERY, prefixes=PREFIXES):
        axis = SCHEME_AXES.get(row["prop"].value)
        if axis is None:
            continue
        notation = row["notation"].value
        concept = concepts.setdefault(axis, {}).get(notation)
        if concept is None:
            order = row["section"] or row["index"]
            concept = Concept(
                iri=row["c"].value,
                notation=notation,
                label=row["label"].value,
                axis=axis,
                definition=row["def"].value if row["def"] else "",
                order=float(order.value) if order else 0.0,
            )
            concepts[axis][notation] = concept
        if row["syn"] and row["syn"].value not in concept.synonyms:
            concept.synonyms.append(row["syn"].value)
        if row["syn"] and row["synProp"].value.endswith("altLabel") and row["syn"].value not in concept.alt_labels:
            concept.alt_labels.append(row["syn"].value)
    for required in ("category", "mechanism"):
        if not concepts.get(required):
            raise KgError(f"the taxonomy has no concept scheme with kg:forProperty kg:{required}")
    keywords = [row["keyword"].value for row in store.query(_SCOPE_QUERY, prefixes=PREFIXES)]
    titles = [row["title"].value for row in store.query(_TITLE_QUERY, prefixes={**PREFIXES, "owl": str(OWL)})]
    return Taxonomy(concepts, keywords, titles[0] if titles else "")


# ---------------------------------------------------------------- structure
# Work properties -> the kinds of kg.analysis (the ?kind of analysis-work-concepts).
PROPERTY_KINDS = {
    str(KG.category): "category",
    str(KG.mechanism): "mechanism",
    str(KG.inputModality): "input",
    str(KG.outputModality): "output",
    str(KG.task): "task",
    str(KG.metric): "metric",
    str(KG.buildsOnMethod): "method",
    str(KG.proposesMethod): "method",
}

SET_ASIDE_REASONS = ("single_valued", "excluded", "implied")

_STRUCTURE_PREFIXES = "PREFIX kg: <https://w3id.org/kg-survey/ontology#>\n" \
                      "PREFIX skos: <http://www.w3.org/2004/02/skos/core#>\n"
_SINGLE_QUERY = _STRUCTURE_PREFIXES + """
SELECT DISTINCT ?prop ?flag WHERE { ?scheme kg:singleValued ?flag ; kg:forProperty ?prop }
"""
_RELATION_QUERY = _STRUCTURE_PREFIXES + """
SELECT ?rel ?s ?sprop ?sconcept ?o ?oprop ?oconcept WHERE {
  VALUES ?rel { kg:implies kg:excludes }
  ?s ?rel ?o .
  OPTIONAL { ?s kg:onProperty ?sprop }
  OPTIONAL { ?s kg:valueConcept ?sconcept }
  OPTIONAL { ?o kg:onProperty ?oprop }
  OPTIONAL { ?o kg:valueConcept ?oconcept }
}
"""
_CONCEPT_QUERY = _STRUCTURE_PREFIXES + """
SELECT DISTINCT ?c ?notation ?prop WHERE { ?c skos:inScheme ?scheme ; skos:notation ?notation .
                                           ?scheme kg:forProperty ?prop }
"""


@dataclass(frozen=True)
class Structure:
    """What a taxonomy declares about which labels of one work can go together.

    Keys are "kind:notation" as in kg.analysis (e.g. "mechanism:alignment",
    "output:image"). single_valued: kinds a work holds at most one value of;
    implies: key -> every key it implies (transitively, itself left out); excludes:
    declared pairs no work holds both of.
    """

    single_valued: frozenset[str] = frozenset()
    implies: dict[str, frozenset[str]] = field(default_factory=dict)
    excludes: frozenset[frozenset[str]] = frozenset()

    @property
    def is_empty(self) -> bool:
        return not (self.single_valued or self.implies or self.excludes)

    def implied(self, key: str) -> frozenset[str]:
        """The key and every key it implies."""
        return self.implies.get(key, frozenset()) | {key}

    def _clash(self, x: str, y: str) -> str | None:
        """Why two keys cannot both hold ('single_valued', 'excluded') or None."""
        if x == y:
            return None
        if frozenset((x, y)) in self.excludes:
            return "excluded"
        kind = x.split(":", 1)[0]
        if kind == y.split(":", 1)[0] and kind in self.single_valued:
            return "single_valued"
        return None

    def set_aside(self, a: str, b: str) -> tuple[str, str] | None:
        """Why the pair {a, b} is no research gap by the structure, or None.

        ('single_valued', why): a and b are two values of a single-valued kind;
        ('excluded', why): declared exclusive, or one implies a value that cannot go with
        the other (or with a value the other implies); ('implied', why): one implies the other.
        """
        if a == b:
            return None
        direct = self._clash(a, b)
        if direct == "single_valued":
            return direct, f"{a.split(':', 1)[0]} is single-valued: a work holds one {a.split(':', 1)[0]}"
        if direct == "excluded":
            return direct, f"{a} excludes {b}"
        for x in sorted(self.implied(a)):
            for y in sorted(self.implied(b)):
                reason = self._clash(x, y)
                if reason:
                    via = [f"{k} implies {v}" for k, v in ((a, x), (b, y)) if k != v]
                    clash = (f"{x} excludes {y}" if reason == "excluded"
                             else f"{x} and {y} are two values of single-valued {x.split(':', 1)[0]}")
                    return "excluded", "; ".join(via + [clash])
        if b in self.implied(a):
            return "implied", f"{a} implies {b}"
        if a in self.implied(b):
            return "implied", f"{b} implies {a}"
        return None


def _rows(source, text: str) -> list[dict]:
    """SELECT rows as {var: str or None} from an Oxigraph store or a kg graph (`.query`)."""
    if isinstance(source, ox.Store):
        answer = source.query(text)
        names = [v.value for v in answer.variables]
        return [{n: (row[n].value if row[n] is not None else None) for n in names} for row in answer]
    result = source.query(text, trusted=True)
    return [{k: (None if v is None else str(v)) for k, v in row.items()} for row in result.records()]


def _structure_from(source) -> Structure:
    single = set()
    for row in _rows(source, _SINGLE_QUERY):
        if str(row["flag"]).lower() in ("true", "1"):
            kind = PROPERTY_KINDS.get(row["prop"])
            if kind is None:
                raise KgError(f"kg:singleValued on a scheme for {row['prop']}, which is no property of works kg reads")
            single.add(kind)
    keys_of: dict[str, dict[str, str]] = {}  # concept IRI -> property -> key
    for row in _rows(source, _CONCEPT_QUERY):
        kind = PROPERTY_KINDS.get(row["prop"])
        if kind:
            keys_of.setdefault(row["c"], {})[row["prop"]] = f"{kind}:{row['notation']}"

    def key(node, prop, concept, rel) -> str:
        if prop or concept:  # an axis value
            if not (prop and concept):
                raise KgError(f"the axis value {node} in a kg:{rel} declaration needs both kg:onProperty "
                              "and kg:valueConcept")
            found = keys_of.get(concept, {}).get(prop)
            if found is None:
                raise KgError(f"the axis value {node} names {concept} on {prop}, but that concept is not in "
                              "a scheme for that property")
            return found
        props = keys_of.get(node)
        if not props:
            raise KgError(f"kg:{rel} names {node}, which is no concept of a taxonomy scheme (nor a kg:AxisValue)")
        if len(props) > 1:
            raise KgError(f"kg:{rel} names {node}, whose scheme serves several properties "
                          f"({', '.join(sorted(props))}): name a kg:AxisValue (the concept on one property) instead")
        return next(iter(props.values()))

    direct: dict[str, set[str]] = {}
    excludes: set[frozenset[str]] = set()
    for row in _rows(source, _RELATION_QUERY):
        rel = row["rel"].rsplit("#", 1)[-1]
        a = key(row["s"], row["sprop"], row["sconcept"], rel)
        b = key(row["o"], row["oprop"], row["oconcept"], rel)
        if a == b:
            raise KgError(f"the taxonomy declares that {a} {rel} itself")
        if rel == "implies":
            direct.setdefault(a, set()).add(b)
        else:
            excludes.add(frozenset((a, b)))
    implies = {}
    for start, targets in direct.items():  # transitive closure
        seen, todo = set(), list(targets)
        while todo:
            k = todo.pop()
            if k not in seen:
                seen.add(k)
                todo.extend(direct.get(k, ()))
        seen.discard(start)
        implies[start] = frozenset(seen)
    structure = Structure(frozenset(single), implies, frozenset(excludes))
    for start, implied in implies.items():  # a value that could never be held is a mistake in the file
        values = sorted(implied | {start})
        for i, x in enumerate(values):
            for y in values[i + 1:]:
                if structure._clash(x, y):
                    raise KgError(f"the taxonomy's structure contradicts itself: {start} implies {x} and {y}, "
                                  "which cannot go together")
    return structure


@lru_cache(maxsize=8)
def _structure_of_file(path: str, stamp: tuple[int, int]) -> Structure:
    store = ox.Store()
    try:
        store.load(path=path, format=ox.RdfFormat.TURTLE)
    except (SyntaxError, OSError) as exc:
        raise KgError(f"{path}: cannot read the taxonomy: {exc}") from None
    return _structure_from(store)


def read_structure(source=None) -> Structure:
    """The structure a taxonomy declares: from a taxonomy file (default: the bundled
    ontology/taxonomy.ttl), an Oxigraph store, or a kg graph holding the taxonomy.

    Raises KgError when a declaration names no concept, is ambiguous (a modality named
    without saying input or output) or contradicts the others.
    """
    if source is None or isinstance(source, (str, Path)):
        path = Path(source) if source else ontology_dir() / "taxonomy.ttl"
        try:
            info = os.stat(path)
        except OSError as exc:
            raise KgError(f"{path}: cannot read the taxonomy: {exc}") from None
        return _structure_of_file(str(path), (info.st_mtime_ns, info.st_size))
    return _structure_from(source)
