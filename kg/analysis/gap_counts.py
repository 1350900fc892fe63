"""The gap matrix counted in the store, without loading the works (what `kg gaps` runs).

Counting a cell as kg.analysis counts it (COUNT_EXPLANATION: predictions only at the minimum
confidence and only where no other source asserts the label, works out of scope nowhere) needs,
for every work, who stands behind each of its labels. Read for every work, that costs as much as
loading the corpus. But on almost every work the plain links already say it: a work with no label
or mention from the classifier and in scope counts in exactly the cells its kg:category and
kg:mechanism links name (a subject of kg:category is a fabio:ScholarlyWork, the property's
rdfs:domain, with a display label, which the shapes require: on a graph that passes kg validate
the plain links leave out no work load_corpus would leave out). So `GapCounts`
- counts the links plainly in one GROUP BY (`gap-link-counts`, or `-modality`, `-year`),
- reads the few works that rule misses in full (`gap-exceptions`: the classifier's, those out of
  scope), and
- replaces their plain contribution by the one the rules give,
so the cost grows with the graph's links aggregated in the engine and with the works the
classifier labelled, not with everything every work holds. Expected counts, scores and statuses
then follow from the cell counts exactly as `gap_matrix` computes them from a loaded Corpus
(kg.analysis.counting holds the shared rules). Each cell's works are fetched only when asked
(`cells(works=True)`, kg gaps --json: `gap-cell-works`); the nearest papers of a flagged cell
a page of a few at a time (`nearest-papers`).

Plain Python (lists and dicts): a command using it does not load pandas. `gap_cells` gives the
category x mechanism counts as a DataFrame.
"""

from __future__ import annotations

import math
from collections import defaultdict
from dataclasses import dataclass, field, replace

from ..errors import UsageError
from ..sparql.named import get_query, run_named
from .counting import (
    AXIS_KINDS,
    BY_CHOICES,
    MIN_CONFIDENCE,
    THIN_RATIO,
    check_min_confidence,
    confidence_of,
    flag,
    gap_note,
    lowest,
    score,
    status,
    year_of,
    year_span,
)

COUNT_COLUMNS = ["category", "category_label", "mechanism", "mechanism_label", "count", "asserted", "predicted",
                 "expected", "ratio", "score", "status", "asserted_expected", "asserted_status"]
WORK_COLUMNS = ["papers", "works", "predicted_works"]
NEAREST_PAGE = 50  # works a page of `nearest-papers` ranks (its LIMIT)


@dataclass
class _Work:
    """What `gap-exceptions` says about one work."""

    typed: bool = False
    out: bool = False
    labels: list[str] = field(default_factory=list)
    years: list[str] = field(default_factory=list)
    links: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, concept IRI, notation)
    asserted: set[tuple[str, str]] = field(default_factory=set)  # (kind, notation) another source asserts
    guessed: dict[tuple[str, str], float] = field(default_factory=dict)  # (kind, notation) -> best confidence

    @property
    def in_corpus(self) -> bool:
        """Loaded by load_corpus: a fabio:ScholarlyWork with a display label, not out of scope."""
        return self.typed and bool(self.labels) and not self.out

    @property
    def label(self) -> str:
        return self.labels[-1] if self.labels else ""

    def raw(self, kind: str) -> list[tuple[str, str]]:
        """(concept, notation) of every link of one kind, as the plain counts see them."""
        return list(dict.fromkeys((c, n) for k, c, n in self.links if k == kind))

    def counted(self, kind: str, threshold: float) -> dict[str, float | None]:
        """notation -> None (asserted) or the confidence of a prediction that counts, for the links
        of one kind that count at `threshold` (kg.analysis.data._links and with_min_confidence)."""
        out: dict[str, float | None] = {}
        for k, _, n in self.links:
            if k != kind or n in out:
                continue
            found = self.guessed.get((k, n)) if (k, n) not in self.asserted else None
            if found is None or found >= threshold:
                out[n] = found
        return out

    def predictions(self, threshold: float) -> tuple[int, int]:
        """(predicted links that count, predicted links held back below `threshold`)."""
        keys = dict.fromkeys((k, n) for k, _, n in self.links)
        found = [self.guessed[key] for key in keys if key not in self.asserted and key in self.guessed]
        return sum(c >= threshold for c in found), sum(c < threshold for c in found)


