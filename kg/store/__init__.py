"""The graph store: one `Store` per location, a local folder or a SPARQL endpoint.

A command resolves its store location once (`Store.at(...)`) and hands the
`Store` down; nothing below asks "local or remote?" itself. The Store owns:

- opening the graph for reading (`open()`: a LocalGraph or a RemoteGraph),
- publishing a new graph (`publish()`: a generation swap on disk, or a named-graph
  swap on the endpoint),
- the files the graph is built from (`records_dir`, `curation_file`) and the
  store's workspace (`path`),
- its project (`project`: a kg.project.Project, whose taxonomy and corpus the graph is built
  from; given, else the project whose store the folder is, else the bundled survey),
- the generation key (`generation_key()`: changes whenever a new graph is published),
- "local only" checks (`require_local()`).

    local.py    generations on disk, LocalGraph (embedded Oxigraph)
    remote.py   RemoteGraph and publishing on a SPARQL 1.1 endpoint
    sandbox.py  killable, network-less worker processes for user queries
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pyoxigraph as ox

from ..errors import GraphMissing, KgError
from ..paths import default_store
from ..rdf.ntriples import NTriples
from .local import CURRENT, KEEP_GENERATIONS, LocalGraph, StoreDir, is_remote

__all__ = ["CURRENT", "KEEP_GENERATIONS", "Draft", "LocalGraph", "Publication", "Store", "StoreDir", "is_remote",
           "open_graph"]


@dataclass
class Publication:
    """What publishing a graph did: the generation now current, the triples it holds, and what
    the caller's check of the new graph returned (before it was published)."""

    generation: str
    triples: int
    checked: object = None


LOAD_PART = 250_000  # triples per bulk load of a build: at 100k papers, 130 MB less peak than 500,000 in the same time (docs/benchmarks.md)


class Draft:
    """A new local generation being written: readable by its writer, published by no one yet."""

    def __init__(self, location: str, ox_store, files: dict | None = None):
        self._store = ox_store
        self.graph = LocalGraph(location, store=ox_store)  # a view of the draft (trusted queries)
        self.files = files if files is not None else {}  # name -> bytes kept beside the graph when published

    def write(self, quads: Iterable) -> None:
        """Add quads: pyoxigraph Quads, or N-Triples text (kg.rdf.ntriples; what kg build writes)."""
        # bulk loading skips per-write transactions (4x faster at 300k triples); atomicity comes
        # from the generation folder, which is published only once complete
        if isinstance(quads, NTriples):  # in parts: the loader's buffers stay small (kg.rdf.ntriples)
            quads.load(self._store, triples=LOAD_PART)
        else:
            self._store.bulk_extend(quads)

    def rewrite(self, quads: Iterable) -> None:
        """Replace everything written so far (e.g. once the classifier has added its records)."""
        self._store.clear()
        self.write(quads)

    def remove(self, quads: Iterable) -> None:
        """Remove quads (pyoxigraph Quads) from the draft."""
        for quad in quads:
            self._store.remove(quad)

    @property
    def triples(self) -> int:
        return len(self._store)


