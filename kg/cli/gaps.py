"""`kg gaps` and `kg report`: thin wiring from arguments to kg.analysis and kg.report.

Registered on the typer app by kg/cli/__init__.py.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from . import console

STATUS_STYLE = {"empty": "bold red", "thin": "yellow", "ok": "green"}
# kg.analysis.data.MIN_CONFIDENCE (kept here too so that `kg --help` does not load pandas; a test checks they agree)
MIN_CONFIDENCE = 0.5
# kg.report.content.WORKS_PER_CELL (here for the same reason; a test checks they agree)
WORKS_PER_CELL = 25
MIN_CONFIDENCE_HELP = (f"Predicted labels (the classifier's) count at this confidence or more, below it not at all "
                       f"(default {MIN_CONFIDENCE}: cross-validated, predictions from 0.5 up held 93-95 % of the time).")


def _cells_json(cells, by: str | None) -> list[dict]:
    keys = ["category", "mechanism"] + (["modality"] if by == "modality" else ["year"] if by == "year" else [])
    keys += ["asserted", "predicted", "count", "expected", "score", "status", "asserted_expected", "asserted_status",
             "papers", "works", "predicted_works"]
    return [{k: row[k] for k in keys} | {"total": row["count"]} for row in cells]


def count_text(asserted: int, predicted: int) -> str:
    """A cell's papers: '5' when all are asserted, '5 (+3 predicted)' otherwise."""
    return f"{asserted} (+{predicted} predicted)" if predicted else str(asserted)


def gaps(
    by: Optional[str] = typer.Option(None, "--by", help="Split each cell further: modality | year."),
    category: Optional[str] = typer.Option(
        None, "--category", "-c", help="Only this category's cells (a notation, e.g. retrieval)."),
    as_json: bool = typer.Option(
        False, "--json", help="Print a JSON list of cells: category, mechanism (plus modality or year), asserted, "
                              "predicted, total (= count), expected, score, status, asserted_expected, "
                              "asserted_status, papers, works, predicted_works."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", callback=console.fraction(),
                                                   help=MIN_CONFIDENCE_HELP),
):
    """The taxonomy gap matrix: papers per category x mechanism cell (asserted + predicted), expected count, score."""
    from ..analysis.counting import BY_CHOICES
    from ..analysis.gap_counts import GapCounts
    from ..errors import UsageError
    from ..output.tables import emit, new_table

    if by is not None and by not in BY_CHOICES:
        raise UsageError(f"unknown --by {by!r}; valid: {', '.join(BY_CHOICES)}")
    counts = GapCounts(console.graph(), min_confidence)  # counted in the store: kg.analysis.gap_counts
    cells = counts.cells(by, category=category, works=as_json)
    if as_json:
        sys.stdout.write(json.dumps(_cells_json(cells, by), ensure_ascii=False, indent=1) + "\n")
        return
    head = counts.summary()
    if not cells:
        console.out.print("The taxonomy has no category x mechanism cells." if by is None else
                          f"No work counted in a cell has {'a publication year' if by == 'year' else 'a modality'} "
                          f"yet: there are no cells by {by}.")
        return
    if by is None:
        table = new_table(f"Papers per cell: asserted (+ predicted, confidence >= {counts.min_confidence:g})")
        for name in ("category", "mechanism"):
            table.add_column(name, no_wrap=True)
        for name in ("papers", "exp.", "score"):
            table.add_column(name, justify="right")
        table.add_column("status")
        table.add_column("asserted")
        for row in cells:
            table.add_row(row["category"], row["mechanism"], _styled(row["status"], count_text(row["asserted"], row["predicted"])),
                          f"{row['expected']:.2f}", f"{row['score']:+.2f}", _styled(row["status"], row["status"]),
                          _styled(row["asserted_status"], row["asserted_status"]))
    else:
        column = "modality" if by == "modality" else "year"
        values = list(dict.fromkeys(row[column] for row in cells))
        guessed = any(row["predicted"] for row in cells)
        table = new_table(f"Papers per cell and {column} (red: none"
                          + (f"; a+p: asserted + predicted at confidence >= {counts.min_confidence:g})" if guessed else ")"))
        table.add_column("category / mechanism", no_wrap=True)
        for v in values:
            table.add_column(str(v), justify="right")
        groups: dict[tuple[str, str], dict] = {}
        for row in cells:
            groups.setdefault((row["category"], row["mechanism"]), {})[row[column]] = (row["asserted"], row["predicted"])
        for (cat, mech), found in groups.items():
            table.add_row(f"{cat} / {mech}", *[f"[red]{a + p}[/]" if not a + p else f"{a}+{p}" if p else str(a)
                                               for a, p in (found[v] for v in values)])
    # many years or modalities: the table is split into parts that repeat the cell column
    emit(console.out, table, whole=[str(c.header) for c in table.columns], keys=1)
    if head["note"]:
        console.err.print(f"note: {head['note']}", markup=False, highlight=False)
    if by is None:
        for label, flagged in (("empty", counts.empty_cells(category=category)),
                               ("thin", counts.thin_cells(category=category))):
            for row in flagged:
                near = ", ".join(n["label"] for n in row["nearest"]) or "none"
                console.out.print(f"{label}: {row['category']} x {row['mechanism']}: {row['note']} "
                          f"(expected {row['expected']:.2f}); nearest papers: {near}", markup=False, highlight=False)
        console.out.print(f"{head['filled']}/{head['cells']} cells filled, {head['empty']} empty, {head['thin']} thin "
                  f"(asserted alone: {head['asserted_filled']} filled, {head['asserted_empty']} empty, "
                  f"{head['asserted_thin']} thin). {head['predicted_labels']} predicted labels count "
                  f"(confidence >= {head['min_confidence']:g}), {head['held_back']} below do not. "
                  "Expected = row total x column total / grand total; score = (count - expected) / "
                  "sqrt(expected); asserted: the status by asserted papers alone.", markup=False, highlight=False)


