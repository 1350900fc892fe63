"""The gap report as one self-contained HTML page: inline CSS, no scripts, no external
resources (works offline). The page is the Jinja2 template report.html.j2 beside this
module, rendered with autoescape on, so every title, name and label placed in it is
escaped; link targets are first checked by kg.report.escape.html_url."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import jinja2

from . import layout
from .escape import html_url, one_line

TEMPLATE = "report.html.j2"

# what the template calls: the wording shared with the other formats (kg.report.layout)
_HELPERS = {name: getattr(layout, name) for name in (
    "DAGGER", "axes_text", "cell_count", "cell_examples", "central_rank", "citation_note", "combination_text", "confidence_text",
    "count_text", "example_label", "flagged_text", "fmt_num", "fmt_score", "listing_note", "modality_status",
    "more_lines", "nearest_text",
    "section_of", "summary_lines", "table_rows", "trend_text")}


def _one_line(value):
    """What every {{ value }} of the template shows before it is escaped: markup the template
    made itself (a macro, a join of escaped items) as it is; any other value as one line of text
    (control characters dropped, whitespace collapsed; None as nothing)."""
    return value if hasattr(value, "__html__") else one_line(value)


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(Path(__file__).parent), autoescape=True,
                             undefined=jinja2.StrictUndefined, finalize=_one_line,
                             trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.globals.update(_HELPERS, html_url=html_url)
    return env


def render_html(report: dict) -> str:
    report = layout.for_display(report)  # long titles, venues and names cut to FIELD_LIMIT characters
    return _environment().get_template(TEMPLATE).render(report=report)
