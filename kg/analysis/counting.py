"""What counts and how a cell is judged: the rules the corpus path (kg.analysis.data and
kg.analysis.gaps, over works loaded into pandas) and the store path (kg.analysis.gap_counts,
over SPARQL aggregates) share. Plain Python: importing it loads neither pandas nor the graph.
"""

from __future__ import annotations

import math

from ..errors import UsageError
from ..records.dates import year_of  # noqa: F401 (the analyses' year parser is the records')

# Kinds of things a work can be linked to (analysis-work-concepts ?kind values).
KINDS = ("category", "mechanism", "input", "output", "task", "metric", "dataset", "method")
# The lowest confidence at which a predicted label counts. Chosen from `kg classify --evaluate`
# style cross-validation on the bundled graph (5 folds x 5 shuffles): predictions at 0.5 or
# more held 95 % of the time (category and mechanism: 93 %), those below 0.5 only 22-50 %;
# it is also the classifier's review threshold, so a prediction flagged "needs review" does
# not count unless asked for (kg gaps / kg report --min-confidence).
MIN_CONFIDENCE = 0.5
# Label-assertion axes (analysis-label-assertions ?axis) -> kinds
_KG = "https://w3id.org/kg-survey/ontology#"
AXIS_KINDS = {_KG + "category": "category", _KG + "mechanism": "mechanism", _KG + "inputModality": "input",
              _KG + "outputModality": "output", _KG + "task": "task", _KG + "metric": "metric",
              _KG + "buildsOnMethod": "method", _KG + "proposesMethod": "method", _KG + "usesMethod": "method",
              _KG + "usesDataset": "dataset", _KG + "introducesDataset": "dataset"}
# kg's classifier writes its predictions as this source (kg classify)
CLASSIFIER_SOURCE = "https://w3id.org/kg-survey/id/source/classifier"

BY_CHOICES = ("modality", "year")
THIN_RATIO = 0.5


def check_min_confidence(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise UsageError(f"the minimum confidence {value} is not between 0 and 1", field="min_confidence")
    return float(value)


def flag(value) -> bool:
    return value is True or str(value).lower() in ("true", "1")


def confidence_of(value) -> float | None:
    try:
        return None if value is None or value == "" else float(value)
    except (TypeError, ValueError):
        return None


def lowest(*confidences: float | None) -> float | None:
    """The lowest of the predicted parts' confidences; None when every part is asserted."""
    found = [c for c in confidences if c is not None]
    return min(found) if found else None


def score(count: int, expected: float) -> float:
    """The Pearson residual (count - expected) / sqrt(expected), rounded (0 when nothing is expected)."""
    return round((count - expected) / math.sqrt(expected), 3) if expected > 0 else 0.0


def status(count: int, expected: float, thin_ratio: float = THIN_RATIO) -> str:
    if count == 0:
        return "empty"
    if expected > 0 and count <= thin_ratio * expected:
        return "thin"
    return "ok"


def year_span(years) -> list[int]:
    years = [y for y in years if y is not None]
    return list(range(min(years), max(years) + 1)) if years else []


def gap_note(cell: dict) -> str:
    """How a cell stands, in words, by its total and by its asserted works alone: 'empty',
    'thin, 1 predicted', 'empty in the asserted evidence, 2 predicted', ..."""
    state, asserted, predicted = cell["status"], cell["asserted_status"], int(cell.get("predicted") or 0)
    more = f", {predicted} predicted" if predicted else ""
    if state == asserted:
        return state + more
    if state == "ok":
        return f"{asserted} in the asserted evidence{more}"
    if asserted == "empty":
        return f"empty in the asserted evidence, {state} with {predicted} predicted"
    if asserted == "ok":
        return f"{state} once predictions count ({int(cell['asserted'])} asserted{more})"
    return f"{state} counting predictions, {asserted} in the asserted evidence{more}"
