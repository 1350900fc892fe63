"""Making a new project folder (`kg init`) and saying what a project holds (`kg project`).

A new project is checked before anything is written: its taxonomy and corpus are read with
the same readers the build uses, so a broken file is named and no folder is left behind.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from .errors import KgError, UsageError
from .fileio import need_file
from .paths import corpus_dir, ontology_dir
from .project import CONFIG, CORPUS_DIR, STORE_DIR, TAXONOMY_FILE, _TEMPLATE, Project, _toml_string
from .rdf.taxonomy import read_taxonomy
from .records.corpus import read_corpus


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
    need_file(taxonomy_src, field="taxonomy")
    if corpus_src is not None and not corpus_src.is_dir():
        raise UsageError(f"{corpus_src}: no such folder", field="corpus")
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
    project = store.project
    taxonomy = read_taxonomy(project.taxonomy_file)
    counts = {f"{axis} concepts": len(items) for axis, items in sorted(taxonomy.concepts.items())}
    counts["corpus files"] = len(list(project.corpus_dir.glob("*.yaml"))) if project.corpus_dir else 0
    records = store.records_dir
    counts["record files"] = len(list(records.glob("*.jsonl"))) if records.is_dir() else 0
    return counts
