"""Scope: whether each work belongs to the survey's field, who said so, and how relevant it looks.

Every work of the graph gets a status (kg:scopeStatus):
- "in": the survey itself, a work its corpus declares surveyed (by default a row of the
  survey's table), a paper of the curated list, a work a person placed in the taxonomy
  (curated labels), or one a person included;
- "out": a person excluded it;
- "undecided": everything else (harvested, imported, possible matches).
The last include / exclude decision about a work in <store>/curation.yaml (`kg screen`,
`kg curate --exclude`, the app) wins over everything else. Each work with text also gets
kg:relevance, the scope model's P(relevant | title and abstract) in [0, 1]
(kg.classify.relevance), retrained on the statuses at every build: in-scope works are its
positives, excluded ones its negatives. A kg:ScopeAssessment node says who decided the
status (prov:wasAttributedTo: the survey's authors, the list's maintainers, a person, or the
scope model's agent `kg-scope VERSION` for undecided works), from what (prov:wasDerivedFrom:
the source, or for an undecided work the work itself, whose text the model read), when
(prov:generatedAtTime, when known) and why (rdfs:comment: the reason, or the similarities the
relevance rests on).

`ScopingWriter` is the graph writer `kg build` uses: it writes the works as kg.rdf.quads'
QuadWriter does, remembers each one's scope, and once every work is written, scores them and
writes the scope quads.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from .curation import SOURCE as CURATION_SOURCE
from .curation import ScopeDecision
from .keys import KeyTable
from ..rdf.quads import COMMENT, TYPE, QuadWriter, _lit, _n, _time
from ..records.labels import is_curated
from ..records import Bundle, Source, Work
from ..records.resolve import Node, is_strong_key, keys_of
from ..vocab import KG, PROV, XSD, digest, mint

IN, OUT, UNDECIDED = "in", "out", "undecided"
STATUSES = (IN, OUT, UNDECIDED)


@dataclass(slots=True)
class WorkScope:
    """One work's scope, as the build decides it."""

    iri: str
    title: str
    abstract: str
    status: str = UNDECIDED
    source: str | None = None  # a Source id; None for an undecided work (the model read the work itself)
    agent: str | None = None  # None: the scope model
    at: str | None = None
    note: str | None = None  # why: the basis or the person's reason
    relevance: float | None = None


class DecisionIndex:
    """People's scope decisions, found by any identifier of a work (strong ids first)."""

    def __init__(self, decisions: Iterable[ScopeDecision]):
        self.decisions = list(decisions)
        self.by_key: dict[str, list[int]] = {}
        self.used: set[int] = set()
        for i, d in enumerate(self.decisions):
            keys = keys_of(Work(ids=dict(d.ids), sources=["curation"], title=d.title, year=d.year))
            strong = [k for k in keys if is_strong_key(k)]
            for key in strong or keys:
                self.by_key.setdefault(key, []).append(i)

    def lookup(self, node: Node) -> ScopeDecision | None:
        """The last decision naming this work, or None."""
        if not self.by_key:
            return None
        found: set[int] = set()
        for rec in node.records:
            for key in keys_of(rec):
                found.update(self.by_key.get(key, ()))
        if not found:
            return None
        self.used.update(found)
        return self.decisions[max(found, key=lambda i: self.decisions[i].index)]

    def unmatched(self) -> list[ScopeDecision]:
        return [d for i, d in enumerate(self.decisions) if i not in self.used]


def base_scope(node: Node, sources: dict[str, Source]) -> WorkScope:
    """A work's status from its records alone (before people's scope decisions)."""
    scope = WorkScope(node.iri, node.first("title") or "", node.first("abstract") or "")

    def given(rec: Work, note: str) -> WorkScope:
        src = sources.get(rec.sources[0]) if rec.sources else None
        scope.status, scope.note = IN, note
        scope.source = src.id if src else (rec.sources[0] if rec.sources else CURATION_SOURCE.id)
        scope.agent = src.agent if src else None
        scope.at = src.retrieved if src else None
        return scope

    for test, note in ((lambda r: r.is_survey, lambda r: "the survey itself"),
                       (lambda r: r.surveyed, lambda r: "a work the survey covers" + (f" (section {r.subsection})" if r.subsection else "")),
                       (lambda r: r.list_section, lambda r: f"a paper of the curated list ({r.list_section})")):
        for rec in node.records:
            if test(rec):
                return given(rec, note(rec))
    curated = [lab for rec in node.records for lab in rec.labels if is_curated(lab)]
    if curated:
        first = max(curated, key=lambda lab: lab.at or "")
        scope.status, scope.source, scope.agent, scope.at = IN, first.source, first.agent or "curator", first.at
        scope.note = "placed in the taxonomy by a person (curated labels)"
    return scope


