"""Refreshing a store's graph: build -> classify -> scores -> stats, once, for every caller.

The steps below return data and never build the graph themselves: kg.build makes the graph's
quads (works, labels, and the scope scores of kg.classify.scope) and publishes them, kg.classify.run
places works and writes its records, kg.classify.curation and kg.classify.screen record
people's decisions, kg.harvest.publish writes harvested and imported records. This module
runs them in order for each use case and publishes one new generation:

    refresh(store)             `kg build`, the app's first start and its Rebuild button
    classify(store, ...)       `kg classify`: place the works, then build once if records changed
    after_curate(store, scope) after a label or scope decision (`kg curate`, `kg screen`, the app)
    after_records(store)       after a harvest or an import wrote records

A first build (no graph in the store yet) also places the works with the classifier, so
`kg build` on a new store and the app's first start make the same graph.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .build import BuildReport, build, build_meta
from .classify import delta
from .classify.run import ClassifyReport, classify_works, has_run
from .store import Store

Progress = Callable[[str], None]


@dataclass
class Refresh:
    """What a refresh did: the build (its stats are the published graph's) and, when the
    classifier ran, its report."""

    build: BuildReport
    classified: ClassifyReport | None = None

    @property
    def stats(self) -> dict:
        return self.build.stats


def refresh(store: Store | str | Path, *, corpus: Path | None = None, classify: bool | None = None,
            progress: Progress | None = None, **classify_options) -> Refresh:
    """Build the graph from the store's inputs; place the works with the classifier when asked
    (`classify=None`: when the store has no graph yet); publish one generation, checked by its
    counts. The classifier reads the new graph before it is published (kg.build's `revise`); when
    it writes records, the graph is written again from them, so one generation is published."""
    store = Store.at(store)
    if classify is None:
        classify = not store.exists()
    tick = progress or (lambda step: None)
    tick("building")
    if not classify:
        return Refresh(build(store, corpus))
    placed: list[ClassifyReport] = []

    def place(graph) -> bool:  # the classifier reads the new graph; its records go into the next pass
        tick("classifying")
        placed.append(classify_works(store, graph=graph, **classify_options))
        if placed[-1].records_changed:
            tick("building")
        return placed[-1].records_changed

    started = time.monotonic()
    report = build(store, corpus, revise=place)
    classified = placed[-1]
    classified.rebuilt = classified.records_changed
    classified.warnings = report.warnings
    classified.seconds = round(time.monotonic() - started, 3)
    return Refresh(report, classified)


def classify(store: Store | str | Path, **classify_options) -> ClassifyReport:
    """`kg classify`: place the works of the current graph; when that changed the records, publish
    the graph once (`report.rebuilt`, its warnings in `report.warnings`): the classifier's change
    alone applied to the current graph when only its records changed since the graph was built
    (kg.classify.delta; `report.delta` is "delta"), else a full build (`report.delta` says why)."""
    store = Store.at(store)
    report = classify_works(store, **classify_options)
    if report.records_changed:
        started = time.monotonic()
        why = delta.publish(store, report.written, build_meta(store))
        if why is None:
            report.delta = "delta"
            report.rebuilt = True
            report.rebuild_seconds = round(time.monotonic() - started, 3)
            report.seconds = round(report.seconds + report.rebuild_seconds, 3)
            return report
        report.delta = f"full build: {why}"
        report.warnings = build(store).warnings
        report.rebuilt = True
        report.rebuild_seconds = round(time.monotonic() - started, 3)
        report.seconds = round(report.seconds + report.rebuild_seconds, 3)
    return report


def after_curate(store: Store | str | Path, scope: str | None = None) -> Refresh:
    """After a person's decision: build again so it shows. A scope decision (include / exclude)
    also lets the classifier place or unplace the work, when it has run on this store before;
    label decisions wait for `kg classify` to retrain on them."""
    store = Store.at(store)
    return refresh(store, classify=scope is not None and has_run(store))


def after_records(store: Store | str | Path) -> Refresh:
    """After a harvest or an import wrote its records: build again (the classifier is left to
    `kg classify`, as new works may need a person's look first)."""
    return refresh(store, classify=False)


def curate(store: Store | str | Path, paper: str, labels: dict[str, list[str]], *, scope: str | None = None,
           **decision) -> dict:
    """`kg curate` and the app's paper page: record the decision (kg.classify.curation.curate),
    then refresh the graph as `after_curate` does. Returns the recorded decision."""
    from .classify.curation import curate as record

    store = Store.at(store)
    recorded = record(store, paper, labels, scope=scope, **decision)
    after_curate(store, scope=scope)
    return recorded


def curate_entity(store: Store | str | Path, entity: str, **decision) -> dict:
    """`kg curate --entity`: record a person's rename, merge or rejection of a method or dataset
    (kg.classify.curation.curate_entity), then refresh the graph as `after_curate` does."""
    from .classify.curation import curate_entity as record

    store = Store.at(store)
    recorded = record(store, entity, **decision)
    after_curate(store)
    return recorded


def decide(store: Store | str | Path, paper: str, decision: str, **details) -> dict:
    """`kg screen --include/--exclude` and the app's screening page: record the scope decision
    (kg.classify.screen.decide), then refresh the graph as `after_curate` does."""
    from .classify.screen import decide as record

    store = Store.at(store)
    recorded = record(store, paper, decision, **details)
    after_curate(store, scope=decision)
    return recorded
