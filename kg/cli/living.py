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
    from ..store.snapshots import snapshots

    store = console.store()
    store.require_local("a snapshot", hint="Snapshots name generation folders of a local store.")
    found = snapshots(store.path)
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
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", min=0.0, max=1.0,
                                                   help="Predicted labels count in the cells at this confidence "
                                                        "or more (default 0.5)."),
):
    """What changed between two states of the graph: works, labels, scope, citations, cells, datasets, methods."""
    from ..analysis.diff import FORMATS, diff_store, headline, lines, render
    from ..errors import UsageError
    from ..fileio import write_atomic

    if fmt not in FORMATS:
        raise UsageError(f"unknown format {fmt!r}; valid: {', '.join(FORMATS)}", field="fmt")
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
    write_atomic(output, text)
    _say(f"Wrote {output} ({fmt}, {len(text.encode())} bytes)")
