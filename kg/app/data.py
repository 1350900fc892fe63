"""The app's cached access to the graph: the store in st.cache_resource, every query or
analysis result in st.cache_data, keyed by the store generation so a rebuild shows at once.

The app's project and store are found as the CLI finds them (kg.project.resolve: KG_PROJECT,
which `kg app` sets, else the project the current folder is in, else the bundled survey; the
store: KG_STORE, which `kg app` sets, else the project's), so its first start and its Rebuild
button build from the project's taxonomy and corpus.

Only calls kg/ library functions; pages call these instead of the library when a result
is worth caching.
"""

from __future__ import annotations

import os
import threading

import pandas as pd
import streamlit as st

from kg import analysis

from kg.analysis import browse, views
from kg.errors import GraphMissing
from kg.sparql.guard import QueryLimits
from kg.project import Project, resolve
from kg.sparql.stats import graph_stats
from kg.store import Store

from . import network_drawing, view_cache

TTL = None  # results are tied to a generation; a rebuild makes a new key


def project() -> Project:
    """The app's project (KG_PROJECT, else the current folder's, else the bundled survey)."""
    return _project(os.environ.get("KG_PROJECT", ""), os.getcwd())


@st.cache_resource(show_spinner=False, max_entries=4)
def _project(env: str, cwd: str) -> Project:
    return resolve(cwd=cwd)


def store_location() -> str:
    """Where the app's graph lives: KG_STORE, else the project's store (as for the CLI)."""
    return os.environ.get("KG_STORE") or project().store


@st.cache_resource(show_spinner=False)
def build_lock() -> threading.Lock:
    """One build at a time in this server process (several browser tabs may ask at once)."""
    return threading.Lock()


@st.cache_resource(show_spinner=False)
def _store(location: str, root: str | None) -> Store:
    """One Store per location and project in this server process (it keeps what it asks the
    endpoint with)."""
    return Store.at(location, project=Project.load(root) if root else Project.default())


def store() -> Store:
    """The app's store, resolved once per location and project."""
    root = project().root
    return _store(store_location(), str(root) if root else None)


@st.cache_resource(show_spinner=False, max_entries=4)
def _open(location: str, generation: str | None):
    return store().open_at(generation)


def has_graph() -> bool:
    """A local store with a build, or any remote store (its server answers for what it holds)."""
    return store().exists()


def graph_and_key() -> tuple[object, str]:
    """The open graph of the current generation and the cache key naming that generation."""
    current = store()
    generation = current.generation_key()
    if generation is None and not current.exists():
        raise GraphMissing(f"no graph in {current.location} yet",
                           hint="Reload the page to build it, or run `kg build`.")
    return _open(current.location, generation), f"{current.location}#{generation}"


def store_info() -> dict:
    """The current build's metadata (built_at, kg_version, corpus) plus the location."""
    return store().info()


# ---------------------------------------------------------------- cached results
@st.cache_data(show_spinner=False, max_entries=8)
def _stats(_graph, key: str) -> dict:
    return view_cache.stored(_graph, "stats", lambda: graph_stats(_graph))


@st.cache_data(show_spinner=False, max_entries=8)
def _corpus(_graph, key: str) -> analysis.Corpus:
    return analysis.load_corpus(_graph)


@st.cache_data(show_spinner=False, max_entries=8)
def _per_year(_graph, key: str) -> list[dict]:
    return view_cache.stored(_graph, "papers-per-year", lambda: browse.papers_per_year(_graph))


@st.cache_data(show_spinner=False, max_entries=8)
def _overview(_graph, key: str) -> dict:
    return {"per_year": _per_year(_graph, key),
            "latest": view_cache.stored(_graph, "latest-additions-12", lambda: browse.latest_additions(_graph, 12)),
            "sources": view_cache.stored(_graph, "data-sources", lambda: browse.data_sources(_graph))}


@st.cache_data(show_spinner=False, max_entries=8)
def _taxonomy(_graph, key: str) -> analysis.Corpus:
    return analysis.load_taxonomy(_graph)


@st.cache_data(show_spinner=False, max_entries=8)
def _store_gap_cells(_graph, key: str):
    from kg.analysis.gap_counts import gap_cells

    return view_cache.stored(_graph, f"gap-cells-{analysis.MIN_CONFIDENCE:g}",
                             lambda: gap_cells(_graph, analysis.MIN_CONFIDENCE))


@st.cache_data(show_spinner=False, max_entries=64)
def _cell_papers(_graph, key: str, category: str, mechanism: str, page: int) -> list[dict]:
    from kg.sparql.named import run_named

    return run_named(_graph, "cell-papers", {"category": category, "mechanism": mechanism}, page=page).records()