def _read_exceptions(graph) -> dict[str, _Work]:
    works: dict[str, _Work] = defaultdict(_Work)
    for row in run_named(graph, "gap-exceptions").records():
        w, kind = works[str(row["work"])], row["row"]
        if kind == "work":
            w.typed = True
        elif kind == "out":
            w.out = True
        elif kind == "label":
            w.labels.append(str(row["value"]))
        elif kind == "year":
            w.years.append(str(row["value"]))
        elif kind == "link":
            w.links.append((str(row["kind"]), str(row["concept"]), str(row["notation"])))
        elif kind == "assertion":
            key = (AXIS_KINDS.get(str(row["kind"]), ""), str(row["notation"]))
            if not flag(row["predicted"]):
                w.asserted.add(key)
                continue
            confidence = confidence_of(row["confidence"])
            if confidence is not None and confidence > w.guessed.get(key, -1.0):
                w.guessed[key] = confidence
    return dict(works)


def _axis(concepts: list[dict], axis: str) -> list[tuple[str, str]]:
    """(notation, label) of one taxonomy axis in survey order (as Corpus.axis sorts them)."""
    rows = [r for r in concepts if r.get("axis") == axis]
    order = [(float(r["order"]) if r.get("order") not in (None, "") else 0.0, str(r["notation"]), str(r["label"]))
             for r in rows]
    return [(n, label) for _, n, label in sorted(order, key=lambda t: (t[0], t[1]))]


def _expectation(table: dict[tuple, int], dims: int):
    """key -> the count the table's margins predict (row total x column total / grand total)."""
    total = sum(table.values())
    margins: list[dict] = [defaultdict(int) for _ in range(dims)]
    for key, n in table.items():
        for d in range(dims):
            margins[d][key[d]] += n
    return lambda key: total * math.prod(margins[d].get(key[d], 0) / total for d in range(dims)) if total else 0.0


