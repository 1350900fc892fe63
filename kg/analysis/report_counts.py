"""The gap report's sections counted in the store, without loading the analysis corpus.

`ReportCounts(graph, min_confidence)` answers what kg.report.build_report needs from
load_corpus, section by section, from SPARQL aggregates (the `report-*` named queries) and from
the generation's stored citation table (kg.analysis.citation_store), the way
kg.analysis.gap_counts counts the gap matrix: every aggregate counts the links plainly, and the
few works the plain counts get wrong (those the classifier labelled, those out of scope: the
`gap-exceptions` works) are taken out again and counted by the rules (COUNT_EXPLANATION:
predictions only at the minimum confidence and only where no other source asserts the label).
Python receives cells and concepts, not works; the works the report lists (those placed in the
taxonomy, the most central ones, the best candidates) are read once, those fields only.

The results equal the corpus functions' (summary, gap_matrix with works, trends, modality_gaps,
dataset_gaps, unexplored_combinations, coverage_audit, citation_metrics, citation_sources) on a
graph that passes kg validate; tests compare the whole report both ways.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from itertools import combinations

from ..derived import derived_path, kept
from ..sparql.named import get_query, run_named, split_order
from ..sparql.text import iri_list
from .counting import year_of
from .gap_counts import WORK_COLUMNS, GapCounts, _Work

# every concept's notation (the taxonomy's: a few hundred)
NOTATIONS = "SELECT ?concept ?notation WHERE { ?concept skos:notation ?notation }"
# Looked up with ?year bound to one publication year as the graph writes it (a few calls a report)
YEAR_HAS_WORK = """SELECT ?year WHERE {
  ?work fabio:hasPublicationYear ?year ; a fabio:ScholarlyWork ; rdfs:label ?label .
  FILTER NOT EXISTS { ?work kg:scopeStatus "out" }
} LIMIT 1"""
CANDIDATES = "SELECT ?work WHERE { ?work kg:isCandidate true }"
# The candidates one surveyed work (?s, bound) cites (?dir "in": the candidate is cited) or is cited by
# (each arm checks its candidates itself: a union joined with a pattern reads the whole pattern)
SURVEYED_LINKS = """SELECT ?s ?work ?dir WHERE {
  { ?s cito:cites ?work FILTER EXISTS { ?work kg:isCandidate true } BIND("in" AS ?dir) }
  UNION { ?work cito:cites ?s FILTER EXISTS { ?work kg:isCandidate true } BIND("out" AS ?dir) }
}"""
YEARS = "SELECT ?work ?year WHERE { ?work fabio:hasPublicationYear ?year }"
BIB_BATCH = 2000  # works looked up by one VALUES query of the report's fields
COMBINATION_KINDS = ("category", "mechanism", "input", "output", "task", "dataset", "method")


def _rows(graph, name: str) -> list[tuple]:
    """A named query's rows as tuples of plain strings (None when unbound), in engine order (a paged
    listing whole)."""
    return graph.values(split_order(get_query(name).whole_text())[0])


KEPT_FORMAT = 1  # of the bulk reads kept beside a generation: a new number when their queries change


def _bulk_rows(graph, name: str) -> list[tuple]:
    """_rows for listings of many thousand rows (see _kept_rows)."""
    return _kept_rows(graph, name.removeprefix("report-"), split_order(get_query(name).whole_text())[0])  # whole


def _kept_rows(graph, name: str, text: str) -> list[tuple]:
    """graph.values(text), kept beside the graph's generation (kg.derived, as
    report-NAME-vN.json): the report's bulk reads (every work's concept links and years, the
    candidates) ask the store once per generation, and every later report of it (another format,
    category or minimum confidence) reads them back in a fraction of the time."""
    return kept(derived_path(graph, f"report-{name}-v{KEPT_FORMAT}.json"), _read_kept_rows,
                lambda: graph.values(text), _encode_rows)


def _encode_rows(rows: list[tuple]) -> str:
    """Rows of strings (or None) as JSON, column by column: each column's distinct values once and
    a code per row (a work's IRI is written once however many links it has)."""
    columns = []
    for i in range(len(rows[0]) if rows else 0):
        codes: dict = {}
        columns.append({"codes": [codes.setdefault(row[i], len(codes)) for row in rows], "values": list(codes)})
    return json.dumps({"rows": len(rows), "columns": columns}, separators=(",", ":"))


def _read_kept_rows(path) -> list[tuple]:
    data = json.loads(path.read_text(encoding="utf-8"))
    columns = [list(map(c["values"].__getitem__, c["codes"])) for c in data["columns"]]
    rows = list(zip(*columns))
    if len(rows) != data["rows"] or any(len(c) != len(rows) for c in columns):
        raise ValueError(f"{path}: not the rows it says it keeps")
    return rows


class ReportCounts(GapCounts):
    """GapCounts plus the report's other sections (see the module's docstring)."""

    def __init__(self, graph, min_confidence: float | None = None):
        super().__init__(graph, min_confidence)
        self._cell_links: dict[str, dict[str, list[str]]] | None = None
        self._bib: dict[str, dict] | None = None
        self._concepts: dict | None = None

    # ------------------------------------------------------------ per work, corrected
    def _view(self, w: _Work, counted: bool) -> dict[str, dict[str, float | None]]:
        """kind -> {notation: None (asserted) or confidence}: the links of a classifier-labelled
        work as the rules count them (counted=True), or as the plain aggregates counted them."""
        kinds = {k for k, _, _ in w.links}
        if counted:
            return {k: w.counted(k, self.min_confidence) for k in kinds} if w.in_corpus else {}
        return {k: {n: None for _, n in w.raw(k)} for k in kinds}

    def _corrected(self, plain: dict, contribution) -> dict:
        """plain counts (key -> works) with every exception work's plain contribution replaced by
        its counted one; contribution(view, counted) -> the keys a work adds one to."""
        out = defaultdict(int, plain)
        for w in self.exceptions.values():
            for key in contribution(self._view(w, False), False):
                out[key] -= 1
            for key in contribution(self._view(w, True), True):
                out[key] += 1
        return {k: n for k, n in out.items() if n > 0}

    def _category(self, view: dict, counted: bool) -> list[str]:
        cats = view.get("category", {})
        if counted:
            return [max(cats)] if cats else []
        return list(cats)

    # ------------------------------------------------------------ the placed works
    def concept_links(self) -> list[tuple[str, str, str]]:
        """(work, kind, notation) of every combination link of every work, plainly, each once
        (report-concept-links' links of every work, in one query)."""
        if not hasattr(self, "_links"):
            notation = {c: n for c, n in self.graph.values(NOTATIONS)}
            # without the page's works: every subject's links, one scan
            text = split_order(get_query("report-concept-links").driven_by())[0]
            self._links = list(dict.fromkeys((work, kind, notation.get(concept, concept))
                                             for work, kind, concept in _kept_rows(self.graph, "concept-links", text)))
        return self._links

    def cell_links(self) -> dict[str, dict[str, list[str]]]:
        """work -> {"category": [...], "mechanism": [...]} from the plain links (all works)."""
        if self._cell_links is None:
            self._cell_links = {work: {"category": kinds.get("category", []), "mechanism": kinds.get("mechanism", [])}
                                for work, kinds in self._links_by_work().items()
                                if "category" in kinds or "mechanism" in kinds}
            # what gap-link-counts says of the works placed by their plain links (GapCounts.placed)
            self._placed_raw = sum(1 for f in self._cell_links.values() if f["category"])
        return self._cell_links

    def labels(self) -> dict[str, str]:
        """work -> display label of every work in scope (the citation table's) and of the works the
        classifier labelled."""
        if not hasattr(self, "_work_labels"):
            table = self.citation_table()
            labels = dict(zip(table["work"].tolist(), table["label"].tolist()))
            for work, w in self.exceptions.items():
                labels[work] = w.label or work
            self._work_labels = labels
        return self._work_labels

    def _all_cells(self, by: str | None, works: bool) -> list[dict]:
        """GapCounts._all_cells; the rows without works are those with works less their lists when
        these are counted already (both count the same links: cell_links' and the exceptions')."""
        whole = self._rows.get((by, True))
        if not works and whole is not None:
            return [{k: v for k, v in row.items() if k not in WORK_COLUMNS} for row in whole]
        return super()._all_cells(by, works)

    def _works(self, by: str | None) -> dict[tuple, dict[str, float | None]]:
        if by is not None:
            return super()._works(by)
        found: dict[tuple, dict[str, float | None]] = defaultdict(dict)
        for work, f in self.cell_links().items():
            if work in self.exceptions or not f["category"]:
                continue
            for c in dict.fromkeys(f["category"]):
                for m in sorted(set(f["mechanism"])):
                    found[(c, m)][work] = None
        labels = self.labels()
        missing = [w for ws in found.values() for w in ws if w not in labels]
        labels |= {w: f["label"] for w, f in self._fields(missing).items()}
        self._labels = labels
        for work, w in self.exceptions.items():
            for key, p in self._incidences(w, None):
                found[key][work] = p
        return found

    def years(self, works=None) -> dict[str, int | None]:
        """work -> publication year of every work with one (the last the engine gives), or of
        those of `works` with one."""
        written = self._years_of()
        if works is None:
            return {w: year_of(ys[-1]) for w, ys in written.items()}
        return {w: year_of(written[w][-1]) for w in works if w in written}

    def _years_of(self) -> dict[str, list[str]]:
        """work -> its publication years as written, of every work with one (one lean read)."""
        if not hasattr(self, "_work_years"):
            found: dict[str, list[str]] = defaultdict(list)
            for w, y in _kept_rows(self.graph, "years", YEARS):
                found[w].append(y)
            self._work_years = dict(found)
        return self._work_years

    def _plain_counts(self, by: str | None) -> dict[tuple, int]:
        """What gap-link-counts (by None) and gap-link-counts-year count in the store, counted from
        the links and years the report reads anyway (two aggregates fewer)."""
        if by not in (None, "year"):
            return super()._plain_counts(by)
        years = self._years_of() if by == "year" else {}
        counts: dict[tuple, int] = defaultdict(int)
        placed = 0
        for work, f in self.cell_links().items():
            if not f["category"]:
                continue
            placed += 1
            cells = [(c, m) for c in set(f["category"]) for m in set(f["mechanism"])]
            if by is None:
                for key in cells:
                    counts[key] += 1
            else:
                for y in years.get(work, ()):
                    for c, m in cells:
                        counts[(c, m, year_of(y))] += 1
        if by is None:
            self._placed_raw = placed
        return counts

    def bibliography(self, works=None) -> dict[str, dict]:
        """work -> label, title, year, venue, arxiv, doi, cite, url, authors of the given works
        (by their IRIs: looked up), else of every work with a category link (report-works, whole)."""
        names = ("label", "title", "year", "venue", "arxiv", "doi", "cite", "url", "authors")

        def record(row):
            rec = dict(zip(names, row[1:]))
            rec["year"] = year_of(rec["year"])
            rec["authors"] = [a for a in str(rec["authors"]).split("; ") if a] if rec["authors"] else []
            return rec

        if works is not None and self._bib is None:
            works = list(dict.fromkeys(works))
            out: dict[str, dict] = {}
            query = get_query("report-works")
            for i in range(0, len(works), BIB_BATCH):  # the page's works, replaced by the given ones
                for row in self.graph.values(split_order(query.driven_by(works=works[i:i + BIB_BATCH]))[0]):
                    out[row[0]] = record(row)
            return out
        if self._bib is None:
            self._bib = {row[0]: record(row) for row in _bulk_rows(self.graph, "report-works")}
        if works is None:
            return self._bib
        return {w: self._bib[w] for w in works if w in self._bib}

    def category_of(self, work: str) -> tuple[str | None, float | None]:
        """A work's category as the corpus holds it and the confidence when predicted."""
        w = self.exceptions.get(work)
        if w is not None:
            if not w.in_corpus:
                return None, None
            cats = w.counted("category", self.min_confidence)
            if not cats:
                return None, None
            cat = max(cats)
            return cat, cats[cat]
        cats = self.cell_links().get(work, {}).get("category") or []
        return (max(cats) if cats else None), None

    # ------------------------------------------------------------ summary
    def report_summary(self) -> dict:
        """summary(corpus) from store counts."""
        found: dict[str, int] = defaultdict(int)
        for row in self._summary_rows():
            if row["what"].value != "year":
                found[row["what"].value] += int(row["n"].value)
        head = self.summary()
        placed = head["in_taxonomy"]
        placed_predicted = sum(1 for work, w in self.exceptions.items()
                               if w.in_corpus and self.category_of(work)[1] is not None)
        datasets = len(run_named(self.graph, "analysis-datasets").records())
        works = len(self.citation_table())
        note = "The graph holds no works yet: build it (kg build) or harvest papers first." if not works else head["note"]
        return {
            "works": works, "in_taxonomy": placed, "placed_asserted": placed - placed_predicted,
            "placed_predicted": placed_predicted, "surveyed": found["surveyed"] - found["surveyed out"],
            "candidates": found["candidate"] - found["candidate out"],
            "citations": self.citation_links(), "datasets": datasets,
            "cells": head["cells"], "filled": head["filled"], "empty": head["empty"], "thin": head["thin"],
            "asserted_filled": head["asserted_filled"], "asserted_empty": head["asserted_empty"],
            "asserted_thin": head["asserted_thin"], "predicted_labels": head["predicted_labels"],
            "held_back": head["held_back"], "needs_review": self.needs_review(),
            "min_confidence": self.min_confidence, "years": self.year_span(), "enough": head["enough"],
            "note": note,
        }

    def _summary_rows(self) -> list[dict]:
        if not hasattr(self, "_summary"):
            self._summary = run_named(self.graph, "report-summary").rows
        return self._summary

    def _years_written(self) -> dict[int, list]:
        """year -> the publication year terms the graph writes it as (any work's)."""
        found: dict[int, list] = defaultdict(list)
        for row in self._summary_rows():
            if row["what"].value == "year" and row.get("value") is not None:
                y = year_of(row["value"].value)
                if y is not None:
                    found[y].append(row["value"])
        return found

    def year_span(self) -> list[int]:
        """[first, last] publication year of the works in scope ([] when none has one)."""
        written = self._years_written()

        def has_work(y):
            return any(self.graph.query(YEAR_HAS_WORK, {"year": term}, trusted=True).rows for term in written[y])

        first = next((y for y in sorted(written) if has_work(y)), None)
        if first is None:
            return []
        last = next(y for y in sorted(written, reverse=True) if has_work(y))
        return [first, last]

    def needs_review(self) -> int:
        """Predicted links (counted or held back) whose best prediction is flagged for review."""
        from .counting import AXIS_KINDS, confidence_of, flag

        best: dict[tuple, tuple[float, bool]] = {}
        for work, axis, notation, confidence, review in _rows(self.graph, "report-review-flags"):
            c = confidence_of(confidence)
            if c is None:
                continue
            key = (work, AXIS_KINDS.get(str(axis), ""), notation)
            if key not in best or c > best[key][0]:
                best[key] = (c, flag(review))
        n = 0
        for work, w in self.exceptions.items():
            if not w.in_corpus:
                continue
            for key in dict.fromkeys((k, nn) for k, _, nn in w.links):
                if key in w.asserted or key not in w.guessed:
                    continue
                n += bool(best.get((work, *key), (0, False))[1])
        return n

    # ------------------------------------------------------------ citations
    def citation_table(self):
        if not hasattr(self, "_table"):
            from .citation_store import citation_table

            self._table = citation_table(self.graph)
        return self._table

    def reviews(self) -> set[str]:
        if not hasattr(self, "_reviews"):
            self._reviews = {row[0] for row in _rows(self.graph, "report-reviews")}
        return self._reviews

    def citation_links(self) -> int:
        return int(self.citation_table()["references"].sum())

    def citation_sources(self) -> dict:
        """citation_sources(corpus) from the citation table's degrees."""
        from .citations import GROW_CITATIONS

        table = self.citation_table()
        reviews = self.reviews()
        refs = dict(zip(table["work"].tolist(), table["references"].tolist()))
        n = sum(refs.values())
        citing = [w for w, k in refs.items() if k > 0]
        surveys = [w for w in citing if w in reviews]
        from_surveys = sum(refs[w] for w in surveys)
        return _sources_dict(n, len(citing), from_surveys, len(surveys), GROW_CITATIONS)

    def central_papers(self, top: int) -> list[dict]:
        """The `top` most central works (not reviews, cited at least once), as the report lists them."""
        table = self.citation_table()
        reviews = self.reviews()
        cited = table[table["cited_by"] > 0]  # most central first: the first rows that are not reviews
        chosen = [r for r in cited.head(top + len(reviews)).to_dict("records") if r["work"] not in reviews][:top]
        years = self._years([r["work"] for r in chosen])
        out = []
        for r in chosen:
            cat, confidence = self.category_of(r["work"])
            out.append({"work": r["work"], "label": r["label"], "category": cat, "cited_by": int(r["cited_by"]),
                        "pagerank": float(r["pagerank"]), "rank": int(r["rank"]), "tied": int(r["tied"]),
                        "year": years.get(r["work"]), "predicted": confidence is not None, "confidence": confidence})
        return out

    def _years(self, works: list[str]) -> dict[str, int | None]:
        if not works:
            return {}
        text = ("SELECT ?work ?year WHERE { VALUES ?work { " + iri_list(works) + " } "
                "?work fabio:hasPublicationYear ?year }")
        return {w: year_of(y) for w, y in self.graph.values(text)}

    def _labels_of(self, works) -> dict[str, str]:
        works = list(works)
        if not works:
            return {}
        text = "SELECT ?work ?label WHERE { VALUES ?work { " + iri_list(works) + " } ?work rdfs:label ?label }"
        return {w: label for w, label in self.graph.values(text)}

    def missed_candidates(self, top: int) -> list[dict]:
        """coverage_audit(corpus).head(top) as the report lists it: the candidates surveyed works
        link to (or that may match another work) ranked, then the latest of the others."""
        if top <= 0:
            return []

        linked = self._linked_candidates()
        fields = self._fields(linked)
        linked = {w: v for w, v in linked.items() if w in fields}
        ranked = sorted(linked, key=lambda w: (-(linked[w][0] + linked[w][1] + linked[w][2]), -linked[w][0],
                                               -(fields[w]["year"] or 0), fields[w]["label"], w))
        chosen = ranked[:top]
        if len(chosen) < top:  # the others score 0: the latest first, then by label
            chosen += self._latest_candidates(top - len(chosen), set(linked))
            fields |= self._fields([w for w in chosen if w not in fields])
        match_for: dict[str, set[str]] = defaultdict(set)
        if any(linked.get(w, (0, 0, False))[2] for w in chosen):
            pairs = [(str(r["work"]), str(r["match"]))
                     for r in run_named(self.graph, "analysis-possible-matches").records()]
            labels = self._labels_of({x for p in pairs for x in p})
            for w, m in pairs:
                if w in labels and m in labels:
                    match_for[m].add(labels[w])
                    match_for[w].add(labels[m])
        out = []
        for w in chosen:
            cb, c, matched = linked.get(w, (0, 0, False))
            f = fields[w]
            out.append({"work": w, "label": f["label"], "title": f["title"], "venue": f["venue"],
                        "cited_by_surveyed": cb, "cites_surveyed": c,
                        "possible_match_for": sorted(match_for.get(w, ())) if matched else [],
                        "score": cb + c + (1 if matched else 0), "year": f["year"]})
        return out

    def _linked_candidates(self) -> dict[str, tuple[int, int, bool]]:
        """candidate -> (surveyed works citing it, surveyed works it cites, may match another
        work), for the candidates in scope with any of these (one bound lookup per surveyed work)."""
        from ..sparql.results import Term

        reviews = self.reviews()
        surveyed = [w for (w,) in _rows(self.graph, "report-surveyed") if w not in reviews and self._in_corpus(w)]
        surveyed = [w for w in surveyed if w in self._labels_of(surveyed)]
        cited_by: dict[str, set] = defaultdict(set)
        cites: dict[str, set] = defaultdict(set)
        for s in surveyed:
            for row in self.graph.query(SURVEYED_LINKS, {"s": Term("uri", s)}, trusted=True).rows:
                work = row["work"].value
                (cited_by if row["dir"].value == "in" else cites)[work].add(s)
        pairs = [(str(r["work"]), str(r["match"])) for r in run_named(self.graph, "analysis-possible-matches").records()]
        ends = {x for p in pairs for x in p}
        labelled = self._labels_of(ends)
        candidates = self._candidates_among(ends)
        matched = set()
        for w, m in pairs:
            if w in labelled and m in labelled:
                matched |= {x for x in (w, m) if x in candidates}
        out = {}
        for work in set(cited_by) | set(cites) | matched:
            if self._in_corpus(work):
                out[work] = (len(cited_by.get(work, ())), len(cites.get(work, ())), work in matched)
        return out

    def _candidates_among(self, works) -> set[str]:
        works = list(works)
        if not works:
            return set()
        text = "SELECT ?work WHERE { VALUES ?work { " + iri_list(works) + " } ?work kg:isCandidate true }"
        return {w for (w,) in self.graph.values(text)}

    def _latest_candidates(self, k: int, skip: set[str]) -> list[str]:
        """The k candidates in scope not in `skip`, latest year first, then by label and IRI."""
        # the candidates (one lean read) dated by the years and labelled by the labels read already
        candidates = [w for (w,) in _kept_rows(self.graph, "candidates", CANDIDATES) if w not in skip and self._in_corpus(w)]
        years, labels = self._years_of(), self.labels()
        dated = [w for w in candidates if w in years]
        labels = labels | self._labels_of([w for w in dated if w not in labels])
        by_year: dict[int, dict[str, str]] = defaultdict(dict)
        for work in dated:
            if work not in labels:  # no display label: not a work the report lists
                continue
            for value in years[work]:
                y = year_of(value)
                if y is not None:
                    by_year[y][work] = labels[work]
        out: list[str] = []
        for y in sorted(by_year, reverse=True):
            bucket = by_year[y]
            out += sorted(bucket, key=lambda w: (bucket[w], w))
            if len(out) >= k:
                return out[:k]
        rest = {r[0]: r[1] for r in _rows(self.graph, "report-candidates-without-year")
                if r[0] not in skip and self._in_corpus(r[0])}
        return (out + sorted(rest, key=lambda w: (rest[w], w)))[:k]

    def _in_corpus(self, work: str) -> bool:
        w = self.exceptions.get(work)
        return w is None or w.in_corpus

    def _fields(self, works) -> dict[str, dict]:
        """work -> label, title, year, venue of the given works."""
        works = list(works)
        if not works:
            return {}
        text = ("SELECT ?work ?label ?title ?year ?venue WHERE { VALUES ?work { " + iri_list(works) + " } "
                "?work rdfs:label ?label . OPTIONAL { ?work dcterms:title ?title } "
                "OPTIONAL { ?work fabio:hasPublicationYear ?year } OPTIONAL { ?work prism:publicationName ?venue } }")
        return {w: {"label": label, "title": title, "year": year_of(year), "venue": venue}
                for w, label, title, year, venue in self.graph.values(text)}

    # ------------------------------------------------------------ concepts
    def concept_counts(self):
        """((kind, notation) -> works, (kind, notation) -> label, (kind, notation) -> concept IRI,
        works with any combination link), corrected."""
        if self._concepts is None:
            plain, labels, iris = {}, {}, {}
            for kind, notation, concept, label, n in _rows(self.graph, "report-concept-counts"):
                plain[(kind, notation)] = int(n)
                if kind != "any":
                    labels[(kind, notation)] = label
                    iris[(kind, notation)] = concept

            def contribution(view, counted):
                keys = [(k, n) for k, links in view.items() for n in links]
                if any(k in COMBINATION_KINDS for k, _ in keys):
                    keys.append(("any", ""))
                return keys

            self._plain_concepts = plain
            counts = self._corrected(plain, contribution)
            for w in self.exceptions.values():
                for k, c, n in w.links:
                    iris.setdefault((k, n), c)
            self._concepts = (counts, labels, iris)
        return self._concepts

    def _label(self, kind: str, notation: str) -> str:
        labels = self.concept_counts()[1]
        return labels.get((kind, notation), notation)

    def _links_by_work(self) -> dict[str, dict[str, list[str]]]:
        """work -> kind -> the notations it links to, each once, in the order the links come
        (concept_links, plainly; read, not changed, by cell_links and the plain counts)."""
        if not hasattr(self, "_by_work"):
            found: dict[str, dict[str, list[str]]] = {}
            for work, kind, notation in self.concept_links():
                kinds = found.get(work)
                if kinds is None:
                    found[work] = {kind: [notation]}
                elif kind in kinds:
                    kinds[kind].append(notation)
                else:
                    kinds[kind] = [notation]
            self._by_work = found
        return self._by_work

    def _plain_modality_counts(self) -> dict[tuple[str, str], int]:
        """(modality, category or "" for all) -> works taking the modality in or giving it out
        (in that category), plainly: report-modality-counts' rows, counted from the links read
        already instead of by another scan of the store."""
        plain: dict[tuple, int] = defaultdict(int)
        for links in self._links_by_work().values():
            for x in set(links.get("input", ())) | set(links.get("output", ())):
                plain[(x, "")] += 1
                for c in links.get("category", ()):
                    plain[(x, c)] += 1
        return dict(plain)

    def _plain_cell_datasets(self) -> dict[tuple[str, str, str], int]:
        """(category, mechanism, dataset) -> works linking to all three, plainly:
        report-cell-datasets' rows, counted from the links read already."""
        plain: dict[tuple, int] = defaultdict(int)
        for links in self._links_by_work().values():
            cats, mechs, sets = links.get("category", ()), links.get("mechanism", ()), links.get("dataset", ())
            for c in cats:
                for m in mechs:
                    for d in sets:
                        plain[(c, m, d)] += 1
        return dict(plain)

    def pair_counts(self) -> dict[tuple[str, str], int]:
        """("kind:notation", "kind:notation") -> works holding both (a < b), corrected."""
        if not hasattr(self, "_pairs"):
            plain: Counter = Counter()
            for links in self._links_by_work().values():
                plain.update(combinations(sorted(f"{k}:{n}" for k, ns in links.items() for n in ns), 2))

            def contribution(view, counted):
                keys = sorted({f"{k}:{n}" for k, links in view.items() if k in COMBINATION_KINDS for n in links})
                return list(combinations(keys, 2))

            self._pairs = self._corrected(plain, contribution)
        return self._pairs

    def unexplored_combinations(self, top: int, *, involving: str | None = None, kinds=None, min_support: int = 2):
        """unexplored_combinations(corpus).head(top) (pairs with the concept `involving` only, when
        given) from the corrected concept and pair counts."""
        import networkx as nx

        from .combinations import _kinds, structure_of, top_unexplored

        kinds = _kinds(kinds)
        counts, labels, _ = self.concept_counts()
        g = nx.Graph()
        keys = {}
        for (kind, notation), n in counts.items():
            if kind in kinds:
                key = f"{kind}:{notation}"
                keys[key] = kind
                g.add_node(key, kind=kind, label=labels.get((kind, notation), notation), count=n)
        for (a, b), n in self.pair_counts().items():
            if a in keys and b in keys:
                g.add_edge(a, b, weight=n)
        papers = counts.get(("any", ""), 0) if set(kinds) == set(COMBINATION_KINDS) else None
        if papers is None:
            raise ValueError("the store path counts the default kinds only")
        return top_unexplored(g, papers, structure_of(self.graph), top, min_support=min_support, involving=involving)

    def modality_gaps(self):
        """modality_gaps(corpus) from corrected counts."""
        import pandas as pd

        from .gaps import MODALITY_COLUMNS, modality_status

        counts = self.concept_counts()[0]
        plain = {("either", x, c): n for (x, c), n in self._plain_modality_counts().items()}

        def either(view, counted):
            mods = set(view.get("input", {})) | set(view.get("output", {}))
            cats = self._category(view, counted)
            return [("either", x, "") for x in mods] + [("either", x, c) for x in mods for c in cats]

        def sure(view, counted):  # asserted links only (a plain link is asserted)
            ins = {x for x, p in view.get("input", {}).items() if p is None}
            outs = {x for x, p in view.get("output", {}).items() if p is None}
            return [("in", x) for x in ins] + [("out", x) for x in outs] + [("any", x) for x in ins | outs]

        total = self._corrected(plain, either)
        # a plain link is asserted: the plain counts are the asserted ones but for the exceptions
        plain_concepts = self._plain_concepts
        plain_sure = {("in", x): n for (k, x), n in plain_concepts.items() if k == "input"}
        plain_sure |= {("out", x): n for (k, x), n in plain_concepts.items() if k == "output"}
        plain_sure |= {("any", x): n for (w, x, c), n in plain.items() if c == ""}
        assured = self._corrected(plain_sure, sure)
        cats = [c for c, _ in self.axes["category"]]
        rows = []
        for notation, label in self.axes["modality"]:
            n_in, n_out = counts.get(("input", notation), 0), counts.get(("output", notation), 0)
            works = total.get(("either", notation, ""), 0)
            sure_any = assured.get(("any", notation), 0)
            per_cat = {c: total.get(("either", notation, c), 0) for c in cats}
            rows.append({"modality": notation, "label": label, "input": n_in, "output": n_out, "works": works,
                         "asserted": sure_any, "predicted": works - sure_any, "categories": per_cat,
                         "missing_categories": [c for c in cats if not per_cat[c]],
                         "status": modality_status(n_in, n_out),
                         "asserted_status": modality_status(assured.get(("in", notation), 0),
                                                            assured.get(("out", notation), 0))})
        return pd.DataFrame(rows, columns=MODALITY_COLUMNS)

    def dataset_gaps(self):
        """dataset_gaps(corpus) from corrected counts."""
        import pandas as pd

        from .gaps import DATASET_COLUMNS

        counts, labels, iris = self.concept_counts()
        pairs = self.pair_counts()
        names = {str(r["dataset"]): str(r["name"]) for r in run_named(self.graph, "analysis-datasets").records()}

        def name_of(notation):
            return names.get(iris.get(("dataset", notation)), labels.get(("dataset", notation), notation))

        def datasets_with(kind, notation):
            key = f"{kind}:{notation}"
            found = set()
            for (a, b), n in pairs.items():
                if a == key and b.startswith("dataset:"):
                    found.add(b[len("dataset:"):])
                elif b == key and a.startswith("dataset:"):
                    found.add(a[len("dataset:"):])
            return sorted({name_of(d) for d in found}, key=str.lower)

        predicted = self._predicted_counts()
        rows = []
        for axis in ("category", "task"):
            for notation, label in self._axis_labels(axis):
                ds = datasets_with(axis, notation)
                rows.append({"axis": axis, "notation": notation, "label": label,
                             "works": counts.get((axis, notation), 0),
                             "predicted": predicted.get((axis, notation), 0), "datasets": ds, "gap": not ds})
        plain = self._plain_cell_datasets()

        def cell_datasets(view, counted):
            cats, mechs = view.get("category", {}), view.get("mechanism", {})
            return [(c, m, d) for c in cats for m in mechs for d in view.get("dataset", {})]

        in_cells = self._corrected(plain, cell_datasets)
        by_cell: dict[tuple, set] = defaultdict(set)
        for (c, m, d) in in_cells:
            by_cell[(c, m)].add(name_of(d))
        cell_predicted = self._cell_predicted()
        for c, clabel in self.axes["category"]:
            for m, mlabel in self.axes["mechanism"]:
                ds = sorted(by_cell.get((c, m), ()), key=str.lower)
                rows.append({"axis": "cell", "notation": f"{c} x {m}", "label": f"{clabel} x {mlabel}",
                             "works": pairs.get((f"category:{c}", f"mechanism:{m}"), 0), "predicted": cell_predicted.get((c, m), 0),
                             "datasets": ds, "gap": not ds})
        return pd.DataFrame(rows, columns=DATASET_COLUMNS)

    def _axis_labels(self, axis: str) -> list[tuple[str, str]]:
        if axis in self.axes:
            return self.axes[axis]
        from .gap_counts import _axis

        return _axis(run_named(self.graph, "analysis-taxonomy").records(), axis)

    def _predicted_counts(self) -> dict[tuple, int]:
        """(kind, notation) -> works holding the link by a counted prediction alone."""
        out: Counter = Counter()
        for w in self.exceptions.values():
            for kind, links in self._view(w, True).items():
                for n, p in links.items():
                    if p is not None:
                        out[(kind, n)] += 1
        return out

    def _cell_predicted(self) -> dict[tuple, int]:
        """(category, mechanism) -> works in it (all their category links) with either link predicted."""
        out: Counter = Counter()
        for w in self.exceptions.values():
            view = self._view(w, True)
            cats, mechs = view.get("category", {}), view.get("mechanism", {})
            for c, pc in cats.items():
                for m, pm in mechs.items():
                    if pc is not None or pm is not None:
                        out[(c, m)] += 1
        return out


def _sources_dict(n: int, citing: int, from_surveys: int, surveys: int, grow: str) -> dict:
    from .citations import sources_note

    survey_only = n > 0 and from_surveys == n
    return {"citations": n, "citing_works": citing, "from_surveys": from_surveys, "surveys_citing": surveys,
            "survey_only": survey_only, "note": sources_note(n, citing, surveys, survey_only)}


__all__ = ["COMBINATION_KINDS", "ReportCounts"]
