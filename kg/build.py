"""Building the graph: ontology + taxonomy + bundled corpus + harvested records, then the
scope of every work (kg.scope: status, relevance, who decided).

Idempotent (the same inputs give the same graph) and atomic (the new graph is
published only once it is complete; see kg.store.StoreDir).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from . import __version__
from .classify.attach import attach_label_records
from .classify.curation import read_curation, read_scope_decisions
from .corpus import read_corpus
from .quads import QuadWriter, iter_ontology_quads  # noqa: F401  (QuadWriter: what ScopingWriter extends)
from .paths import corpus_dir, ontology_dir
from .recordfile import read_records_dir
from .records import Bundle
from .scope import ScopingWriter
from .stats import graph_stats
from .store import LocalGraph, StoreDir
from .taxonomy import read_taxonomy

ONTOLOGY_FILES = ("kg.ttl", "taxonomy.ttl")


@dataclass
class BuildReport:
    store: str
    seconds: float
    stats: dict
    warnings: list[str] = field(default_factory=list)
    scope: dict = field(default_factory=dict)  # status -> works


def gather(store_dir: StoreDir, corpus: Path | None = None, taxonomy=None,
           warnings: list[str] | None = None) -> Bundle:
    """Every record the graph is built from, in a stable order. Labels of record files that name
    no taxonomy concept are left out, each said in `warnings` with its file and line."""
    taxonomy = taxonomy or read_taxonomy()
    bundle = read_corpus(corpus or corpus_dir(), taxonomy.vocabulary())
    bundle.extend(read_records_dir(store_dir.records_dir, taxonomy.vocabulary(), warnings))
    bundle.extend(read_curation(store_dir.curation_file, taxonomy.vocabulary()))
    return bundle


def build(store: str | Path, corpus: Path | None = None) -> BuildReport:
    started = time.monotonic()
    store_dir = StoreDir(store)
    taxonomy = read_taxonomy(ontology_dir() / "taxonomy.ttl")
    record_warnings: list[str] = []
    bundle = gather(store_dir, corpus, taxonomy, record_warnings)
    label_warnings = record_warnings + attach_label_records(bundle)  # predictions and curation only label known works
    writer = ScopingWriter(taxonomy, read_scope_decisions(store_dir.curation_file))  # works, then their scope
    meta = {"kg_version": __version__, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus": str(corpus or corpus_dir())}
    ontology = list(iter_ontology_quads(ontology_dir() / f for f in ONTOLOGY_FILES))
    if store_dir.url:  # a SPARQL endpoint: load a new named graph, then swap the pointer (kg.store.remote)
        from .store.remote import publish

        _, stats = publish(store_dir.url, list(dict.fromkeys(chain(ontology, writer.iter_bundle(bundle)))), meta)
        return BuildReport(store_dir.url, time.monotonic() - started, stats, label_warnings + writer.warnings,
                           writer.counts())
    with store_dir.new_generation(meta) as ox_store:
        # bulk loading skips per-write transactions (4x faster at 300k triples); atomicity
        # comes from the generation folder, which is published only once complete. The quads
        # stream in a work at a time: the store, not this process, holds the graph.
        ox_store.bulk_extend(chain(ontology, writer.iter_bundle(bundle)))
        del bundle, ontology  # the records are in the store now: their memory goes back before the stats queries
        stats = graph_stats(LocalGraph(store, store=ox_store))
    return BuildReport(str(store_dir.path), time.monotonic() - started, stats, label_warnings + writer.warnings,
                       writer.counts())