class GapCounts:
    """The gap matrix of one graph at one minimum confidence, counted in the store.

    cells(by=None|"modality"|"year", category=None, works=False) -> rows as gap_matrix's (dicts,
    COUNT_COLUMNS plus modality/modality_label or year; papers, works and predicted_works with
    works=True); summary() -> the figures kg gaps prints (summary()'s keys for cells and
    predictions); empty_cells / thin_cells -> flagged rows with note and nearest, as
    kg.analysis.gaps lists them.
    """

    def __init__(self, graph, min_confidence: float | None = None, *, thin_ratio: float = THIN_RATIO):
        self.graph = graph
        self.min_confidence = check_min_confidence(MIN_CONFIDENCE if min_confidence is None else min_confidence)
        self.thin_ratio = thin_ratio
        concepts = run_named(graph, "analysis-taxonomy").records()
        self.axes = {name: _axis(concepts, name) for name in ("category", "mechanism", "modality")}
        self.exceptions = _read_exceptions(graph)
        self._placed_raw: int | None = None
        self._rows: dict = {}

    # ------------------------------------------------------------ per work
    def _raw_keys(self, w: _Work, by: str | None) -> list[tuple]:
        """The keys the plain counts gave this work (one per link combination)."""
        pairs = [(c, m) for _, c in w.raw("category") for _, m in w.raw("mechanism")]
        if by == "modality":
            mods = list(dict.fromkeys(w.raw("input") + w.raw("output")))
            return [(c, m, x) for c, m in pairs for _, x in mods]
        if by == "year":
            return [(c, m, year_of(y)) for c, m in pairs for y in w.years]
        return pairs

    def _incidences(self, w: _Work, by: str | None) -> list[tuple[tuple, float | None]]:
        """(key, confidence) of the cells this work counts in (confidence None: asserted), as
        gap_matrix's _cell_incidences and its modality and year splits count them."""
        if not w.in_corpus:
            return []
        t = self.min_confidence
        categories = w.counted("category", t)
        if not categories:
            return []
        cat = max(categories)  # a work has one category (the shapes say so); the corpus keeps the last
        cells = [((cat, m), lowest(categories[cat], p)) for m, p in sorted(w.counted("mechanism", t).items())]
        if by == "modality":
            ins, outs = w.counted("input", t), w.counted("output", t)

            def modality_confidence(x):  # asserted when either direction is asserted
                if (x in ins and ins[x] is None) or (x in outs and outs[x] is None):
                    return None
                return max(c for c in (ins.get(x), outs.get(x)) if c is not None)

            return [((c, m, x), lowest(p, modality_confidence(x))) for (c, m), p in cells
                    for x in sorted(set(ins) | set(outs))]
        if by == "year":
            years = [year_of(y) for y in w.years]
            year = max((y for y in years if y is not None), default=None)
            return [] if year is None else [((c, m, year), p) for (c, m), p in cells]
        return cells

    # ------------------------------------------------------------ counts
    def _plain_counts(self, by: str | None) -> dict[tuple, int]:
        name = {None: "gap-link-counts", "modality": "gap-link-counts-modality", "year": "gap-link-counts-year"}[by]
        counts: dict[tuple, int] = defaultdict(int)
        for r in run_named(self.graph, name).records():
            if r.get("placed") not in (None, ""):
                self._placed_raw = int(r["placed"])
                continue
            key = (str(r["category"]), str(r["mechanism"]))
            if by == "modality":
                key += (str(r["modality"]),)
            elif by == "year":
                key += (year_of(r["year"]),)
            counts[key] += int(r["n"])
        return counts

    def _counts(self, by: str | None) -> tuple[dict[tuple, int], dict[tuple, int]]:
        """key -> works, key -> of those by prediction; every key holding works."""
        counts = self._plain_counts(by)
        predicted: dict[tuple, int] = defaultdict(int)
        for w in self.exceptions.values():
            for key in self._raw_keys(w, by):
                counts[key] -= 1
            for key, p in self._incidences(w, by):
                counts[key] += 1
                predicted[key] += p is not None
        counts = {k: n for k, n in counts.items() if n and k[-1] is not None}
        return counts, {k: n for k, n in predicted.items() if n}

    def _works(self, by: str | None) -> dict[tuple, dict[str, float | None]]:
        """key -> {work: None or the confidence it sits there by}, every key holding works."""
        found: dict[tuple, dict[str, float | None]] = defaultdict(dict)
        facts: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
        for r in run_named(self.graph, "gap-cell-works").records():
            work = str(r["work"])
            if work not in self.exceptions:
                facts[work][str(r["row"])].append(str(r["value"]))
        for work, f in facts.items():
            pairs = [(c, m) for c in dict.fromkeys(f["category"]) for m in sorted(set(f["mechanism"]))]
            if by == "modality":
                keys = [(c, m, x) for c, m in pairs for x in sorted(set(f["modality"]))]
            elif by == "year":
                years = [y for y in (year_of(v) for v in f["year"]) if y is not None]
                keys = [(c, m, max(years)) for c, m in pairs] if years else []
            else:
                keys = pairs
            for key in keys:
                found[key][work] = None
        self._labels = {w: (f["label"][-1] if f["label"] else w) for w, f in facts.items()}
        for work, w in self.exceptions.items():
            self._labels[work] = w.label or work
            for key, p in self._incidences(w, by):
                found[key][work] = p
        return found

    def cells(self, by: str | None = None, *, category: str | None = None, works: bool = False) -> list[dict]:
        """gap_matrix(load_corpus(graph, min_confidence), by, category=category) as a list of dicts
        (without papers, works and predicted_works unless works=True)."""
        if by not in (None, *BY_CHOICES):
            raise UsageError(f"unknown split of the cells {by!r}; valid: {', '.join(BY_CHOICES)}", field="by")
        cats = self.axes["category"]
        if category is not None and category not in [c for c, _ in cats]:
            valid = ", ".join(c for c, _ in cats) or "(none in this taxonomy)"
            raise UsageError(f"unknown category {category!r}; valid: {valid}")
        cache = (by, works)
        if cache not in self._rows:
            self._rows[cache] = self._all_cells(by, works)
        rows = self._rows[cache]
        return [r for r in rows if r["category"] == category] if category else list(rows)

    def _all_cells(self, by: str | None, works: bool) -> list[dict]:
        if works:
            members = self._works(by)
            counts = {k: len(v) for k, v in members.items()}
            predicted = {k: sum(p is not None for p in v.values()) for k, v in members.items()}
        else:
            counts, predicted = self._counts(by)
        cats, mechs, mods = self.axes["category"], self.axes["mechanism"], self.axes["modality"]
        cat_labels, mech_labels, mod_labels = dict(cats), dict(mechs), dict(mods)
        base = [(c, m) for c, _ in cats for m, _ in mechs]
        if by == "modality":
            keys = [(c, m, x) for c, m in base for x, _ in mods]
        elif by == "year":
            keys = [(c, m, y) for c, m in base for y in year_span(k[2] for k in counts)]
        else:
            keys = base
        dims = 2 if by is None else 3
        expect = _expectation(counts, dims)
        expect_asserted = _expectation({k: n - predicted.get(k, 0) for k, n in counts.items()
                                        if n - predicted.get(k, 0)}, dims)
        rows = []
        for key in keys:
            count, guessed = counts.get(key, 0), predicted.get(key, 0)
            expected, asserted_expected = expect(key), expect_asserted(key)
            row = {"category": key[0], "category_label": cat_labels[key[0]],
                   "mechanism": key[1], "mechanism_label": mech_labels[key[1]]}
            if by == "modality":
                row.update(modality=key[2], modality_label=mod_labels[key[2]])
            elif by == "year":
                row["year"] = key[2]
            row.update({"count": count, "asserted": count - guessed, "predicted": guessed,
                        "expected": round(expected, 3), "ratio": round(count / expected, 3) if expected else None,
                        "score": score(count, expected), "status": status(count, expected, self.thin_ratio),
                        "asserted_expected": round(asserted_expected, 3),
                        "asserted_status": status(count - guessed, asserted_expected, self.thin_ratio)})
            if works:
                inside = members.get(key, {})
                order = sorted(inside, key=lambda w: (self._labels.get(w, w).lower(), w))
                row.update({"papers": [self._labels.get(w, w) for w in order], "works": order,
                            "predicted_works": {w: round(inside[w], 4) for w in order if inside[w] is not None}})
            rows.append(row)
        return rows

    # ------------------------------------------------------------ summary
    def placed(self) -> int:
        """Works placed in the taxonomy: in the corpus, with a category that counts."""
        if self._placed_raw is None:
            self._plain_counts(None)
        t = self.min_confidence
        raw = sum(bool(w.raw("category")) for w in self.exceptions.values())
        exact = sum(w.in_corpus and bool(w.counted("category", t)) for w in self.exceptions.values())
        return self._placed_raw - raw + exact

    def summary(self) -> dict:
        """summary()'s figures about cells and predictions: cells, filled, empty, thin, asserted_filled,
        asserted_empty, asserted_thin, predicted_labels, held_back, min_confidence, in_taxonomy,
        enough and note."""
        rows = self.cells()
        placed = self.placed()
        incidences = sum(r["count"] for r in rows)
        enough = placed > 0 and incidences >= 2
        counted = held = 0
        for w in self.exceptions.values():
            if w.in_corpus:
                c, h = w.predictions(self.min_confidence)
                counted, held = counted + c, held + h
        if enough:
            note = ""
        elif not placed and not self._has_works():
            note = "The graph holds no works yet: build it (kg build) or harvest papers first."
        elif not placed:
            note = "No work is placed in the taxonomy yet (no category labels): classify papers first."
        else:
            note = "Only one work is placed in the taxonomy: too little to tell gaps from chance."
        return {"cells": len(rows), "filled": sum(r["count"] > 0 for r in rows),
                "empty": sum(r["status"] == "empty" for r in rows), "thin": sum(r["status"] == "thin" for r in rows),
                "asserted_filled": sum(r["asserted"] > 0 for r in rows),
                "asserted_empty": sum(r["asserted_status"] == "empty" for r in rows),
                "asserted_thin": sum(r["asserted_status"] == "thin" for r in rows),
                "predicted_labels": counted, "held_back": held, "min_confidence": self.min_confidence,
                "in_taxonomy": placed, "enough": enough, "note": note}

    def _has_works(self) -> bool:
        rows = self.graph.query(
            'ASK { ?work a fabio:ScholarlyWork ; rdfs:label ?label FILTER NOT EXISTS { ?work kg:scopeStatus "out" } }',
            trusted=True)
        return bool(rows.boolean)

    # ------------------------------------------------------------ flagged cells
    def empty_cells(self, *, category: str | None = None, nearest: int = 3) -> list[dict]:
        """empty_cells(corpus, category=...) as dicts: rows with note and nearest."""
        return self._flagged("empty", category, nearest)

    def thin_cells(self, *, category: str | None = None, nearest: int = 3) -> list[dict]:
        """thin_cells(corpus, category=...) as dicts: rows with note and nearest."""
        return self._flagged("thin", category, nearest)

    def _flagged(self, which: str, category: str | None, nearest: int) -> list[dict]:
        rows = [r for r in self.cells(category=category)
                if (r["status"] == which or r["asserted_status"] == which)
                and (which != "thin" or (r["status"] != "empty" and r["asserted_status"] != "empty"))]
        rows.sort(key=lambda r: (r["score"], -r["expected"]))  # stable: survey order among ties
        return [r | {"note": gap_note(r), "nearest": self.nearest_papers(r["category"], r["mechanism"], nearest)}
                for r in rows]

    def nearest_papers(self, category: str, mechanism: str, k: int = 3) -> list[dict]:
        """nearest_papers(corpus, category, mechanism, k), read a page of `nearest-papers` at a time."""
        from ..sparql.results import Term

        query = replace(get_query("nearest-papers"), page_size=NEAREST_PAGE)  # its text answers page one
        found: list[tuple] = []
        bind = {"category": Term("literal", category), "mechanism": Term("literal", mechanism)}
        page = 0
        while True:  # pages come best first: stop at the page that completes the k nearest
            page += 1
            text = query.text if page == 1 else query.page_text(page)
            rows = self.graph.query(text, bind, trusted=True).records()
            by_work: dict[str, dict] = {}
            for r in rows:
                work = str(r["work"])
                entry = by_work.setdefault(work, {"work": work, "label": str(r["label"]), "cited": int(r["cited"]),
                                                  "years": set(), "categories": set(), "mechanisms": set()})
                for name, column in (("years", "year"), ("categories", "workCategory"),
                                     ("mechanisms", "workMechanism")):
                    if r.get(column) not in (None, ""):
                        entry[name].add(str(r[column]))
            for entry in by_work.values():
                hit = self._nearest_entry(entry, category, mechanism)
                if hit is not None:
                    found.append(hit)
            if len(found) >= k or len(by_work) < NEAREST_PAGE:
                break
        found.sort(key=lambda t: t[0])
        return [hit for _, hit in found[:k]]

    def _nearest_entry(self, entry: dict, category: str, mechanism: str) -> tuple | None:
        w = self.exceptions.get(entry["work"])
        if w is not None:
            if not w.in_corpus:
                return None
            cats = w.counted("category", self.min_confidence)
            cat = max(cats) if cats else None
            mechs = sorted(w.counted("mechanism", self.min_confidence))
            years = w.years
        else:
            cat = max(entry["categories"]) if entry["categories"] else None
            mechs = sorted(entry["mechanisms"])
            years = entry["years"]
        if cat == category and mechanism in mechs:
            return None
        shares = [name for name, hit in (("category", cat == category), ("mechanism", mechanism in mechs)) if hit]
        if not shares:
            return None
        year = max((y for y in (year_of(v) for v in years) if y is not None), default=None)
        label = entry["label"]
        rank = (-len(shares), -entry["cited"], -(year or 0), label.lower(), label, entry["work"])
        return rank, {"work": entry["work"], "label": label, "year": year, "category": cat, "mechanisms": mechs,
                      "shares": shares}


