"""The gap report's content: one JSON-ready dict built from the kg.analysis functions.

Every output format (Markdown, LaTeX, HTML, CSV, JSON, BibTeX) renders this same dict,
so the formats never disagree. The JSON format is this dict; its schema is
kg/report/report.schema.json.
"""

from __future__ import annotations

import contextlib
import gc
import re
import time
import unicodedata
from collections import defaultdict

from .. import __version__
from ..analysis import (
    COMBINATION_EXPLANATION,
    SCORE_EXPLANATION,
    citation_metrics,
    coverage_audit,
    dataset_gaps,
    empty_cells,
    gap_matrix,
    load_corpus,
    modality_gaps,
    summary,
    thin_cells,
    trends,
    unexplored_combinations,
)
from ..analysis.citations import citation_sources
from ..analysis.data import Corpus
from ..analysis.gaps import COUNT_EXPLANATION, check_category

REPORT_VERSION = 1
EXAMPLES_PER_CELL = 3
# The works a cell lists in the reports people read (Markdown, LaTeX, HTML, BibTeX, PDF): its most
# relevant ones, the rest counted (kg.report.works_per_cell gives each format's default)
WORKS_PER_CELL = 25
TREND_EXPLANATION = (
    "A cell is 'growing' when its share of papers from the most recent years (the last two "
    "years of the span, at most half of it) is at least 0.15 above the same share for all "
    "placed papers, 'fading' when at least 0.15 below, 'new' when all its papers are recent "
    "while the field has older ones, otherwise 'steady'."
)
COVERAGE_EXPLANATION = (
    "Candidates are works in the graph that are not placed in the taxonomy (harvested or "
    "listed). Surveyed works are those of the survey's own table (and any the survey cites). "
    "Score = surveyed works citing it + surveyed works it cites + 1 when it may be "
    "the same work as one the survey cites only by its citation."
)


def _year(value):
    return None if value is None or value != value else int(value)


def _ascii_word(text: str) -> str:
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


# A citation key kept as written: what BibTeX and \cite accept and LaTeX needs no escaping for
# (no spaces, braces, commas, %, #, ~ or backslashes), e.g. khattab2020colbert or DBLP:conf/sigir/KhattabZ20.
_BIBTEX_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9_:./+-]*")
_SURVEY_CITE = re.compile(r"\(\d{4}([a-z]?)\)")
OWN_KEYS_QUERY = """PREFIX dcterms: <http://purl.org/dc/terms/>
SELECT ?work ?id WHERE { ?work dcterms:identifier ?id . FILTER(STRSTARTS(STR(?id), "cite:")) }"""


def bibtex_key(cite) -> str | None:
    """The citation key if it is a BibTeX key a .bib file gave (kept as is), else None
    ('khattab2020colbert' -> itself; the survey's 'Li et al. (2024c)' -> None)."""
    cite = str(cite or "")
    return cite if _BIBTEX_KEY.fullmatch(cite) and re.search(r"[A-Za-z]", cite) else None


def own_keys(source) -> dict[str, list[str]]:
    """work IRI -> the further citation keys a graph keeps for it (a .bib key of a work whose
    first citation key is the survey's own, e.g. 'Nguyen et al. (2024)' and nguyen2024yollava).
    A Corpus holds only the first key per work, so there are none to add."""
    if isinstance(source, Corpus) or not hasattr(source, "query"):
        return {}
    out: dict[str, list[str]] = {}
    for row in source.query(OWN_KEYS_QUERY, trusted=True).records():
        out.setdefault(str(row["work"]), []).append(str(row["id"])[len("cite:"):])
    return out


def citation_keys(works: list[dict], extra: dict[str, list[str]] | None = None) -> dict[str, str]:
    """Stable BibTeX keys, unique (ignoring case, as BibTeX does).

    A work imported from a .bib file keeps that file's key (its citation key, else one of
    `extra`: work IRI -> further citation keys), so the \\cite-s of the LaTeX report match the
    survey's own bibliography. Any other work gets [a-z0-9] surname + year + first title word;
    the surname comes from the survey's citation ("Li et al. (2024c)") or the first author.
    """
    extra = extra or {}
    ordered = sorted(works, key=lambda w: w["work"])
    keys: dict[str, str] = {}
    taken: set[str] = set()
    for work in ordered:
        for cite in [work.get("cite"), *sorted(extra.get(work["work"], []))]:
            own = bibtex_key(cite)
            if own and own.lower() not in taken:
                keys[work["work"]] = own
                taken.add(own.lower())
                break
    used: dict[str, int] = {}
    for work in ordered:
        if work["work"] in keys:
            continue
        cite = "" if bibtex_key(work.get("cite")) else work.get("cite") or ""
        surname = cite.split()[0] if cite else (work["authors"][0].split()[-1] if work.get("authors") else "")
        letter = _SURVEY_CITE.search(cite)
        words = [w for w in re.split(r"\W+", work.get("title") or "") if len(w) > 2]
        year = str(work.get("year") or "")
        tail = _ascii_word(words[0]) if words else (letter.group(1) if letter else "")
        base = (_ascii_word(surname) + year + tail) or ("work" + year)
        key, n = base, used.get(base, 0)
        while key in taken:
            n += 1
            key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
        used[base] = n
        taken.add(key)
        keys[work["work"]] = key
    return keys


