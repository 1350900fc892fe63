"""`kg update`: re-run a project's saved harvest plan, place and score the new works, rebuild,
snapshot, and write a digest. Safe to schedule (cron, CI).

The plan is a YAML file: `plan.yaml` in the project folder (for the bundled survey, in its store
folder). Its entries (`kg plan add ...`):

    - kind: arxiv      query: 'abs:personalized AND abs:diffusion'   max: 100
    - kind: s2         (the snowball from the graph) references: true  citations: false  min_links: 2  depth: 1
    - kind: openalex   query: '...'   max: 200
    - kind: awesome | bibtex | ris | csljson    file: lists/awesome.md   source_id: my-list
    - kind: awesome | bibtex | ris | csljson    url: https://.../README.md   source_id: awesome-readme-1a2b3c4d

A run: take the lock (`<store>/.update.lock`: a second run exits at once); harvest each entry
incrementally (searches since the last update, a day at a time: a run on the day of the last
update repeats that day's requests, which the response cache answers; list files are read
again; list URLs are fetched again through the polite client, conditionally when the cached
answer has an ETag or Last-Modified, and imported only when the text changed);
an entry that fails (a list file missing or with nothing to import, a list URL answering 404,
timing out or not text, a search or the snowball failing) is an error of its step: the other
entries run, its source's records stay as they were, the rest of the run is done with what the
others brought, and the run exits 1 (a failed search's window is searched again next run);
rebuild with the classifier (one generation published, atomically; when the graph in place was
built from the records and curation the store holds, it is kept: nothing is rebuilt; records an
earlier run wrote and never built are built now); compare with the graph
before (kg.analysis.diff); when something changed, snapshot the new graph (`update-<time>`)
and write the digest (`<store>/updates/`: digest.md, digest.html and feed.atom, an Atom feed
of the new in-scope works); record the run in `<store>/updates/state.json` last. Harvests
checkpoint, records and manifests are written whole and renamed, and the graph is published
in one rename, so a run killed at any point leaves the graph and the snapshots as they were,
and the next run continues.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import html
import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree as ET

import yaml

from .errors import KgError, UsageError
from .fileio import need_file, write_atomic
from .harvest.http import Policy
from .harvest.publish import IMPORT_KINDS

PLAN_FILE = "plan.yaml"
SEARCH_KINDS = ("arxiv", "openalex")
LIST_KINDS = IMPORT_KINDS  # the lists `kg import` reads
KINDS = (*SEARCH_KINDS, "s2", *LIST_KINDS)
UPDATES = "updates"
FEED_ENTRIES = 200  # the feed keeps this many newest works
ATOM = "http://www.w3.org/2005/Atom"


# ---------------------------------------------------------------------------------- the plan
def plan_file(store) -> Path:
    """Where the store's project keeps its plan: the project folder, else the store folder."""
    root = store.project.root
    return (root if root is not None else store.path) / PLAN_FILE


def read_plan(store) -> list[dict]:
    path = plan_file(store)
    if not path.is_file():
        return []
    from .records.corpus import read_yaml  # line numbers, a key written twice refused

    data = read_yaml(path) or {}
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or not all(isinstance(e, dict) and e.get("kind") in KINDS for e in entries):
        raise KgError(f"{path}: the plan must be a mapping with a list 'entries' of mappings, each with a kind "
                      f"({', '.join(KINDS)})", field="plan")
    for number, entry in enumerate(entries, 1):
        problem = _entry_problem(entry)
        if problem:
            raise KgError(f"{path}: plan entry {number} ({entry['kind']}): {problem}", field="plan",
                          hint="Mend or delete it in the file (`kg plan add` writes entries of the right shape).")
    return entries


