"""The graph store: one `Store` per location, a local folder or a SPARQL endpoint.

A command resolves its store location once (`Store.at(...)`) and hands the
`Store` down; nothing below asks "local or remote?" itself. The Store owns:

- opening the graph for reading (`open()`: a LocalGraph or a RemoteGraph),
- publishing a new graph (`publish()`: a generation swap on disk, or a named-graph
  swap on the endpoint),
- the files the graph is built from (`records_dir`, `curation_file`) and the
  store's workspace (`path`),
- the generation key (`generation_key()`: changes whenever a new graph is published),
- "local only" checks (`require_local()`).

    local.py    generations on disk, LocalGraph (embedded Oxigraph)
    remote.py   RemoteGraph and publishing on a SPARQL 1.1 endpoint
    sandbox.py  killable, network-less worker processes for user queries
"""

from __future__ import annotations

from pathlib import Path

from ..errors import UsageError
from ..paths import default_store
from .local import CURRENT, KEEP_GENERATIONS, LocalGraph, StoreDir, is_remote

__all__ = ["CURRENT", "KEEP_GENERATIONS", "LocalGraph", "Store", "StoreDir", "is_remote", "open_graph"]


class Store:
    """One store location, resolved once: a local folder, or a SPARQL endpoint URL whose records
    and curation live in a local workspace folder."""

    def __init__(self, location: str | Path | None = None):
        location = default_store() if location is None or str(location) == "" else location
        self.remote = is_remote(str(location))
        self.location = str(location) if self.remote else str(Path(location).expanduser())
        self.dir = StoreDir(self.location)

    @classmethod
    def at(cls, location: Store | str | Path | None = None) -> Store:
        """The Store for a location; a Store is passed through as it is."""
        return location if isinstance(location, Store) else cls(location)

    def __str__(self) -> str:
        return self.location

    def __repr__(self) -> str:
        return f"Store({self.location!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, Store) and other.location == self.location

    def __hash__(self) -> int:
        return hash(self.location)

    # -- files the graph is built from ---------------------------------------------------------
    @property
    def path(self) -> Path:
        """The local folder: the store itself, or the workspace of a remote store."""
        return self.dir.path

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
        """Changes whenever a new graph is published: a cache key for readers."""
        if self.remote:
            from .remote import RemoteGraph

            return RemoteGraph(self.location).generation
        current = self.dir.current()
        return current.name if current is not None else None

    def require_local(self, what: str) -> None:
        """Refuse an operation that needs the store's own files (e.g. the screening state)."""
        if self.remote:
            raise UsageError(f"{what} works on a local store only; {self.location} is a SPARQL endpoint")


def open_graph(location: Store | str | Path | None = None):
    """The graph at a store location (a folder; a SPARQL endpoint URL where supported)."""
    return Store.at(location).open()
