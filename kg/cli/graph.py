"""`kg build`, `kg stats`, `kg query`, `kg validate`, `kg export`: the graph itself.

Thin wiring from arguments to kg.build, kg.sparql.stats, kg.sparql.named / the query guard, kg.rdf.validate
and kg.output.export; every command works on the run's one Store (kg.cli.console).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pyoxigraph as ox
import typer
from rich.text import Text

from ..records import ids
from ..errors import KgError, UsageError
from ..sparql.guard import QueryLimits
from ..sparql.results import QueryResult
from ..output.tables import emit, new_table
from ..vocab import compact
from . import console

QUERY_FORMATS = ("table", "csv", "json", "nt")


def build(
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder of YAML files (default: the bundled survey corpus)."),
    phases: bool = typer.Option(False, "--phases", help="Also print where the build's time went, phase by phase."),
):
    """Build (or refresh) the graph from the bundled corpus and harvested records (on a new store,
    also place its papers with the classifier, as the app's first start does)."""
    from ..pipeline import refresh

    with console.err.status("Building the graph..."):
        report = refresh(console.store(), corpus=corpus).build
    for warning in report.warnings:
        console.err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    _print_counts(report.stats, f"Built {report.store} in {report.seconds:.2f} s")
    if phases:
        table = new_table("Build phases")
        table.add_column("phase")
        table.add_column("seconds", justify="right")
        for name, seconds in report.phases.items():
            table.add_row(name, f"{seconds:.2f}")
        if not report.phases:  # the classifier read the new graph first (a first build): no split
            table.add_row("(no split: the classifier placed the works in this build)", "")
        emit(console.out, table)


def _print_counts(stats: dict, title: str) -> None:
    table = new_table(title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in stats.items():
        if key != "cells":
            table.add_row(key, str(value))
    cells = stats.get("cells", {})
    table.add_row("taxonomy cells filled", f"{sum(1 for v in cells.values() if v)}/{len(cells)}")
    emit(console.out, table)


def stats(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")):
    """Counts: triples, papers, authors, datasets, citations, and papers per taxonomy cell."""
    from ..sparql.stats import graph_stats

    data = graph_stats(console.graph())
    if as_json:
        console.out.print_json(json.dumps(data))
    else:
        _print_counts(data, f"Graph in {console.store()}")
        table = new_table("Papers per cell (category/mechanism)")
        table.add_column("cell")
        table.add_column("papers", justify="right")
        for cell, count in data["cells"].items():
            table.add_row(cell, str(count))
        emit(console.out, table)


# ---------------------------------------------------------------- query
def _parse_binding(text: str) -> tuple[str, str]:
    if "=" not in text:
        raise UsageError(f"--bind takes NAME=VALUE, got {text!r}")
    name, _, value = text.partition("=")
    value = value.strip()
    if not value.startswith("http"):
        parsed = ids.parse_any(value)
        value = parsed[1] if parsed else value
    return name.strip().lstrip("?$"), value


def query(
    sparql: Optional[str] = typer.Argument(None, help="A SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the query from a file."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Run a named query (see --list)."),
    list_: bool = typer.Option(False, "--list", help="List the named queries and what each answers."),
    fmt: str = typer.Option("table", "--format", help="table | csv | json (W3C SPARQL results JSON; JSON-LD for graphs) | nt"),
    bind: list[str] = typer.Option([], "--bind", "-b", help="Bind a variable: NAME=VALUE (e.g. id=2406.09400)."),
    limit: int = typer.Option(10_000, "--max-rows", callback=console.limit_at_least(1), help="Stop after this many rows."),
    timeout: float = typer.Option(30.0, "--timeout", callback=console.positive_limit(infinite=True),
                                  help="Stop after this many seconds (inf: never)."),
    max_mb: float = typer.Option(64.0, "--max-mb", callback=console.positive_limit(infinite=True),
                                 help="Stop when the answer's values pass this many MB (inf: never)."),
    page: Optional[int] = typer.Option(None, "--page", help="A paged named listing: this page (from 1)."),
    all_pages: bool = typer.Option(False, "--all", help="A paged named listing: every page, in order."),
):
    """Ask the graph in SPARQL (read-only), or run a named query."""
    from ..sparql.named import (
        check_notations,
        get_query,
        named_queries,
        names_a_work,
        page_count,
        require_params,
        run_named,
    )
    from ..sparql.text import check_bindings

    if list_:
        table = new_table("Named queries")
        for col in ("name", "answers"):
            table.add_column(col)
        for q in named_queries().values():
            binds = f" Needs {' '.join(f'--bind {p}=VALUE' for p in q.params)}." if q.params else ""
            paged = f" Paged: {q.page_size} works a page." if q.page_size else ""
            table.add_row(q.name, Text(q.answers + binds + paged))
        emit(console.out, table, whole=("name",), wrap=("answers",))
        return
    if fmt not in QUERY_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; valid: {', '.join(QUERY_FORMATS)}")
    given = [x for x in (sparql, file, name) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of: a SPARQL query, --file F, --name NAME (or --list)")
    bindings = dict(_parse_binding(b) for b in bind)
    limits = QueryLimits(max_rows=limit, timeout_s=timeout, max_bytes=max_mb * 2**20)
    if (page is not None or all_pages) and not name:
        raise UsageError("--page and --all are for paged named queries (--name; see --list)")
    if name:
        named = get_query(name)
        require_params(named, bindings)
        if page is not None and named.page_size is None:
            raise UsageError(f"query {name!r} is not paged; it answers in one piece (drop --page)")
        graph = console.graph()
        if "id" in named.params and not names_a_work(graph, bindings["id"]):
            raise KgError(f"no work in the graph has the id {bindings['id']!r}",
                          hint="Give an arXiv id, DOI, S2 or OpenAlex id, citation key, short name or the work's "
                               "IRI; `kg query --name papers` lists them.")
        check_notations(graph, named, bindings)  # an unknown cell answers nothing: say so instead
        paged = named.page_size is not None and not all_pages  # one page, page one unless --page
        pages = page_count(graph, named, bindings) if paged else 1
        if page is not None and not 1 <= page <= pages:
            raise UsageError(f"query {name!r} has {pages} page(s) of {named.page_size} on this graph; "
                             f"--page {page} is outside them")
        page = (page or 1) if paged else None
        result = run_named(graph, name, bindings, limits, page=page)
        _print_result(result, fmt)
        if pages > 1:
            console.err.print(f"note: page {page} of {pages} ({named.page_size} a page); "
                      f"--page N for another, --all for every page")
        _truncation_note(result, limit)
        return
    if file:
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise UsageError(f"cannot read {file}: {exc}") from None
    else:
        text = sparql
    check_bindings(text, bindings, projected=not console.store().remote)
    result = console.graph().query(text, bindings, limits)
    _print_result(result, fmt)
    _truncation_note(result, limit)


def _truncation_note(result: QueryResult, limit: int) -> None:
    if result.truncated:
        note = result.note or f"stopped at {limit} rows"
        flag = "--max-mb" if "size limit" in note else "--max-rows"
        console.err.print(f"note: {note} ({flag})")

def _print_result(result: QueryResult, fmt: str) -> None:
    if fmt == "json":
        if result.kind == "graph":
            sys.stdout.write(_graph_as(result, ox.RdfFormat.JSON_LD).decode() + "\n")
        else:
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        from ..output.csvfile import query_result_csv

        sys.stdout.write(query_result_csv(result))
    elif fmt == "nt":
        if result.kind != "graph":
            raise UsageError("--format nt is for CONSTRUCT/DESCRIBE results; use table, csv or json")
        sys.stdout.write(result.to_ntriples())
    elif result.kind == "ask":
        console.out.print("yes" if result.boolean else "no")
    else:
        table = new_table()
        if result.kind == "graph":
            for col in ("subject", "predicate", "object"):
                table.add_column(col)
            rows = [[compact(t.value) for t in triple] for triple in result.triples]
        else:
            for var in result.vars:
                table.add_column(var)
            rows = [["" if row.get(v) is None else compact(row[v].value) for v in result.vars] for row in result.rows]
        for row in rows:
            table.add_row(*[Text(v) for v in row])  # values as text, never as markup
        emit(console.out, table)
        console.out.print(f"{len(rows)} row(s)", style="dim")


def _graph_as(result: QueryResult, fmt: ox.RdfFormat) -> bytes:
    data = ox.parse(result.to_ntriples(), format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(data, format=fmt)


# ---------------------------------------------------------------- validate / export
def validate(
    taxonomy: Optional[Path] = typer.Option(None, "--taxonomy", help="Check this taxonomy file (SKOS Turtle) "
                                            "instead of the graph: axes, notations, labels, structure."),
    engine: str = typer.Option("store", "--engine",
                               help="store: the shapes as whole-graph SPARQL queries in the store (seconds at 100k "
                                    "papers) | pyshacl: the reference SHACL engine, node by node in memory (slow)."),
):
    """Check the graph against the SHACL shapes, or a taxonomy file before use (exit 0 when
    it conforms, 1 otherwise)."""
    if taxonomy is not None:
        from ..rdf.taxonomy_check import check_taxonomy

        result = check_taxonomy(taxonomy)
        console.out.print(result.text(), highlight=False, markup=False)
        raise typer.Exit(0 if result.ok else 1)
    from ..rdf.validate import to_rdflib, validate_graph
    from ..rdf.validate_sparql import validate_store

    if engine not in ("store", "pyshacl"):
        raise UsageError(f"unknown validation engine {engine!r}: use store or pyshacl", field="engine")
    with console.err.status("Validating..."):
        graph = console.graph()
        report = validate_store(graph) if engine == "store" else validate_graph(to_rdflib(graph))
    console.out.print(report.text(), highlight=False, markup=False)
    raise typer.Exit(0 if report.conforms else 1)


def export(
    fmt: str = typer.Option(..., "--format", help="ttl | nt | jsonld | graphml | csv | ris | csljson (Zotero, Mendeley, EndNote)"),
    output: Path = typer.Option(..., "--output", "-o", help="File to write ('-' for standard output)."),
):
    """Export the graph (RDF, GraphML for network tools, CSV of papers, RIS / CSL-JSON for reference managers)."""
    from ..output.export import export as run_export

    if str(output) != "-":
        console.out.print(run_export(console.graph(), fmt, output), highlight=False)
        return
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # written whole first, then copied to stdout
        path = Path(folder) / f"export.{fmt}"
        summary = run_export(console.graph(), fmt, path)
        with path.open("rb") as fh:
            sys.stdout.flush()
            shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    console.err.print(summary.replace(str(path), "standard output"), highlight=False)
