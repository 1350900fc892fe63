"""The graph store: an embedded Oxigraph database on disk.

A store folder holds immutable generations; `current` points at the live one.
Building writes a new generation and then swaps the pointer in one rename, so a
crash or kill mid-build leaves the previous graph readable, and readers (the
CLI, the app) open generations read-only without locking each other out.

    <store>/current -> gen-20261121T221500-1234
    <store>/gen-...            Oxigraph (RocksDB) files
    <store>/records/           harvested and imported records (JSON lines)
    <store>/curation.yaml      people's label decisions
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import threading
import time
from pathlib import Path

import pyoxigraph as ox

from .errors import GraphMissing, KgError
from .guard import QueryLimits, QuerySandbox, check_query, parse_error, time_limit_error
from .results import QueryResult, Term, term_from_ox, term_to_ox
from .vocab import PREFIXES

CURRENT = "current"
KEEP_GENERATIONS = 2


def is_remote(location) -> bool:
    """True for a SPARQL endpoint URL (http:// or https://) rather than a folder."""
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))


class StoreDir:
    """The on-disk folder of a local store.

    For a remote store (a SPARQL endpoint URL) the folder is a local workspace
    under $KG_HOME/remote/ that keeps the records and curation the remote graph
    is built from; the graph itself lives on the server (see kg.remote).
    """

    def __init__(self, path: str | Path):
        self.url = str(path) if is_remote(path) else None
        if self.url:
            from .paths import default_home
            from .vocab import slug

            self.path = default_home() / "remote" / slug(self.url.split("://", 1)[1], limit=120)
        else:
            self.path = Path(path).expanduser()

    @property
    def records_dir(self) -> Path:
        return self.path / "records"

    @property
    def curation_file(self) -> Path:
        return self.path / "curation.yaml"

    def current(self) -> Path | None:
        link = self.path / CURRENT
        if not link.is_symlink():
            return None
        target = self.path / os.readlink(link)
        return target if target.is_dir() else None

    def info(self) -> dict:
        gen = self.current()
        if gen is None:
            return {}
        try:
            return json.loads((gen / "kg-build.json").read_text())
        except (OSError, ValueError):
            return {}

    @contextlib.contextmanager
    def new_generation(self, meta: dict):
        """Yield an empty writable Oxigraph store; publish it only if the block succeeds."""
        self.path.mkdir(parents=True, exist_ok=True)
        self._remove_stale()
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 100000}"
        tmp = self.path / f"{name}.tmp"
        store = ox.Store(str(tmp))
        try:
            yield store
            store.flush()
            store.optimize()
        except BaseException:
            del store
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        del store
        (tmp / "kg-build.json").write_text(json.dumps(meta, indent=2))
        final = self.path / name
        os.rename(tmp, final)
        link_tmp = self.path / f".{CURRENT}.{os.getpid()}"
        if link_tmp.is_symlink():
            link_tmp.unlink()
        os.symlink(name, link_tmp)
        os.replace(link_tmp, self.path / CURRENT)
        self._prune(keep=final)

    def _remove_stale(self) -> None:
        for tmp in self.path.glob("gen-*.tmp"):
            pid = tmp.name.split("-")[2] if tmp.name.count("-") >= 3 else ""
            if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                continue  # another build is running
            shutil.rmtree(tmp, ignore_errors=True)

    def _prune(self, keep: Path) -> None:
        gens = sorted((p for p in self.path.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp")),
                      key=lambda p: p.stat().st_mtime)
        for old in gens[:-KEEP_GENERATIONS]:
            if old != keep:
                shutil.rmtree(old, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class LocalGraph:
    """A read-only view of the current generation of a local store.

    Trusted queries (named queries, kg's own code) run in this process. User
    queries pass kg.guard: checked, then run in a sandbox worker process that is
    killed at the time limit (`sandbox_size` workers may run in parallel).
    """

    sandbox_size = 1
    reads_in_pages = True  # whole named listings are read a page at a time (kg.named.all_pages)

    def __init__(self, path: str | Path, store: ox.Store | None = None):
        self._sandbox: QuerySandbox | None = None
        self._sandbox_lock = threading.Lock()
        self.dir = StoreDir(path)
        if store is not None:
            self.store = store
            self.generation = None
            return
        gen = self.dir.current()
        if gen is None:
            raise GraphMissing(f"no graph in {self.dir.path} yet", hint="Run `kg build` first.")
        try:
            self.store = ox.Store.read_only(str(gen))
        except OSError as exc:
            raise KgError(f"cannot open the graph in {gen}: {exc}") from None
        self.generation = gen

    @property
    def location(self) -> str:
        return str(self.dir.path)

    def is_stale(self) -> bool:
        """True when a newer build has been published since this view was opened."""
        return self.generation is not None and self.dir.current() != self.generation

    def query(self, sparql: str, bindings: dict | None = None, limits: QueryLimits | None = None,
              *, trusted: bool = False) -> QueryResult:
        """Run a query. User queries (trusted=False) pass the read-only guard and limits."""
        limits = limits or (QueryLimits.unbounded() if trusted else QueryLimits())
        if trusted:
            return self._run(sparql, bindings, limits)
        check_query(sparql)
        if self.generation is not None:
            plain = {k: term_from_ox(_to_ox(v)) for k, v in (bindings or {}).items()}
            return self.sandbox.run(sparql, plain, limits)
        return _run_in_thread(self._run, sparql, bindings, limits)

    @property
    def sandbox(self) -> QuerySandbox:
        """The worker processes that run user queries (started on first use)."""
        with self._sandbox_lock:
            if self._sandbox is None:
                self._sandbox = QuerySandbox(self.generation, self.sandbox_size)
            return self._sandbox

    def close(self) -> None:
        """Stop the query workers (also happens when the graph is garbage-collected)."""
        if self._sandbox is not None:
            self._sandbox.close()

    def _run(self, sparql: str, bindings: dict | None, limits: QueryLimits) -> QueryResult:
        subs = {ox.Variable(k): _to_ox(v) for k, v in (bindings or {}).items()}
        try:
            answer = self.store.query(sparql, prefixes=PREFIXES, substitutions=subs or None)
        except SyntaxError as exc:
            raise parse_error(str(exc)) from None
        except (OSError, RuntimeError) as exc:
            raise KgError(f"query failed: {exc}") from None
        return _collect(answer, limits)

    def triple_count(self) -> int:
        return len(self.store)

    def dump(self, fmt: ox.RdfFormat) -> bytes:
        return self.store.dump(format=fmt, from_graph=ox.DefaultGraph())


def _run_in_thread(run, sparql, bindings, limits: QueryLimits) -> QueryResult:
    """A graph held in memory has no generation a worker process could open: run the
    query in a thread and stop waiting at the deadline (the engine releases the GIL)."""
    box: dict = {}

    def target():
        try:
            box["result"] = run(sparql, bindings, limits)
        except BaseException as exc:  # handed to the caller below
            box["error"] = exc

    thread = threading.Thread(target=target, name="kg-query", daemon=True)
    thread.start()
    thread.join(None if limits.timeout_s == math.inf else limits.timeout_s)
    if thread.is_alive():
        raise time_limit_error(limits.timeout_s)
    if "error" in box:
        raise box["error"]
    return box["result"]


def _to_ox(value):
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return value
    if isinstance(value, Term):
        return term_to_ox(value)
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(PREFIXES["xsd"] + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(PREFIXES["xsd"] + "integer"))
    return ox.Literal(str(value))


def _collect(answer, limits: QueryLimits) -> QueryResult:
    clock = limits.start()
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer))
    if isinstance(answer, ox.QueryTriples):
        result = QueryResult("graph")
        for triple in answer:
            clock.tick(len(result.triples))
            if len(result.triples) >= limits.max_rows:
                result.truncated = True
                break
            result.triples.append((term_from_ox(triple.subject), term_from_ox(triple.predicate),
                                   term_from_ox(triple.object)))
        return result
    names = [v.value for v in answer.variables]
    result = QueryResult("select", vars=names)
    rows, max_rows = result.rows, limits.max_rows
    timed = limits.timeout_s != math.inf
    terms: dict = {}  # one Term per distinct engine term: answers repeat IRIs a lot (2x faster at 100k rows)
    for solution in answer:
        if timed:
            clock.tick(len(rows))
        if len(rows) >= max_rows:
            result.truncated = True
            break
        row = {}
        for name, value in zip(names, solution):
            if value is not None:
                term = terms.get(value)
                if term is None:
                    term = terms[value] = term_from_ox(value)
                row[name] = term
        rows.append(row)
    return result


def open_graph(location: str | None = None):
    """The graph at a store location (a folder; a SPARQL endpoint URL where supported)."""
    from .paths import default_store

    location = location or default_store()
    if is_remote(location):
        from .remote import RemoteGraph

        return RemoteGraph(location)
    return LocalGraph(location)
