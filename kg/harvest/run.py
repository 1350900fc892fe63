"""The harvests a user runs: arXiv, Semantic Scholar (with snowballing) and OpenAlex.

Each function checkpoints its units (jobs.Checkpoint), and on success publishes
the records (publish.publish_records: merge into <store>/records/<source>.jsonl) and
returns a HarvestReport with the numbers --stats prints. Building the graph again is the
caller's step (kg.pipeline.after_records).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..records import ids
from ..errors import UsageError
from ..records import Bundle, Citation, Source, Work
from ..records.resolve import keys_of
from ..store import Store
from . import arxiv as ax
from . import openalex as oa
from . import s2
from .cache import ResponseCache
from .http import Counters, Policy, PoliteClient
from .jobs import Checkpoint
from .publish import Published, dedupe_works, known_works, publish_records

if TYPE_CHECKING:
    from ..store import Store

Progress = Callable[[str, int, int | None], None]

# The real waits. Looked up when a client is made, so tests can swap them for fakes.
default_sleep: Callable[[float], None] = time.sleep
default_clock: Callable[[], float] = time.monotonic


@dataclass
class Options:
    """How to run a harvest (not what to harvest)."""

    store: Store  # a location is resolved to its Store once, here
    cache_mode: str = "use"  # use | refresh | offline
    timeout: float | None = None  # overrides the source's policy
    retries: int | None = None
    progress: Progress | None = None
    sleep: Callable[[float], None] | None = None  # default: default_sleep (tests inject a fake)
    clock: Callable[[], float] | None = None  # default: default_clock
    session: object | None = None  # a requests.Session (tests may pass their own)

    def __post_init__(self):
        self.store = Store.at(self.store)

    def tick(self, label: str, done: int, total: int | None) -> None:
        if self.progress:
            self.progress(label, done, total)


@dataclass
class HarvestReport:
    source: str
    papers: int = 0
    added: int = 0
    updated: int = 0
    candidates: int = 0
    citations: int = 0
    unknown: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    counters: Counters = field(default_factory=Counters)
    resumed: bool = False
    units_skipped: int = 0  # units a resumed harvest did not redo
    records_file: str | None = None
    build: object | None = None

    def stats(self) -> dict:
        papers = self.added + self.updated
        return {
            "source": self.source,
            "requests": self.counters.requests,
            "cache_hits": self.counters.cache_hits,
            "retries": self.counters.retries,
            "papers": self.papers,
            "papers_added": self.added,
            "papers_updated": self.updated,
            "candidates": self.candidates,
            "citations": self.citations,
            "unknown_ids": len(self.unknown),
            "requests_per_paper": round(self.counters.requests / papers, 3) if papers else 0.0,
            "resumed": self.resumed,
        }


def _client(opts: Options, policy: Policy, namespace: str, counters: Counters, **kw) -> PoliteClient:
    changes: dict = {}
    if opts.timeout is not None:
        changes["timeout"] = opts.timeout
    if opts.retries is not None:
        changes["retries"] = opts.retries
    cache = ResponseCache(opts.store.path / "cache", opts.cache_mode)
    return PoliteClient(replace(policy, **changes), cache=cache, session=opts.session,
                        sleep=opts.sleep or default_sleep, clock=opts.clock or default_clock,
                        counters=counters, namespace=namespace, **kw)


def _source(job: Checkpoint, kind: str, title: str, url: str, request: str) -> Source:
    saved = job.value("source")
    if saved:
        return Source(**saved)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    src = Source(id=f"{kind}-{time.strftime('%Y%m%dT%H%M%S')}-{job.id[-6:]}", title=title,
                 agent=title.split(" (")[0], url=url, retrieved=stamp, request=request)
    job.remember("source", asdict(src))
    return src


def _finish(report: HarvestReport, job: Checkpoint, opts: Options, name: str, bundle: Bundle,
            source: Source) -> HarvestReport:
    bundle.works = dedupe_works(bundle.works)
    bundle.sources = [source]
    report.papers = len(bundle.works)
    out: Published = publish_records(opts.store, name, bundle)
    report.added, report.updated = out.added, out.updated
    report.candidates, report.citations = out.candidates, out.citations
    report.records_file = out.records_file
    job.finish()
    return report


def _start(report: HarvestReport, job: Checkpoint) -> None:
    report.resumed = job.resumed
    report.units_skipped = job.units_done() if job.resumed else 0


# ====================================================================== arXiv
def _some_ids(id_list: list[str] | None, parse, what: str) -> None:
    """When only ids are given, at least one must be `what` (`parse` says which are): a harvest of
    none would ask nothing, write an empty source and rebuild the graph for nothing, and say
    'done'. Ids of the right form that the service does not know stay warnings (report.unknown)."""
    if id_list and not any(parse(raw) for raw in id_list):
        shown = ", ".join(repr(raw) for raw in id_list[:5]) + (" ..." if len(id_list) > 5 else "")
        raise UsageError(f"none of the ids given is {what}: {shown}", field="id_list")


def harvest_arxiv(opts: Options, *, query: str | None = None, id_list: list[str] | None = None,
                  profile: str | None = None, taxonomy_file: Path | None = None, since: str | None = None,
                  max_results: int = 100, page_size: int = 100) -> HarvestReport:
    """Search arXiv (a query, or the queries of a profile) and/or look up ids."""
    queries: list[tuple[str, str]] = []
    if profile:
        if profile != "survey":
            raise UsageError(f"unknown profile {profile!r}; valid: survey")
        from ..rdf.taxonomy import read_taxonomy

        queries = ax.profile_queries(read_taxonomy(taxonomy_file or opts.store.project.taxonomy_file))
    if query:
        queries.append(("query", query))
    if not queries and not id_list:
        raise UsageError("give a search query, ids to look up, or the survey profile",
                         field=("query", "id_list", "profile"))
    if max_results < 1 or page_size < 1:
        raise UsageError("the most papers a query may fetch must be at least 1", field="max_results")
    if not queries:
        _some_ids(id_list, ids.arxiv_id, "an arXiv id")
    since = _check_date(since)
    report = HarvestReport("arxiv")
    url = ax.base_url()
    job = Checkpoint(opts.store.path, "arxiv", {"queries": queries, "ids": id_list or [], "since": since,
                                            "max": max_results, "page": page_size, "url": url})
    _start(report, job)
    desc = "; ".join(q for _, q in queries) or f"id_list={','.join(id_list or [])}"
    source = _source(job, "arxiv", "arXiv API", url, f"search_query={desc}" + (f" since {since}" if since else ""))
    client = ax.ArxivClient(_client(opts, ax.POLICY, "arxiv", report.counters), url)

    if id_list:
        wanted: dict[str, str] = {}
        for raw in id_list:
            norm = ids.arxiv_id(raw)
            if norm:
                wanted.setdefault(norm, raw)
            else:
                report.unknown.append(f"{raw} (not an arXiv id)")
        chunks = [list(wanted)[i:i + ax.LOOKUP_CHUNK] for i in range(0, len(wanted), ax.LOOKUP_CHUNK)]
        for n, chunk in enumerate(chunks):
            key = f"ids:{n}"
            if not job.is_done(key):
                feed = client.lookup(chunk, source.id)
                job.complete(key, Bundle(works=feed.works), {"found": [w.ids["arxiv"] for w in feed.works]})
            found = set(job.meta(key)["found"])
            report.unknown += [f"{wanted[i]} (arXiv has no such paper)" for i in chunk if i not in found]
            opts.tick("arXiv ids", min((n + 1) * ax.LOOKUP_CHUNK, len(wanted)), len(wanted))

    for qn, (name, text) in enumerate(queries):
        full = f"({text}) AND {ax.since_clause(since)}" if since else text
        start = collected = 0
        while collected < max_results:
            size = min(page_size, max_results - collected)
            key = f"q:{qn}:{start}:{size}"
            if not job.is_done(key):
                feed = client.search_page(full, start, size, by_date=bool(since), source_id=source.id)
                kept = [w for w in feed.works if not since or (w.date or "9999") >= since]
                stop = (not feed.works or start + size >= feed.total or len(kept) < len(feed.works))
                job.complete(key, Bundle(works=kept), {"n": len(kept), "total": feed.total, "stop": stop})
            meta = job.meta(key)
            collected += meta["n"]
            start += size
            opts.tick(f"arXiv {name}", collected, min(max_results, meta["total"]))
            if meta["stop"]:
                break
    return _finish(report, job, opts, "arxiv", job.bundle(), source)


def _check_date(since: str | None) -> str | None:
    if not since:
        return None
    import datetime as dt

    try:
        return dt.date.fromisoformat(since.strip()).isoformat()
    except ValueError:
        raise UsageError(f"the start date must be a date like 2024-06-01, got {since!r}", field="since") from None


# ====================================================================== Semantic Scholar
def graph_seeds(store: Store | str | Path) -> tuple[list[tuple[str, str]], int]:
    """(label, S2 query id) for every work of the graph at `store` (a Store or its location) that is
    not a candidate; and how many had no id."""
    from ..sparql.named import run_named

    seeds, skipped = [], 0
    for row in run_named(Store.at(store).open(), "work-ids").records():
        if row.get("candidate"):
            continue
        # ids the survey's own sources give come first, so a repeat asks for the same ids (cache hits)
        for kind in ("arxiv", "doi", "corpus", "s2"):
            if row.get(kind):
                seeds.append((row.get("title") or row["work"], s2.s2_query_id(kind, str(row[kind]))))
                break
        else:
            skipped += 1
    return seeds, skipped


def harvest_s2(opts: Options, *, id_list: list[str] | None = None, from_graph: bool = False,
               query: str | None = None, references: bool = False, citations: bool = False,
               depth: int = 1, min_links: int = 2, max_results: int = 100,
               edge_page: int = s2.EDGE_PAGE, search_page: int = s2.SEARCH_PAGE) -> HarvestReport:
    """Metadata by batch, optional snowballing through references/citations, or a search."""
    if sum(bool(x) for x in (id_list, from_graph, query)) != 1:
        raise UsageError("give exactly one of: ids to look up, the graph's papers as seeds, or a search query",
                         field=("id_list", "from_graph", "query"))
    if depth < 1 or min_links < 1:
        raise UsageError("the snowballing depth and the minimum links must be at least 1", field=("depth", "min_links"))
    if query and (references or citations):
        raise UsageError("references and citations are followed from seeds (ids, or the graph's papers), not from "
                         "a search query", field=("references", "citations", "query"))
    _some_ids(id_list, s2.parse_user_id, "an arXiv id, DOI, CorpusId or S2 paper id")
    report = HarvestReport("s2")
    seeds: list[tuple[str, str]] = []
    if id_list:
        for raw in id_list:
            qid = s2.parse_user_id(raw)
            if qid:
                seeds.append((raw, qid))
            else:
                report.unknown.append(f"{raw} (not an arXiv id, DOI, CorpusId or S2 paper id)")
    elif from_graph:
        seeds, skipped = graph_seeds(opts.store)
        if skipped:
            report.warnings.append(f"{skipped} work(s) of the graph have no identifier Semantic Scholar "
                                   "knows (arXiv, DOI, S2, CorpusId) and were not looked up")
    seeds = list(dict.fromkeys(seeds))
    url = s2.base_url()
    kinds = [k for k, on in (("references", references), ("citations", citations)) if on]
    job = Checkpoint(opts.store.path, "s2", {"seeds": [q for _, q in seeds], "query": query, "kinds": kinds,
                                         "depth": depth, "k": min_links, "max": max_results, "url": url,
                                         "edge_page": edge_page})
    _start(report, job)
    what = query or f"{len(seeds)} paper(s)" + (f", {' and '.join(kinds)} to depth {depth}" if kinds else "")
    source = _source(job, "s2", "Semantic Scholar Graph API", url, what)
    key = s2.api_key()
    client = s2.S2Client(_client(opts, s2.policy(key), "s2", report.counters,
                                 headers={"x-api-key": key} if key else None, auth_hint=s2.AUTH_HINT), url)

    if query:
        return _finish(report, job, opts, "s2", _s2_search(client, job, opts, query, max_results, search_page,
                                                              source), source)

    # 1. metadata of the seeds, 500 per POST
    qids = [q for _, q in seeds]
    batches = [qids[i:i + s2.BATCH_SIZE] for i in range(0, len(qids), s2.BATCH_SIZE)]
    seed_pids: list[str] = []
    for n, batch in enumerate(batches):
        unit = f"batch:{n}"
        if not job.is_done(unit):
            answer = client.batch(batch)
            works = [s2.paper_to_work(p, source.id) for p in answer]
            job.complete(unit, Bundle(works=[w for w in works if w]),
                         {"pids": [w.ids["s2"] if w else None for w in works]})
        for qid, pid in zip(batch, job.meta(unit)["pids"]):
            if pid:
                seed_pids.append(pid)
            else:
                report.unknown.append(f"{qid} (Semantic Scholar has no such paper)")
        opts.tick("S2 metadata", min((n + 1) * s2.BATCH_SIZE, len(qids)), len(qids))
    seed_pids = list(dict.fromkeys(seed_pids))
    units = [f"batch:{n}" for n in range(len(batches))]
    if not kinds:
        return _finish(report, job, opts, "s2", job.bundle(units), source)

    # 2. snowballing, level by level
    every, _ = known_works(opts.store)
    core = set(seed_pids)
    frontier = list(seed_pids)
    edge_units: list[str] = []
    for level in range(1, depth + 1):
        todo = [(pid, kind) for pid in frontier for kind in kinds]
        for n, (pid, kind) in enumerate(todo):
            unit = f"{kind}:{pid}"
            if not job.is_done(unit):
                bundle, meta = _s2_edges(client, pid, kind, edge_page, source.id)
                job.complete(unit, bundle, meta)
            if job.meta(unit).get("missing"):
                report.warnings.append(f"Semantic Scholar has no {kind} for {pid}")
            if job.meta(unit).get("truncated"):
                report.warnings.append(job.meta(unit)["truncated"])
            edge_units.append(unit)
            opts.tick(f"S2 {' + '.join(kinds)} (depth {level})", n + 1, len(todo))
        edges = job.bundle(edge_units)
        links: dict[str, set[str]] = {}
        for cit in edges.citations:
            a, b = cit.citing[3:], cit.cited[3:]
            if a in core and b not in core:
                links.setdefault(b, set()).add(a)
            elif b in core and a not in core:
                links.setdefault(a, set()).add(b)
        new = sorted(pid for pid, linked in links.items() if len(linked) >= min_links)
        job.remember(f"level{level}", new)
        core.update(new)
        frontier = new
        if not frontier:
            break

    # 3. keep the seeds, the candidates, works the graph already has, and the edges among them
    edges = job.bundle(edge_units)
    related: dict[str, Work] = {}
    for work in edges.works:
        related.setdefault(work.ids["s2"], work)
    keep = set(core) | {pid for pid, w in related.items() if every.matches(w)}
    works = job.bundle(units).works + [w for pid, w in related.items() if pid in keep and pid not in seed_pids]
    cites, seen = [], set()
    for cit in edges.citations:
        pair = (cit.citing, cit.cited)
        if cit.citing[3:] in keep and cit.cited[3:] in keep and pair not in seen:
            seen.add(pair)
            cites.append(cit)
    return _finish(report, job, opts, "s2", Bundle(works=works, citations=cites), source)


def _s2_edges(client: s2.S2Client, pid: str, kind: str, page: int, source_id: str) -> tuple[Bundle, dict]:
    """Every page of one paper's references or citations -> works + Citation records."""
    bundle = Bundle()
    offset, pages, rows, unidentified = 0, 0, 0, 0
    while True:
        data = client.edges_page(pid, kind, offset, page)
        pages += 1
        if data is None:
            return bundle, {"missing": True, "pages": pages}
        for item in data.get("data") or []:
            rows += 1
            work = s2.paper_to_work(s2.row_paper(item, kind), source_id)
            if work is None:  # S2 could not resolve this reference to a paper: no id to link
                unidentified += 1
                continue
            bundle.works.append(work)
            other_ref = f"s2:{work.ids['s2']}"
            citing, cited = (f"s2:{pid}", other_ref) if kind == "references" else (other_ref, f"s2:{pid}")
            bundle.citations.append(Citation(citing, cited, source_id))
        nxt = data.get("next")
        done = {"n": len(bundle.works), "pages": pages, "rows": rows, "unidentified": unidentified}
        if nxt is None or not data.get("data"):
            return bundle, done
        if nxt + page > 10_000:  # the API serves at most 10,000 rows per paper this way
            return bundle, {**done,
                            "truncated": f"{kind} of {pid}: Semantic Scholar pages stop at 10,000; "
                                         f"kept the first {len(bundle.works)}"}
        offset = nxt


