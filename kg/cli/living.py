"""`kg snapshot create|list|delete`, `kg diff`, `kg plan ...`, `kg update`: the living survey.

Thin wiring to kg.store.snapshots, kg.analysis.diff and kg.update; every command works on the
run's one Store (kg.cli.console).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import console

snapshot_app = typer.Typer(help="Name the graph's state now, to compare with later (kg diff).", no_args_is_help=True)


def _say(text: str) -> None:
    console.out.print(text, markup=False, highlight=False)


@snapshot_app.command("create")
def snapshot_create(
    name: str = typer.Argument(..., help="The snapshot's name (letters, digits, '.', '_', '-')."),
    note: str = typer.Option("", "--note", help="A line saying what this state is (e.g. 'submitted version')."),
    replace: bool = typer.Option(False, "--replace", help="Move an existing snapshot of this name to the graph now."),
):
    """Record the current graph under a name: a manifest naming its generation, which is then kept."""
    from ..store.snapshots import create

    snap = create(console.store(), name, note=note, replace=replace)
    _say(f"Snapshot {snap.name!r}: generation {snap.generation} (built {snap.built_at or 'at an unknown time'})")


@snapshot_app.command("list")
def snapshot_list(as_json: bool = typer.Option(False, "--json", help="Print a JSON list.")):
    """The snapshots of the store, oldest first, with the generation each names."""
    from ..output.tables import emit, new_table
    from ..store.snapshots import damaged, snapshots

    store = console.store()
    store.require_local("a snapshot", hint="Snapshots name generation folders of a local store.")
    found = snapshots(store.path)
    for path in damaged(store.path):  # said on stderr, so that --json stays a list of snapshots
        console.err.print(f"warning: snapshot {path.stem!r}: its manifest {path} cannot be read; every generation "
                          f"it may name is kept. Mend it, or remove it with `kg snapshot delete {path.stem}`.",
                          markup=False, highlight=False)
    if as_json:
        sys.stdout.write(json.dumps([s.as_dict() for s in found], ensure_ascii=False, indent=1) + "\n")
        return
    if not found:
        _say("No snapshots yet: `kg snapshot create NAME` names the graph now.")
        return
    table = new_table(f"Snapshots in {store}")
    for col in ("name", "created", "kind", "generation", "note"):
        table.add_column(col)
    for snap in found:
        table.add_row(snap.name, snap.created, snap.kind, snap.generation, snap.note)
    emit(console.out, table, whole=("name", "generation"))


@snapshot_app.command("delete")
def snapshot_delete(name: str = typer.Argument(..., help="The snapshot to delete.")):
    """Forget a snapshot; its generation is removed at a later build unless something else keeps it."""
    from ..store.snapshots import delete

    snap = delete(console.store(), name)
    _say(f"Deleted snapshot {snap.name!r} (generation {snap.generation})")


def diff(
    old: Optional[str] = typer.Argument(None, help="From: a snapshot, 'previous' (the build before the current "
                                        "one) or a generation (default: the last snapshot, else 'previous')."),
    new: Optional[str] = typer.Argument(None, help="To: a snapshot, 'current' or a generation (default: current)."),
    fmt: str = typer.Option("table", "--format", "-f", help="table | json | md | html"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write to this file instead of standard output."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", callback=console.fraction(),
                                                   help="Predicted labels count in the cells at this confidence "
                                                        "or more (default 0.5)."),
):
    """What changed between two states of the graph: works, labels, scope, citations, cells, datasets, methods."""
    from ..analysis.diff import FORMATS, diff_store, headline, lines, render
    from ..errors import UsageError
    from ..fileio import output_path, write_output

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}", field="fmt")
    if output is not None and fmt != "table":
        output = output_path(output, f"changes.{fmt}")  # before the diff: a bad path costs no reading
    result = diff_store(console.store(), old, new, min_confidence=min_confidence)
    if fmt == "table":
        if output is not None:
            raise UsageError("--format table prints to the terminal; give --format md, html or json with --output",
                             field="output")
        _say(headline(result))
        for name, items in lines(result):
            if items:
                _say(f"\n{name} ({len(items)}):")
                for item in items:
                    _say(f"  {item}")
        return
    text = render(result, fmt)
    if output is None:
        sys.stdout.write(text)
        return
    write_output(output, text)
    _say(f"Wrote {output} ({fmt}, {len(text.encode())} bytes)")


plan_app = typer.Typer(help="The harvest plan `kg update` runs: searches, the S2 snowball, list files and URLs.",
                       no_args_is_help=True)


@plan_app.command("show")
def plan_show(as_json: bool = typer.Option(False, "--json", help="Print the entries as a JSON list.")):
    """The entries of the harvest plan, numbered, and where the plan file is."""
    from ..update import describe, plan_file, read_plan

    store = console.store()
    entries = read_plan(store)
    if as_json:
        sys.stdout.write(json.dumps(entries, ensure_ascii=False, indent=1) + "\n")
        return
    _say(f"Harvest plan {plan_file(store)}: {len(entries)} entr{'y' if len(entries) == 1 else 'ies'}")
    for number, entry in enumerate(entries, 1):
        _say(f"  {number}. {describe(entry)}")


@plan_app.command("add")
def plan_add(
    kind: str = typer.Argument(..., help="arxiv | openalex (a search) | s2 (the snowball from the graph) | "
                               "awesome | bibtex | ris | csljson (a list file or URL)."),
    value: Optional[str] = typer.Argument(None, help="The search query, or the list file or its http(s) URL "
                                          "(none for s2)."),
    max_: Optional[int] = typer.Option(None, "--max", min=1, help="A search: at most this many papers a run."),
    references: bool = typer.Option(False, "--references", help="s2: follow the references of the graph's works."),
    citations: bool = typer.Option(False, "--citations", help="s2: follow the works citing them."),
    min_links: int = typer.Option(2, "--min-links", "-k", help="s2: links to seeds a new work needs."),
    depth: int = typer.Option(1, "--depth", help="s2: snowballing rounds."),
    source_id: Optional[str] = typer.Option(None, "--source-id", help="A list: its source id (as kg import's)."),
):
    """Register a search, the S2 snowball or a list file or URL for `kg update` to run again."""
    from ..update import add_entry, describe

    entry = add_entry(console.store(), kind, value, max_results=max_, references=references, citations=citations,
                      min_links=min_links, depth=depth, source_id=source_id)
    _say(f"Added to the harvest plan: {describe(entry)}")


@plan_app.command("remove")
def plan_remove(number: int = typer.Argument(..., help="The entry's number, as `kg plan show` numbers it.")):
    """Remove an entry from the harvest plan."""
    from ..update import describe, remove_entry

    _say(f"Removed from the harvest plan: {describe(remove_entry(console.store(), number))}")


def update(
    since: Optional[str] = typer.Option(None, "--since", help="Searches from this date (YYYY-MM-DD; default: the "
                                        "day of the last update; everything on the first run)."),
    refresh: bool = typer.Option(False, "--refresh", help="Ignore cached answers: ask the services again."),
    offline: bool = typer.Option(False, "--offline", help="Use only cached answers; never touch the network."),
    as_json: bool = typer.Option(False, "--json", help="Print the outcome as one JSON object."),
):
    """Run the harvest plan again, place and score new works, rebuild, snapshot, write a digest and feed."""
    from ..errors import UsageError
    from ..update import run_update

    if refresh and offline:
        raise UsageError("--refresh and --offline exclude each other")
    try:
        report = run_update(console.store(), since=since,
                            cache_mode="refresh" if refresh else "offline" if offline else "use")
    except KeyboardInterrupt:
        console.err.print("interrupted: the graph and the snapshots are as they were; run kg update again to "
                          "continue (finished harvest steps are checkpointed)")
        raise typer.Exit(130) from None
    if as_json:
        sys.stdout.write(json.dumps(report.as_dict(), ensure_ascii=False) + "\n")
        _fail_on_errors(report)
        return
    for step in report.steps:
        for warning in step.get("warnings", []):
            console.err.print(f"warning: {warning}", markup=False, highlight=False)
        if step.get("error"):
            console.err.print(f"error: {step['error']}", markup=False, highlight=False)
            continue
        _say(f"{step['entry']}: " + ("unchanged since the last import" if step.get("unchanged") else
                                     f"{step['added']} added, {step['updated']} updated")
             + f" ({step['requests']} request(s), {step['cache_hits']} from the cache)")
    if report.nothing_new:
        _say(f"Nothing new since {report.since or 'the last update'} ({report.requests} request(s))"
             + ("." if report.rebuilt else "; no record changed, so the graph in place was kept (no rebuild)."))
    else:
        from ..analysis.diff import headline

        if report.diff is not None:
            _say(headline(report.diff))
        _say(f"Snapshot {report.snapshot}" + (f"; digest {report.digest['markdown']}, {report.digest['html']}, "
                                              f"feed {report.digest['atom']}" if report.digest else ""))
    _fail_on_errors(report)


def _fail_on_errors(report) -> None:
    """Exit 1 when a plan entry failed (the rest of the run was done; that entry's records are as they were)."""
    from ..errors import KgError

    if report.errors:
        count = len(report.errors)
        raise KgError(f"{count} plan entr{'y' if count == 1 else 'ies'} failed: " + "; ".join(report.errors),
                      hint="The other entries ran; the failed entries' records are as they were.")
