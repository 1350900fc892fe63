"""The gap report for survey authors, in six formats rendered from one content dict.

    report = build_report(graph_or_corpus, category=None)   # JSON-ready dict
    text = render(report, "md")                             # md | tex | html | csv | json | bib
    path = write_report(graph, "html", "gaps.html")         # atomic write

Formats: Markdown; a LaTeX article with the taxonomy table as a booktabs table in the
style of the survey's Table 1; a self-contained HTML page (inline CSS, no scripts, no
CDN); CSV (one row per taxonomy cell); JSON (the whole content, schema in
report.schema.json); BibTeX of the works per cell (keys shared with the LaTeX).
"""

from __future__ import annotations

import json
import os
import tempfile
from functools import cache
from pathlib import Path

from ..errors import KgError, UsageError
from .bib import render_bibtex
from .content import build_report
from .latex import render_latex
from .markdown import render_markdown
from .tabular import render_csv, render_json
from .web import render_html

RENDERERS = {
    "md": render_markdown,
    "tex": render_latex,
    "html": render_html,
    "csv": render_csv,
    "json": render_json,
    "bib": render_bibtex,
}
FORMATS = tuple(RENDERERS)


def check_format(fmt: str) -> str:
    if fmt not in RENDERERS:
        raise UsageError(f"unknown report format {fmt!r}; valid: {', '.join(FORMATS)}")
    return fmt


def render(report: dict, fmt: str) -> str:
    """The report as text in one format."""
    return RENDERERS[check_format(fmt)](report)


@cache
def report_schema() -> dict:
    """The JSON schema the JSON format follows."""
    return json.loads((Path(__file__).parent / "report.schema.json").read_text(encoding="utf-8"))


def write_report(source, fmt: str, output: str | Path, category: str | None = None) -> Path:
    """Build, render and write the report atomically (a temp file renamed into place)."""
    check_format(fmt)
    text = render(build_report(source, category), fmt)
    path = Path(output).expanduser()
    if path.is_dir():
        raise UsageError(f"--output {path} is a folder; give a file name such as {path / ('gaps.' + fmt)}")
    if not path.parent.is_dir():
        raise KgError(f"cannot write {path}: the folder {path.parent} does not exist")
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
            handle.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        if "tmp" in locals() and os.path.exists(tmp):
            os.unlink(tmp)
        raise KgError(f"cannot write {path}: {exc.strerror or exc}") from None
    return path


__all__ = ["FORMATS", "build_report", "check_format", "render", "report_schema", "write_report"]
