"""The graph store: an embedded Oxigraph database on disk.

A store folder holds immutable generations; `current` points at the live one.
Building writes a new generation and then swaps the pointer in one rename, so a
crash or kill mid-build leaves the previous graph readable, and readers (the
CLI, the app) open generations read-only without locking each other out.

    <store>/current -> gen-20261121T221500-1234
    <store>/gen-...            Oxigraph (RocksDB) files
    <store>/records/           harvested and imported records (JSON lines)
    <store>/curation.yaml      people's label decisions
    <store>/snapshots/         named snapshots: a manifest each, naming a generation that
                               pruning keeps (kg.store.snapshots)

Each generation's kg-build.json names the generation that was current before it
(`previous`); pruning keeps it, so "since the last build" can always be read.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
from pathlib import Path

import pyoxigraph as ox

from ..errors import GraphMissing, KgError
from ..paths import is_remote  # noqa: F401  (kg.store.is_remote: the one test of a location)
from ..sparql.guard import QueryLimits, check_query, parse_error
from ..sparql.results import QueryResult, Term, term_from_ox, term_to_ox
from ..vocab import PREFIXES
from .sandbox import QuerySandbox, collect

CURRENT = "current"
KEEP_GENERATIONS = 2


class StoreDir:
    """The on-disk folder of a local store.

    For a remote store (a SPARQL endpoint URL) the folder is a local workspace
    under $KG_HOME/remote/ (or `workspace`: a project's) that keeps the records and
    curation the remote graph is built from; the graph itself lives on the server
    (see kg.store.remote).
    """

    def __init__(self, path: str | Path, workspace: Path | None = None):
        self.url = str(path) if is_remote(path) else None
        if self.url:
            from ..paths import default_home
            from ..vocab import slug

            self.path = (workspace or default_home() / "remote") / slug(self.url.split("://", 1)[1], limit=120)
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
    def new_generation(self, meta: dict, base: Path | None = None, files: dict | None = None):
        """Yield an empty writable Oxigraph store; publish it only if the block succeeds.

        `base` (a published generation): yield a copy of it instead, to change a little of it (a
        RocksDB checkpoint: hard links on the same filesystem, near instant; it is not compacted
        again, and files kept beside the graph, such as kg-derived/, are not copied). `files`: name ->
        bytes written into the generation folder beside the graph (read when the block has ended,
        so the block may fill it).

        Writing can fail (a full disk, a read-only folder): then nothing is published, the
        half-written generation is removed, and a KgError says so; the previous graph stays.
        """
        import errno

        def write_error(exc: BaseException) -> KgError | None:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if not (isinstance(exc, OSError) or "IO error" in detail or "No space left" in detail):
                return None  # not a storage problem: the caller sees it as it is
            previous = self.current()
            kept = (f"nothing was published and the previous graph ({previous.name}) is still in place"
                    if previous else "nothing was published")
            full = (getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT)
                    or "No space left" in detail or "quota exceeded" in detail.lower())
            if full:
                return KgError(f"the disk is full: the new graph could not be written in {self.path} ({detail}); "
                               f"{kept}", hint="Free some disk space, then run `kg build` again.")
            return KgError(f"cannot write the new graph in {self.path} ({detail}); {kept}",
                           hint="Check that the folder is writable and has free space, then run `kg build` again.")

        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise write_error(exc) from None
        self._remove_stale()
        name = f"gen-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}-{time.monotonic_ns() % 100000}"
        tmp = self.path / f"{name}.tmp"
        store = None
        try:
            if base is not None:
                ox.Store.read_only(str(base)).backup(str(tmp))
            store = ox.Store(str(tmp))
            yield store
            store.flush()  # not optimised: the bulk-loaded files answer queries as fast (docs/benchmarks.md)
            store = None  # closes the database before its folder is published
            previous = self.current()
            if previous is not None:  # "since the last build": pruning keeps the generation named here
                meta = {**meta, "previous": previous.name}
            (tmp / "kg-build.json").write_text(json.dumps(meta, indent=2))
            for file_name, data in (files or {}).items():  # a name may hold a folder (kg-derived/...)
                (tmp / file_name).parent.mkdir(parents=True, exist_ok=True)
                (tmp / file_name).write_bytes(data)
        except BaseException as exc:
            store = None
            shutil.rmtree(tmp, ignore_errors=True)
            error = write_error(exc) if isinstance(exc, Exception) and not isinstance(exc, KgError) else None
            if error is None:
                raise
            raise error from None
        final = self.path / name
        link_tmp = self.path / f".{CURRENT}.{os.getpid()}"
        try:
            os.rename(tmp, final)
            if link_tmp.is_symlink():
                link_tmp.unlink()
            os.symlink(name, link_tmp)
            os.replace(link_tmp, self.path / CURRENT)
        except OSError as exc:  # `current` still names the previous generation
            for leftover in (tmp, final):
                shutil.rmtree(leftover, ignore_errors=True)
            with contextlib.suppress(OSError):
                link_tmp.unlink()
            raise write_error(exc) from None
        self._prune(keep=final)

    def _remove_stale(self) -> None:
        for tmp in self.path.glob("gen-*.tmp"):
            pid = tmp.name.split("-")[2] if tmp.name.count("-") >= 3 else ""
            if pid.isdigit() and _alive(int(pid)) and int(pid) != os.getpid():
                continue  # another build is running
            shutil.rmtree(tmp, ignore_errors=True)

    def generation(self, name: str) -> Path | None:
        """The published generation folder called `name` (None: there is none by that name)."""
        if not name.startswith("gen-") or "/" in name or name.endswith(".tmp"):
            return None
        folder = self.path / name
        return folder if folder.is_dir() else None

    def generation_info(self, name: str) -> dict:
        """What a generation's build recorded (its kg-build.json); {} when unreadable."""
        try:
            return json.loads((self.path / name / "kg-build.json").read_text())
        except (OSError, ValueError):
            return {}

    def _prune(self, keep: Path) -> None:
        """Remove generations beyond the newest KEEP_GENERATIONS, except the current one, the one
        before it (its `previous`) and those a snapshot names."""
        from ..fileio import file_lock
        from .snapshots import LOCK, pinned_generations

        with file_lock(self.path / LOCK):  # a snapshot being taken names a generation kept here
            pinned = pinned_generations(self.path)
            if pinned is None:  # a damaged snapshot manifest may name any of them
                return
            named = pinned | {keep.name}
            previous = self.generation_info(keep.name).get("previous")
            if previous:
                named.add(previous)
            gens = sorted((p for p in self.path.glob("gen-*") if p.is_dir() and not p.name.endswith(".tmp")),
                          key=lambda p: p.stat().st_mtime)
            for old in gens[:-KEEP_GENERATIONS]:
                if old.name not in named:
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

    Trusted queries (named queries, kg's own code, values bound as terms) run in
    this process. User queries never do: they pass kg.sparql.guard's token check here,
    then are parsed, inspected and evaluated in a network-less sandbox worker
    process that is killed at the time limit (`sandbox_size` workers kept warm,
    up to `sandbox_max_running` queries at once).
    """

    sandbox_size = 1
    sandbox_max_running = 4
    reads_in_pages = True  # whole named listings are read a page at a time (kg.sparql.named.all_pages)

    def __init__(self, path: str | Path, store: ox.Store | None = None, generation: str | None = None):
        self._sandbox: QuerySandbox | None = None
        self._sandbox_lock = threading.Lock()
        self.dir = StoreDir(path)
        if store is not None:
            self.store = store
            self.generation = None
            return
        if generation is not None:  # an earlier generation, kept by a snapshot or as the previous build
            gen = self.dir.generation(generation)
            if gen is None:
                raise GraphMissing(f"no generation {generation!r} in {self.dir.path} (it was removed, or never "
                                   "published)", hint="`kg snapshot list` names the generations that are kept.")
        else:
            gen = self.dir.current()
        if gen is None:
            raise GraphMissing(f"no graph in {self.dir.path} yet", hint="Run `kg build` first.")
        try:
            self.store = ox.Store.read_only(str(gen))
        except (OSError, RuntimeError) as exc:  # RocksDB: "Corruption: ...", "IO error: ..."
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            raise KgError(f"the graph in {gen} cannot be opened: its files are damaged or missing ({detail})",
                          hint="Rebuild it with `kg build`: that publishes a fresh generation from the records "
                               "and curation.yaml, which are untouched.") from None
        self.generation = gen

    @property
    def location(self) -> str:
        return str(self.dir.path)

    def is_stale(self) -> bool:
        """True when a newer build has been published since this view was opened."""
        return self.generation is not None and self.dir.current() != self.generation

    def query(self, sparql: str, bindings: dict | None = None, limits: QueryLimits | None = None,
              *, trusted: bool = False, client=None) -> QueryResult:
        """Run a query. User queries (trusted=False) pass the guard and run in the sandbox,
        shared fairly between `client`s (e.g. the server's remote addresses)."""
        limits = limits or (QueryLimits.unbounded() if trusted else QueryLimits())
        if trusted:
            return self._run(sparql, bindings, limits)
        check_query(sparql)
        plain = {k: term_from_ox(_to_ox(v)) for k, v in (bindings or {}).items()}
        return self.sandbox.run(sparql, plain, limits, client=client)

    @property
    def sandbox(self) -> QuerySandbox:
        """The worker processes that run user queries (started on first use). A graph held in
        memory has no generation a worker could open: the workers get a copy of it."""
        with self._sandbox_lock:
            if self._sandbox is None:
                source = self.generation or ("memory", self.store.dump(format=ox.RdfFormat.N_QUADS))
                self._sandbox = QuerySandbox(source, self.sandbox_size, self.sandbox_max_running)
            return self._sandbox

    def close(self) -> None:
        """Stop the query workers (also happens when the graph is garbage-collected)."""
        if self._sandbox is not None:
            self._sandbox.close()

    def _run(self, sparql: str, bindings: dict | None, limits: QueryLimits) -> QueryResult:
        subs = {ox.Variable(k): _to_ox(v) for k, v in (bindings or {}).items()}
        try:
            answer = self.store.query(sparql, prefixes=PREFIXES, substitutions=subs or None)
            return collect(answer, limits)  # answers are read lazily: damaged files show up here too
        except SyntaxError as exc:
            raise parse_error(str(exc), sparql) from None
        except (OSError, RuntimeError) as exc:
            detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
            if self.generation is not None and (isinstance(exc, OSError) or "Corruption" in detail
                                                or "IO error" in detail):
                raise KgError(f"the graph in {self.generation} cannot be read: its files are damaged ({detail})",
                              hint="Rebuild it with `kg build`: that publishes a fresh generation from the "
                                   "records and curation.yaml, which are untouched.") from None
            raise KgError(f"query failed: {exc}") from None

    def values(self, sparql: str) -> list[tuple[str | None, ...]]:
        """A trusted SELECT's rows as plain strings (each term's value; None when unbound), read
        straight from the engine: for kg's own bulk reads (hundreds of thousands of rows), where
        building a result table of terms would cost more than the query."""
        try:
            # a solution iterates its terms in the variables' order (None when unbound): no
            # lookup by name per term
            return [tuple(None if t is None else t.value for t in row)
                    for row in self.store.query(sparql, prefixes=PREFIXES)]
        except SyntaxError as exc:
            raise parse_error(str(exc), sparql) from None

    def triple_count(self) -> int:
        return len(self.store)

    def dump(self, fmt: ox.RdfFormat) -> bytes:
        return self.store.dump(format=fmt, from_graph=ox.DefaultGraph())


def _to_ox(value):
    if isinstance(value, (ox.NamedNode, ox.Literal, ox.BlankNode)):
        return value
    if isinstance(value, Term):
        return term_to_ox(value)
    if isinstance(value, bool):
        return ox.Literal("true" if value else "false", datatype=ox.NamedNode(PREFIXES["xsd"] + "boolean"))
    if isinstance(value, int):
        return ox.Literal(str(value), datatype=ox.NamedNode(PREFIXES["xsd"] + "integer"))
    if isinstance(value, float):  # a number compares as a number (a plain string never equals one)
        return ox.Literal(repr(value), datatype=ox.NamedNode(PREFIXES["xsd"] + "double"))
    return ox.Literal(str(value))