def plain(value):
    """JSON-ready: NaN -> None, numpy scalars -> Python numbers, tuples -> lists, keys -> str."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _records(frame, columns) -> list[dict]:
    return [{c: row[c] for c in columns} for row in frame.to_dict("records")]


def build_report(source, category: str | None = None, *, top: int = 10,
                 min_confidence: float | None = None, via: str = "store", works_per_cell: int | None = None) -> dict:
    """The report as plain data (see report.schema.json). `category` narrows the taxonomy
    table, the cells, trends, combinations and the BibTeX to one category. Predicted labels
    count at `min_confidence` or more (kg.analysis.MIN_CONFIDENCE by default) and are
    marked: each work and example says whether its placement is predicted, and with what
    confidence (the lowest of its predicted labels).

    `works_per_cell`: each cell lists at most this many works, its most relevant first (asserted
    before predicted, then the most cited in the corpus, the latest, by label), and says how many
    more it holds (`more_papers`); the list of works holds the listed ones only. None lists every
    work of every cell.

    From a graph the sections are counted in the store (kg.analysis.report_counts: aggregates,
    the generation's citation table, and the fields of the works the report lists);
    via="corpus" (or a Corpus as `source`) computes them from the loaded analysis corpus
    instead, the reference the store path is tested against."""
    if via not in ("store", "corpus"):
        raise ValueError(f"via must be 'store' or 'corpus', not {via!r}")
    if works_per_cell is not None and (isinstance(works_per_cell, bool) or not isinstance(works_per_cell, int)
                                       or works_per_cell < 1):
        raise ValueError(f"works_per_cell must be a positive number or None (all), not {works_per_cell!r}")
    if via == "corpus" or isinstance(source, Corpus) or not hasattr(source, "values"):
        parts = _corpus_parts(source, category, top, min_confidence, works_per_cell)
    else:
        with _no_cycle_collection():
            parts = _store_parts(source, category, top, min_confidence, works_per_cell)
    return _assemble(source, category, parts, top, works_per_cell)


@contextlib.contextmanager
def _no_cycle_collection():
    """Python's cycle collector paused while the store path builds its tables (hundreds of
    thousands of tuples, lists and dicts, none of them in a cycle the reference counts would
    miss): otherwise it walks every object built so far again and again as they grow (about 7% of
    a report at 100,000 papers). Restored as it was afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def listed_works(cells: list[dict], facts: dict[str, tuple], cap: int | None) -> dict[tuple, list[str]]:
    """(category, mechanism) -> the works a cell lists, in the report's order: asserted before
    predicted, then most cited in the corpus, latest, by label; at most `cap` (None: all).
    facts: work -> (cited_by, year or None, label)."""
    out = {}
    for row in cells:
        guesses = row["predicted_works"]
        order = sorted(row["works"], key=lambda w: (w in guesses, -facts[w][0], -(facts[w][1] or 0),
                                                    facts[w][2].lower()))
        out[(row["category"], row["mechanism"])] = order if cap is None else order[:cap]
    return out


