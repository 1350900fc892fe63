"""Screening: deciding, work by work, which undecided works belong to the survey's field.

The anchor is ASReview's active learning: a person decides on the work the model rates most
relevant, the model is retrained on every decision so far (in-scope works as positives,
excluded ones as negatives), and the ranking is refreshed before the next pick, so relevant
works come first and a person stops long before the end of the pile.

Here the model is kg's scope model (kg.classify.relevance), which every `kg build` retrains
on the graph's statuses and whose relevance is in the graph (kg:relevance): a decision is
appended to <store>/curation.yaml (who, when, an optional reason; kg.classify.curation); then
kg.pipeline builds the graph again (so the ranking is refreshed) and, when the classifier has
run on the store before, lets the classifier place or unplace the work (kg.classify.run).
Decisions survive every rebuild.

`simulate` replays screening with known answers (the measurement in the README).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field

from ..errors import KgError
from ..records.dates import year_of
from ..sparql.named import get_query, run_named, split_order
from .curation import SOURCE as CURATION_SOURCE

DECISIONS = ("include", "exclude")


@dataclass
class ScreenItem:
    """One work as screening shows it."""

    work: str
    label: str
    status: str
    relevance: float | None
    title: str | None = None
    year: int | None = None
    id: str | None = None  # an identifier to name it by (arXiv id, DOI, S2 id, citation key)
    decided_by: str | None = None
    source: str | None = None
    at: str | None = None
    why: str | None = None

    @property
    def handle(self) -> str:
        return self.id or self.work

    def to_json(self) -> dict:
        return {k: v for k, v in self.__dict__.items()}


@dataclass
class Progress:
    in_scope: int = 0
    excluded: int = 0
    undecided: int = 0
    decided_by_people: int = 0  # works whose status a person's include / exclude decision set
    estimated_relevant_left: float = 0.0  # the sum of the undecided works' relevance

    @property
    def decided(self) -> int:
        return self.in_scope + self.excluded

    def to_json(self) -> dict:
        return {"in": self.in_scope, "out": self.excluded, "undecided": self.undecided, "decided": self.decided,
                "decided_by_people": self.decided_by_people,
                "estimated_relevant_left": round(self.estimated_relevant_left, 2)}


@dataclass
class Screening:
    """The undecided works, most relevant first, and how far screening has come."""

    queue: list[ScreenItem] = field(default_factory=list)
    progress: Progress = field(default_factory=Progress)

    @property
    def next(self) -> ScreenItem | None:
        return self.queue[0] if self.queue else None


def screening(graph) -> Screening:
    """The graph's screening state, from the named query `scope`."""
    out = Screening()
    people = 0
    for row in run_named(graph, "scope").records():
        status = str(row.get("status") or "undecided")
        rel = float(row["relevance"]) if row.get("relevance") is not None else None
        if status == "in":
            out.progress.in_scope += 1
        elif status == "out":
            out.progress.excluded += 1
        if status != "undecided":
            if row.get("source") == CURATION_SOURCE.title:
                people += 1
            continue
        out.progress.undecided += 1
        out.progress.estimated_relevant_left += rel or 0.0
        out.queue.append(_item(row, status, rel))
    out.progress.decided_by_people = people
    out.queue.sort(key=_queue_order)
    return out


def _item(row: dict, status: str, rel: float | None) -> ScreenItem:
    return ScreenItem(row["work"], row["label"], status, rel, row.get("title"), year_of(row.get("year")),
                      str(row["id"]) if row.get("id") is not None else None, row.get("decidedBy"),
                      row.get("source"), str(row["at"]) if row.get("at") else None, row.get("why"))


def _queue_order(item: ScreenItem):
    return -(item.relevance or 0.0), item.label.casefold(), item.work


