"""The gap matrix's cell counts aggregated in the store, without loading the works.

`gap_cells(graph)` runs the `gap-cell-counts` named query (one GROUP BY over the category and
mechanism links, counted as kg.analysis counts them: see COUNT_EXPLANATION) and the small
`analysis-taxonomy` listing, and computes expected counts, scores and statuses from the
counts exactly as `gap_matrix` does from a loaded Corpus. The rows are gap_matrix's
(category x mechanism, empty cells included) without the per-cell work lists; those are the
`cell-papers` query's, fetched for one cell when asked.
"""

from __future__ import annotations

import math

import pandas as pd

from ..errors import UsageError
from ..sparql.named import run_named
from ..sparql.results import Term
from .data import MIN_CONFIDENCE, check_min_confidence, none_column
from .gaps import CELL_COLUMNS, THIN_RATIO, _score, _status

COUNT_COLUMNS = [c for c in CELL_COLUMNS if c not in ("papers", "works", "predicted_works")]


def cell_counts(graph, min_confidence: float | None = None) -> dict[tuple[str, str], tuple[int, int]]:
    """(category, mechanism) -> (works, predicted) for every pair holding works, from the store."""
    threshold = check_min_confidence(MIN_CONFIDENCE if min_confidence is None else min_confidence)
    # a typed number: a bare float would be bound as a string, which no confidence compares with
    bound = Term("literal", format(threshold, "f"), "http://www.w3.org/2001/XMLSchema#decimal")
    rows = run_named(graph, "gap-cell-counts", {"minConfidence": bound}).records()
    return {(str(r["category"]), str(r["mechanism"])): (int(r["works"]), int(r["predicted"] or 0)) for r in rows}


def _axis(concepts: list[dict], axis: str) -> list[tuple[str, str]]:
    """(notation, label) of one taxonomy axis in survey order (as Corpus.axis sorts them)."""
    rows = [r for r in concepts if r.get("axis") == axis]
    order = [(float(r["order"]) if r.get("order") not in (None, "") else 0.0, str(r["notation"]), str(r["label"]))
             for r in rows]
    return [(n, label) for _, n, label in sorted(order, key=lambda t: (t[0], t[1]))]


def gap_cells(graph, min_confidence: float | None = None, *, category: str | None = None,
              thin_ratio: float = THIN_RATIO) -> pd.DataFrame:
    """gap_matrix(load_corpus(graph, min_confidence), category=...) without papers, works and
    predicted_works (COUNT_COLUMNS), counted in the store."""
    concepts = run_named(graph, "analysis-taxonomy").records()
    cats, mechs = _axis(concepts, "category"), _axis(concepts, "mechanism")
    cat_labels, mech_labels = dict(cats), dict(mechs)  # a notation named twice: its last label, as Corpus.notation_labels
    if category is not None and category not in [c for c, _ in cats]:
        valid = ", ".join(c for c, _ in cats) or "(none in this taxonomy)"
        raise UsageError(f"unknown category {category!r}; valid: {valid}")
    counts = cell_counts(graph, min_confidence)

    def expectation(table: dict[tuple[str, str], int]):
        total = sum(table.values())
        margins = [{}, {}]
        for key, n in table.items():
            for d in (0, 1):
                margins[d][key[d]] = margins[d].get(key[d], 0) + n
        return lambda key: total * math.prod(margins[d].get(key[d], 0) / total for d in (0, 1)) if total else 0.0

    expect = expectation({k: n for k, (n, _) in counts.items()})
    expect_asserted = expectation({k: n - p for k, (n, p) in counts.items() if n - p})
    rows = []
    for c, _ in cats:
        for m, _ in mechs:
            count, predicted = counts.get((c, m), (0, 0))
            expected, asserted_expected = expect((c, m)), expect_asserted((c, m))
            rows.append({"category": c, "category_label": cat_labels[c], "mechanism": m,
                         "mechanism_label": mech_labels[m],
                         "count": count, "asserted": count - predicted, "predicted": predicted,
                         "expected": round(expected, 3), "ratio": round(count / expected, 3) if expected else None,
                         "score": _score(count, expected), "status": _status(count, expected, thin_ratio),
                         "asserted_expected": round(asserted_expected, 3),
                         "asserted_status": _status(count - predicted, asserted_expected, thin_ratio)})
    frame = none_column(pd.DataFrame(rows, columns=COUNT_COLUMNS), "ratio")
    if category:
        frame = frame[frame["category"] == category].reset_index(drop=True)
    return frame
