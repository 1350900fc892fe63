"""Where the field is thin: the taxonomy gap matrix, trends, dataset and modality gaps.

Pure functions: a graph or a kg.analysis.Corpus in, DataFrames and dicts out.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

import pandas as pd

from ..errors import UsageError
from .counting import BY_CHOICES, THIN_RATIO, gap_note, lowest as _lowest, score as _score, status as _status
from .counting import year_span as _year_span
from .data import Corpus, load_corpus, none_column

TREND_WINDOW = 2
TREND_MARGIN = 0.15
TREND_MIN_WORKS = 3  # fewer works in a cell over the years: no growing/fading/steady verdict
TOO_FEW = "too few works"

SCORE_EXPLANATION = (
    "Each cell's expected count is what the table's margins predict if the two (or three) "
    "dimensions were independent: row total x column total / grand total, computed over "
    "(paper, cell) incidences (a paper with two mechanisms counts in both cells). The score "
    "is the Pearson residual (observed - expected) / sqrt(expected): 0 means as the margins "
    "predict, -1 one Poisson standard deviation thinner, +1 one thicker. A cell is 'empty' "
    "when no paper sits in it and 'thin' when it holds at most half of its expected count."
)
COUNT_EXPLANATION = (
    "Every count splits into asserted and predicted works. A label is asserted when a source "
    "other than the classifier stands behind it: the survey's own table, a curated list, a "
    "person's curation (kg curate). It is predicted when only the classifier gives it; a "
    "prediction counts (shown as '5 (+3 predicted)', marked with its confidence) only at or "
    "above the minimum confidence, and below it not at all. A work sits in a cell by "
    "prediction when its category or mechanism there is predicted. Each cell is judged twice: "
    "by all its counted works (status, expected, score) and by its asserted works alone against "
    "what the asserted table's margins predict (asserted_status, asserted_expected), so a cell "
    "can be 'empty in the asserted evidence' while predictions fill it. Works the graph marks "
    "out of scope (kg:scopeStatus \"out\") count nowhere."
)

CELL_COLUMNS = ["category", "category_label", "mechanism", "mechanism_label", "count", "asserted", "predicted",
                "expected", "ratio", "score", "status", "asserted_expected", "asserted_status", "papers", "works",
                "predicted_works"]


DATASET_COLUMNS = ["axis", "notation", "label", "works", "predicted", "datasets", "gap"]
MODALITY_COLUMNS = ["modality", "label", "input", "output", "works", "asserted", "predicted", "categories",
                    "missing_categories", "status", "asserted_status"]


def check_category(corpus: Corpus, category: str | None) -> None:
    """UsageError listing the valid categories when `category` is not one of them."""
    if category is None:
        return
    valid = list(corpus.axis("category")["notation"])
    if category not in valid:
        raise UsageError(f"unknown category {category!r}; valid: {', '.join(valid) or '(none in this taxonomy)'}")


def _cell_incidences(corpus: Corpus) -> list[tuple[str, str, str, float | None]]:
    """(work, category, mechanism, confidence) for every placed work and each of its
    mechanisms; confidence is None when both labels are asserted, else the lowest
    confidence of the predicted ones."""
    category = {w: c for w, c in zip(corpus.works["work"], corpus.works["category"]) if c}
    mechanisms = corpus.concepts_by_work("mechanism")
    predicted = {**{(w, "category", n): c for (w, n), c in corpus.predicted_links("category").items()},
                 **{(w, "mechanism", n): c for (w, n), c in corpus.predicted_links("mechanism").items()}}
    return [(w, c, m, _lowest(predicted.get((w, "category", c)), predicted.get((w, "mechanism", m))))
            for w, c in category.items() for m in mechanisms.get(w, [])]








def _rows_for(keys, incidences, labels, thin_ratio) -> list[dict]:
    """Rows for every key (a tuple of dimension values) of a full table.

    incidences: list of (work, key, confidence) (confidence None: asserted); expected from
    the margins of each dimension, over all incidences and over the asserted ones alone.
    """
    counts: dict[tuple, list[str]] = defaultdict(list)
    guessed: dict[tuple, dict[str, float]] = defaultdict(dict)
    for work, key, confidence in incidences:
        counts[key].append(work)
        if confidence is not None:
            guessed[key][work] = confidence
    dims = len(keys[0]) if keys else 0

    def expectation(chosen):
        total = len(chosen)
        margins = [Counter(key[d] for _, key, _ in chosen) for d in range(dims)]
        return lambda key: total * math.prod(margins[d][key[d]] / total for d in range(dims)) if total else 0.0

    expect = expectation(incidences)
    expect_asserted = expectation([i for i in incidences if i[2] is None])
    rows = []
    for key in keys:
        works = sorted(set(counts.get(key, [])), key=lambda w: (labels.get(w, w).lower(), w))
        count = len(counts.get(key, []))
        predicted = len(guessed.get(key, {}))
        expected, asserted_expected = expect(key), expect_asserted(key)
        rows.append({"key": key, "count": count, "asserted": count - predicted, "predicted": predicted,
                     "expected": round(expected, 3),
                     "ratio": round(count / expected, 3) if expected else None,
                     "score": _score(count, expected), "status": _status(count, expected, thin_ratio),
                     "asserted_expected": round(asserted_expected, 3),
                     "asserted_status": _status(count - predicted, asserted_expected, thin_ratio),
                     "papers": [labels.get(w, w) for w in works], "works": works,
                     "predicted_works": {w: round(guessed[key][w], 4) for w in works if w in guessed.get(key, {})}})
    return rows




def gap_matrix(source, by: str | None = None, *, category: str | None = None,
               thin_ratio: float = THIN_RATIO) -> pd.DataFrame:
    """The taxonomy gap matrix in long form: one row per cell, empty cells included.

    by=None: category x mechanism; by="modality": x every taxonomy modality (input or
    output); by="year": x every year of the placed works' span. Columns: CELL_COLUMNS,
    plus `modality`, `modality_label` or `year` after `mechanism_label`. `category`
    keeps only that category's rows (expected counts still come from the whole table).
    """
    if by not in (None, *BY_CHOICES):
        raise UsageError(f"unknown split of the cells {by!r}; valid: {', '.join(BY_CHOICES)}", field="by")
    corpus = load_corpus(source)
    check_category(corpus, category)
    labels = corpus.labels()
    cats = list(corpus.axis("category")["notation"])
    mechs = list(corpus.axis("mechanism")["notation"])
    cat_labels, mech_labels = corpus.notation_labels("category"), corpus.notation_labels("mechanism")
    cells = _cell_incidences(corpus)
    extra: list[str] = []
    if by is None:
        keys = [(c, m) for c in cats for m in mechs]
        incidences = [(w, (c, m), p) for w, c, m, p in cells]
    elif by == "modality":
        mods = list(corpus.axis("modality")["notation"])
        mod_labels = corpus.notation_labels("modality")
        inputs, outputs = corpus.concepts_by_work("input"), corpus.concepts_by_work("output")
        guess_in, guess_out = corpus.predicted_links("input"), corpus.predicted_links("output")

        def modality_confidence(w, x):  # asserted when either direction is asserted
            if (x in inputs.get(w, []) and (w, x) not in guess_in) or (x in outputs.get(w, []) and (w, x) not in guess_out):
                return None
            return max(c for c in (guess_in.get((w, x)), guess_out.get((w, x))) if c is not None)

        keys = [(c, m, x) for c in cats for m in mechs for x in mods]
        incidences = [(w, (c, m, x), _lowest(p, modality_confidence(w, x))) for w, c, m, p in cells
                      for x in sorted(set(inputs.get(w, [])) | set(outputs.get(w, [])))]
        extra = ["modality", "modality_label"]
    else:
        year_of = dict(zip(corpus.works["work"], corpus.works["year"]))
        years = _year_span(year_of.get(w) for w, _, _, _ in cells)
        keys = [(c, m, y) for c in cats for m in mechs for y in years]
        incidences = [(w, (c, m, year_of[w]), p) for w, c, m, p in cells if year_of.get(w) is not None]
        extra = ["year"]
    rows = []
    for row in _rows_for(keys, incidences, labels, thin_ratio):
        key = row.pop("key")
        out = {"category": key[0], "category_label": cat_labels.get(key[0], key[0]),
               "mechanism": key[1], "mechanism_label": mech_labels.get(key[1], key[1])}
        if by == "modality":
            out.update(modality=key[2], modality_label=mod_labels.get(key[2], key[2]))
        elif by == "year":
            out["year"] = key[2]
        out.update(row)
        rows.append(out)
    columns = CELL_COLUMNS[:4] + extra + CELL_COLUMNS[4:]
    frame = none_column(pd.DataFrame(rows, columns=columns), "ratio")
    if category:
        frame = frame[frame["category"] == category].reset_index(drop=True)
    return frame


def gap_pivot(cells: pd.DataFrame, value: str = "count", columns: str = "mechanism") -> pd.DataFrame:
    """A gap_matrix frame as a table: rows category, columns mechanism (or modality/year)."""
    if cells.empty:
        return pd.DataFrame()
    index = "category" if columns == "mechanism" else ["category", "mechanism"]
    table = cells.pivot_table(index=index, columns=columns, values=value, aggfunc="sum", sort=False)
    return table


def nearest_papers(source, category: str, mechanism: str, k: int = 3) -> list[dict]:
    """Works outside the cell that share its category or mechanism (best first).

    Ranked by how many of the two they share, then in-corpus citations, then recency.
    Each: {work, label, year, category, mechanisms, shares}.
    """
    corpus = load_corpus(source)
    mechanisms = corpus.concepts_by_work("mechanism")
    cited = Counter(corpus.edges["cited"])
    found = []
    for w, label, year, cat in zip(*(corpus.works[c] for c in ("work", "label", "year", "category"))):
        mechs = mechanisms.get(w, [])
        if cat == category and mechanism in mechs:
            continue
        shares = [name for name, hit in (("category", cat == category), ("mechanism", mechanism in mechs)) if hit]
        if shares:
            found.append({"work": w, "label": label, "year": year, "category": cat, "mechanisms": mechs,
                          "shares": shares})
    found.sort(key=lambda r: (-len(r["shares"]), -cited[r["work"]], -(r["year"] or 0), r["label"].lower()))
    return found[:k]


def empty_cells(source, *, category: str | None = None, nearest: int = 3) -> pd.DataFrame:
    """Empty category x mechanism cells, most surprising (highest expected) first, with nearest papers.

    A cell is listed when it is empty counting predictions or in the asserted evidence
    alone; `note` says which (gap_note)."""
    return _flagged(source, "empty", category, nearest)


def thin_cells(source, *, category: str | None = None, nearest: int = 3,
               thin_ratio: float = THIN_RATIO) -> pd.DataFrame:
    """Thin cells (at most thin_ratio x expected), lowest score first, with nearest papers: thin
    counting predictions or in the asserted evidence alone (and empty in neither); see `note`."""
    return _flagged(source, "thin", category, nearest, thin_ratio)


def _flagged(source, status, category, nearest, thin_ratio=THIN_RATIO) -> pd.DataFrame:
    corpus = load_corpus(source)
    cells = gap_matrix(corpus, category=category, thin_ratio=thin_ratio)
    either = (cells["status"] == status) | (cells["asserted_status"] == status)
    if status == "thin":  # a cell empty either way is listed with the empty ones
        either &= (cells["status"] != "empty") & (cells["asserted_status"] != "empty")
    cells = cells[either].sort_values(["score", "expected"], ascending=[True, False],
                                      kind="stable").reset_index(drop=True)
    cells["note"] = [gap_note(row) for row in cells.to_dict("records")]
    cells["nearest"] = [nearest_papers(corpus, c, m, nearest) for c, m in zip(cells["category"], cells["mechanism"])]
    return cells




def year_counts(source) -> pd.DataFrame:
    """Works per year: columns year, works, in_taxonomy, predicted (of those, placed by a
    prediction alone), surveyed, candidates (years without works skipped)."""
    works = load_corpus(source).works
    works = works[works["year"].notna()]
    if works.empty:
        return pd.DataFrame(columns=["year", "works", "in_taxonomy", "predicted", "surveyed", "candidates"])
    grouped = works.groupby("year")
    frame = pd.DataFrame({
        "works": grouped.size(),
        "in_taxonomy": grouped["category"].apply(lambda s: int(s.notna().sum())),
        "predicted": grouped["predicted"].apply(lambda s: int(s.astype(bool).sum())),
        "surveyed": grouped["surveyed"].sum().astype(int),
        "candidates": grouped["candidate"].sum().astype(int),
    }).reset_index()
    frame["year"] = frame["year"].astype(int)
    return frame


def trends(source, *, category: str | None = None, window: int = TREND_WINDOW,
           margin: float = TREND_MARGIN, min_works: int = TREND_MIN_WORKS) -> pd.DataFrame:
    """How each category x mechanism cell moves over the years.

    Columns: category, mechanism, total, asserted, predicted (total = asserted + predicted
    works; see COUNT_EXPLANATION), by_year ({year: count} over the span of placed works),
    first_year, last_year, slope (papers/year, least squares), recent_share (share of the cell's papers in the last `window` years), field_recent_share (the
    same for all placed papers) and trend: 'empty', 'new' (only recent papers while the
    field has older ones), 'too few works' (fewer than `min_works` papers over the span,
    default 3: a share of 1 or 2 papers says nothing about direction), 'growing' / 'fading'
    (recent share at least `margin` above / below the field's), else 'steady'.
    """
    corpus = load_corpus(source)
    cells = gap_matrix(corpus, by="year", category=category)
    full = gap_matrix(corpus, by="year")
    return trend_frame(cells.to_dict("records"), full.to_dict("records"), window=window, margin=margin,
                       min_works=min_works)


def trend_frame(cells: list[dict], full: list[dict], *, window: int = TREND_WINDOW, margin: float = TREND_MARGIN,
                min_works: int = TREND_MIN_WORKS) -> pd.DataFrame:
    """trends() from the rows of the year-split gap matrix (`cells`: those of the chosen
    category, `full`: every category), however they were counted."""
    years = sorted({r["year"] for r in full})
    recent = set(years[-min(window, max(1, len(years) // 2)):]) if years else set()
    total_all = sum(int(r["count"]) for r in full)
    field_share = (sum(int(r["count"]) for r in full if r["year"] in recent) / total_all) if total_all else 0.0
    groups: dict[tuple, list[dict]] = {}
    for r in cells:
        groups.setdefault((r["category"], r["mechanism"]), []).append(r)
    rows = []
    for (cat, mech), group in groups.items():
        by_year = {int(r["year"]): int(r["count"]) for r in group}
        total = sum(by_year.values())
        predicted = sum(int(r["predicted"]) for r in group)
        present = [y for y, n in by_year.items() if n]
        share = sum(n for y, n in by_year.items() if y in recent) / total if total else 0.0
        if total == 0:
            trend = "empty"
        elif min(present) in recent and years and min(years) not in recent:
            trend = "new"
        elif total < min_works:
            trend = TOO_FEW
        elif share >= field_share + margin:
            trend = "growing"
        elif share <= field_share - margin:
            trend = "fading"
        else:
            trend = "steady"
        rows.append({"category": cat, "mechanism": mech, "total": total, "asserted": total - predicted,
                     "predicted": predicted, "by_year": by_year,
                     "first_year": min(present) if present else None,
                     "last_year": max(present) if present else None,
                     "slope": _slope(by_year), "recent_share": round(share, 3),
                     "field_recent_share": round(field_share, 3), "trend": trend})
    return pd.DataFrame(rows, columns=["category", "mechanism", "total", "asserted", "predicted", "by_year",
                                       "first_year", "last_year", "slope", "recent_share", "field_recent_share",
                                       "trend"])


def _slope(by_year: dict[int, int]) -> float:
    if len(by_year) < 2:
        return 0.0
    xs, ys = list(by_year), list(by_year.values())
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    var = sum((x - mx) ** 2 for x in xs)
    return round(sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / var, 3) if var else 0.0


def dataset_gaps(source) -> pd.DataFrame:
    """Categories, tasks and category x mechanism cells with no benchmark dataset linked to any
    of their works (datasets the survey, the list or people link, and those the classifier read
    in abstracts).

    Columns: axis ('category' | 'task' | 'cell'), notation ('category x mechanism' for a cell),
    label, works (papers with that label, or in that cell), predicted (of those, labelled so by a
    prediction alone), datasets (names used or introduced by those papers), gap (no dataset).
    """
    corpus = load_corpus(source)
    dataset_names = dict(zip(corpus.datasets["dataset"], corpus.datasets["name"]))
    by_work: dict[str, set[str]] = defaultdict(set)
    for w, concept, label in zip(*(corpus.kind("dataset")[c] for c in ("work", "concept", "label"))):
        by_work[w].add(dataset_names.get(concept, label))
    rows = []
    for axis, kind in (("category", "category"), ("task", "task")):
        members: dict[str, set[str]] = defaultdict(set)
        for w, notation in zip(*(corpus.kind(kind)[c] for c in ("work", "notation"))):
            members[notation].add(w)
        guessed = corpus.predicted_links(kind)
        for notation, label in corpus.notation_labels(axis).items():
            works = members.get(notation, set())
            names = sorted({d for w in works for d in by_work.get(w, ())}, key=str.lower)
            rows.append({"axis": axis, "notation": notation, "label": label, "works": len(works),
                         "predicted": sum((w, notation) in guessed for w in works), "datasets": names,
                         "gap": not names})
    categories, mechanisms = (defaultdict(set), defaultdict(set))
    for kind, into in (("category", categories), ("mechanism", mechanisms)):
        for w, notation in zip(*(corpus.kind(kind)[c] for c in ("work", "notation"))):
            into[w].add(notation)
    in_cell: dict[tuple[str, str], set[str]] = defaultdict(set)
    for w, cats in categories.items():
        for category in cats:
            for mechanism in mechanisms.get(w, ()):
                in_cell[(category, mechanism)].add(w)
    guessed = corpus.predicted_links("category") | corpus.predicted_links("mechanism")
    mechanism_labels = corpus.notation_labels("mechanism")
    for category, clabel in corpus.notation_labels("category").items():
        for mechanism, mlabel in mechanism_labels.items():
            works = in_cell.get((category, mechanism), set())
            names = sorted({d for w in works for d in by_work.get(w, ())}, key=str.lower)
            rows.append({"axis": "cell", "notation": f"{category} x {mechanism}", "label": f"{clabel} x {mlabel}",
                         "works": len(works), "predicted": sum((w, category) in guessed or (w, mechanism) in guessed
                                                               for w in works),
                         "datasets": names, "gap": not names})
    return pd.DataFrame(rows, columns=DATASET_COLUMNS)


def modality_gaps(source) -> pd.DataFrame:
    """Per taxonomy modality: how many works take it in, give it out, and in which categories.

    Columns: modality, label, input, output, works (either), asserted (works with an
    asserted input or output label for it), predicted (works with it by prediction alone),
    categories ({category: works}), missing_categories (categories with none), status:
    'absent', 'input only', 'output only' or 'covered', and asserted_status, the same
    judged by asserted labels alone.
    """
    corpus = load_corpus(source)
    category = dict(zip(corpus.works["work"], corpus.works["category"]))
    cats = list(corpus.axis("category")["notation"])
    inputs, outputs = corpus.concepts_by_work("input"), corpus.concepts_by_work("output")
    guess_in, guess_out = corpus.predicted_links("input"), corpus.predicted_links("output")

    def status_of(ins, outs):
        return modality_status(len(ins), len(outs))

    rows = []
    for notation, label in corpus.notation_labels("modality").items():
        ins = {w for w, mods in inputs.items() if notation in mods}
        outs = {w for w, mods in outputs.items() if notation in mods}
        both = ins | outs
        sure_in = {w for w in ins if (w, notation) not in guess_in}
        sure_out = {w for w in outs if (w, notation) not in guess_out}
        per_cat = Counter(category[w] for w in both if category.get(w))
        rows.append({"modality": notation, "label": label, "input": len(ins), "output": len(outs),
                     "works": len(both), "asserted": len(sure_in | sure_out),
                     "predicted": len(both) - len(sure_in | sure_out), "categories": {c: per_cat.get(c, 0) for c in cats},
                     "missing_categories": [c for c in cats if not per_cat.get(c)], "status": status_of(ins, outs),
                     "asserted_status": status_of(sure_in, sure_out)})
    return pd.DataFrame(rows, columns=MODALITY_COLUMNS)


def modality_status(inputs: int, outputs: int) -> str:
    """How a modality stands by the works taking it in and giving it out."""
    if not inputs and not outputs:
        return "absent"
    return "input only" if not outputs else "output only" if not inputs else "covered"


def summary(source) -> dict:
    """Headline numbers for a report or a dashboard (plain ints and strings).

    Keys: works, in_taxonomy (placed works), placed_asserted, placed_predicted (placed by a
    predicted category alone), surveyed (works of the survey's own table, or cited by it),
    candidates, citations (links between two works in scope; a self-citation is none), datasets, cells, filled, empty, thin (counting predictions),
    asserted_filled, asserted_empty, asserted_thin (by asserted works alone),
    predicted_labels (predictions that count), held_back (predictions below min_confidence,
    which count nowhere), needs_review (predictions the classifier flagged "needs review"),
    min_confidence, years ([first, last] or []), enough (bool: at least one placed work and
    two cells' worth of data), note (a sentence when the graph is too small to analyse).
    """
    corpus = load_corpus(source)
    works = corpus.works
    cells = gap_matrix(corpus)
    years = sorted(y for y in works["year"] if y is not None)
    placed = int(works["category"].notna().sum())
    placed_predicted = int((works["category"].notna() & works["predicted"].astype(bool)).sum())
    held = corpus.held[corpus.held["work"].isin(set(works["work"]))]  # a slice (kg.analysis.views) keeps every held label
    review = int(corpus.links["review"].astype(bool).sum()) + int(held["review"].astype(bool).sum())
    incidences = int(cells["count"].sum()) if not cells.empty else 0
    enough = placed > 0 and incidences >= 2
    if works.empty:
        note = "The graph holds no works yet: build it (kg build) or harvest papers first."
    elif not placed:
        note = "No work is placed in the taxonomy yet (no category labels): classify papers first."
    elif not enough:
        note = "Only one work is placed in the taxonomy: too little to tell gaps from chance."
    else:
        note = ""
    return {
        "works": len(works), "in_taxonomy": placed, "placed_asserted": placed - placed_predicted,
        "placed_predicted": placed_predicted, "surveyed": int(works["surveyed"].sum()),
        "candidates": int(works["candidate"].sum()), "citations": int((corpus.edges["citing"] != corpus.edges["cited"]).sum()),
        "datasets": len(corpus.datasets), "cells": len(cells), "filled": int((cells["count"] > 0).sum()),
        "empty": int((cells["status"] == "empty").sum()), "thin": int((cells["status"] == "thin").sum()),
        "asserted_filled": int((cells["asserted"] > 0).sum()),
        "asserted_empty": int((cells["asserted_status"] == "empty").sum()),
        "asserted_thin": int((cells["asserted_status"] == "thin").sum()),
        "predicted_labels": int(corpus.links["predicted"].astype(bool).sum()), "held_back": len(held),
        "needs_review": review, "min_confidence": corpus.min_confidence,
        "years": [years[0], years[-1]] if years else [], "enough": enough, "note": note,
    }