def _corpus_parts(source, category, top, min_confidence, cap) -> dict:
    corpus = load_corpus(source, min_confidence)
    check_category(corpus, category)
    cells = gap_matrix(corpus, category=category)
    metrics = citation_metrics(corpus, with_communities=False)
    works = {r["work"]: r for r in corpus.works.to_dict("records")}
    combos = unexplored_combinations(corpus)
    cited_by = dict(zip(metrics["work"], metrics["cited_by"]))
    cells = cells.to_dict("records")
    facts = {w: (int(cited_by.get(w, 0)), _year(rec["year"]), rec["label"]) for w, rec in works.items()}
    return {
        "taxonomy": corpus, "summary": summary(corpus), "cells": cells, "works": works,
        "listed": listed_works(cells, facts, cap),
        "mechanisms": corpus.concepts_by_work("mechanism"),
        "cited_by": cited_by,
        "empty_cells": empty_cells(corpus, category=category).to_dict("records"),
        "thin_cells": thin_cells(corpus, category=category).to_dict("records"),
        "missed_candidates": [
            {k: row[k] for k in ("work", "label", "title", "venue", "cited_by_surveyed", "cites_surveyed",
                                 "possible_match_for", "score")} | {"year": _year(row["year"])}
            for row in coverage_audit(corpus).head(top).to_dict("records")],
        "combinations": combos, "trends": trends(corpus, category=category),
        "modality_gaps": modality_gaps(corpus), "dataset_gaps": dataset_gaps(corpus),
        "central_papers": [
            {k: row[k] for k in ("work", "label", "category", "cited_by", "pagerank", "rank", "tied")}
            | {"year": _year(row["year"])}
            | {"predicted": bool(works[row["work"]]["predicted"]), "confidence": works[row["work"]]["confidence"]}
            for row in metrics[~metrics["review"] & (metrics["cited_by"] > 0)].head(top).to_dict("records")],
        "citation_data": citation_sources(corpus),
    }


def _store_parts(graph, category, top, min_confidence, cap) -> dict:
    from ..analysis import load_taxonomy
    from ..analysis.gaps import trend_frame
    from ..analysis.report_counts import ReportCounts

    taxonomy = load_taxonomy(graph)
    check_category(taxonomy, category)
    counts = ReportCounts(graph, min_confidence)
    cells = counts.cells(category=category, works=True)
    by_key = {(r["category"], r["mechanism"]): r for r in cells}
    table = counts.citation_table()
    cited_by = dict(zip(table["work"].tolist(), table["cited_by"].tolist()))
    placed = {w for row in cells for w in row["works"]}
    labels, years = counts.labels(), counts.years(placed)
    facts = {w: (int(cited_by.get(w, 0)), years.get(w), labels.get(w, w)) for w in placed}
    listed = listed_works(cells, facts, cap)
    shown = {w for ws in listed.values() for w in ws}
    works = {}
    for w, rec in counts.bibliography(None if cap is None else shown).items():
        works[w] = rec | {"category": counts.category_of(w)[0]}
    mechanisms: dict[str, list[str]] = defaultdict(list)
    for row in counts.cells(works=True):
        for w in row["works"]:
            if w in shown:
                mechanisms[w].append(row["mechanism"])

    def with_papers(rows):
        return [r | {"papers": by_key[(r["category"], r["mechanism"])]["papers"]} for r in rows]

    return {
        "taxonomy": taxonomy, "summary": counts.report_summary(), "cells": cells, "works": works,
        "listed": listed,
        "mechanisms": {w: sorted(set(ms)) for w, ms in mechanisms.items()},
        "cited_by": cited_by,
        "empty_cells": with_papers(counts.empty_cells(category=category)),
        "thin_cells": with_papers(counts.thin_cells(category=category)),
        "missed_candidates": counts.missed_candidates(top),
        "combinations": counts.unexplored_combinations(top, involving=f"category:{category}" if category else None),
        "trends": trend_frame(counts.cells(by="year", category=category), counts.cells(by="year")),
        "modality_gaps": counts.modality_gaps(), "dataset_gaps": counts.dataset_gaps(),
        "central_papers": counts.central_papers(top), "citation_data": counts.citation_sources(),
    }