# screening_head's reads: the progress counted in the store, the relevance the head ends at,
# then the head's works only (the scope query, driven by the head's pattern instead of its page of
# works: NamedQuery.driven_by); a work without a status is undecided.
# Every work has its label (the counts leave that join out: it costs a third of their time).
# Whatever is read for every work (its status, its relevance) is read as a whole list and joined
# by hash: looked up work by work, 100,000 works take 1.2-2.8 s a read, against 0.2-0.7 s.
_WORK = "?work a fabio:ScholarlyWork ; rdfs:label ?label ."
_UNDECIDED = 'OPTIONAL { ?work kg:scopeStatus ?status } FILTER(!BOUND(?status) || STR(?status) = "undecided")'
_WORKS = "{ SELECT ?work WHERE { ?work a fabio:ScholarlyWork } }"
_STATUSES = "OPTIONAL { { SELECT ?work ?status WHERE { ?work kg:scopeStatus ?status } } }"
_RELEVANCES = "OPTIONAL { { SELECT ?work ?relevance WHERE { ?work kg:relevance ?relevance } } }"
_ALL_UNDECIDED = f'{_WORKS} {_STATUSES} FILTER(!BOUND(?status) || STR(?status) = "undecided")'
_PROGRESS = f"""SELECT ?status (COUNT(?work) AS ?works) (SUM(COALESCE(?relevance, 0)) AS ?relevant) WHERE {{
  {_WORKS} {_STATUSES} {_RELEVANCES}
}} GROUP BY ?status"""
_BY_PEOPLE = f"""SELECT (COUNT(?work) AS ?works) WHERE {{
  ?from dcterms:title %s ; a kg:Source . ?assessment prov:wasDerivedFrom ?from .
  ?work kg:scopeAssessment ?assessment . {_WORK} ?work kg:scopeStatus ?status . FILTER(STR(?status) != "undecided")
}}"""
_HEAD_ENDS = f"""SELECT ?rel WHERE {{
  {_ALL_UNDECIDED} {_RELEVANCES} BIND(COALESCE(?relevance, 0) AS ?rel)
}} ORDER BY DESC(?rel) OFFSET %d LIMIT 1"""
# the works at or above a relevance (%s: a literal): those few, then their type and status looked up
_AT_LEAST = ('{ SELECT ?work ?relevance WHERE { ?work kg:relevance ?relevance . FILTER(?relevance >= %s) } } '
             f"?work a fabio:ScholarlyWork . {_UNDECIDED}")


def screening_head(graph, keep: int) -> tuple[Screening, int]:
    """(screening(graph) with only the first `keep` works of its queue, how many works the whole
    queue holds), without reading every work: the progress is counted in the store and only the
    works at or above the `keep`-th highest relevance are read (then sorted as screening sorts)."""
    out = Screening()
    queued = 0
    for status, works, relevant in graph.values(_PROGRESS):
        n = int(works or 0)
        if status == "in":
            out.progress.in_scope += n
        elif status == "out":
            out.progress.excluded += n
        elif status in (None, "undecided"):
            queued += n
            out.progress.estimated_relevant_left += float(relevant or 0.0)
    out.progress.undecided = queued
    people = graph.values(_BY_PEOPLE % json.dumps(CURATION_SOURCE.title))
    out.progress.decided_by_people = int(people[0][0] or 0) if people else 0
    if keep <= 0 or not queued:
        return out, queued
    ends = graph.values(_HEAD_ENDS % (keep - 1)) if queued > keep else []
    floor = float(ends[0][0]) - 1e-6 if ends and ends[0][0] is not None else None
    # at or below zero every undecided work is in the head's range (no relevance counts as 0)
    if floor is not None and floor > 0:  # the works with a relevance that high (no label read, no work listed)
        head = _AT_LEAST % f'"{floor!r}"^^xsd:double'
    else:  # every undecided work: no relevance counts as 0
        head = f"{_ALL_UNDECIDED} {_RELEVANCES}"
    # the scope query itself, its page's works replaced by the head's: the same columns, read by name
    driver = f"SELECT ?work ?relevance WHERE {{ {head} }}"
    for row in graph.query(split_order(get_query("scope").driven_by(driver))[0], trusted=True).records():
        rel = float(row["relevance"]) if row.get("relevance") is not None else None
        out.queue.append(_item(row, "undecided", rel))
    out.queue.sort(key=_queue_order)
    del out.queue[keep:]
    return out, queued


