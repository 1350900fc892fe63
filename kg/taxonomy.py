"""The survey taxonomy, read from the SKOS file in ontology/ (never from code).

Axis names used throughout kg: category, mechanism, modality, task, metric, method
(named base models and methods works build on).
Which scheme is which comes from `kg:forProperty` on the concept schemes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox

from .errors import KgError
from .paths import ontology_dir
from .vocab import KG, PREFIXES

SCHEME_AXES = {
    str(KG.category): "category",
    str(KG.mechanism): "mechanism",
    str(KG.inputModality): "modality",
    str(KG.outputModality): "modality",
    str(KG.task): "task",
    str(KG.metric): "metric",
    str(KG.buildsOnMethod): "method",
}

# Label axes (on works) -> the taxonomy axis whose concepts they take.
LABEL_AXIS_SCHEME = {
    "category": "category",
    "mechanism": "mechanism",
    "input_modality": "modality",
    "output_modality": "modality",
    "task": "task",
    "metric": "metric",
    "method": "method",
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


@dataclass
class Taxonomy:
    concepts: dict[str, dict[str, Concept]]  # axis -> notation -> concept

    def axis(self, name: str) -> list[Concept]:
        return sorted(self.concepts.get(name, {}).values(), key=lambda c: (c.order, c.notation))

    def get(self, axis: str, notation: str) -> Concept | None:
        return self.concepts.get(axis, {}).get(notation)

    def vocabulary(self) -> dict[str, set[str]]:
        return {axis: set(items) for axis, items in self.concepts.items()}


_QUERY = """
SELECT ?prop ?c ?notation ?label ?def ?syn ?section ?index WHERE {
  ?scheme kg:forProperty ?prop .
  ?c skos:inScheme ?scheme ; skos:notation ?notation ; skos:prefLabel ?label .
  OPTIONAL { ?c skos:definition ?def }
  OPTIONAL { ?c skos:altLabel|skos:hiddenLabel ?syn }
  OPTIONAL { ?c kg:surveySection ?section }
  OPTIONAL { ?c kg:subsectionIndex ?index }
}
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
    for required in ("category", "mechanism"):
        if not concepts.get(required):
            raise KgError(f"the taxonomy has no concept scheme with kg:forProperty kg:{required}")
    return Taxonomy(concepts)
