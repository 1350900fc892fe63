"""Projects: one survey's taxonomy, corpus and graph store in one folder, configured by kg.toml.

    my-survey/
      kg.toml         name, and where the taxonomy, corpus and store are (relative to the folder)
      taxonomy.ttl    the survey's taxonomy (SKOS Turtle)
      corpus/         the survey's corpus (YAML files; optional)
      store/          the graph store: its generations, records/ (harvests, imports, the
                      classifier's predictions), curation.yaml, harvest checkpoints and cache

A `Project` says where those are. `Project.find(folder)` walks up from a folder to the first
kg.toml, as git finds a repository; `Project.default()` is the bundled survey (the package's
taxonomy and corpus, the store at $KG_HOME/store), what kg uses when no project is selected.
`resolve()` is the one order every entry point follows: an explicit folder (--project), else
$KG_PROJECT, else the project the current folder is in, else the default. kg.scaffold makes
a new project folder (`kg init`). Only the taxonomy and corpus are a project's: the ontology's own
files (kg.ttl, schema.ttl, shapes.ttl) are always the package's.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import KgError
from .paths import corpus_dir, default_home, is_remote, ontology_dir

CONFIG = "kg.toml"
KEYS = ("name", "taxonomy", "corpus", "store")  # the keys kg.toml may hold
TAXONOMY_FILE = "taxonomy.ttl"
CORPUS_DIR = "corpus"
STORE_DIR = "store"
ENV = "KG_PROJECT"

_TEMPLATE = """\
# A kg project: one survey's taxonomy, corpus and graph store (see kg's docs/projects.md).
# Paths are relative to this folder; the store may also be a SPARQL endpoint URL.
name = {name}
taxonomy = {taxonomy}
{corpus}
store = {store}
"""


def _toml_string(text: str) -> str:
    """A TOML basic string (escapes as JSON does, which TOML's basic strings accept)."""
    import json

    return json.dumps(text, ensure_ascii=False)


@dataclass(frozen=True)
class Project:
    """Where one survey's files are. `root` is the project folder (None for the bundled survey);
    `store` is the store location (a folder, absolute, or a SPARQL endpoint URL);
    `corpus_dir` is None for a project without a corpus (its works come from imports and harvests)."""

    name: str
    taxonomy_file: Path
    corpus_dir: Path | None
    store: str
    root: Path | None = None

    @property
    def is_default(self) -> bool:
        return self.root is None

    @property
    def config_file(self) -> Path | None:
        return self.root / CONFIG if self.root is not None else None

    def __str__(self) -> str:
        return self.name if self.root is None else f"{self.name} ({self.root})"

    # -- finding a project ----------------------------------------------------------------------
    @classmethod
    def default(cls) -> Project:
        """The bundled survey: the package's taxonomy and corpus, the store at $KG_HOME/store."""
        return cls(name="bundled survey", taxonomy_file=ontology_dir() / TAXONOMY_FILE, corpus_dir=corpus_dir(),
                   store=str(default_home() / STORE_DIR))

    @classmethod
    def load(cls, folder: str | Path) -> Project:
        """The project in `folder` (its kg.toml, checked: unknown keys, wrong types and missing
        files are errors naming the key)."""
        root = Path(folder).expanduser()
        config = root / CONFIG
        if not config.is_file():
            hint = "Make one with `kg init DIR`." if not root.is_dir() or not any(root.iterdir()) else None
            raise KgError(f"{root} is no kg project (it has no {CONFIG})", hint=hint, field="project")
        root = root.resolve()
        try:
            data = tomllib.loads(config.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            raise KgError(f"{config}: cannot read it ({exc})", field="project") from None
        except tomllib.TOMLDecodeError as exc:
            raise KgError(f"{config}: not valid TOML ({exc})", field="project") from None

        def fail(key: str, problem: str):
            raise KgError(f"{config}: {key}: {problem}", field="project",
                          hint=f"The keys of {CONFIG} are {', '.join(KEYS)}; see docs/projects.md.")

        for key in data:
            if key not in KEYS:
                fail(key, "unknown key")
        for key, value in data.items():
            if not isinstance(value, str) or not value.strip():
                fail(key, f"must be a non-empty string, not {value!r}")
        name = data.get("name") or root.name
        taxonomy = root / data.get("taxonomy", TAXONOMY_FILE)
        if not taxonomy.is_file():
            fail("taxonomy", f"no such file: {taxonomy}")
        corpus = None
        if "corpus" in data:
            corpus = root / data["corpus"]
            if not corpus.is_dir():
                fail("corpus", f"no such folder: {corpus}")
        store = data.get("store", STORE_DIR)
        if not is_remote(store):
            store = str(root / Path(store).expanduser())
        return cls(name=name, taxonomy_file=taxonomy, corpus_dir=corpus, store=store, root=root)

    @staticmethod
    def find_root(start: str | Path) -> Path | None:
        """The nearest folder from `start` upward holding a kg.toml (None: none does)."""
        here = Path(start).expanduser().absolute()
        for folder in (here, *here.parents):
            if (folder / CONFIG).is_file():
                return folder
        return None

    @classmethod
    def find(cls, start: str | Path) -> Project | None:
        """The project `start` is in, found as git finds a repository (None: it is in none)."""
        root = cls.find_root(start)
        return cls.load(root) if root is not None else None

    @classmethod
    def of_store(cls, location: str | Path) -> Project:
        """The project whose store a local folder is (the folder's own kg.toml, upward, naming it as
        its store); the default project for any other location."""
        path = Path(location).expanduser().absolute()
        root = cls.find_root(path.parent)
        if root is not None:
            project = cls.load(root)  # a broken kg.toml is said, never read as the bundled survey
            if Path(project.store) == path:  # an endpoint URL never equals a folder
                return project
        return cls.default()


def resolve(folder: str | Path | None = None, *, cwd: str | Path | None = None) -> Project:
    """The project of a run: `folder` (--project), else $KG_PROJECT, else the project the current
    folder is in, else the bundled survey."""
    if folder is not None and str(folder) != "":
        return Project.load(folder)
    env = os.environ.get(ENV)
    if env:
        return Project.load(env)
    found = Project.find(cwd if cwd is not None else Path.cwd())
    return found if found is not None else Project.default()