def work_text(graph, work: str) -> tuple[str, str]:
    """(title, abstract) of one work (empty strings when it has none)."""
    rows = run_named(graph, "paper", {"id": work}).records()
    title = next((r["value"] for r in rows if r["property"] == "title"), "")
    abstract = next((r["value"] for r in rows if r["property"] == "abstract"), "")
    return str(title), str(abstract)


def predicted_labels(graph, work: str) -> dict[str, list[tuple[str, float]]]:
    """The classifier's labels of one work in the graph: axis -> [(concept label, confidence)]."""
    from ..analysis.browse import LABEL_AXES

    out: dict[str, list[tuple[str, float]]] = {}
    for row in run_named(graph, "paper-labels", {"id": work}).records():
        if not str(row.get("source") or "").rsplit("/", 1)[-1].startswith("classifier"):
            continue
        out.setdefault(LABEL_AXES.get(str(row["axis"]), str(row["axis"])), []).append(
            (str(row.get("conceptLabel") or row.get("notation")), float(row.get("confidence") or 0.0)))
    return out


def decide(store, paper: str, decision: str, *, by: str | None = None, reason: str | None = None) -> dict:
    """Record a person's include / exclude decision about one work in the curation file and
    return it. kg.pipeline.after_curate then builds the graph again (which retrains the scope
    model and refreshes the ranking) and, when the classifier has run on this store, lets it
    place or unplace the work. `store`: a kg.store.Store (or its location)."""
    from ..store import Store
    from .curation import curate

    if decision not in DECISIONS:
        raise KgError(f"a screening decision is include or exclude, not {decision!r}")
    store = Store.at(store)
    store.require_local("deciding a work's scope (a remote store keeps no curation file)",
                        hint="Decide on the local store (a folder) the graph is built from; a remote "
                             "store's screening can still be listed.")
    return curate(store, paper, {}, by=by, note=reason, scope=decision)


# ---------------------------------------------------------------- simulation
@dataclass
class Simulation:
    decisions: int  # decisions screening needed to reach the target
    found: int  # relevant works found by then
    relevant: int  # relevant works in the pool
    pool: int  # works to screen
    target: float
    order: list[int] = field(default_factory=list)  # pool positions in the order screened

    @property
    def wss(self) -> float:
        """Work saved over sampling at the target recall: the share of the pool left unread,
        minus what reading in random order would leave (1 - target)."""
        return (self.pool - self.decisions) / self.pool - (1.0 - self.target) if self.pool else 0.0

    def to_json(self) -> dict:
        return {"decisions": self.decisions, "found": self.found, "relevant": self.relevant, "pool": self.pool,
                "target": self.target, "wss": round(self.wss, 4),
                "random_order_decisions": math.ceil(self.target * self.pool)}


def simulate(titles: list[str], abstracts: list[str], relevant: list[bool], known: list[bool], taxonomy,
             target: float = 0.95) -> Simulation:
    """Screen with known answers: the works with `known` set are in scope from the start (a
    survey's table), every other work is undecided; each step decides the undecided work the
    scope model rates most relevant (retrained on every decision so far) with its true answer,
    until `target` of the relevant undecided works are found."""
    import numpy as np

    from .relevance import RelevanceModel

    model = RelevanceModel(titles, abstracts, taxonomy)
    status = np.array(["in" if k else "undecided" for k in known], dtype=object)
    pool = [i for i, k in enumerate(known) if not k]
    total = sum(1 for i in pool if relevant[i])
    need = math.ceil(target * total)
    out = Simulation(0, 0, total, len(pool), target)
    open_ = np.array([not k for k in known])
    while out.found < need and open_.any():
        rel = model.score(status).relevance
        ranked = np.where(open_, rel, -1.0)
        i = int(np.argmax(ranked))  # ties: the first
        open_[i] = False
        status[i] = "in" if relevant[i] else "out"
        out.decisions += 1
        out.found += int(bool(relevant[i]))
        out.order.append(i)
    return out