@st.cache_data(show_spinner=False, max_entries=8)
def _search_rows(_graph, key: str) -> list[dict]:
    return browse.search_index(_graph)


@st.cache_data(show_spinner=False, max_entries=16)
def _index_page(_graph, key: str, page: int) -> list[dict]:
    return browse.search_index(_graph, page=page)


@st.cache_data(show_spinner=False, max_entries=64)
def _paper(_graph, key: str, work: str) -> browse.PaperPage:
    return browse.paper_page(_graph, work)


@st.cache_data(show_spinner=False, max_entries=32)
def _gap_cells(_graph, key: str, modality: str | None, years: tuple[int, int] | None):
    corpus = _corpus(_graph, key)
    sliced = views.restrict_corpus(corpus, modality=modality, years=years)
    return analysis.gap_matrix(sliced), analysis.summary(sliced)


@st.cache_data(show_spinner=False, max_entries=8)
def _gap_tables(_graph, key: str) -> dict:
    corpus = _corpus(_graph, key)
    return {"modalities": analysis.modality_gaps(corpus), "datasets": analysis.dataset_gaps(corpus),
            "trends": analysis.trends(corpus), "summary": analysis.summary(corpus)}


@st.cache_data(show_spinner=False, max_entries=64)
def _nearest(_graph, key: str, category: str, mechanism: str) -> list[dict]:
    return analysis.nearest_papers(_corpus(_graph, key), category, mechanism, k=5)


@st.cache_resource(show_spinner=False, max_entries=2)
def _network(_graph, key: str) -> dict:
    """Held, not copied per session (cache_resource): at 100,000 papers the table is large.
    Read only by the pages. No corpus and no links of every work: the generation's citation
    table (PageRank, ranks, communities, degrees; kg.analysis.citation_store) with the works'
    years, categories and flags, kept in kg-derived/ (view_cache) so a later server reads it."""
    metrics = view_cache.stored(_graph, "network-table", lambda: views.network_table(_graph))
    sources = view_cache.stored(_graph, "network-sources", lambda: views.network_sources(_graph, metrics))
    taxonomy = _taxonomy(_graph, key)
    years = [int(y) for y in metrics["year"] if y is not None and not pd.isna(y)]
    return {"metrics": metrics, "sources": sources, "categories": taxonomy.notation_labels("category"),
            "span": (min(years), max(years)) if years else None}


@st.cache_data(show_spinner=False, max_entries=16)
def _network_html(_graph, key: str, nodes: tuple[str, ...], color_by: str) -> str:
    net = _network(_graph, key)
    return network_drawing.network_html(_drawn_edges(_links_among(_graph, key, nodes), nodes), net["metrics"],
                                        list(nodes), color_by=color_by, category_labels=net["categories"])


@st.cache_data(show_spinner=False, max_entries=16)
def _links_among(_graph, key: str, nodes: tuple[str, ...]) -> list[tuple[str, str]]:
    return views.links_among(_graph, nodes)


def _drawn_edges(links, nodes):
    """The citations among the drawn works only, as the small graph network_html draws."""
    import networkx as nx

    graph = nx.DiGraph()
    graph.add_nodes_from(nodes)
    graph.add_edges_from(links)
    return graph


def _combinations_view(kinds: tuple[str, ...], method: str, min_support: int, top: int) -> str:
    return f"combinations-{'+'.join(kinds)}-{method}-{min_support}-{top}"


@st.cache_data(show_spinner=False, max_entries=16)
def _combinations(_graph, key: str, kinds: tuple[str, ...], method: str, min_support: int, top: int):
    def compute() -> dict:
        corpus = _corpus(_graph, key)
        return {"pairs": views.cooccurrence_pairs(corpus, kinds, top=top),
                "unexplored": analysis.unexplored_combinations(corpus, kinds, min_support=min_support, method=method)}

    kept = view_cache.stored(_graph, _combinations_view(kinds, method, min_support, top), compute)
    return kept["pairs"], kept["unexplored"]


@st.cache_data(show_spinner=False, max_entries=32)
def _query(_graph, key: str, text: str, bindings: tuple[tuple[str, str], ...], max_rows: int, timeout_s: float):
    return _graph.query(text, dict(bindings), QueryLimits(max_rows=max_rows, timeout_s=timeout_s), trusted=False)


# ---------------------------------------------------------------- what pages call
def stats() -> dict:
    return _stats(*graph_and_key())


