"""Checking a taxonomy file before use (`kg validate --taxonomy FILE`).

The contract is docs/taxonomy.md: concept schemes say which property of works they serve
(`kg:forProperty`); every concept has a notation and a preferred label and sits in the
scheme of exactly one axis; labels do not name two concepts of one axis; the structure
(`kg:singleValued`, `kg:implies`, `kg:excludes`, `kg:AxisValue`) names only what exists.
Each problem names the concept (or scheme) and the property at fault; `check_taxonomy`
returns them all rather than stopping at the first.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from rdflib.namespace import RDF, SKOS

from ..errors import KgError
from .taxonomy import PROPERTY_KINDS, SCHEME_AXES, read_structure

KGNS = rdflib.Namespace("https://w3id.org/kg-survey/ontology#")
REQUIRED_AXES = ("category", "mechanism")
OPTIONAL_AXES = ("modality", "task", "metric", "method")


@dataclass
class Problem:
    subject: str  # the concept or scheme at fault, as the file names it (prefixed where it can be)
    prop: str  # the property at fault (prefixed)
    message: str

    def __str__(self) -> str:
        return f"{self.subject} {self.prop}: {self.message}"


@dataclass
class TaxonomyCheck:
    path: Path
    errors: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # not errors: optional parts the file leaves out
    concepts: int = 0
    axes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def text(self) -> str:
        lines = [f"- {p}" for p in self.errors]
        if self.errors:
            lines.insert(0, f"{self.path}: {len(self.errors)} problem(s):")
        else:
            lines.append(f"ok: {self.concepts} concepts on {len(self.axes)} axes ({', '.join(self.axes)})")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)


def check_taxonomy(path: Path | str) -> TaxonomyCheck:
    """Every problem of a taxonomy file. Raises KgError (field 'taxonomy_file') only when the
    file cannot be read or is not Turtle; its message names the line."""
    path = Path(path)
    try:
        ox.Store().load(path=str(path), format=ox.RdfFormat.TURTLE)  # oxigraph names line and column
    except SyntaxError as exc:
        raise KgError(f"{path}: not valid Turtle: {exc}", field="taxonomy_file") from None
    except OSError as exc:
        raise KgError(f"{path}: cannot read the taxonomy: {exc.strerror or exc}", field="taxonomy_file") from None
    graph = rdflib.Graph().parse(path, format="turtle")
    return _Checker(graph, TaxonomyCheck(path)).run()


class _Checker:
    def __init__(self, graph: rdflib.Graph, result: TaxonomyCheck):
        self.g = graph
        self.result = result

    def name(self, node) -> str:
        if isinstance(node, rdflib.URIRef):
            try:
                return self.g.namespace_manager.normalizeUri(node)
            except Exception:  # noqa: BLE001 (an IRI no prefix fits stays whole)
                return f"<{node}>"
        return str(node)

    def fail(self, subject, prop, message: str) -> None:
        self.result.errors.append(Problem(self.name(subject) if isinstance(subject, rdflib.term.Node) else subject,
                                          self.name(prop), message))

    def run(self) -> TaxonomyCheck:
        g = self.g
        scheme_axes: dict = {}  # scheme -> set of axes it serves
        for scheme, prop in g.subject_objects(KGNS.forProperty):
            axis = SCHEME_AXES.get(str(prop))
            if axis is None:
                self.fail(scheme, KGNS.forProperty, f"{self.name(prop)} is no property of works kg reads; "
                          f"valid: {', '.join(self.name(rdflib.URIRef(p)) for p in SCHEME_AXES)}")
                continue
            scheme_axes.setdefault(scheme, set()).add(axis)
        axes = sorted({a for served in scheme_axes.values() for a in served},
                      key=lambda a: (REQUIRED_AXES + OPTIONAL_AXES).index(a))
        for axis in REQUIRED_AXES:
            if axis not in axes:
                self.fail("(taxonomy)", KGNS.forProperty, f"no concept scheme declares kg:forProperty kg:{axis}; "
                          f"the {axis} axis is required")
        for axis in OPTIONAL_AXES:
            if axis not in axes:
                self.result.notes.append(f"no {axis} scheme (optional)")
        for scheme, served in scheme_axes.items():
            if len(served) > 1:
                self.fail(scheme, KGNS.forProperty, f"serves several axes ({', '.join(sorted(served))}); "
                          "a scheme serves one axis (modalities may serve input and output)")
        self.result.axes = axes

        # concepts: everything typed skos:Concept or placed in a scheme
        concepts = set(g.subjects(RDF.type, SKOS.Concept)) | set(g.subjects(SKOS.inScheme, None))
        axis_of: dict = {}
        for concept in sorted(concepts, key=str):
            homes = {a for s in g.objects(concept, SKOS.inScheme) for a in scheme_axes.get(s, ())}
            if not list(g.objects(concept, SKOS.inScheme)):
                self.fail(concept, SKOS.inScheme, "missing: the concept belongs to no scheme")
            elif not homes:
                schemes = ", ".join(self.name(s) for s in g.objects(concept, SKOS.inScheme))
                self.fail(concept, SKOS.inScheme, f"its scheme ({schemes}) has no kg:forProperty, so the concept "
                          "is on no axis")
            elif len(homes) > 1:
                self.fail(concept, SKOS.inScheme, f"in schemes of several axes ({', '.join(sorted(homes))}); "
                          "a concept belongs to one axis")
            else:
                axis_of[concept] = next(iter(homes))
            notations = list(g.objects(concept, SKOS.notation))
            if len(notations) != 1:
                self.fail(concept, SKOS.notation, "missing" if not notations else
                          f"{len(notations)} values ({', '.join(sorted(map(str, notations)))}); give one")
            labels = list(g.objects(concept, SKOS.prefLabel))
            if not labels:
                self.fail(concept, SKOS.prefLabel, "missing")
            elif len({getattr(lab, "language", None) for lab in labels}) < len(labels):
                self.fail(concept, SKOS.prefLabel, f"{len(labels)} values in one language; give one per language")
        self.result.concepts = len(axis_of)
        self._unique(axis_of)
        self._structure(scheme_axes, axis_of)
        if self.result.ok and not any(True for _ in g.subject_objects(KGNS.scopeKeyword)):
            self.result.notes.append("no kg:scopeKeyword: harvest queries are bounded by the word every category "
                                     "label shares, else by the taxonomy's title (docs/taxonomy.md)")
        return self.result

    def _unique(self, axis_of: dict) -> None:
        """Notations and labels (pref, alt, hidden; case folded) name one concept per axis."""
        notation_owner: dict = {}
        label_owner: dict = {}
        for concept, axis in sorted(axis_of.items(), key=lambda kv: str(kv[0])):
            for notation in self.g.objects(concept, SKOS.notation):
                other = notation_owner.setdefault((axis, str(notation)), concept)
                if other != concept:
                    self.fail(concept, SKOS.notation, f"{str(notation)!r} is also the notation of {self.name(other)} "
                              f"on the {axis} axis")
            for prop in (SKOS.prefLabel, SKOS.altLabel, SKOS.hiddenLabel):
                for label in self.g.objects(concept, prop):
                    key = (axis, " ".join(str(label).casefold().split()))
                    other = label_owner.setdefault(key, concept)
                    if other != concept:
                        self.fail(concept, prop, f"{str(label)!r} also labels {self.name(other)} on the {axis} axis "
                                  "(a label names one concept per axis)")

    def _structure(self, scheme_axes: dict, axis_of: dict) -> None:
        g = self.g
        for scheme, flag in g.subject_objects(KGNS.singleValued):
            if scheme not in scheme_axes:
                self.fail(scheme, KGNS.singleValued, "declared on something that is no scheme with a kg:forProperty "
                          "kg reads")
            elif str(flag).lower() not in ("true", "false", "1", "0"):
                self.fail(scheme, KGNS.singleValued, f"{flag!r} is not true or false")
        for value in set(g.subjects(RDF.type, KGNS.AxisValue)) | set(g.subjects(KGNS.onProperty, None)):
            prop, concept = g.value(value, KGNS.onProperty), g.value(value, KGNS.valueConcept)
            if prop is None or concept is None:
                missing = KGNS.onProperty if prop is None else KGNS.valueConcept
                self.fail(value, missing, "missing: an axis value needs kg:onProperty and kg:valueConcept")
            elif str(prop) not in PROPERTY_KINDS:
                self.fail(value, KGNS.onProperty, f"{self.name(prop)} is no property of works kg reads")
            elif concept not in axis_of:
                self.fail(value, KGNS.valueConcept, f"{self.name(concept)} is no concept of a taxonomy scheme")
            elif SCHEME_AXES.get(str(prop)) != axis_of[concept]:
                self.fail(value, KGNS.valueConcept, f"{self.name(concept)} is a {axis_of[concept]} concept, "
                          f"not one for {self.name(prop)}")
        axis_values = set(g.subjects(KGNS.onProperty, None))
        for rel in (KGNS.implies, KGNS.excludes):
            for s, o in g.subject_objects(rel):
                for node in (s, o):
                    if node not in axis_of and node not in axis_values:
                        self.fail(s, rel, f"names {self.name(node)}, which is no concept of a taxonomy scheme "
                                  "(nor a kg:AxisValue)")
        if self.result.ok:  # what remains: contradictions and ambiguous modalities, as the reader finds them
            try:
                read_structure(self.result.path)
            except KgError as exc:
                self.fail("(structure)", KGNS.implies, exc.message)
