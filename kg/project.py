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
$KG_PROJECT, else the project the current folder is in, else the default. `init_project`
makes a new project folder. Only the taxonomy and corpus are a project's: the ontology's own
files (kg.ttl, schema.ttl, shapes.ttl) are always the package's.
"""

from __future__ import annotations

import os
import shutil
import tomllib
from dataclasses import dataclass
from pathlib import Path

from .errors import KgError, UsageError
from .paths import corpus_dir, default_home, ontology_dir

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
        from .store.local import is_remote

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


# ---------------------------------------------------------------- kg init
def init_project(folder: str | Path, taxonomy: str | Path | None = None, corpus: str | Path | None = None,
                 name: str | None = None) -> Project:
    """Make a new project in `folder` (made if missing; an empty folder is fine): kg.toml, a copy of
    the taxonomy and of the corpus's YAML files (default: the bundled survey's; with a taxonomy of
    one's own and no corpus, the project starts without one), and its store folder. Both are read
    first, so a broken taxonomy or corpus is named before anything is written. Never overwrites:
    a folder that is a project already, or holds anything, is refused."""
    root = Path(folder).expanduser()
    if (root / CONFIG).exists():
        raise UsageError(f"{root} is a kg project already ({CONFIG}); nothing was changed", field="folder")
    if root.exists() and not root.is_dir():
        raise UsageError(f"{root} is a file, not a folder", field="folder")
    if root.is_dir() and any(root.iterdir()):
        raise UsageError(f"{root} is not empty: a new project goes in a new or empty folder; nothing was changed",
                         field="folder")
    if name is not None and not name.strip():
        raise UsageError("the project name is empty", field="project_name")
    taxonomy_src = Path(taxonomy).expanduser() if taxonomy is not None else ontology_dir() / TAXONOMY_FILE
    if corpus is not None:
        corpus_src: Path | None = Path(corpus).expanduser()
    else:
        corpus_src = corpus_dir() if taxonomy is None else None
    if not taxonomy_src.is_file():
        raise UsageError(f"{taxonomy_src}: no such file", field="taxonomy")
    if corpus_src is not None and not corpus_src.is_dir():
        raise UsageError(f"{corpus_src}: no such folder", field="corpus")
    from .rdf.taxonomy import read_taxonomy
    from .records.corpus import read_corpus

    vocabulary = read_taxonomy(taxonomy_src).vocabulary()  # both checked before anything is written
    corpus_files = sorted(corpus_src.glob("*.yaml")) if corpus_src is not None else []
    if corpus_src is not None:
        read_corpus(corpus_src, vocabulary)

    made = not root.exists()
    try:
        (root / STORE_DIR / "records").mkdir(parents=True, exist_ok=True)
        shutil.copyfile(taxonomy_src, root / TAXONOMY_FILE)
        if corpus_src is not None:
            (root / CORPUS_DIR).mkdir()
            for path in corpus_files:
                shutil.copyfile(path, root / CORPUS_DIR / path.name)
        config = _TEMPLATE.format(
            name=_toml_string(name.strip() if name else root.resolve().name),
            taxonomy=_toml_string(TAXONOMY_FILE),
            corpus=(f"corpus = {_toml_string(CORPUS_DIR)}" if corpus_src is not None else
                    f"# corpus = {_toml_string(CORPUS_DIR)}   (a folder of corpus YAML files; none yet)"),
            store=_toml_string(STORE_DIR))
        (root / CONFIG).write_text(config, encoding="utf-8")  # last: the folder is a project once complete
    except OSError as exc:
        if made:
            shutil.rmtree(root, ignore_errors=True)
        else:
            for child in root.iterdir():
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
        raise KgError(f"cannot make the project in {root} ({exc}); nothing was kept", field="folder") from None
    return Project.load(root)


def project_counts(store) -> dict:
    """What a store's project holds, cheaply: concepts per axis of its taxonomy, corpus files, the
    store's record files. `store`: a kg.store.Store."""
    from .rdf.taxonomy import read_taxonomy

    project = store.project
    taxonomy = read_taxonomy(project.taxonomy_file)
    counts = {f"{axis} concepts": len(items) for axis, items in sorted(taxonomy.concepts.items())}
    counts["corpus files"] = len(list(project.corpus_dir.glob("*.yaml"))) if project.corpus_dir else 0
    records = store.records_dir
    counts["record files"] = len(list(records.glob("*.jsonl"))) if records.is_dir() else 0
    return counts