# Above this many works, what needs every work read (the analysis corpus, the classifier) waits
# for a button (then kept per generation); at or below it, pages compute it at once.
ASK_ABOVE = 5_000


def asks_first() -> bool:
    """Whether the graph is large enough that pages ask before reading every work (ASK_ABOVE)."""
    return int(stats().get("papers") or 0) > ASK_ABOVE


def corpus() -> analysis.Corpus:
    return _corpus(*graph_and_key())


def overview() -> dict:
    return _overview(*graph_and_key())


def taxonomy() -> analysis.Corpus:
    """The graph's taxonomy (concepts, axis names) as a Corpus without works: cheap at any size."""
    return _taxonomy(*graph_and_key())


def year_span() -> tuple[int, int] | None:
    """(first, last) publication year in the graph, from the per-year counts (no work listed)."""
    years = [r["year"] for r in _per_year(*graph_and_key())]
    return (min(years), max(years)) if years else None


def store_gap_cells():
    """The whole graph's gap cells counted in the store (kg.analysis.gap_counts.gap_cells: no
    work lists; a cell's works are cell_papers)."""
    return _store_gap_cells(*graph_and_key())


CELL_PAGE = 1000  # works per page of the cell-papers query


def cell_papers(category: str, mechanism: str, page: int = 1) -> list[dict]:
    """One page (CELL_PAGE works) of the works placed in a cell, sorted by label (cell-papers)."""
    return _cell_papers(*graph_and_key(), category, mechanism, page)


def search(text: str) -> list[browse.SearchHit]:
    return browse.search_papers(_search_rows(*graph_and_key()), text)


INDEX_PAGE = 1000  # works per page of the search-index listing


def browse_page(page: int = 1) -> list[browse.SearchHit]:
    """One page of the works (INDEX_PAGE of them, by name within the page), without reading the
    whole search index (a search does that, once per generation)."""
    return browse.search_papers(_index_page(*graph_and_key(), page), "", limit=INDEX_PAGE)


def paper(work: str) -> browse.PaperPage:
    return _paper(*graph_and_key(), work)


def gap_cells(modality: str | None = None, years: tuple[int, int] | None = None):
    """(gap_matrix frame of the slice, kg.analysis.summary of the slice)."""
    return _gap_cells(*graph_and_key(), modality, years)


def gap_tables() -> dict:
    return _gap_tables(*graph_and_key())


def nearest(category: str, mechanism: str) -> list[dict]:
    return _nearest(*graph_and_key(), category, mechanism)


def network() -> dict:
    """The citation network of the whole graph, without load_corpus: metrics (views.network_table:
    PageRank, rank, Louvain community, degrees, year, category and flags per work, most central
    first), sources (citation_sources), categories (notation -> label), span (first and last year)."""
    return _network(*graph_and_key())


def drawn_citations(nodes: list[str]) -> int:
    """How many citations run among the given works."""
    return len(_links_among(*graph_and_key(), tuple(nodes)))


def network_html(nodes: list[str], color_by: str) -> str:
    return _network_html(*graph_and_key(), tuple(nodes), color_by)


def combinations(kinds: list[str], method: str, min_support: int, top: int = 30):
    """(co-occurrence pairs in long form, ranked unexplored combinations); kept per generation."""
    return _combinations(*graph_and_key(), tuple(kinds), method, min_support, top)


def combinations_ready(kinds: list[str], method: str, min_support: int, top: int = 30) -> bool:
    """Whether combinations() for these settings is already kept for this generation (instant)."""
    graph, _ = graph_and_key()
    return view_cache.is_stored(graph, _combinations_view(tuple(kinds), method, min_support, top))


def query(text: str, bindings: dict[str, str], max_rows: int, timeout_s: float):
    """A user's SPARQL through the read-only guard with row and time limits."""
    return _query(*graph_and_key(), text, tuple(sorted(bindings.items())), max_rows, timeout_s)


@st.cache_data(show_spinner=False, max_entries=8)
def _screening(_graph, key: str):
    from kg.classify.screen import Progress, ScreenItem, Screening

    kept = view_cache.stored(_graph, SCREENING_VIEW, lambda: _screening_view(_graph))
    state = Screening(queue=[ScreenItem(**item) for item in kept["queue"]], progress=Progress(**kept["progress"]))
    return state, int(kept["queued"])


SCREENING_KEPT = 1_000  # the head of the screening queue kept per generation (the page shows 25, skips a few)
SCREENING_VIEW = f"screening-head-{SCREENING_KEPT}"


