"""`kg app`, `kg serve`, `kg bench`: the explorer app, the SPARQL endpoint, the benchmark.

Thin wiring from arguments to kg.app.launch, kg.serve and kg.bench.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from ..errors import UsageError
from ..output.tables import emit, new_table
from . import console


def app_command(
    port: int = typer.Option(8501, "--port", help="Port to serve the app on."),
    address: str = typer.Option("127.0.0.1", "--address", help="Address to listen on (127.0.0.1: this machine only)."),
    browser: bool = typer.Option(True, "--browser/--no-browser", help="Open the app in the web browser."),
):
    """Open the explorer app (Streamlit) in the browser; its first start builds the graph."""
    from ..app.launch import launch

    raise typer.Exit(launch(console.store(), port, address, browser))


def serve(
    port: int = typer.Option(7070, "--port", help="Port on 127.0.0.1 (0 picks a free one)."),
    timeout: float = typer.Option(30.0, "--timeout", callback=console.positive_limit(infinite=True),
                                  help="Seconds a query may run before it is stopped (inf: never)."),
    max_rows: int = typer.Option(10_000, "--max-rows", callback=console.limit_at_least(1), help="Rows a query may return."),
    workers: int = typer.Option(2, "--workers", help="Query worker processes kept ready."),
    max_queries: int = typer.Option(8, "--max-queries", help="Queries running at once (one worker each), shared fairly between clients."),
    max_mb: float = typer.Option(64.0, "--max-mb", callback=console.positive_limit(infinite=True),
                                 help="MB of values an answer may hold before it is cut (inf: never)."),
    cors_origin: list[str] = typer.Option([], "--cors-origin", help="An origin whose web pages may query the endpoint, e.g. https://yasgui.triply.cc; repeatable (pages from 127.0.0.1 and localhost always may)."),
    allow_host: list[str] = typer.Option([], "--allow-host", help="Another Host name to answer to (a reverse proxy's); repeatable (127.0.0.1, localhost and [::1] always work)."),
):
    """Serve the graph as a read-only SPARQL 1.1 endpoint on 127.0.0.1 (YASGUI, SPARQLWrapper, rdflib)."""
    from ..sparql.guard import QueryLimits
    from ..serve import serve as run_serve

    def ready(url: str) -> None:
        sys.stdout.write(f"SPARQL endpoint: {url} (read-only; Ctrl-C stops)\n")
        sys.stdout.flush()

    try:
        run_serve(str(console.store()), port, QueryLimits(max_rows=max_rows, timeout_s=timeout, max_bytes=max_mb * 2**20),
                  workers, ready=ready, cors_origins=cors_origin, allow_hosts=allow_host, max_queries=max_queries)
    except KeyboardInterrupt:
        console.err.print("stopped")


def bench(
    papers: list[int] = typer.Option([], "--papers", help="Corpus size in papers; repeat for several (default: 1000 10000 100000)."),
    repeats: int = typer.Option(3, "--repeats", help="Runs per query (the median is reported)."),
    rdflib_max: int = typer.Option(10_000, "--rdflib-max", callback=console.limit_at_least(0),
                                   help="Run the rdflib comparison up to this many papers."),
    rdflib_cap: float = typer.Option(300.0, "--rdflib-cap", callback=console.limit_at_least(1),
                                     help="Stop an rdflib query after this many seconds (reported as stopped)."),
    pyshacl_max: int = typer.Option(1_000, "--pyshacl-max", callback=console.limit_at_least(0),
                                    help="Time the pySHACL baseline of validation up to this many papers."),
    seed: int = typer.Option(0, "--seed", help="Seed of the synthetic corpus."),
    analyses: bool = typer.Option(True, "--analyses/--no-analyses", help="Also time gaps, citation analysis, classification, report and app data loading."),
    commands: bool = typer.Option(True, "--commands/--no-commands", help="Also time the user's commands as "
                                  "processes (kg gaps, validate, report, query; kg classify after new works) "
                                  "beside the engine-alone and pandas-alone baselines."),
    keep: Optional[Path] = typer.Option(None, "--keep", help="Keep the built stores in this folder."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
):
    """Benchmark build time, peak memory and query latency on synthetic corpora (Oxigraph vs rdflib)."""
    from ..bench import DEFAULT_SIZES, BenchOptions, run_bench

    if keep is not None:
        _keep_folder(keep)
    options = BenchOptions(sizes=tuple(papers) or DEFAULT_SIZES, repeats=repeats, rdflib_max=rdflib_max,
                           rdflib_query_cap_s=rdflib_cap,
                           pyshacl_max=pyshacl_max, seed=seed, analyses=analyses, commands=commands, keep=keep)
    report = run_bench(options, progress=lambda message: console.err.print(f"[dim]{message}[/]", highlight=False))
    if as_json:
        sys.stdout.write(json.dumps(report, indent=1) + "\n")
        return
    _print_bench(report)


def _keep_folder(keep: Path) -> None:
    """Make the --keep folder before any corpus is built: a file in its way, or a folder that cannot
    be made (no permission, a file among its parents), is a usage error, not a traceback."""
    if keep.exists() and not keep.is_dir():
        raise UsageError(f"--keep {keep}: that is a file, not a folder; give a folder (made when missing)")
    try:
        keep.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--keep {keep}: cannot make the folder ({exc.strerror or exc})") from None


def _print_bench(report: dict) -> None:
    m = report["machine"]
    console.out.print(f"Machine: {m.get('cpus')} CPUs, {m.get('memory_gib')} GiB, {m.get('cpu', '')}; "
              f"load average {m.get('load_average_1m')} at start", highlight=False)
    for entry in report["sizes"]:
        console.out.print(f"\n[bold]{entry['papers']} papers[/], {entry['triples']} triples: kg build {entry['load_s']:.2f} s, "
                  f"peak {entry['peak_rss_mb']:.0f} MB; bulk load {entry.get('store_load_s', float('nan')):.2f} s",
                  highlight=False)
        table = new_table()
        for col in ("query", "rows", "oxigraph s", "rdflib s", "speed-up"):
            table.add_column(col, justify="left" if col == "query" else "right")
        for q in entry["queries"]:
            table.add_row(q["name"], str(q["rows"]), f"{q['oxigraph_s']:.4f}",
                          "-" if q["rdflib_s"] is None else f"{q['rdflib_s']:.4f}",
                          "-" if q["speedup"] is None else f"{q['speedup']:.1f}x")
        emit(console.out, table, whole=("query",))
        if entry.get("queries_classified"):
            table = new_table(title="Named queries' page one after kg classify (the graph it labelled)")
            for col in ("query", "rows", "oxigraph s"):
                table.add_column(col, justify="left" if col == "query" else "right")
            for q in entry["queries_classified"]:
                table.add_row(q["name"], str(q["rows"]), f"{q['oxigraph_s']:.4f}")
            emit(console.out, table, whole=("query",))
        for a in entry.get("analyses", []):
            extra = a.get("error") or ", ".join(f"{k}={v}" for k, v in a.items() if k not in ("name", "seconds"))
            console.out.print(f"  {a['name']}: " + (f"{a['seconds']:.3f} s" if "seconds" in a else "failed")
                      + (f" ({extra})" if extra else ""), highlight=False)
        for c in entry.get("commands", []):
            figures = (f"{c['seconds']:.2f} s, peak {c['peak_rss_mb']:.0f} MB" if "seconds" in c
                       else f"failed ({c.get('error', '')})")
            console.out.print(f"  {c['name']}: {figures}", highlight=False)
        for c in entry.get("comparisons", []):
            r = c.get("ratio")
            ratio = "-" if not r else f"{r:.1f}x faster" if r >= 1 else f"{1 / r:.1f}x slower"
            console.out.print(f"  {c['path']}: {c['seconds']:.3f} s against {c['baseline']}: "
                              f"{c['baseline_seconds']:.3f} s ({ratio})", highlight=False)
        for note in entry.get("notes", []):
            console.out.print(f"  note: {note}", style="dim", highlight=False)
    for line in report.get("verdict", []):
        console.out.print(line, highlight=False)