def _s2_search(client: s2.S2Client, job: Checkpoint, opts: Options, query: str, max_results: int,
               page: int, source: Source) -> Bundle:
    offset = collected = 0
    limit = min(max_results, s2.SEARCH_LIMIT)
    while collected < limit:
        size = min(page, limit - collected)
        unit = f"search:{offset}:{size}"
        if not job.is_done(unit):
            data = client.search_page(query, offset, size)
            works = [w for w in (s2.paper_to_work(p, source.id) for p in data.get("data") or []) if w]
            job.complete(unit, Bundle(works=works), {"n": len(data.get("data") or []), "total": data.get("total"),
                                                     "stop": data.get("next") is None or not data.get("data")})
        meta = job.meta(unit)
        collected += meta["n"]
        offset += size
        opts.tick("S2 search", collected, min(limit, meta["total"] or limit))
        if meta["stop"]:
            break
    return job.bundle()


# ====================================================================== OpenAlex
def harvest_openalex(opts: Options, *, query: str | None = None, id_list: list[str] | None = None,
                     since: str | None = None, max_results: int = 200, page_size: int = oa.PAGE) -> HarvestReport:
    if bool(query) == bool(id_list):
        raise UsageError("give a search query or ids to look up (OpenAlex W-ids, DOIs or arXiv ids)",
                         field=("query", "id_list"))
    _some_ids(id_list, lambda raw: (ids.parse_any(raw) or ("",))[0] in ("openalex", "doi", "arxiv"),
              "an OpenAlex id, DOI or arXiv id")
    since = _check_date(since)
    report = HarvestReport("openalex")
    url = oa.base_url()
    job = Checkpoint(opts.store.path, "openalex", {"query": query, "ids": id_list or [], "since": since,
                                               "max": max_results, "page": page_size, "url": url})
    _start(report, job)
    source = _source(job, "openalex", "OpenAlex API", url, query or f"ids={','.join(id_list or [])}")
    client = oa.OpenAlexClient(_client(opts, oa.POLICY, "openalex", report.counters), url)
    if query:
        cursor, collected, n = "*", 0, 0
        while collected < max_results and cursor:
            unit = f"page:{n}"
            if not job.is_done(unit):
                data = client.search_page(query, cursor, min(page_size, max_results - collected), since)
                job.complete(unit, _oa_bundle(data["results"], source.id),
                             {"n": len(data["results"]), "next": (data.get("meta") or {}).get("next_cursor"),
                              "total": (data.get("meta") or {}).get("count")})
            meta = job.meta(unit)
            collected += meta["n"]
            cursor = meta["next"] if meta["n"] else None
            n += 1
            opts.tick("OpenAlex search", collected, min(max_results, meta["total"] or max_results))
    else:
        by_kind: dict[str, dict[str, str]] = {"openalex": {}, "doi": {}}
        for raw in id_list:
            parsed = ids.parse_any(raw)
            if parsed and parsed[0] == "arxiv":
                parsed = ("doi", f"10.48550/arxiv.{parsed[1]}")
            if parsed and parsed[0] in by_kind:
                by_kind[parsed[0]][parsed[1].lower() if parsed[0] == "doi" else parsed[1]] = raw
            else:
                report.unknown.append(f"{raw} (not an OpenAlex id, DOI or arXiv id)")
        for kind, wanted in by_kind.items():
            values = list(wanted)
            for n in range(0, len(values), oa.LOOKUP_CHUNK):
                chunk = values[n:n + oa.LOOKUP_CHUNK]
                unit = f"{kind}:{n}"
                if not job.is_done(unit):
                    results = client.lookup(kind, chunk)
                    bundle = _oa_bundle(results, source.id)
                    found = [w.ids.get(kind) for w in bundle.works]
                    job.complete(unit, bundle, {"found": [f for f in found if f]})
                found = set(job.meta(unit)["found"])
                report.unknown += [f"{wanted[v]} (OpenAlex has no such work)" for v in chunk if v not in found]
                opts.tick(f"OpenAlex {kind} look-ups", min(n + oa.LOOKUP_CHUNK, len(values)), len(values))
    bundle = job.bundle()
    every, _ = known_works(opts.store)
    here = {k for w in bundle.works for k in keys_of(w)}
    bundle.citations = [c for c in bundle.citations if c.cited in here or every.has_ref(c.cited)]
    return _finish(report, job, opts, "openalex", bundle, source)


def _oa_bundle(results: list[dict], source_id: str) -> Bundle:
    bundle = Bundle()
    for item in results:
        work = oa.work_to_work(item, source_id)
        if work is None:
            continue
        bundle.works.append(work)
        for ref in oa.references_of(item):
            bundle.citations.append(Citation(f"openalex:{work.ids['openalex']}", f"openalex:{ref}", source_id))
    return bundle