def _screening_view(graph) -> dict:
    """The screening page's view: the progress and the queue's head, without reading every work
    (kg.classify.screen.screening_head)."""
    from dataclasses import asdict

    from kg.classify.screen import screening_head

    state, queued = screening_head(graph, SCREENING_KEPT)
    return {"progress": asdict(state.progress), "queue": [asdict(i) for i in state.queue], "queued": queued}


@st.cache_data(show_spinner=False, max_entries=64)
def _work_text(_graph, key: str, work: str) -> tuple[str, str]:
    from kg.classify.screen import work_text as read_text

    return read_text(_graph, work)


@st.cache_data(show_spinner=False, max_entries=64)
def _predicted(_graph, key: str, work: str) -> dict:
    from kg.classify.screen import predicted_labels

    return predicted_labels(_graph, work)


@st.cache_resource(show_spinner=False, max_entries=2)
def _classifier(location: str, key: str):
    from kg.classify.run import train_from_graph

    return train_from_graph(store())


@st.cache_data(show_spinner=False, max_entries=64)
def _suggested(location: str, key: str, title: str, abstract: str) -> dict:
    from kg.classify.model import Doc

    pred = _classifier(location, key).predict([Doc(title, abstract)])[0].to_json()
    return {"category": [(pred["category"]["label"], pred["category"]["confidence"])],
            "mechanism": [(m["label"], m["confidence"]) for m in pred["mechanisms"]],
            "input modality": [(m["label"], m["confidence"]) for m in pred["input_modalities"]],
            "output modality": [(m["label"], m["confidence"]) for m in pred["output_modalities"]]}


def screening():
    """(the screening state (kg.classify.screen): its progress and the head of its queue, the
    SCREENING_KEPT undecided works most relevant first; how many works the whole queue holds)."""
    return _screening(*graph_and_key())


def work_text(work: str) -> tuple[str, str]:
    return _work_text(*graph_and_key(), work)


def predicted_labels(work: str) -> dict:
    """The classifier's labels of a work in the graph: axis -> [(concept label, confidence)]."""
    return _predicted(*graph_and_key(), work)


def suggested_labels(title: str, abstract: str) -> dict:
    """What the classifier (trained on the graph) would predict for a text: axis -> [(notation, confidence)]."""
    _, key = graph_and_key()
    return _suggested(store_location(), key, title, abstract)


@st.cache_data(show_spinner=False, max_entries=16)
def _report(_graph, key: str, category: str | None, works_per_cell: int | None) -> dict:
    from kg.report import build_report

    return build_report(_graph, category, works_per_cell=works_per_cell)


def _report_view(category: str | None, fmt: str) -> str:
    """The kept file's name: the format's list length in it (the formats people read list each
    cell's most relevant works, the data exports every work: kg.report.works_per_cell_for)."""
    from kg.report import works_per_cell_for

    return f"report-{category or 'all'}-{works_per_cell_for(fmt) or 'every'}.{fmt}"


@st.cache_data(show_spinner=False, max_entries=64)
def _rendered(_graph, key: str, category: str | None, fmt: str) -> str:
    from kg.report import render, works_per_cell_for

    return view_cache.stored(_graph, _report_view(category, fmt),
                             lambda: render(_report(_graph, key, category, works_per_cell_for(fmt)), fmt))


def report_text(fmt: str, category: str | None = None) -> str:
    """The gap report (kg.report) rendered in one format (kept per generation once made)."""
    return _rendered(*graph_and_key(), category, fmt)


def report_ready(category: str | None, formats) -> bool:
    """Whether the report in every one of `formats` is already made for this generation (showing it is then instant)."""
    graph, _ = graph_and_key()
    return all(view_cache.is_stored(graph, _report_view(category, fmt)) for fmt in formats)


def _diff_view(old: str, new: str):
    """(the "to" side's graph, the name its kept comparison has): the refs are resolved to their
    generations here, so a bad ref is an error before anything is read."""
    from ..store.snapshots import resolve

    s = store()
    a, b = resolve(s, old, field="old"), resolve(s, new, field="new")
    return s.open_at(b.generation), f"diff-{old}-{a.generation}-to-{new}-{b.generation}"


def diff(old: str, new: str) -> dict:
    """What changed from `old` to `new` (kg.analysis.diff.diff_store), kept with the "to"
    generation once compared: both generations never change."""
    from ..analysis.diff import diff_store

    graph, name = _diff_view(old, new)
    return view_cache.stored(graph, name, lambda: diff_store(store(), old, new))


def diff_ready(old: str, new: str) -> bool:
    """Whether the comparison of `old` and `new` is already kept (showing it is then instant)."""
    graph, name = _diff_view(old, new)
    return view_cache.is_stored(graph, name)


