"""Where kg finds its ontology, bundled corpus and named queries, and where it keeps the graph.

Works from a source checkout and from an installed package alike.
"""

from __future__ import annotations

import os
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def ontology_dir() -> Path:
    """The folder with kg.ttl, taxonomy.ttl and shapes.ttl."""
    for candidate in (_PACKAGE / "ontology", _PACKAGE.parent / "ontology"):
        if (candidate / "kg.ttl").is_file():
            return candidate
    raise FileNotFoundError("the ontology folder (kg.ttl) is missing from this installation")


def corpus_dir() -> Path:
    """The bundled corpus (YAML files) shipped with the package."""
    return _PACKAGE / "data"


def queries_dir() -> Path:
    return _PACKAGE / "queries"


def default_home() -> Path:
    """The kg workspace: KG_HOME, else the user's data directory."""
    env = os.environ.get("KG_HOME")
    if env:
        return Path(env).expanduser()
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "kg"


def default_store() -> str:
    """The store location: KG_STORE (a folder or a SPARQL endpoint URL), else KG_HOME/store."""
    return os.environ.get("KG_STORE") or str(default_home() / "store")


def is_remote(location) -> bool:
    """True for a SPARQL endpoint URL (http:// or https://) rather than a folder. Only kg.store and
    kg.project (reading a kg.toml's store key) ask; everything else asks its Store."""
    return isinstance(location, str) and location.lower().startswith(("http://", "https://"))