def _assemble(source, category, parts: dict, top: int, cap: int | None = None) -> dict:
    taxonomy = parts["taxonomy"]
    head = parts["summary"]
    cells = parts["cells"]
    cited_by = parts["cited_by"]
    works = parts["works"]
    mechanisms = parts["mechanisms"]
    listed = parts["listed"]
    shown = {w for ws in listed.values() for w in ws}
    cell_of = defaultdict(list)
    guessed = defaultdict(list)  # work -> confidences of its predicted placements
    for row in cells:
        for w in row["works"]:
            if w in shown:
                cell_of[w].append(f"{row['category']}/{row['mechanism']}")
        for w, confidence in row["predicted_works"].items():
            if w in shown:
                guessed[w].append(confidence)
    entries = []
    for w in sorted(cell_of, key=lambda w: (works[w]["label"].lower(), w)):
        rec = works[w]
        entries.append({
            "work": w, "label": rec["label"], "title": rec["title"], "year": _year(rec["year"]),
            "venue": rec["venue"], "authors": list(rec["authors"]),
            "arxiv": rec["arxiv"], "doi": rec["doi"],
            "cite": rec["cite"], "url": rec["url"] or (f"https://arxiv.org/abs/{rec['arxiv']}" if rec["arxiv"] else None),
            "category": rec["category"], "mechanisms": mechanisms.get(w, []), "cells": cell_of[w],
            "cited_by": int(cited_by.get(w, 0)),
            "predicted": w in guessed, "confidence": min(guessed[w]) if w in guessed else None,
        })
    keys = citation_keys(entries, own_keys(source))
    for entry in entries:
        entry["key"] = keys[entry["work"]]
    by_work = {e["work"]: e for e in entries}

    def examples(ws: list[str], guesses: dict[str, float]) -> list[dict]:  # in listed_works' order
        return [{"work": w, "label": by_work[w]["label"], "key": by_work[w]["key"],
                 "predicted": w in guesses, "confidence": guesses.get(w)} for w in ws]

    table = []
    for row in cells:
        chosen = listed[(row["category"], row["mechanism"])]
        table.append({k: row[k] for k in ("category", "category_label", "mechanism", "mechanism_label", "count",
                                           "asserted", "predicted", "expected", "score", "status",
                                           "asserted_expected", "asserted_status")}
                     | {"ratio": row["ratio"], "papers": examples(chosen, row["predicted_works"]),
                        "more_papers": len(row["works"]) - len(chosen)})

    def flagged(rows) -> list[dict]:
        return [{k: row[k] for k in ("category", "category_label", "mechanism", "mechanism_label", "count",
                                     "asserted", "predicted", "expected", "score", "status", "asserted_status",
                                     "note")}
                | {"papers": [p for p in row["papers"]],
                   "nearest": [{"work": n["work"], "label": n["label"], "year": _year(n["year"]),
                                "shares": n["shares"]} for n in row["nearest"]]}
                for row in rows]

    combos = parts["combinations"]
    if category:
        combos = combos[(combos["a"] == f"category:{category}") | (combos["b"] == f"category:{category}")]
    report = {
        "kind": "kg-gap-report",
        "version": REPORT_VERSION,
        "kg_version": __version__,
        "generated_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "title": ": ".join(["Taxonomy gap report", *filter(None, [
            taxonomy.taxonomy_title, taxonomy.notation_labels("category")[category] if category else ""])]),
        "category": category,
        "works_per_cell": cap,
        "taxonomy": {"title": taxonomy.taxonomy_title or None,
                     "axes": {axis: taxonomy.axis_title(axis) for axis in ("category", "mechanism")}},
        "summary": head,
        "mechanisms": [{"notation": n, "label": lab} for n, lab in taxonomy.notation_labels("mechanism").items()],
        "categories": [{"notation": r["notation"], "label": r["label"],
                        "section": int(r["order"]) if r["order"] else None}
                       for r in taxonomy.axis("category").to_dict("records") if category in (None, r["notation"])],
        "cells": table,
        "empty_cells": flagged(parts["empty_cells"]),
        "thin_cells": flagged(parts["thin_cells"]),
        "missed_candidates": parts["missed_candidates"],
        "unexplored_combinations": _records(combos.head(top), ["a", "b", "a_kind", "b_kind", "a_label", "b_label",
                                                               "a_count", "b_count", "expected", "score"]),
        "trends": [{k: row[k] for k in ("category", "mechanism", "total", "asserted", "predicted", "slope",
                                        "recent_share", "trend")}
                   | {"first_year": _year(row["first_year"]), "last_year": _year(row["last_year"]),
                      "by_year": {str(y): n for y, n in row["by_year"].items()}}
                   for row in parts["trends"].to_dict("records")],
        "modality_gaps": _records(parts["modality_gaps"], ["modality", "label", "input", "output", "works",
                                                           "asserted", "predicted", "missing_categories", "status",
                                                           "asserted_status"]),
        "dataset_gaps": _records(parts["dataset_gaps"], ["axis", "notation", "label", "works", "predicted",
                                                         "datasets", "gap"]),
        "central_papers": parts["central_papers"],
        "citation_data": parts["citation_data"],  # who cites: a survey alone ranks nothing
        "works": entries,
        "methods": {"gap_score": SCORE_EXPLANATION, "combination_score": COMBINATION_EXPLANATION,
                    "trend": TREND_EXPLANATION, "coverage": COVERAGE_EXPLANATION, "counts": COUNT_EXPLANATION},
    }
    return plain(report)
