"""`kg init`, `kg project`: making a project folder and saying which project a run uses.

Thin wiring to kg.project; the run's project and store come from kg.cli.console.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from ..output.tables import emit, new_table
from . import console


def init(
    folder: Path = typer.Argument(..., help="The new project's folder (made if missing; must be empty)."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", help="Taxonomy file (SKOS Turtle) to copy in "
                                            "(default: the bundled survey's)."),
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder of YAML files to copy in (default: "
                                          "the bundled survey's; none when --taxonomy is given)."),
    name: Optional[str] = typer.Option(None, "--name", help="The project's name (default: the folder's name)."),
):
    """Make a project folder: kg.toml, a copy of the taxonomy and corpus, and its own graph store."""
    from ..scaffold import init_project

    project = init_project(folder, taxonomy=taxonomy, corpus=corpus, name=name)
    console.out.print(f"Made the kg project {project.name!r} in {project.root}", markup=False, highlight=False)
    console.out.print(f"  taxonomy  {project.taxonomy_file}", markup=False, highlight=False)
    console.out.print(f"  corpus    {project.corpus_dir or '(none yet: import or harvest works)'}",
                      markup=False, highlight=False)
    console.out.print(f"  store     {project.store}", markup=False, highlight=False)
    console.out.print(f"Next: cd {folder} && kg build (or kg --project {folder} build)", markup=False,
                      highlight=False)


def project(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")):
    """Which project this run uses (--project, $KG_PROJECT, the current folder, else the bundled survey),
    its files and what they hold."""
    from ..scaffold import project_counts

    current, store = console.project(), console.store()
    data = {"name": current.name, "folder": str(current.root) if current.root else None,
            "taxonomy": str(current.taxonomy_file),
            "corpus": str(current.corpus_dir) if current.corpus_dir else None,
            "store": store.location, "built": store.exists(), **project_counts(store)}
    if as_json:
        console.out.print_json(json.dumps(data))
        return
    table = new_table(f"Project: {current.name}")
    table.add_column("what")
    table.add_column("value")
    for key, value in data.items():
        shown = ("(the bundled survey: none)" if key == "folder" else "(none)") if value is None else value
        table.add_row(key, str(shown).lower() if isinstance(value, bool) else str(shown))
    emit(console.out, table, whole=("value",))