class Store:
    """One store location, resolved once: a local folder, or a SPARQL endpoint URL whose records
    and curation live in a local workspace folder (in a project: under the project's folder).
    `project`: the kg.project.Project whose taxonomy and corpus the graph is built from (default:
    the project whose store the folder is, else the bundled survey)."""

    def __init__(self, location: str | Path | None = None, project=None):
        from ..project import Project

        location = default_store() if location is None or str(location) == "" else location
        self.remote = is_remote(str(location))
        self.location = str(location) if self.remote else str(Path(location).expanduser())
        if project is None:
            project = Project.of_store(self.location) if not self.remote else Project.default()
        self.project = project
        workspace = project.root / "remote" if self.remote and project.root is not None else None
        self.dir = StoreDir(self.location, workspace=workspace)

    @classmethod
    def at(cls, location: Store | StoreDir | str | Path | None = None, project=None) -> Store:
        """The Store for a location; a Store is passed through as it is."""
        if isinstance(location, StoreDir):  # the folder of a store: its endpoint, or the folder itself
            location = location.url or location.path
        return location if isinstance(location, Store) else cls(location, project)

    def __str__(self) -> str:
        return self.location

    def __repr__(self) -> str:
        return f"Store({self.location!r})" if self.project.is_default else \
            f"Store({self.location!r}, project={str(self.project.root)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Store) and other.location == self.location

    def __hash__(self) -> int:
        return hash(self.location)

    # -- files the graph is built from ---------------------------------------------------------
    @property
    def path(self) -> Path:
        """The local folder: the store itself, or the workspace of a remote store."""
        return self.dir.path

    def absolute(self) -> str:
        """The location as a process started in another folder reads it (a folder made absolute)."""
        return self.location if self.remote else str(self.dir.path.resolve())

    @property
    def url(self) -> str | None:
        """The SPARQL endpoint of a remote store (None for a local one)."""
        return self.location if self.remote else None

    @property
    def records_dir(self) -> Path:
        return self.dir.records_dir

    @property
    def curation_file(self) -> Path:
        return self.dir.curation_file

    def inputs(self, corpus: Path | None = None) -> dict:
        """A cheap fingerprint of the files the graph is built from (each file's size and change
        time: the record files, curation.yaml, the project's taxonomy and corpus, or `corpus`). A
        build keeps it in its generation's kg-build.json, so a later step can tell whether the
        graph still reflects its inputs (kg.pipeline: publishing the classifier's change alone)."""
        corpus = corpus or self.project.corpus_dir

        def stat(path: Path) -> list[int] | None:
            try:
                st = path.stat()
            except OSError:
                return None
            return [st.st_size, st.st_mtime_ns]

        def folder(path: Path | None) -> dict:
            if path is None or not Path(path).is_dir():
                return {}
            return {str(f.relative_to(path)): stat(f) for f in sorted(Path(path).rglob("*")) if f.is_file()}

        taxonomy = self.project.taxonomy_file
        return {"records": folder(self.records_dir), "curation": stat(self.curation_file),
                "taxonomy": [str(taxonomy), stat(Path(taxonomy))] if taxonomy is not None else None,
                "corpus": [str(corpus), folder(corpus)] if corpus is not None else None}

    # -- the graph ----------------------------------------------------------------------------
    def open(self):
        """The current graph, read-only (a LocalGraph or a RemoteGraph)."""
        if self.remote:
            from .remote import RemoteGraph

            return RemoteGraph(self.location)
        return LocalGraph(self.location)

    def exists(self) -> bool:
        """True when a graph has been published (always assumed for an endpoint)."""
        return self.remote or self.dir.current() is not None

    def info(self) -> dict:
        """What the last build recorded (kg version, time, corpus); {} before the first build."""
        if self.remote:
            return {"location": self.location}
        return {"location": self.location, **self.dir.info()}

    def generation_key(self) -> str | None:
        """Changes whenever a new graph is published: a cache key for readers (None before the
        first build, or for an endpoint whose graph kg did not publish)."""
        if self.remote:
            if getattr(self, "_probe", None) is None:  # one view kept to ask, so its connection is reused
                from .remote import RemoteGraph

                self._probe = RemoteGraph(self.location, generation=None)
            return self._probe.current_generation()
        current = self.dir.current()
        return current.name if current is not None else None

    def open_at(self, generation: str | None):
        """The graph of the generation `generation_key()` (or a snapshot) named, read-only; None:
        the current one."""
        if self.remote:
            from .remote import RemoteGraph

            return RemoteGraph(self.location, generation=generation)
        return LocalGraph(self.location, generation=generation)

    def require_local(self, what: str, hint: str | None = None) -> None:
        """Refuse an operation that needs the store's own files (e.g. the screening state)."""
        if self.remote:
            raise KgError(f"{what} works on a local store only; {self.location} is a SPARQL endpoint",
                          hint=hint, field="store")

    # -- publishing a new graph -----------------------------------------------------------------
    def publish(self, quads: Iterable, meta: dict, check=None, files=None) -> Publication:
        """Publish a complete graph in one swap: a new generation folder and the `current` link on
        disk, or a new named graph and the pointer on the endpoint. `check(graph)`, when given,
        reads the new graph before anyone else sees it; if it (or anything) fails, nothing is
        published and the previous graph stays. `files()`, when given (a local store), names files
        (name -> bytes) to keep beside the graph in its generation folder, asked once it is written."""
        if self.remote:
            from .remote import publish

            generation, triples, checked = publish(self.location, list(dict.fromkeys(quads)), meta, check)
            return Publication(generation, triples, checked)
        with self.draft(meta) as draft:
            draft.write(quads)
            checked = check(draft.graph) if check is not None else None
            triples = draft.triples
            if files is not None:
                draft.files.update(files())
        return Publication(self.dir.current().name, triples, checked)

    @contextlib.contextmanager
    def draft(self, meta: dict, *, from_current: bool = False) -> Iterator[Draft]:
        """A new generation to write and read before it is published (when the block ends without
        an error; otherwise it is removed and the previous graph stays). Local stores only: an
        endpoint's graph is published whole by `publish`. `from_current`: the draft starts as a
        copy of the current graph (a checkpoint, near instant), to be changed by a little."""
        self.require_local("writing a graph and reading it before it is published",
                           hint="Build the graph with `kg build`; place papers with `kg classify` on a local store.")
        base = None
        if from_current:
            base = self.dir.current()
            if base is None:
                raise GraphMissing(f"no graph in {self.path} yet", hint="Run `kg build` first.")
        files: dict = {}
        with self.dir.new_generation(meta, base=base, files=files) as ox_store:
            yield Draft(self.location, ox_store, files)


def open_graph(location: Store | str | Path | None = None):
    """The graph at a store location (a folder; a SPARQL endpoint URL where supported)."""
    return Store.at(location).open()