def _entry_problem(entry: dict) -> str | None:
    """What a plan entry (edited by hand, perhaps) lacks to be run, as kg plan add writes it; None
    when nothing."""
    def text(key: str) -> bool:
        return isinstance(entry.get(key), str) and bool(entry[key].strip())

    def count(key: str) -> bool:  # a whole number of at least 1 (kg plan add always writes one)
        value = entry.get(key)
        return (isinstance(value, int) and not isinstance(value, bool) and value >= 1) or (
            isinstance(value, str) and value.strip().isdigit() and int(value) >= 1)

    def shown(key: str) -> str:
        return repr(entry[key]) if key in entry else "missing"

    kind = entry["kind"]
    if kind in SEARCH_KINDS:
        if not text("query"):
            return "a search needs its query (query: ...)"
        return None if count("max") else f"max must be a whole number of at least 1, not {shown('max')}"
    if kind == "s2":
        bad = [key for key in ("min_links", "depth") if not count(key)]
        return f"{bad[0]} must be a whole number of at least 1, not {shown(bad[0])}" if bad else None
    if not (text("file") or text("url")):
        return "a list entry needs its file (file: ...) or its URL (url: ...)"
    return None if text("source_id") else "a list entry needs the source id its records are kept under (source_id: ...)"


def write_plan(store, entries: list[dict]) -> Path:
    path = plan_file(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# kg's harvest plan: what `kg update` harvests and imports again (see `kg plan`).\n"
            + yaml.safe_dump({"entries": entries}, sort_keys=False, allow_unicode=True))
    write_atomic(path, text)
    return path


def add_entry(store, kind: str, value: str | None = None, *, max_results: int | None = None,
              references: bool = False, citations: bool = False, min_links: int = 2, depth: int = 1,
              source_id: str | None = None) -> dict:
    """Register a plan entry: a search (arxiv/openalex QUERY), the S2 snowball from the graph, or a
    list file to import again (awesome/bibtex/ris/csljson FILE)."""
    if kind not in KINDS:
        raise UsageError(f"unknown plan entry kind {kind!r}; valid: {', '.join(KINDS)}", field="kind")
    if kind in SEARCH_KINDS:
        if not value or not value.strip():
            raise UsageError(f"a {kind} entry needs a search query", field="value")
        entry = {"kind": kind, "query": value.strip(), "max": max_results or (100 if kind == "arxiv" else 200)}
    elif kind == "s2":
        if value:
            raise UsageError("the s2 entry snowballs from the graph's works and takes no value", field="value")
        if not (references or citations):
            raise UsageError("the s2 snowball follows references, citations or both: give --references and/or "
                             "--citations", field=("references", "citations"))
        if depth < 1 or min_links < 1:
            raise UsageError("the snowballing depth and the minimum links must be at least 1",
                             field=("depth", "min_links"))
        entry = {"kind": "s2", "references": references, "citations": citations, "min_links": min_links,
                 "depth": depth}
    elif value and "://" in value:
        from .harvest.publish import url_source_id

        entry = {"kind": kind, "url": _check_url(value), "source_id": url_source_id(kind, value.strip(), source_id)}
    else:
        if not value:
            raise UsageError(f"a {kind} entry needs the list file or its http(s) URL", field="value")
        path = need_file(Path(value).expanduser(), field="value")
        from .harvest.publish import import_source_id

        path = path.resolve()
        root = store.project.root
        shown = os.path.relpath(path, root) if root is not None and path.is_relative_to(root) else str(path)
        entry = {"kind": kind, "file": shown, "source_id": import_source_id(kind, path, source_id)}
    entries = read_plan(store)
    if entry in entries:
        raise UsageError("the plan has this entry already", field="value")
    write_plan(store, [*entries, entry])
    return entry


def _check_url(value: str) -> str:
    from urllib.parse import urlsplit

    url = value.strip()
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise UsageError(f"{url}: a list URL must be an http or https URL with a host", field="value")
    return url


def remove_entry(store, number: int) -> dict:
    entries = read_plan(store)
    if not 1 <= number <= len(entries):
        raise UsageError(f"the plan has {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}; there is no "
                         f"entry {number}", field="number")
    gone = entries.pop(number - 1)
    write_plan(store, entries)
    return gone


