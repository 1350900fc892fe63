"""SHACL validation of the graph against ontology/shapes.ttl."""

from __future__ import annotations

from dataclasses import dataclass

import pyoxigraph as ox
import rdflib

from ..errors import KgError
from ..paths import ontology_dir
from ..vocab import compact

SH = rdflib.Namespace("http://www.w3.org/ns/shacl#")


@dataclass
class Violation:
    focus: str
    path: str
    message: str
    severity: str
    component: str = ""  # the SHACL constraint component, e.g. "MinCount" (sh:MinCountConstraintComponent)
    value: str | None = None  # the offending value, when the constraint is on values


@dataclass
class ValidationReport:
    conforms: bool
    violations: list[Violation]

    def text(self) -> str:
        if self.conforms:
            return "The graph conforms to the shapes."
        lines = [f"{len(self.violations)} violation(s):"]
        for v in self.violations:
            lines.append(f"- {v.focus}\n    {v.path}: {v.message}")
        return "\n".join(lines)


def to_rdflib(graph) -> rdflib.Graph:
    g = rdflib.Graph()
    g.parse(data=graph.dump(ox.RdfFormat.N_TRIPLES), format="nt")
    return g


def validate_graph(data: rdflib.Graph, shapes: rdflib.Graph | None = None) -> ValidationReport:
    """pySHACL on `data` against `shapes` (default: ontology/shapes.ttl)."""
    from pyshacl import validate as shacl_validate  # seconds to import: only for this engine
    if shapes is None:
        shapes = rdflib.Graph().parse(ontology_dir() / "shapes.ttl")
    conforms, report, text = shacl_validate(data, shacl_graph=shapes, inference="none", advanced=True)
    if not isinstance(report, rdflib.Graph):  # the shapes themselves are broken
        raise KgError(f"the SHACL shapes cannot be used: {text}")
    violations = []
    details = set(report.objects(None, SH.detail))  # the reasons inside a result (sh:node ...), not results
    for result in report.subjects(rdflib.RDF.type, SH.ValidationResult):
        if result in details:
            continue
        focus = report.value(result, SH.focusNode)
        label = data.value(focus, rdflib.RDFS.label)
        path = report.value(result, SH.resultPath)
        message = report.value(result, SH.resultMessage)
        severity = report.value(result, SH.resultSeverity)
        component = str(report.value(result, SH.sourceConstraintComponent) or "")
        value = report.value(result, SH.value)
        violations.append(Violation(
            focus=f"{label} <{focus}>" if label else str(focus),
            path=compact(str(path)) if isinstance(path, rdflib.URIRef) else str(path or "(node)"),
            message=str(message or report.value(result, SH.sourceConstraintComponent)),
            severity=str(severity).rsplit("#", 1)[-1] if severity else "Violation",
            component=component.rsplit("#", 1)[-1].removesuffix("ConstraintComponent"),
            value=str(value) if value is not None else None,
        ))
    violations.sort(key=lambda v: (v.focus, v.path, v.message))
    return ValidationReport(bool(conforms), violations)
