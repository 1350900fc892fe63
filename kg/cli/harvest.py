"""`kg harvest arxiv|s2|openalex ...` and `kg import bibtex|awesome|ris|csljson FILE`.

Thin wiring: options -> kg.harvest.run / kg.importers -> a summary, --stats,
progress bars. Library modules are imported inside the commands. The run's one Store
(kg.cli.console) says where: a harvest writes its cache, checkpoints and records into
the store's folder (a remote store's local workspace) and a remote graph is rebuilt
on the endpoint; the import functions still take the location as a string (str(store)).
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Optional

import typer

from . import console

harvest_app = typer.Typer(help="Harvest papers from arXiv, Semantic Scholar or OpenAlex into the graph.",
                          no_args_is_help=True)
import_app = typer.Typer(help="Import a BibTeX, RIS or CSL-JSON file or an awesome-list README into the graph.",
                         no_args_is_help=True)


def _consoles():
    return console.out, console.err


class _Bars:
    """Rich progress bars (counts and ETA) on stderr, one per harvest phase."""

    def __init__(self, console, enabled: bool):
        self.progress = None
        self.tasks: dict[str, int] = {}
        if enabled:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
                TimeRemainingColumn,
            )

            self.progress = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                                     TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                                     console=console, transient=False)

    def __enter__(self):
        if self.progress:
            self.progress.start()
        return self

    def __exit__(self, *exc):
        if self.progress:
            self.progress.stop()

    def __call__(self, label: str, done: int, total: int | None) -> None:
        if not self.progress:
            return
        if label not in self.tasks:
            self.tasks[label] = self.progress.add_task(label, total=total)
        self.progress.update(self.tasks[label], completed=done, total=total)


def _options(refresh: bool, offline: bool, timeout: Optional[float], retries: Optional[int], verbose: bool, bars):
    from ..errors import UsageError
    from ..harvest.run import Options

    if refresh and offline:
        raise UsageError("--refresh and --offline exclude each other")
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    # a remote store's cache, checkpoints and records go to its local workspace (Store.path);
    # the new graph is published through the Store, on disk or on the endpoint
    return Options(store=console.store(), cache_mode="refresh" if refresh else "offline" if offline else "use",
                   timeout=timeout, retries=retries, progress=bars)


def _run(fn, stats: bool, as_json: bool, refresh, offline, timeout, retries, verbose, **kwargs) -> None:
    from ..pipeline import after_records

    out, err = _consoles()
    try:
        with _Bars(err, enabled=err.is_terminal and not as_json) as bars:
            opts = _options(refresh, offline, timeout, retries, verbose, bars)
            report = fn(opts, **kwargs)
        report.build = after_records(opts.store).build
    except KeyboardInterrupt:
        err.print("interrupted: the finished part is checkpointed; run the same command again to resume")
        raise typer.Exit(130) from None
    _report(report, stats, as_json)


def _report(report, stats: bool, as_json: bool) -> None:
    out, err = _consoles()
    data = report.stats()
    if as_json:
        sys.stdout.write(json.dumps({**data, "unknown": report.unknown, "warnings": report.warnings}) + "\n")
        return
    for text in report.unknown:
        err.print(f"unknown id: {text}", markup=False, highlight=False)
    for text in report.warnings:
        err.print(f"warning: {text}", markup=False, highlight=False)
    resumed = f" (resumed: {report.units_skipped} step(s) already done)" if report.resumed else ""
    out.print(f"{report.source}: {report.papers} paper(s), {report.added} added, {report.updated} updated, "
              f"{report.candidates} candidate(s), {report.citations} citation(s){resumed}", highlight=False)
    if report.build is not None:
        out.print(f"graph rebuilt: {report.build.stats.get('papers')} papers, "
                  f"{report.build.stats.get('citations')} citations", highlight=False)
    if stats:
        from rich.table import Table

        table = Table(title="Harvest statistics", title_justify="left")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key in ("requests", "cache_hits", "retries", "papers_added", "papers_updated", "requests_per_paper"):
            table.add_row(key.replace("_", " "), str(data[key]))
        out.print(table)


_REFRESH = typer.Option(False, "--refresh", help="Ignore cached answers: ask the service again (and re-cache).")
_OFFLINE = typer.Option(False, "--offline", help="Use only cached answers; never touch the network.")
_STATS = typer.Option(False, "--stats", help="Print requests made, cache hits, papers added/updated, requests per paper.")
_JSON = typer.Option(False, "--json", help="Print the outcome as one JSON object.")
_TIMEOUT = typer.Option(None, "--timeout", callback=console.positive_limit(), help="Seconds to wait for connecting and for each read (default: 30); "
                        "a whole request, body included, is cut off after max(4 x timeout, 30) s.")
_RETRIES = typer.Option(None, "--retries", callback=console.limit_at_least(0), help="Retries after 429, 5xx, timeouts and broken answers (default: 4).")
_VERBOSE = typer.Option(False, "--verbose", "-v", help="Log every request.")


@harvest_app.command("arxiv")
def harvest_arxiv(
    query: Optional[str] = typer.Option(None, "--query", "-q", help="An arXiv search query, e.g. 'abs:personalized AND abs:diffusion'."),
    id_: list[str] = typer.Option([], "--id", help="arXiv id(s) to look up (with or without version; old-style ids work)."),
    profile: Optional[str] = typer.Option(None, "--profile", help="'survey': queries generated from the taxonomy's labels."),
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", help="Taxonomy file (SKOS Turtle) for --profile (default: the project's)."),
    since: Optional[str] = typer.Option(None, "--since", help="Only papers submitted on or after this date (YYYY-MM-DD)."),
    max_: int = typer.Option(100, "--max", help="At most this many papers per query."),
    stats: bool = _STATS, as_json: bool = _JSON, refresh: bool = _REFRESH, offline: bool = _OFFLINE,
    timeout: Optional[float] = _TIMEOUT, retries: Optional[int] = _RETRIES, verbose: bool = _VERBOSE,
):
    """Harvest arXiv: a search, id look-ups, or the survey profile (one request per 3 s)."""
    from ..harvest.run import harvest_arxiv as run

    _run(run, stats, as_json, refresh, offline, timeout, retries, verbose, query=query, id_list=id_,
         profile=profile, taxonomy_file=taxonomy, since=since, max_results=max_)


@harvest_app.command("s2")
def harvest_s2(
    id_: list[str] = typer.Option([], "--id", help="Paper id(s): arXiv id, DOI, CorpusId:N or S2 paper id."),
    from_graph: bool = typer.Option(False, "--from-graph", help="Use every paper of the graph (not candidates) as seeds."),
    query: Optional[str] = typer.Option(None, "--query", "-q", help="A Semantic Scholar relevance search instead."),
    references: bool = typer.Option(False, "--references", help="Also fetch each seed's references (all pages)."),
    citations: bool = typer.Option(False, "--citations", help="Also fetch the papers citing each seed (all pages)."),
    depth: int = typer.Option(1, "--depth", help="Snowballing rounds: 2 also follows the candidates found in round 1."),
    min_links: int = typer.Option(2, "--min-links", "-k", help="A new work becomes a candidate when it cites or is cited by at least this many seeds."),
    max_: int = typer.Option(100, "--max", help="At most this many papers from --query."),
    stats: bool = _STATS, as_json: bool = _JSON, refresh: bool = _REFRESH, offline: bool = _OFFLINE,
    timeout: Optional[float] = _TIMEOUT, retries: Optional[int] = _RETRIES, verbose: bool = _VERBOSE,
):
    """Harvest Semantic Scholar: metadata (500 ids per request), references, citations, snowballing."""
    from ..harvest.run import graph_seeds
    from ..harvest.run import harvest_s2 as run

    if from_graph and console.store().remote and not (id_ or query):  # the seeds come from the endpoint's graph
        seeds, skipped = graph_seeds(console.store())
        if skipped:
            _consoles()[1].print(f"warning: {skipped} work(s) of the graph have no identifier Semantic Scholar "
                                 "knows (arXiv, DOI, S2, CorpusId) and were not looked up", highlight=False)
        id_, from_graph = list(dict.fromkeys(q for _, q in seeds)), False
        if not id_:
            from ..errors import UsageError

            raise UsageError("--from-graph: the graph has no work with an identifier Semantic Scholar knows")
    _run(run, stats, as_json, refresh, offline, timeout, retries, verbose, id_list=id_, from_graph=from_graph,
         query=query, references=references, citations=citations, depth=depth, min_links=min_links,
         max_results=max_)


@harvest_app.command("openalex")
def harvest_openalex(
    query: Optional[str] = typer.Option(None, "--query", "-q", help="An OpenAlex full-text search."),
    id_: list[str] = typer.Option([], "--id", help="OpenAlex W-ids, DOIs or arXiv ids to look up."),
    since: Optional[str] = typer.Option(None, "--since", help="Only works published on or after this date (YYYY-MM-DD)."),
    max_: int = typer.Option(200, "--max", help="At most this many works from --query."),
    stats: bool = _STATS, as_json: bool = _JSON, refresh: bool = _REFRESH, offline: bool = _OFFLINE,
    timeout: Optional[float] = _TIMEOUT, retries: Optional[int] = _RETRIES, verbose: bool = _VERBOSE,
):
    """Harvest OpenAlex: a search (cursor paging) or look-ups by id, into the same records."""
    from ..harvest.run import harvest_openalex as run

    _run(run, stats, as_json, refresh, offline, timeout, retries, verbose, query=query, id_list=id_,
         since=since, max_results=max_)


def _import_report(kind: str, result, published, as_json: bool) -> None:
    out, err = _consoles()
    works, datasets = len(result.bundle.works), len(result.bundle.datasets)
    changes = getattr(published, "changes", None)
    notes = getattr(published, "notes", [])
    if as_json:
        sys.stdout.write(json.dumps({"works": works, "datasets": datasets, "added": published.added,
                                     "updated": published.updated, "records_file": published.records_file,
                                     "source_id": getattr(published, "source_id", None),
                                     "changes": changes.as_dict() if changes else None, "notes": notes,
                                     "problems": [str(p) for p in result.problems]}) + "\n")
        return
    for problem in result.problems:
        err.print(f"note: {problem}", markup=False, highlight=False)
    for note in notes:
        err.print(f"note: {note}", markup=False, highlight=False)
    out.print(f"{kind}: imported {works} paper(s) and {datasets} dataset(s) "
              f"({published.added} new to the graph, {published.updated} already known); "
              f"{len(result.problems)} note(s)", highlight=False)
    if changes is not None:
        name = getattr(published, "source_id", None) or Path(published.records_file).stem
        out.print(f"source {name}: {changes.added} added, {changes.changed} changed, {changes.unchanged} unchanged, "
                  f"{len(changes.removed)} removed", markup=False, highlight=False)
        if changes.removed:
            shown = changes.removed[:20]
            more = f" and {len(changes.removed) - len(shown)} more" if len(changes.removed) > len(shown) else ""
            out.print("removed: " + ", ".join(shown) + more, markup=False, highlight=False)
    if published.build is not None:
        out.print(f"graph rebuilt: {published.build.stats.get('papers')} papers, "
                  f"{published.build.stats.get('datasets')} datasets", highlight=False)


_SOURCE_ID = typer.Option(None, "--source-id", help="The import's source id (default: the file's name and a "
                          "hash of its path). The same id again updates that source's records; another never does.")


def _publish_import(store, kind: str, file: Path, source_id: str, bundle):
    """Write an import's records under its own source id (replacing that source's older ones), rebuild."""
    from ..harvest.publish import legacy_import, publish_records
    from ..pipeline import after_records
    from ..vocab import slug

    published = publish_records(store, source_id, bundle, replace=True, mark_candidates=False, check_source=True)
    note = legacy_import(store, f"{kind}-{slug(file.stem)}", source_id)
    if note:
        published.notes.append(note)
    published.build = after_records(store).build
    return published


@import_app.command("bibtex")
def import_bibtex(
    file: Path = typer.Argument(..., help="A .bib file."),
    source_id: Optional[str] = _SOURCE_ID,
    as_json: bool = _JSON,
):
    """Import a BibTeX bibliography: broken entries are named, the rest imported."""
    _import_file("bibtex", file, as_json, source_id)


@import_app.command("awesome")
def import_awesome(
    file: Path = typer.Argument(..., help="An awesome-list README (Markdown)."),
    source_id: Optional[str] = _SOURCE_ID,
    as_json: bool = _JSON,
):
    """Import an awesome-list README: paper tables and lists, datasets, modalities, sections."""
    _import_file("awesome", file, as_json, source_id)


def _import_file(kind: str, file: Path, as_json: bool, source_id: str | None = None) -> None:
    """`kg import KIND FILE`: read the file, name what cannot be read, publish the rest, rebuild."""
    from ..errors import KgError
    from ..fileio import need_file
    from ..harvest.publish import import_source_id, read_import

    need_file(file)
    store = console.store()
    source_id = import_source_id(kind, file, source_id)
    result = read_import(store, kind, file, source_id)
    if kind == "awesome":
        if not (result.bundle.works or result.bundle.datasets):
            raise KgError(f"{file}: found no papers or datasets (Markdown tables or bullet lists of links)")
    elif not result.bundle.works:
        problems = "; ".join(str(p) for p in result.problems[:5])
        what = "entries" if kind == "bibtex" else "references"
        raise KgError(f"{file}: no {what} could be imported" + (f" ({problems})" if problems else ""))
    published = _publish_import(store, kind, file, source_id, result.bundle)
    _import_report(kind, result, published, as_json)


@import_app.command("ris")
def import_ris(
    file: Path = typer.Argument(..., help="A .ris file (exported by Zotero, Mendeley, EndNote, ...)."),
    source_id: Optional[str] = _SOURCE_ID,
    as_json: bool = _JSON,
):
    """Import a RIS file: broken lines and untitled references are named, the rest imported."""
    _import_file("ris", file, as_json, source_id)


@import_app.command("csljson")
def import_csljson(
    file: Path = typer.Argument(..., help="A CSL-JSON file (exported by Zotero, Mendeley, citeproc tools, ...)."),
    source_id: Optional[str] = _SOURCE_ID,
    as_json: bool = _JSON,
):
    """Import a CSL-JSON file: broken JSON and untitled items are named, the rest imported."""
    _import_file("csljson", file, as_json, source_id)