# ---------------------------------------------------------------- warming up
# the warm-up's lanes, one thread each from the server's start: the citation network's table is
# the one long computation (PageRank and communities over every citation), so it does not hold
# up the other pages' views, which come in the sidebar's order; it starts once the Overview's
# views are made (or OVERVIEW_WAIT_S passed), so the first page does not share the cores with it
LANES = ("pages", "network")
OVERVIEW_LAST = "stats"  # the last of the Overview's views in the "pages" lane
OVERVIEW_WAIT_S = 60.0


def _warm_plan(graph) -> list[tuple[str, str, object, tuple[str, ...]]]:
    """(lane, view name, compute, the views its computation reads) of what the pages show first:
    Overview, Taxonomy & gaps and Screening in the "pages" lane, the Citation network's table and
    sources in the "network" lane. The Overview's views from its last to its first: a first
    visitor's Overview asks for them from the first, so the page and the warm-up meet in the
    middle instead of queueing."""
    from kg.analysis.gap_counts import gap_cells

    def network_sources():
        return views.network_sources(graph, view_cache.stored(graph, "network-table", lambda: views.network_table(graph)))

    return [("pages", "data-sources", lambda: browse.data_sources(graph), ()),
            ("pages", "latest-additions-12", lambda: browse.latest_additions(graph, 12), ()),
            ("pages", "papers-per-year", lambda: browse.papers_per_year(graph), ()),
            ("pages", "stats", lambda: graph_stats(graph), ()),
            ("pages", f"gap-cells-{analysis.MIN_CONFIDENCE:g}", lambda: gap_cells(graph, analysis.MIN_CONFIDENCE), ()),
            ("pages", SCREENING_VIEW, lambda: _screening_view(graph), ()),
            ("network", "network-table", lambda: views.network_table(graph), ()),
            ("network", "network-sources", network_sources, ("network-table",))]


def _warm_views(graph, key: str, lane: str | None = None, overview: threading.Event | None = None) -> None:
    """Compute the pages' first views (_warm_plan; one lane's, or all) into the generation's
    kg-derived/ folder, skipping the ones kept: a page then reads them instead of asking the
    graph. Runs in a thread of its own. A view a page is computing meanwhile (or one its
    computation reads) is passed over and come back to at the end: view_cache's lock has it
    computed once, and the warm-up goes on with the next page's views instead of waiting.
    `overview`: set by the "pages" lane once past the Overview's views, awaited by the others."""
    if overview is not None and lane != "pages":
        overview.wait(OVERVIEW_WAIT_S)
    later = []
    try:
        for where, name, compute, needs in _warm_plan(graph):
            if lane is not None and where != lane:
                continue
            if view_cache.is_stored(graph, name):
                pass
            elif any(view_cache.computing(graph, n) for n in (name, *needs)):
                later.append((name, compute))
            else:
                _warm_one(graph, name, compute)
            if name == OVERVIEW_LAST and overview is not None:
                overview.set()
        for name, compute in later:
            _warm_one(graph, name, compute)
    finally:
        if overview is not None and lane == "pages":
            overview.set()


def _warm_one(graph, name: str, compute) -> None:
    try:
        view_cache.stored(graph, name, compute)
    except Exception:  # noqa: BLE001 - the page that shows it computes it again and says what failed
        pass


_SERVING: list[bool] = []  # set by serving(): this process is the app's server (kg.app.shell's lifespan)


def serving() -> None:
    """Say that this process serves the app (not AppTest, not a plain script), then warm up the
    current generation's views (warm) at once, as the server starts, unless the store has no
    graph yet (the first page builds it)."""
    _SERVING.append(True)
    if has_graph():
        warm()


@st.cache_resource(show_spinner=False, max_entries=4)
def _warming(_graph, key: str) -> list[threading.Thread]:
    overview = threading.Event()
    threads = [threading.Thread(target=_warm_views, args=(_graph, key, lane, overview), name=f"kg-app-views-{lane}",
                                daemon=True) for lane in LANES]
    for thread in threads:
        thread.start()
    return threads


def warm() -> None:
    """Start, once per generation in this server, computing the pages' first views in the
    background (a new generation on disk is read by no one yet: the first visitor's page
    switches then find them made)."""
    if not _SERVING:  # AppTest or a plain script: the page computes what it shows
        return
    graph, key = graph_and_key()
    if view_cache.view_path(graph, "stats") is not None:  # a local generation (kept views); not an endpoint
        _warming(graph, key)
