"""The gap report for survey authors, in six formats (plus a table fragment and a PDF)
rendered from one content dict.

    report = build_report(graph_or_corpus, category=None)   # JSON-ready dict
    text = render(report, "md")                             # any of TEXT_FORMATS
    path = write_report(graph, "html", "gaps.html")         # atomic write (also "pdf")

Formats: Markdown; a LaTeX article with the taxonomy table as a booktabs table in the
style of the survey's Table 1; a self-contained HTML page (inline CSS, no scripts, no
CDN); CSV (one row per taxonomy cell); JSON (the whole content, schema in
report.schema.json); BibTeX of the works per cell (keys shared with the LaTeX). FORMATS
are these six (the app offers each). Besides them: `tex-table`, the taxonomy table alone
as a LaTeX fragment to \\input into a survey, and `pdf`, the LaTeX article compiled
(kg.report.pdf; write_report only).

The formats people read (Markdown, LaTeX, HTML, the table fragment, PDF, and the BibTeX that goes
with the LaTeX) list each cell's WORKS_PER_CELL most relevant works and say how many more there
are; JSON and CSV are data exports and list every work. `works_per_cell` (a number, or None for
all) overrides that for any format: works_per_cell_for(fmt, value) gives a format's.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from ..errors import UsageError
from ..fileio import output_path, write_output
from .bib import render_bibtex
from .content import WORKS_PER_CELL, build_report
from .latex import render_latex, render_tex_table
from .markdown import render_markdown
from .pdf import compile_pdf
from .tabular import render_csv, render_json
from .web import render_html

RENDERERS = {
    "md": render_markdown,
    "tex": render_latex,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
    "bib": render_bibtex,
    "tex-table": render_tex_table,
}
FORMATS = ("md", "tex", "html", "csv", "json", "bib")  # the whole report, one document each
TEXT_FORMATS = tuple(RENDERERS)
ALL_FORMATS = (*TEXT_FORMATS, "pdf")
COMPLETE_FORMATS = ("json", "csv")  # data exports: every work of every cell unless told otherwise
DEFAULT = "default"  # works_per_cell_for: the format's own default


def works_per_cell_for(fmt: str, value=DEFAULT) -> int | None:
    """How many works each cell lists in `fmt`: `value` when given (a positive number, or None or
    'all' for every work), else WORKS_PER_CELL for the formats people read and None (all) for the
    data exports (COMPLETE_FORMATS)."""
    if value == DEFAULT:
        return None if fmt in COMPLETE_FORMATS else WORKS_PER_CELL
    if value is None or (isinstance(value, str) and value.strip().lower() == "all"):
        return None
    try:
        number = int(str(value).strip()) if not isinstance(value, bool) else None
    except ValueError:
        number = None
    if number is None or number < 1:
        raise UsageError(f"works per cell must be a positive number or 'all', not {value!r}",
                         field="works_per_cell")
    return number


def check_format(fmt: str) -> str:
    if fmt not in ALL_FORMATS:
        raise UsageError(f"unknown report format {fmt!r}; valid: {', '.join(ALL_FORMATS)}")
    return fmt


def render(report: dict, fmt: str) -> str:
    """The report as text in one format (pdf is not text: see write_report)."""
    if check_format(fmt) == "pdf":
        raise UsageError("the pdf report is a file: give an output file to write it to", field="output")
    return RENDERERS[fmt](report)


@cache
def report_schema() -> dict:
    """The JSON schema the JSON format follows."""
    return json.loads((Path(__file__).parent / "report.schema.json").read_text(encoding="utf-8"))


def write_report(source, fmt: str, output: str | Path, category: str | None = None, *,
                 min_confidence: float | None = None, works_per_cell=DEFAULT) -> Path:
    """Build, render and write the report atomically (a temp file renamed into place).
    For pdf the LaTeX is compiled first (kg.report.pdf: latexmk or pdflatex, as many runs as
    the references need); without either it raises KgError saying how to install them.
    works_per_cell: see works_per_cell_for (the format's default unless given)."""
    check_format(fmt)
    path = output_path(output, "gaps." + ("tex" if fmt == "tex-table" else fmt))
    report = build_report(source, category, min_confidence=min_confidence,
                          works_per_cell=works_per_cell_for(fmt, works_per_cell))
    data = compile_pdf(render_latex(report)) if fmt == "pdf" else render(report, fmt).encode("utf-8")
    write_output(path, data)
    return path


__all__ = ["ALL_FORMATS", "COMPLETE_FORMATS", "FORMATS", "TEXT_FORMATS", "WORKS_PER_CELL", "build_report", "check_format",
           "render", "report_schema", "works_per_cell_for", "write_report"]