def gap_cells(graph, min_confidence: float | None = None, *, category: str | None = None,
              thin_ratio: float = THIN_RATIO):
    """gap_matrix(load_corpus(graph, min_confidence), category=...) without papers, works and
    predicted_works (COUNT_COLUMNS), counted in the store, as a DataFrame."""
    import pandas as pd

    from .data import none_column

    rows = GapCounts(graph, min_confidence, thin_ratio=thin_ratio).cells(category=category)
    return none_column(pd.DataFrame(rows, columns=COUNT_COLUMNS), "ratio")


def pandas_cell_counts(records_path, min_confidence: float | None = None) -> dict[tuple[str, str], int]:
    """The pandas baseline kg bench compares `kg gaps` with: (category, mechanism) -> works, counted
    with plain pandas from a records file (JSON lines, kg.records.file) rather than from the graph.

    Each work record counts in the cells of its category and mechanism labels; a label only the
    classifier gives (its source starts with "classifier") counts at `min_confidence` or more, as
    in the graph. The records as written: no merging of records of one work from several files,
    and no scope decisions (the build makes those), so on a graph where works are out of scope
    the counts differ from kg gaps's by those works.
    """
    import pandas as pd

    from ..records.labels import PREDICTION_PREFIX

    threshold = check_min_confidence(MIN_CONFIDENCE if min_confidence is None else min_confidence)
    rows = pd.read_json(records_path, lines=True, dtype=False)
    if "labels" not in rows:
        return {}
    works = rows.loc[rows["type"] == "work", ["labels"]].reset_index(drop=True)
    works = works.assign(work=works.index).explode("labels").dropna(subset=["labels"])
    if works.empty:
        return {}
    labels = pd.DataFrame(works["labels"].tolist(), index=works.index)
    labels["work"] = works["work"]
    labels = labels[labels["axis"].isin(["category", "mechanism"])]
    labels = labels.assign(predicted=labels["source"].str.startswith(PREDICTION_PREFIX),
                           confidence=pd.to_numeric(labels.get("confidence"), errors="coerce"))
    keyed = labels.groupby(["work", "axis", "value"], sort=False)
    per_label = pd.DataFrame({
        "asserted": keyed["predicted"].agg(lambda s: bool((~s).any())),
        "best": labels[labels["predicted"]].groupby(["work", "axis", "value"], sort=False)["confidence"].max(),
    }).reset_index()
    counted = per_label[per_label["asserted"] | (per_label["best"].fillna(-1.0) >= threshold)]
    cells = counted[counted["axis"] == "category"].merge(counted[counted["axis"] == "mechanism"], on="work",
                                                          suffixes=("_c", "_m"))
    sizes = cells.groupby(["value_c", "value_m"], sort=False).size()
    return {(str(c), str(m)): int(n) for (c, m), n in sizes.items()}