def describe(entry: dict) -> str:
    kind = entry["kind"]
    if kind in SEARCH_KINDS:
        return f"{kind} search {entry['query']!r} (at most {entry['max']})"
    if kind == "s2":
        what = " and ".join(k for k in ("references", "citations") if entry.get(k))
        return f"s2 snowball from the graph: {what}, min links {entry['min_links']}, depth {entry['depth']}"
    return f"{kind} list {entry.get('file') or entry.get('url')} (source {entry['source_id']})"


# ---------------------------------------------------------------------------------- the lock
@contextlib.contextmanager
def update_lock(store):
    """One update at a time per store: a second run fails at once instead of waiting."""
    path = store.path / ".update.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            raise KgError(f"another kg update is running on {store.path} ({holder}); this run changed nothing",
                          hint="Let it finish; a run killed mid-way leaves no lock behind.", field="store") from None
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


# ---------------------------------------------------------------------------------- a run
@dataclass
class UpdateReport:
    since: str | None
    steps: list[dict] = field(default_factory=list)
    diff: dict | None = None
    snapshot: str | None = None
    digest: dict = field(default_factory=dict)
    requests: int = 0
    cache_hits: int = 0
    rebuilt: bool = True  # False: no record changed, so no new graph was published

    @property
    def errors(self) -> list[str]:
        """The steps that failed, each as a message naming its entry."""
        return [s["error"] for s in self.steps if s.get("error")]

    @property
    def nothing_new(self) -> bool:
        return self.diff is None or self.diff["nothing_new"]

    def as_dict(self) -> dict:
        return {"since": self.since, "nothing_new": self.nothing_new, "snapshot": self.snapshot,
                "requests": self.requests, "cache_hits": self.cache_hits, "rebuilt": self.rebuilt,
                "steps": self.steps,
                "digest": self.digest, "summary": (self.diff or {}).get("summary"), "errors": self.errors}


