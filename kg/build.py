"""Building the graph: ontology + taxonomy + corpus + harvested records, then the
scope of every work (kg.classify.scope: status, relevance, who decided).

The taxonomy and corpus are the store's project's (kg.project: the bundled survey's unless a
project is selected); the ontology's own files are the package's.

Idempotent (the same inputs give the same graph) and atomic (the new graph is
published only once it is complete; see kg.store.Store.publish).
"""

from __future__ import annotations

import json
import time
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

from . import __version__
from .derived import beside, keep
from .classify.attach import attach_label_records
from .classify.curation import read_curation, read_scope_decisions
from .classify.curation import read_entity_decisions
from .classify.entities import apply_entity_decisions
from .records.corpus import read_corpus
from .rdf.ntriples import NTriples, lines_of
from .rdf.quads import QuadWriter, iter_ontology_quads  # noqa: F401  (QuadWriter: what ScopingWriter extends)
from .paths import ontology_dir
from .records.file import read_records_dir
from .records import Bundle
from .classify.keys import KEYS_FILE
from .classify.scope import ScopingWriter
from .sparql.stats import graph_stats, kept_path as stats_kept_path
from .store import Store
from .rdf.taxonomy import read_taxonomy

ONTOLOGY_FILES = ("kg.ttl", "taxonomy.ttl")  # the bundled survey's; a project brings its own taxonomy


@dataclass
class BuildReport:
    store: str
    seconds: float
    stats: dict
    warnings: list[str] = field(default_factory=list)
    scope: dict = field(default_factory=dict)  # status -> works
    phases: dict = field(default_factory=dict)  # phase -> seconds (`kg build --phases`)


@dataclass
class GraphPass:
    """One pass over the inputs: the graph's quads (N-Triples text, a stream read once), and once
    they are read, the warnings and scope counts of the writer that made them."""

    quads: NTriples
    writer: ScopingWriter
    record_warnings: list[str]
    read_seconds: float = 0.0  # reading the records, before the quads stream
    rank_citations: bool = True  # make the citation table once the quads are written (see rank)
    kept: Future | None = None  # the files kept for the analyses (name -> content), being made (rank)

    def rank(self) -> None:
        """Start making what the build keeps for the analyses (kg.analysis.network_store's
        tables_from_links: the citation table, and the citation network page's table) from what
        the writer wrote: its works in scope with their labels, their citation links and what the
        page draws on, not read back from the store. Called once the last quad is written:
        PageRank and Louvain (python-igraph, which lets the interpreter go) run in a thread beside
        the loader's last phase."""
        writer = self.writer
        if not self.rank_citations or not writer.labels_exact:
            return
        from .analysis.network_store import tables_from_links

        pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kg-citations")
        self.kept = pool.submit(tables_from_links, list(writer.work_labels), list(writer.work_labels.values()),
                                 *writer.cites, writer.out_of_scope(), writer.work_facts)
        pool.shutdown(wait=False)

    def files(self) -> dict[str, bytes]:
        """Kept beside the graph in its generation: the keys `kg classify` compares (kg.classify.keys)."""
        return {KEYS_FILE: self.writer.keys.dumps()}

    def report(self, store: Store, started: float, stats: dict, phases: dict | None = None) -> BuildReport:
        return BuildReport(store.location, time.monotonic() - started, stats,
                           self.record_warnings + self.writer.warnings, self.writer.counts(), phases or {})

    def phases(self, written: float, checked: float) -> dict:
        """Where a build's time went: reading the records; making the graph's text (resolving the
        works, writing their quads, scoring their scope) while Oxigraph loads it in a thread of
        its own; waiting for that loader; the check of the counts; and the rest of `written`
        (the seconds from the first quad to the published generation: flushing and publishing it)."""
        text, loader = self.quads.timings.get("text", 0.0), self.quads.timings.get("loader", 0.0)
        return {name: round(seconds, 3) for name, seconds in (
            ("reading the records", self.read_seconds), ("writing the graph's text", text),
            ("waiting for the loader", loader), ("checking the counts", checked),
            ("flushing and publishing", max(0.0, written - text - loader - checked)))}


def gather(store: Store | str | Path, corpus: Path | None = None, taxonomy=None,
           warnings: list[str] | None = None) -> Bundle:
    """Every record the graph is built from, in a stable order. Labels of record files that name
    no taxonomy concept are left out, each said in `warnings` with its file and line. `corpus`:
    a corpus folder instead of the project's (a project may have none)."""
    store = Store.at(store)
    taxonomy = taxonomy or read_taxonomy(store.project.taxonomy_file)
    corpus = corpus or store.project.corpus_dir
    bundle = read_corpus(corpus, taxonomy.vocabulary()) if corpus is not None else Bundle()
    bundle.extend(read_records_dir(store.records_dir, taxonomy.vocabulary(), warnings))
    bundle.extend(read_curation(store.curation_file, taxonomy.vocabulary()))
    return bundle