def _styled(status: str, text: str) -> str:
    style = STATUS_STYLE.get(status, "")
    return f"[{style}]{text}[/]" if style else text


def report(
    fmt: str = typer.Option("md", "--format", "-f",
                            help="md | tex | html | csv | json | bib | tex-table (the taxonomy table alone, to "
                                 "\\input into a survey) | pdf (the LaTeX compiled; needs pdflatex or latexmk)"),
    output: Optional[str] = typer.Option(None, "--output", "-o",
                                         help="File to write ('-' for standard output, the default; "
                                              "gaps-report.pdf for --format pdf)."),
    category: Optional[str] = typer.Option(None, "--category", "-c", help="Only this category (a notation, e.g. retrieval)."),
    min_confidence: Optional[float] = typer.Option(None, "--min-confidence", callback=console.fraction(),
                                                   help=MIN_CONFIDENCE_HELP),
    since: Optional[str] = typer.Option(None, "--since", help="Add what changed since this snapshot (or "
                                        "'previous': the build before the current one); md, html and json."),
    works_per_cell: Optional[str] = typer.Option(
        None, "--works-per-cell", metavar="N|all",
        help=f"Works each taxonomy cell lists, its most relevant first (asserted, then most cited, latest); "
             f"'all' lists every one. Default: {WORKS_PER_CELL} in md, tex, html, bib, tex-table and pdf (the "
             "report says how many more each cell holds and how to list them: kg query --name cell-papers), "
             "all in json and csv (the complete data exports)."),
):
    """Write the gap report for survey authors (Markdown, LaTeX, HTML, CSV, JSON, BibTeX, PDF).

    The formats people read list each cell's most relevant works (--works-per-cell); JSON and CSV
    list every work."""
    from ..errors import UsageError
    from ..report import DEFAULT, build_report, check_format, render, works_per_cell_for, write_report

    check_format(fmt)
    cap = works_per_cell_for(fmt, DEFAULT if works_per_cell is None else works_per_cell)
    if since is not None:
        _report_since(fmt, output, category, min_confidence, since, cap)
        return
    if output is None:
        output = "gaps-report.pdf" if fmt == "pdf" else "-"
    if fmt == "pdf" and output == "-":
        raise UsageError("--format pdf writes a file: give --output FILE (e.g. gaps.pdf)")
    graph = console.graph()
    if output == "-":
        sys.stdout.write(render(build_report(graph, category, min_confidence=min_confidence, works_per_cell=cap), fmt))
        return
    path = write_report(graph, fmt, Path(output), category, min_confidence=min_confidence, works_per_cell=cap)
    console.out.print(f"Wrote {path} ({fmt}, {path.stat().st_size} bytes)", markup=False, highlight=False)


def _report_since(fmt: str, output: str | None, category: str | None, min_confidence: float | None,
                  since: str, cap: int | None) -> None:
    """`kg report --since X`: the report with a section of what changed from X to the graph now."""
    from ..analysis.diff import SINCE_FORMATS, diff_store, with_changes
    from ..errors import UsageError
    from ..fileio import output_path, write_output
    from ..report import build_report, render

    if fmt not in SINCE_FORMATS:
        raise UsageError(f"--since adds a section to the {', '.join(SINCE_FORMATS)} reports, not to {fmt!r}",
                         field=("since", "fmt"))
    path = None if output in (None, "-") else output_path(output, f"gaps.{fmt}")
    store = console.store()
    changes = diff_store(store, since, None, min_confidence=min_confidence)
    graph = store.open_at(changes["to"]["generation"])  # the same generation the diff read
    text = with_changes(render(build_report(graph, category, min_confidence=min_confidence, works_per_cell=cap), fmt),
                        fmt, changes)
    if path is None:
        sys.stdout.write(text)
        return
    write_output(path, text)
    console.out.print(f"Wrote {path} ({fmt}, {path.stat().st_size} bytes)", markup=False, highlight=False)