def updates_dir(store) -> Path:
    folder = store.path / UPDATES
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def read_state(store) -> dict:
    try:
        return json.loads((updates_dir(store) / "state.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _check_date(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value.strip()).isoformat()
    except ValueError:
        raise UsageError(f"the start date must be a date like 2024-06-01, got {value!r}", field="since") from None


def run_update(store, *, since: str | None = None, cache_mode: str = "use", progress=None,
               **harvest_options) -> UpdateReport:
    """One update run (see the module's docstring)."""
    from .harvest.run import Options

    store.require_local("kg update", hint="Run it on a local store; it keeps snapshots of the graph.")
    entries = read_plan(store)
    if not entries:
        raise UsageError(f"the harvest plan ({plan_file(store)}) is empty: nothing to update from",
                         hint="Register searches and lists with `kg plan add`.", field="plan")
    since = _check_date(since)
    with update_lock(store):
        state = read_state(store)
        today = dt.datetime.now(dt.timezone.utc).date().isoformat()
        if since is None and state.get("date"):
            # a day at a time: on the day of the last update, repeat its window (the cache answers)
            since = state.get("since") if state["date"] == today else state["date"]
        report = UpdateReport(since)
        opts = Options(store=store, cache_mode=cache_mode, progress=progress, **harvest_options)
        lists = dict(state.get("lists") or {})  # source id -> sha256 of the list text last imported from a URL
        built_from = _graph_inputs(store, state)
        for entry in entries:
            report.steps.append(_run_step(opts, entry, since, lists))
        report.requests = sum(s.get("requests", 0) for s in report.steps)
        report.cache_hits = sum(s.get("cache_hits", 0) for s in report.steps)
        from .analysis.diff import diff_graphs
        from .pipeline import refresh

        before, held = store.dir.current(), _inputs_fingerprint(store)
        if before is not None and built_from == held:
            after = before  # built from the records and curation held now: the graph in place is this update's
            report.rebuilt = False
        else:
            refresh(store, classify=True)
            after, held = store.dir.current(), _inputs_fingerprint(store)  # the classifier's records included
        if before is not None and after != before:
            report.diff = diff_graphs(store.open_at(before.name), store.open_at(after.name),
                                      old_ref={"ref": state.get("snapshot") or "before this update",
                                               "generation": before.name},
                                      new_ref={"ref": "this update", "generation": after.name})
        if before is None or not report.nothing_new:
            from .store.snapshots import create

            name = f"update-{time.strftime('%Y%m%dT%H%M%S')}"
            report.snapshot = create(store, name, note=f"kg update since {since or 'the start'}", kind="update",
                                     replace=True).name
            if report.diff is not None:
                report.digest = write_digest(store, report)
        write_atomic(updates_dir(store) / "state.json", json.dumps(
            {"date": _searched_to(entries, report, today), "since": since,
             "finished": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
             "snapshot": report.snapshot or state.get("snapshot"), "nothing_new": report.nothing_new,
             "lists": lists, "graph": {"generation": after.name, "inputs": held}}, indent=1))
    return report


def _searched_to(entries: list[dict], report: UpdateReport, today: str) -> str | None:
    """The `date` the next run searches from: today, unless a search of this run failed; then this
    run's start again (None: from the start), so the failed search loses no day (the searches that
    ran are asked the same again, which the response cache answers)."""
    failed = any(step.get("error") and entry["kind"] in SEARCH_KINDS for entry, step in zip(entries, report.steps))
    return report.since if failed else today


def _graph_inputs(store, state: dict) -> str | None:
    """The fingerprint (_inputs_fingerprint) of the records and curation the graph in place was
    built from, or None when it may be older than them. Known from the last update's state when
    that run left this generation; else trusted when the generation's build recorded the record
    files and curation the store holds now (kg.build.build_meta's `inputs`: sizes and change
    times). Why: an earlier run that wrote records and stopped before its rebuild (killed, or a
    failure) leaves a graph older than its records, which this run must build, though its own
    entries change nothing."""
    current = store.dir.current()
    if current is None:
        return None
    graph = state.get("graph") or {}
    if graph.get("generation") == current.name:
        return graph.get("inputs")
    recorded, held = (store.info().get("inputs") or {}), store.inputs()
    if all(_inputs_part(recorded, key) == _inputs_part(held, key) for key in ("records", "curation")):
        return _inputs_fingerprint(store)
    return None


def _inputs_part(inputs: dict, key: str):
    """One part of Store.inputs, without the records folder's hidden files (its `.lock`, touched
    by every write of records, is no input of the graph)."""
    part = inputs.get(key)
    if key == "records" and isinstance(part, dict):
        return {name: stat for name, stat in part.items() if not Path(name).name.startswith(".")}
    return part


def _inputs_fingerprint(store) -> str:
    """A digest of what a rebuild reads from the store: every records file and the curation file."""
    digest = hashlib.sha256()
    paths = sorted(p for p in store.records_dir.rglob("*") if p.is_file()) if store.records_dir.is_dir() else []
    for path in [*paths, store.curation_file]:
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            data = b"\0missing"
        name = str(path.relative_to(store.path)) if path.is_relative_to(store.path) else str(path)
        digest.update(f"{name}\0{len(data)}\0".encode())
        digest.update(data)
    return digest.hexdigest()


def _run_step(opts, entry: dict, since: str | None, lists: dict) -> dict:
    """Run one plan entry. Its failure (a KgError: a list file missing or with nothing to import,
    an importer's or a harvest's error; or a file that cannot be read) is this step's error, not
    the run's: the other entries still run and the run exits 1 at its end."""
    try:
        return _run_entry(opts, entry, since, lists)
    except KgError as exc:
        error = _step_error(entry, exc.message, exc.hint)
    except OSError as exc:
        error = _step_error(entry, f"{exc.filename or 'a file'}: {exc.strerror or exc}")
    return {"entry": describe(entry), "added": 0, "updated": 0, "removed": 0, "requests": 0, "cache_hits": 0,
            "warnings": [], "error": error}


def _step_error(entry: dict, message: str, hint: str | None = None) -> str:
    """A failed step's message, naming its entry."""
    return f"{describe(entry)}: {message}" + (f" ({hint})" if hint else "")


def _run_entry(opts, entry: dict, since: str | None, lists: dict) -> dict:
    from .harvest import run as harvest

    kind = entry["kind"]
    if kind in LIST_KINDS and entry.get("url"):
        return _import_url(opts, entry, lists)
    if kind in LIST_KINDS:
        return _import_list(opts.store, entry)
    if kind == "arxiv":
        done = harvest.harvest_arxiv(opts, query=entry["query"], since=since, max_results=int(entry["max"]))
    elif kind == "openalex":
        done = harvest.harvest_openalex(opts, query=entry["query"], since=since, max_results=int(entry["max"]))
    else:
        done = harvest.harvest_s2(opts, from_graph=True, references=bool(entry.get("references")),
                                  citations=bool(entry.get("citations")), min_links=int(entry.get("min_links", 2)),
                                  depth=int(entry.get("depth", 1)))
    stats = done.stats()
    return {"entry": describe(entry), "added": done.added, "updated": done.updated,
            "requests": stats["requests"], "cache_hits": stats["cache_hits"], "warnings": done.warnings}


# A list URL: fetched politely (1 s apart, 30 s timeouts, two retries), cached under <store>/cache/lists/.
LIST_URL_POLICY = Policy("list URL", min_interval=1.0, timeout=30.0, retries=2)
TEXT_TYPES = ("text/", "application/json", "application/x-bibtex", "application/x-research-info-systems",
              "application/vnd.citationstyles.csl+json", "application/octet-stream")


def _import_url(opts, entry: dict, lists: dict) -> dict:
    """Fetch a registered list URL again; when its text changed since the last import, import it
    as the file would be (same importer, the entry's source id: its records are replaced). A
    failure is this step's error: the source's records stay as they were."""
    import hashlib
    import tempfile
    from urllib.parse import unquote, urlsplit

    from .harvest.http import Counters
    from .harvest.run import _client

    kind, url, source_id = entry["kind"], entry["url"], entry["source_id"]
    counters = Counters()
    step = {"entry": describe(entry), "added": 0, "updated": 0, "removed": 0, "warnings": []}
    try:
        reply = _client(opts, LIST_URL_POLICY, "lists", counters).get(url, revalidate=True)
        text = _list_text(kind, url, reply)
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        if lists.get(source_id) == digest and (opts.store.records_dir / f"{source_id}.jsonl").is_file():
            step["unchanged"] = True  # the same text as last imported: nothing to import again
        else:
            name = Path(unquote(urlsplit(url).path)).name or f"{kind}.txt"
            with tempfile.TemporaryDirectory(prefix="kg-list-") as folder:
                path = Path(folder) / name
                path.write_text(text, encoding="utf-8")
                step.update(_import_list(opts.store, {**entry, "file": str(path)}, origin=url))
            step["entry"] = describe(entry)
            lists[source_id] = digest
    except KgError as exc:  # HarvestError included: 404, timeouts, offline misses
        step["error"] = _step_error(entry, exc.message, exc.hint)
    step.update(requests=counters.requests, cache_hits=counters.cache_hits)
    return step


def _list_text(kind: str, url: str, reply) -> str:
    """The body of a list URL's answer when it is text (not a web page, an image or a PDF)."""
    ctype = next((v for k, v in reply.headers.items() if k.lower() == "content-type"), "").split(";")[0].strip().lower()
    if ctype == "text/html":
        raise KgError(f"{url} answers with a web page (text/html), not the {kind} list itself",
                      hint="Give the raw file's URL (for a GitHub README: raw.githubusercontent.com/...).")
    if (ctype and not ctype.startswith(TEXT_TYPES)) or "\x00" in reply.text or "\ufffd" in reply.text:
        raise KgError(f"{url} answers with something that is not UTF-8 text ({ctype or 'no content type'}); "
                      f"a {kind} list is a text file")
    if not reply.text.strip():
        raise KgError(f"{url} answers with an empty body")
    return reply.text


def _import_list(store, entry: dict, origin: str | None = None) -> dict:
    """Read a registered list file again and replace its source's records (as `kg import` does).
    `origin`: the URL the file was fetched from (named in the source and in errors)."""
    from .harvest.publish import publish_records, read_import

    kind, root = entry["kind"], store.project.root
    path = Path(entry["file"]).expanduser()
    if not path.is_absolute() and root is not None:
        path = root / path
    if not path.is_file():
        raise KgError(f"the plan's {kind} list {path} is missing; nothing was imported from it", field="plan")
    result = read_import(store, kind, path, entry["source_id"])
    if not (result.bundle.works or result.bundle.datasets):
        raise KgError(f"the plan's {kind} list {origin or path}: nothing could be imported", field="plan")
    if origin is not None:
        for source in result.bundle.sources:
            if source.id == entry["source_id"]:
                source.url, source.note = origin, f"Imported from {origin}"
    published = publish_records(store, entry["source_id"], result.bundle, replace=True, mark_candidates=False,
                                check_source=True)
    changes = getattr(published, "changes", None)
    return {"entry": describe(entry), "added": changes.added if changes else published.added,
            "updated": changes.changed if changes else published.updated,
            "removed": len(changes.removed) if changes else 0, "requests": 0, "cache_hits": 0, "warnings": []}


# ---------------------------------------------------------------------------------- the digest
def write_digest(store, report: UpdateReport) -> dict:
    """digest.md and digest.html (this update's diff) and feed.atom (the new in-scope works of
    every update, newest first), in <store>/updates/, each written whole."""
    from .analysis.diff import render_html, render_markdown

    folder = updates_dir(store)
    title = f"kg update {report.snapshot}: {store.project.name}"
    write_atomic(folder / "digest.md", render_markdown(report.diff, title))
    write_atomic(folder / "digest.html", render_html(report.diff, title))
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    new = [dict(w, seen=stamp, update=report.snapshot) for w in report.diff["works_added"] if w["status"] != "out"]
    history_file = folder / "feed.json"
    try:
        history = json.loads(history_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        history = []
    history = (new + history)[:FEED_ENTRIES]
    write_atomic(history_file, json.dumps(history, ensure_ascii=False, indent=1))
    write_atomic(folder / "feed.atom", atom_feed(history, store.project.name, stamp))
    return {"markdown": str(folder / "digest.md"), "html": str(folder / "digest.html"),
            "atom": str(folder / "feed.atom"), "new_in_feed": len(new)}


def _link(work: dict) -> str:
    ident = work.get("id") or ""
    if ident and not ident.startswith("10.") and any(ch.isdigit() for ch in ident) and "." in ident:
        return f"https://arxiv.org/abs/{ident}"
    if ident.startswith("10."):
        return f"https://doi.org/{ident}"
    return work["work"]


def atom_feed(works: list[dict], name: str, updated: str) -> str:
    """An Atom 1.0 feed of new works: title, link, when kg first saw it, placement and relevance."""
    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    ET.SubElement(feed, f"{{{ATOM}}}title").text = f"New works: {name}"
    ET.SubElement(feed, f"{{{ATOM}}}id").text = f"urn:kg:updates:{name}"
    ET.SubElement(feed, f"{{{ATOM}}}updated").text = updated
    ET.SubElement(ET.SubElement(feed, f"{{{ATOM}}}author"), f"{{{ATOM}}}name").text = "kg update"
    for work in works:
        entry = ET.SubElement(feed, f"{{{ATOM}}}entry")
        ET.SubElement(entry, f"{{{ATOM}}}title").text = work.get("title") or work.get("label") or work["work"]
        ET.SubElement(entry, f"{{{ATOM}}}id").text = work["work"]
        ET.SubElement(entry, f"{{{ATOM}}}updated").text = work["seen"]
        ET.SubElement(entry, f"{{{ATOM}}}link", href=_link(work))
        relevance = f"relevance {work['relevance']:.2f}" if work.get("relevance") is not None else "relevance -"
        summary = (f"{work.get('status') or 'undecided'}; {relevance}; cells: {', '.join(work['cells']) or 'none'}"
                   f" (update {work['update']})")
        ET.SubElement(entry, f"{{{ATOM}}}summary").text = html.unescape(summary)
    return ET.tostring(feed, encoding="unicode", xml_declaration=True) + "\n"
