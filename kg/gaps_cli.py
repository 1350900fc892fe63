"""`kg gaps` and `kg report`: thin wiring from arguments to kg.analysis and kg.report.

Registered on the main typer app by kg/cli.py (`register(app)`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

STATUS_STYLE = {"empty": "bold red", "thin": "yellow", "ok": "green"}


def _cells_json(cells, by: str | None) -> list[dict]:
    keys = ["category", "mechanism"] + (["modality"] if by == "modality" else ["year"] if by == "year" else [])
    keys += ["count", "expected", "score", "status", "papers", "works"]
    return [{k: row[k] for k in keys} for row in cells.to_dict("records")]


def gaps(
    by: Optional[str] = typer.Option(None, "--by", help="Split each cell further: modality | year."),
    category: Optional[str] = typer.Option(
        None, "--category", "-c", help="Only this category's cells (a notation, e.g. retrieval)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list of cells: category, mechanism (plus modality or year), count, "
                              "expected, score, status, papers, works."),
):
    """The taxonomy gap matrix: papers per category x mechanism cell, expected count, score."""
    from .analysis import BY_CHOICES, empty_cells, gap_matrix, load_corpus, summary, thin_cells
    from .cli import _graph, err, out
    from .errors import UsageError
    from .tables import emit, new_table

    if by is not None and by not in BY_CHOICES:
        raise UsageError(f"unknown --by {by!r}; valid: {', '.join(BY_CHOICES)}")
    corpus = load_corpus(_graph())
    cells = gap_matrix(corpus, by=by, category=category)
    if as_json:
        sys.stdout.write(json.dumps(_cells_json(cells, by), ensure_ascii=False, indent=1) + "\n")
        return
    head = summary(corpus)
    if cells.empty:
        out.print("The taxonomy has no category x mechanism cells.")
        return
    if by is None:
        mechs = list(dict.fromkeys(cells["mechanism"]))
        table = new_table("Papers per cell: count (expected, score)")
        table.add_column("category", no_wrap=True)
        for m in mechs:
            table.add_column(m, justify="right")
        for cat, group in cells.groupby("category", sort=False):
            by_mech = {r["mechanism"]: r for r in group.to_dict("records")}
            table.add_row(cat, *[_cell_text(by_mech[m]) for m in mechs])
    else:
        column = "modality" if by == "modality" else "year"
        values = list(dict.fromkeys(cells[column]))
        table = new_table(f"Papers per cell and {column} (red: none)")
        table.add_column("category / mechanism", no_wrap=True)
        for v in values:
            table.add_column(str(v), justify="right")
        for (cat, mech), group in cells.groupby(["category", "mechanism"], sort=False):
            counts = dict(zip(group[column], group["count"]))
            table.add_row(f"{cat} / {mech}", *[f"[red]{counts[v]}[/]" if not counts[v] else str(counts[v])
                                               for v in values])
    # many years or modalities: the table is split into parts that repeat the cell column
    emit(out, table, whole=[str(c.header) for c in table.columns], keys=1)
    if head["note"]:
        err.print(f"note: {head['note']}", markup=False, highlight=False)
    if by is None:
        for label, frame in (("empty", empty_cells(corpus, category=category)),
                             ("thin", thin_cells(corpus, category=category))):
            for row in frame.to_dict("records"):
                near = ", ".join(n["label"] for n in row["nearest"]) or "none"
                out.print(f"{label}: {row['category']} x {row['mechanism']} "
                          f"(expected {row['expected']:.2f}); nearest papers: {near}", markup=False, highlight=False)
        out.print(f"{head['filled']}/{head['cells']} cells filled, {head['empty']} empty, {head['thin']} thin. "
                  "Expected = row total x column total / grand total; score = (count - expected) / "
                  "sqrt(expected).", markup=False, highlight=False)


def _cell_text(row: dict) -> str:
    style = STATUS_STYLE.get(row["status"], "")
    return f"[{style}]{row['count']}[/] ({row['expected']:.1f}, {row['score']:+.2f})"


def report(
    fmt: str = typer.Option("md", "--format", "-f",
                            help="md | tex | html | csv | json | bib | tex-table (the taxonomy table alone, to "
                                 "\\input into a survey) | pdf (the LaTeX compiled; needs pdflatex or latexmk)"),
    output: Optional[str] = typer.Option(None, "--output", "-o",
                                         help="File to write ('-' for standard output, the default; "
                                              "gaps-report.pdf for --format pdf)."),
    category: Optional[str] = typer.Option(None, "--category", "-c", help="Only this category (a notation, e.g. retrieval)."),
):
    """Write the gap report for survey authors (Markdown, LaTeX, HTML, CSV, JSON, BibTeX, PDF)."""
    from .cli import _graph, out
    from .errors import UsageError
    from .report import build_report, check_format, render, write_report

    check_format(fmt)
    if output is None:
        output = "gaps-report.pdf" if fmt == "pdf" else "-"
    if fmt == "pdf" and output == "-":
        raise UsageError("--format pdf writes a file: give --output FILE (e.g. gaps.pdf)")
    graph = _graph()
    if output == "-":
        sys.stdout.write(render(build_report(graph, category), fmt))
        return
    path = write_report(graph, fmt, Path(output), category)
    out.print(f"Wrote {path} ({fmt}, {path.stat().st_size} bytes)", markup=False, highlight=False)


def register(app: typer.Typer) -> None:
    app.command("gaps")(gaps)
    app.command("report")(report)
