"""Which label assertions become a work's effective labels.

Curated labels (a person's decision) always win on their axis; otherwise a
category is the most confident assertion and the other axes are multi-label.
"""

from __future__ import annotations

from . import Label

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

SINGLE_VALUED = {"category"}
CURATION_PREFIX = "curation"
PREDICTION_PREFIX = "classifier"


def is_curated(label: Label) -> bool:
    return label.source.startswith(CURATION_PREFIX)


def is_predicted(label: Label) -> bool:
    """A classifier's suggestion (a person or a survey has not placed the work)."""
    return label.source.startswith(PREDICTION_PREFIX)


def effective_labels(labels: list[Label], threshold: float = 0.0) -> dict[str, list[str]]:
    """axis -> notations, in a stable order."""
    by_axis: dict[str, list[Label]] = {}
    for label in labels:
        by_axis.setdefault(label.axis, []).append(label)
    out: dict[str, list[str]] = {}
    for axis, items in by_axis.items():
        curated = [lab for lab in items if is_curated(lab)]
        if curated:
            latest = max(lab.at or "" for lab in curated)
            chosen = [lab for lab in curated if (lab.at or "") == latest]
        else:
            chosen = [lab for lab in items if lab.confidence >= threshold and lab.value != "unknown"]
        if not chosen:
            continue
        if axis in SINGLE_VALUED:
            best = max(chosen, key=lambda lab: (lab.confidence, is_curated(lab)))
            out[axis] = [best.value]
        else:
            out[axis] = sorted({lab.value for lab in chosen})
    return out
