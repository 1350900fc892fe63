"""The `kg` command line: thin wiring from arguments to library calls.

Domain errors (kg.errors.KgError) become a message on stderr and the error's
exit code, and so do a full disk and damaged graph files (exit code 1);
nothing else is caught, so bugs still show their traceback.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import pyoxigraph as ox
import typer
from rich.console import Console
from rich.text import Text

from . import ids
from .errors import KgError, UsageError
from .paths import default_store
from .results import QueryResult
from .tables import emit, new_table
from .vocab import BASE, PREFIXES

app = typer.Typer(
    name="kg",
    help="Knowledge-graph explorer and taxonomy gap analysis for research surveys.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

QUERY_FORMATS = ("table", "csv", "json", "nt")


class State:
    store: str | None = None


def store_location() -> str:
    return State.store or default_store()


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        sys.stdout.write(f"kg {__version__}\n")
        raise typer.Exit()


@app.callback()
def _main(
    store: Optional[str] = typer.Option(
        None, "--store", help="Graph store folder (or SPARQL endpoint URL). Default: $KG_STORE, else $KG_HOME/store."),
    version: bool = typer.Option(False, "--version", callback=_print_version, is_eager=True,
                                 help="Print kg's version and exit."),
):
    """Knowledge-graph explorer and taxonomy gap analysis for research surveys."""
    State.store = store


def _graph():
    from .store import open_graph

    return open_graph(store_location())


# ---------------------------------------------------------------- build / stats
@app.command()
def build(
    corpus: Optional[Path] = typer.Option(None, "--corpus", help="Corpus folder of YAML files (default: the bundled survey corpus)."),
):
    """Build (or refresh) the graph from the bundled corpus and harvested records."""
    from .pipeline import refresh

    with err.status("Building the graph..."):
        report = refresh(store_location(), corpus=corpus).build
    for warning in report.warnings:
        err.print(f"[yellow]warning:[/] {warning}", markup=True, highlight=False)
    _print_counts(report.stats, f"Built {report.store} in {report.seconds:.2f} s")


def _print_counts(stats: dict, title: str) -> None:
    table = new_table(title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for key, value in stats.items():
        if key != "cells":
            table.add_row(key, str(value))
    cells = stats.get("cells", {})
    table.add_row("taxonomy cells filled", f"{sum(1 for v in cells.values() if v)}/{len(cells)}")
    emit(out, table)


@app.command()
def stats(as_json: bool = typer.Option(False, "--json", help="Print one JSON object.")):
    """Counts: triples, papers, authors, datasets, citations, and papers per taxonomy cell."""
    from .stats import graph_stats

    data = graph_stats(_graph())
    if as_json:
        out.print_json(json.dumps(data))
    else:
        _print_counts(data, f"Graph in {store_location()}")
        table = new_table("Papers per cell (category/mechanism)")
        table.add_column("cell")
        table.add_column("papers", justify="right")
        for cell, count in data["cells"].items():
            table.add_row(cell, str(count))
        emit(out, table)


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


@app.command()
def query(
    sparql: Optional[str] = typer.Argument(None, help="A SPARQL query (SELECT, ASK, CONSTRUCT or DESCRIBE)."),
    file: Optional[Path] = typer.Option(None, "--file", "-f", help="Read the query from a file."),
    name: Optional[str] = typer.Option(None, "--name", "-n", help="Run a named query (see --list)."),
    list_: bool = typer.Option(False, "--list", help="List the named queries and what each answers."),
    fmt: str = typer.Option("table", "--format", help="table | csv | json (W3C SPARQL results JSON; JSON-LD for graphs) | nt"),
    bind: list[str] = typer.Option([], "--bind", "-b", help="Bind a variable: NAME=VALUE (e.g. id=2406.09400)."),
    limit: int = typer.Option(10_000, "--max-rows", help="Stop after this many rows."),
    timeout: float = typer.Option(30.0, "--timeout", help="Stop after this many seconds."),
    max_mb: float = typer.Option(64.0, "--max-mb", help="Stop when the answer's values pass this many MB."),
    page: Optional[int] = typer.Option(None, "--page", help="A paged named listing: this page (from 1)."),
    all_pages: bool = typer.Option(False, "--all", help="A paged named listing: every page, in order."),
):
    """Ask the graph in SPARQL (read-only), or run a named query."""
    from .guard import QueryLimits
    from .named import get_query, named_queries, names_a_work, page_count, require_params, run_named

    if list_:
        table = new_table("Named queries")
        for col in ("name", "answers"):
            table.add_column(col)
        for q in named_queries().values():
            binds = f" Needs {' '.join(f'--bind {p}=VALUE' for p in q.params)}." if q.params else ""
            paged = f" Paged: {q.page_size} works a page." if q.page_size else ""
            table.add_row(q.name, Text(q.answers + binds + paged))
        emit(out, table, whole=("name",), wrap=("answers",))
        return
    if fmt not in QUERY_FORMATS:
        raise UsageError(f"unknown format {fmt!r}; valid: {', '.join(QUERY_FORMATS)}")
    given = [x for x in (sparql, file, name) if x]
    if len(given) != 1:
        raise UsageError("give exactly one of: a SPARQL query, --file F, --name NAME (or --list)")
    bindings = dict(_parse_binding(b) for b in bind)
    if limit < 1 or timeout <= 0 or max_mb <= 0:
        raise UsageError("--max-rows, --timeout and --max-mb must be positive")
    limits = QueryLimits(max_rows=limit, timeout_s=timeout, max_bytes=max_mb * 2**20)
    if (page is not None or all_pages) and not name:
        raise UsageError("--page and --all are for paged named queries (--name; see --list)")
    if name:
        named = get_query(name)
        require_params(named, bindings)
        if page is not None and named.page_size is None:
            raise UsageError(f"query {name!r} is not paged; it answers in one piece (drop --page)")
        graph = _graph()
        if "id" in named.params and not names_a_work(graph, bindings["id"]):
            raise KgError(f"no work in the graph has the id {bindings['id']!r}",
                          hint="Give an arXiv id, DOI, S2 or OpenAlex id, citation key, short name or the work's "
                               "IRI; `kg query --name papers` lists them.")
        paged = named.page_size is not None and not all_pages  # one page, page one unless --page
        pages = page_count(graph, named, bindings) if paged else 1
        if page is not None and not 1 <= page <= pages:
            raise UsageError(f"query {name!r} has {pages} page(s) of {named.page_size} on this graph; "
                             f"--page {page} is outside them")
        page = (page or 1) if paged else None
        result = run_named(graph, name, bindings, limits, page=page)
        _print_result(result, fmt)
        if pages > 1:
            err.print(f"note: page {page} of {pages} ({named.page_size} a page); "
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
    result = _graph().query(text, bindings, limits)
    _print_result(result, fmt)
    _truncation_note(result, limit)


def _truncation_note(result: QueryResult, limit: int) -> None:
    if result.truncated:
        note = result.note or f"stopped at {limit} rows"
        flag = "--max-mb" if "size limit" in note else "--max-rows"
        err.print(f"note: {note} ({flag})")


def compact(value: str) -> str:
    for prefix, ns in PREFIXES.items():
        if value.startswith(ns) and "/" not in value[len(ns):]:
            return f"{prefix}:{value[len(ns):]}"
    if value.startswith(BASE):
        return "…/" + value[len(BASE):]
    return value


def _print_result(result: QueryResult, fmt: str) -> None:
    if fmt == "json":
        if result.kind == "graph":
            sys.stdout.write(_graph_as(result, ox.RdfFormat.JSON_LD).decode() + "\n")
        else:
            sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=1) + "\n")
    elif fmt == "csv":
        sys.stdout.write(result.to_csv())
    elif fmt == "nt":
        if result.kind != "graph":
            raise UsageError("--format nt is for CONSTRUCT/DESCRIBE results; use table, csv or json")
        sys.stdout.write(result.to_ntriples())
    elif result.kind == "ask":
        out.print("yes" if result.boolean else "no")
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
        emit(out, table)
        out.print(f"{len(rows)} row(s)", style="dim")


def _graph_as(result: QueryResult, fmt: ox.RdfFormat) -> bytes:
    data = ox.parse(result.to_ntriples(), format=ox.RdfFormat.N_TRIPLES)
    return ox.serialize(data, format=fmt)


# ---------------------------------------------------------------- validate / export
@app.command()
def validate():
    """Check the graph against the SHACL shapes (exit 0 when it conforms, 1 otherwise)."""
    from .validate import to_rdflib, validate_graph

    with err.status("Validating..."):
        report = validate_graph(to_rdflib(_graph()))
    out.print(report.text(), highlight=False, markup=False)
    raise typer.Exit(0 if report.conforms else 1)


@app.command()
def export(
    fmt: str = typer.Option(..., "--format", help="ttl | nt | jsonld | graphml | csv | ris | csljson (Zotero, Mendeley, EndNote)"),
    output: Path = typer.Option(..., "--output", "-o", help="File to write ('-' for standard output)."),
):
    """Export the graph (RDF, GraphML for network tools, CSV of papers, RIS / CSL-JSON for reference managers)."""
    from .export import export as run_export

    if str(output) != "-":
        out.print(run_export(_graph(), fmt, output), highlight=False)
        return
    import shutil
    import tempfile

    with tempfile.TemporaryDirectory() as folder:  # written whole first, then copied to stdout
        path = Path(folder) / f"export.{fmt}"
        summary = run_export(_graph(), fmt, path)
        with path.open("rb") as fh:
            sys.stdout.flush()
            shutil.copyfileobj(fh, sys.stdout.buffer)
            sys.stdout.buffer.flush()
    err.print(summary.replace(str(path), "standard output"), highlight=False)


# ---------------------------------------------------------------- gaps / report (kg/gaps_cli.py)
from .gaps_cli import register as _register_gaps  # noqa: E402

_register_gaps(app)

# ---------------------------------------------------------------- harvest / import (kg/harvest/cli.py)
from .harvest.cli import harvest_app, import_app  # noqa: E402

app.add_typer(harvest_app, name="harvest")
app.add_typer(import_app, name="import")


@app.command("app")
def app_command(
    port: int = typer.Option(8501, "--port", help="Port to serve the app on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address to listen on (127.0.0.1: this machine only)."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open the app in the web browser."),
):
    """Open the explorer app (Streamlit) in the browser; its first start builds the graph."""
    from .app.launch import launch

    raise typer.Exit(launch(store_location(), port, address, browser))


from .classify.cli import register as _register_classify  # noqa: E402  (kg classify, kg curate, kg screen)

_register_classify(app)


# ---------------------------------------------------------------- serve / bench
@app.command()
def serve(
    port: int = typer.Option(7070, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    timeout: float = typer.Option(30.0, "--timeout", help="Seconds a query may run before it is stopped."),
    max_rows: int = typer.Option(10_000, "--max-rows", help="Rows a query may return."),
    workers: int = typer.Option(2, "--workers", help="Query worker processes kept ready."),
    max_queries: int = typer.Option(8, "--max-queries", help="Queries running at once (one worker each), shared fairly between clients."),
    max_mb: float = typer.Option(64.0, "--max-mb", help="MB of values an answer may hold before it is cut."),
    cors_origin: list[str] = typer.Option([], "--cors-origin", help="An origin whose web pages may query the endpoint, e.g. https://yasgui.triply.cc; repeatable (pages from 127.0.0.1 and localhost always may)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Another Host name to answer to (a reverse proxy's); repeatable (127.0.0.1, localhost and [::1] always work)."),
):
    """Serve the graph as a read-only SPARQL 1.1 endpoint on 127.0.0.1 (YASGUI, SPARQLWrapper, rdflib)."""
    from .guard import QueryLimits
    from .serve import serve as run_serve

    if timeout <= 0 or max_rows < 1 or max_mb <= 0:
        raise UsageError("--timeout and --max-mb must be positive and --max-rows at least 1")

    def ready(url: str) -> None:
        sys.stdout.write(f"SPARQL endpoint: {url} (read-only; Ctrl-C stops)\n")
        sys.stdout.flush()

    try:
        run_serve(store_location(), port, QueryLimits(max_rows=max_rows, timeout_s=timeout, max_bytes=max_mb * 2**20),
                  workers, ready=ready, cors_origins=cors_origin, allow_hosts=allow_host, max_queries=max_queries)
    except KeyboardInterrupt:
        err.print("stopped")


@app.command()
def bench(
    papers: list[int] = typer.Option([], "--papers", help="Corpus size in papers; repeat for several (default: 1000 10000 100000)."),
    repeats: int = typer.Option(3, "--repeats", help="Runs per query (the median is reported)."),
    rdflib_max: int = typer.Option(10_000, "--rdflib-max", help="Run the rdflib comparison up to this many papers."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic corpus."),
    analyses: bool = typer.Option(True, "--analyses/--no-analyses", help="Also time gaps, citation analysis, classification, report and app data loading."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Keep the built stores in this folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
):
    """Benchmark build time, peak memory and query latency on synthetic corpora (Oxigraph vs rdflib)."""
    from .bench import DEFAULT_SIZES, BenchOptions, run_bench

    if keep is not None:
        keep.mkdir(parents=True, exist_ok=True)
    options = BenchOptions(sizes=tuple(papers) or DEFAULT_SIZES, repeats=repeats, rdflib_max=rdflib_max,
                           seed=seed, analyses=analyses, keep=keep)
    report = run_bench(options, progress=lambda message: err.print(f"[dim]{message}[/]", highlight=False))
    if as_json:
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return
    _print_bench(report)


def _print_bench(report: dict) -> None:
    m = report["machine"]
    out.print(f"Machine: {m.get('cpus')} CPUs, {m.get('memory_gib')} GiB, {m.get('cpu', '')}; "
              f"load average {m.get('load_average_1m')} at start", highlight=False)
    for entry in report["sizes"]:
        out.print(f"\n[bold]{entry['papers']} papers[/], {entry['triples']} triples: kg build {entry['load_s']:.2f} s, "
                  f"peak {entry['peak_rss_mb']:.0f} MB; bulk load {entry.get('store_load_s', float('nan')):.2f} s",
                  highlight=False)
        table = new_table()
        for col in ("query", "rows", "oxigraph s", "rdflib s", "speed-up"):
            table.add_column(col, justify="left" if col == "query" else "right")
        for q in entry["queries"]:
            table.add_row(q["name"], str(q["rows"]), f"{q['oxigraph_s']:.4f}",
                          "-" if q["rdflib_s"] is None else f"{q['rdflib_s']:.4f}",
                          "-" if q["speedup"] is None else f"{q['speedup']:.1f}x")
        emit(out, table, whole=("query",))
        for a in entry.get("analyses", []):
            extra = a.get("error") or ", ".join(f"{k}={v}" for k, v in a.items() if k not in ("name", "seconds"))
            out.print(f"  {a['name']}: " + (f"{a['seconds']:.3f} s" if "seconds" in a else "failed")
                      + (f" ({extra})" if extra else ""), highlight=False)
        for note in entry.get("notes", []):
            out.print(f"  note: {note}", style="dim", highlight=False)
    for line in report.get("verdict", []):
        out.print(line, highlight=False)


def _storage_problem(exc: BaseException) -> tuple[str, str] | None:
    """(message, hint) for a full disk or damaged graph files met outside kg's own checks; else None."""
    import errno

    detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
    if getattr(exc, "errno", None) in (errno.ENOSPC, errno.EDQUOT) or "No space left on device" in detail:
        return (f"error: the disk is full ({detail})", "Free some disk space, then run the command again.")
    if detail.startswith(("Corruption:", "IO error:")):
        return (f"error: the graph's files in {store_location()} are damaged ({detail})",
                "Rebuild it with `kg build`: that publishes a fresh generation from the records and "
                "curation.yaml, which are untouched.")
    return None


def main() -> None:
    try:
        app()
    except KgError as exc:
        err.print(f"error: {exc.message}", markup=False, highlight=False)
        if exc.hint:
            err.print(exc.hint, markup=False, highlight=False)
        sys.exit(exc.exit_code)
    except (OSError, RuntimeError) as exc:  # the world broke (a full disk, damaged graph files), not kg
        problem = _storage_problem(exc)
        if problem is None:
            raise
        for line in problem:
            err.print(line, markup=False, highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