def apply_decision(scope: WorkScope, decision: ScopeDecision) -> None:
    scope.status = IN if decision.decision == "include" else OUT
    scope.source, scope.agent, scope.at = CURATION_SOURCE.id, decision.by, decision.at
    scope.note = decision.reason or f"{decision.decision}d by a person"


class ScopingWriter(QuadWriter):
    """kg.rdf.quads' QuadWriter plus the scope of every work (written once all works are)."""

    def __init__(self, taxonomy, decisions: Iterable[ScopeDecision] = ()):
        super().__init__(taxonomy)
        self.decisions = DecisionIndex(decisions)
        self.scopes: list[WorkScope] = []
        self.model: dict = {}
        self.keys = KeyTable(taxonomy)  # what kg classify compares (kg.classify.keys)

    def work(self, node: Node) -> None:
        super().work(node)
        self.keys.work(node, self.sources)
        scope = base_scope(node, self.sources)
        decision = self.decisions.lookup(node)
        if decision is not None:
            apply_decision(scope, decision)
        self.scopes.append(scope)

    def steps(self, bundle: Bundle) -> Iterator[None]:
        yield from super().steps(bundle)
        yield from self.scope_steps()

    def scope_steps(self) -> Iterator[None]:
        """Write the scope quads of every work written (once all works are), pausing every
        thousand works for the caller to take them."""
        from .relevance import AGENT as RELEVANCE_AGENT
        from .relevance import score

        for d in self.decisions.unmatched():
            where = f"line {d.line}" if d.line else f"decision #{d.index + 1}"
            self.warnings.append(f"curation.yaml, {where}: the {d.decision} decision about "
                                 f"{d.paper or d.title or d.ids} matches no work in the graph; kept in the file")
        scored = score([s.title for s in self.scopes], [s.abstract for s in self.scopes],
                       [s.status for s in self.scopes], self.taxonomy)
        self.model = scored.describe()
        if CURATION_SOURCE.id not in self.sources and any(s.source == CURATION_SOURCE.id for s in self.scopes):
            self.source(CURATION_SOURCE)
        model_agent = self.agent(RELEVANCE_AGENT)
        for i, scope in enumerate(self.scopes):
            if i % 1000 == 0:
                yield
            w = ox.NamedNode(scope.iri)
            self.add(w, _n(KG.scopeStatus), _lit(scope.status))
            if scored.has_text[i] or scope.status == UNDECIDED:
                scope.relevance = round(float(scored.relevance[i]), 4)
                self.add(w, _n(KG.relevance), _lit(f"{scope.relevance:.4f}", XSD + "decimal"))
            self.keys.scope(scope.iri, scope.status, scope.relevance)
            a = ox.NamedNode(mint("scope", digest(scope.iri)))
            self.add(w, _n(KG.scopeAssessment), a)
            self.add(a, TYPE, _n(KG.ScopeAssessment))
            if scope.status == UNDECIDED:  # the model's view, read from the work's own text
                self.add(a, _n(PROV + "wasAttributedTo"), model_agent)
                self.add(a, _n(PROV + "wasDerivedFrom"), w)
                self.add(a, COMMENT, _lit(scored.evidence(i)))
                continue
            self.add(a, _n(PROV + "wasAttributedTo"), self.agent(scope.agent or self._agent_of(scope.source)))
            self.add(a, _n(PROV + "wasDerivedFrom"), ox.NamedNode(mint("source", scope.source)))
            if scope.at:
                self.add(a, _n(PROV + "generatedAtTime"), _time(scope.at))
            if scope.note:
                self.add(a, COMMENT, _lit(scope.note))
        yield

    def _agent_of(self, source_id: str) -> str:
        src = self.sources.get(source_id)
        return src.agent if src else source_id

    def out_of_scope(self) -> set[str]:
        """The works whose status is "out" (those the citation table leaves out)."""
        return {s.iri for s in self.scopes if s.status == OUT}

    def counts(self) -> dict[str, int]:
        out = {status: 0 for status in STATUSES}
        for s in self.scopes:
            out[s.status] += 1
        return out