def build_meta(store: Store, corpus: Path | None = None) -> dict:
    """What a generation records about its build (kg.store: `Store.info()`)."""
    project = store.project
    corpus = corpus or project.corpus_dir
    meta = {"kg_version": __version__, "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
            "corpus": str(corpus) if corpus is not None else None, "taxonomy": str(project.taxonomy_file),
            "inputs": store.inputs(corpus)}  # what it was built from (kg.pipeline: the classifier's delta)
    if not project.is_default:
        meta.update(project=str(project.root), project_name=project.name)
    return meta


def graph_pass(store: Store | str | Path, corpus: Path | None = None, *, rank: bool = True) -> GraphPass:
    """The graph's quads from the store's inputs: ontology, taxonomy, the corpus, the records and
    curation, then the scope of every work. The quads stream a work at a time: whoever stores
    them, not this process, holds the graph. `rank`: also make the citation table once the last
    quad is written (GraphPass.rank)."""
    started = time.perf_counter()
    store = Store.at(store)
    taxonomy = read_taxonomy(store.project.taxonomy_file)
    record_warnings: list[str] = []
    bundle = gather(store, corpus, taxonomy, record_warnings)
    record_warnings += attach_label_records(bundle)  # predictions and curation only label known works
    # people's renames, merges and rejections of the methods and datasets papers name
    record_warnings += apply_entity_decisions(bundle, read_entity_decisions(store.curation_file), taxonomy)
    writer = ScopingWriter(taxonomy, read_scope_decisions(store.curation_file))  # works, then their scope
    ontology = lines_of(iter_ontology_quads([ontology_dir() / "kg.ttl", store.project.taxonomy_file]))
    # the records live on in the stream only: their memory goes back once they are written
    made = GraphPass(NTriples(chain([ontology], writer.iter_ntriples(bundle).chunks(), _then(lambda: made.rank()))),
                     writer, record_warnings, time.perf_counter() - started, rank_citations=rank)
    return made


def _then(action) -> Iterator[str]:
    """An empty part of a stream that calls `action()` when the stream reaches it."""
    action()
    yield from ()


def build(store: Store | str | Path, corpus: Path | None = None, *, revise=None) -> BuildReport:
    """Build the graph from the store's inputs and publish it, checked by its counts first.

    `revise(graph) -> bool`, when given (kg.pipeline: the classifier), reads the new graph before
    it is published; when it answers True it has changed the store's inputs, and the graph is
    written again from them. Either way one generation is published (local stores only)."""
    started = time.monotonic()
    store = Store.at(store)
    made = graph_pass(store, corpus, rank=not store.remote)  # an endpoint keeps nothing beside its graph
    if revise is None:
        checked = _Timed(graph_stats)
        written = time.perf_counter()
        published = store.publish(made.quads, build_meta(store, corpus), check=checked, files=made.files)
        written = time.perf_counter() - written
        _keep_counts(store, store.dir.path / published.generation, published.checked)
        _keep_tables(store, store.dir.path / published.generation, made)
        return made.report(store, started, published.checked, made.phases(written, checked.seconds))
    with store.draft(build_meta(store, corpus)) as draft:
        draft.write(made.quads)
        if revise(draft.graph):
            made = graph_pass(store, corpus, rank=not store.remote)
            draft.rewrite(made.quads)
        stats = graph_stats(draft.graph)
        draft.files.update(made.files())
    _keep_counts(store, store.dir.current(), stats)
    _keep_tables(store, store.dir.current(), made)
    return made.report(store, started, stats)


def _keep_counts(store: Store, generation: Path | None, counts) -> None:
    """Keep the counts the check of a new graph made with its generation (kg.derived), as `kg
    stats` would: the app's Overview and `kg stats` then read them instead of counting again
    (the triple count reads every triple). A store that cannot be written keeps nothing."""
    if store.remote or generation is None or not isinstance(counts, dict):
        return
    keep(stats_kept_path(generation), json.dumps(counts))


def _keep_tables(store: Store, generation: Path | None, made: GraphPass) -> None:
    """Keep the tables the pass made (GraphPass.rank) with the generation it published, where
    citation_table(graph) and network_table(graph) read them: the report and the app's Citation
    network page then read them instead of computing them on their first ask."""
    if made.kept is None:
        return
    try:
        files = made.kept.result()  # made while the loader finished
    except Exception as error:  # noqa: BLE001  the graph is published: the table is made on first ask instead
        made.record_warnings.append(f"the citation table was not kept with the graph ({error}); "
                                    "it is computed when first asked for")
        return
    if store.remote or generation is None:
        return
    for name, data in files.items():
        keep(beside(generation, name), data)


class _Timed:
    """A function, with the seconds its calls took."""

    def __init__(self, fn):
        self.fn, self.seconds = fn, 0.0

    def __call__(self, *args, **kwargs):
        started = time.perf_counter()
        try:
            return self.fn(*args, **kwargs)
        finally:
            self.seconds += time.perf_counter() - started
