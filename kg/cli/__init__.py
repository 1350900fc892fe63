"""The `kg` command line: the typer app, assembled from one module per command group.

    console.py   what every command shares: out/err consoles, the run's project and its one
                 Store (from --project and --store, read here once), error messages (library
                 fields -> flags)
    project.py   kg init, project
    graph.py     kg build, stats, query, validate, export
    gaps.py      kg gaps, report
    classify.py  kg classify, curate, screen
    harvest.py   kg harvest arxiv|s2|openalex, kg import bibtex|awesome|ris|csljson
    serve.py     kg app, serve, bench
    living.py    kg snapshot create|list|delete, diff, plan show|add|remove, update

Each command is thin wiring from arguments to library calls. The command modules import
console.py, never this module; this module imports them. `main()` is the console script:
domain errors (kg.errors.KgError) become a message on stderr and the error's exit code, and
so do a full disk, a folder kg may not write in and damaged graph files (exit code 1); nothing
else is caught, so bugs
still show their traceback.
"""

from __future__ import annotations

import sys
from typing import Optional

import typer

from . import classify, console, gaps, graph, harvest, living, project, serve

__all__ = ["app", "main"]

app = typer.Typer(
    name="kg",
    help="Knowledge-graph explorer and taxonomy gap analysis for research surveys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _print_version(value: bool) -> None:
    if value:
        from .. import __version__

        sys.stdout.write(f"kg {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    store: Optional[str] = typer.Option(
        None, "--store", help="Graph store folder (or SPARQL endpoint URL). Default: $KG_STORE, else the project's "
        "store ($KG_HOME/store for the bundled survey)."),
    project: Optional[str] = typer.Option(
        None, "--project", help="Project folder (kg.toml). Default: $KG_PROJECT, else the project the current "
        "folder is in, else the bundled survey."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print kg's version and exit."),
):
    """Knowledge-graph explorer and taxonomy gap analysis for research surveys."""
    console.begin(store, project)


# every command, in the order `kg --help` lists them
for name, command in (
    ("init", project.init), ("project", project.project),
    ("build", graph.build), ("stats", graph.stats), ("query", graph.query), ("validate", graph.validate),
    ("export", graph.export),
    ("gaps", gaps.gaps), ("report", gaps.report),
):
    app.command(name)(command)
app.add_typer(harvest.harvest_app, name="harvest")
app.add_typer(harvest.import_app, name="import")
for name, command in (
    ("app", serve.app_command),
    ("classify", classify.classify), ("curate", classify.curate), ("screen", classify.screen),
    ("serve", serve.serve), ("bench", serve.bench),
):
    app.command(name)(command)
app.add_typer(living.snapshot_app, name="snapshot")
app.command("diff")(living.diff)
app.add_typer(living.plan_app, name="plan")
app.command("update")(living.update)


def main() -> None:
    """The `kg` console script."""
    console.run(app)
