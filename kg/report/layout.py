"""Shared wording and table layout for the report formats (plain text; each format escapes)."""

from __future__ import annotations

from .content import EXAMPLES_PER_CELL
from .escape import clean

# The longest title, venue, author name or label the Markdown, LaTeX and HTML reports show;
# longer ones are cut with an ellipsis there (JSON, CSV and BibTeX keep the full text).
FIELD_LIMIT = 300
EXAMPLE_LIMIT = 80  # an example work's name in a taxonomy-table cell (the full title is in the list of works)
_TEXT_FIELDS = {"label", "title", "venue", "cite", "category_label", "mechanism_label", "a_label", "b_label"}
_LIST_FIELDS = {"authors", "datasets", "possible_match_for", "missing_categories"}

KIND_NAMES = {"category": "category", "mechanism": "mechanism", "input": "input", "output": "output",
              "task": "task", "metric": "metric", "dataset": "dataset", "method": "method"}


def shorten(text, limit: int = FIELD_LIMIT) -> str:
    """One line of text of at most `limit` characters: longer text is cut (at a space when
    one is near the end) and ends with an ellipsis."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = text[:limit - 1]
    space = cut.rfind(" ")
    if space > (limit * 4) // 5:
        cut = cut[:space]
    return cut.rstrip(" ,;:.-") + "\u2026"


def for_display(report: dict, limit: int = FIELD_LIMIT) -> dict:
    """A copy of the report whose titles, venues, author names and labels are cut to
    `limit` characters, for the formats people read (Markdown, LaTeX, HTML)."""

    def walk(value, key=None):
        if isinstance(value, dict):
            return {k: walk(v, k) for k, v in value.items()}
        if isinstance(value, list):
            if key in _LIST_FIELDS:
                return [shorten(v, limit) if isinstance(v, str) else walk(v) for v in value]
            return [walk(v) for v in value]
        if isinstance(value, str) and key in _TEXT_FIELDS:
            return shorten(value, limit)
        return value

    return walk(report)


def fmt_num(value) -> str:
    if value is None:
        return "-"
    return f"{value:.2f}".rstrip("0").rstrip(".") if isinstance(value, float) else str(value)


def fmt_score(value) -> str:
    return f"{value:+.2f}"


def section_of(category: dict) -> str:
    return f"(Sec. {category['section']})" if category.get("section") else ""


def summary_lines(report: dict) -> list[str]:
    s = report["summary"]
    years = f"{s['years'][0]}-{s['years'][1]}" if s["years"] else "no years"
    lines = [
        f"{s['works']} works ({years}); {s['in_taxonomy']} placed in the taxonomy, {s['surveyed']} surveyed, "
        f"{s['candidates']} candidates not yet placed.",
        f"{s['filled']} of {s['cells']} category x mechanism cells hold papers; {s['empty']} empty, {s['thin']} thin.",
        f"{s['citations']} in-corpus citation links; {s['datasets']} datasets.",
    ]
    absent = [m["label"] for m in report["modality_gaps"] if m["status"] == "absent"]
    if absent:
        lines.append("Modalities no paper handles: " + ", ".join(absent) + ".")
    no_data = [d["label"] for d in report["dataset_gaps"] if d["axis"] == "category" and d["gap"]]
    if no_data:
        lines.append("Categories without a benchmark dataset: " + ", ".join(no_data) + ".")
    if report["unexplored_combinations"]:
        top = report["unexplored_combinations"][0]
        lines.append(f"Top unexplored combination: {combination_text(top)}.")
    if report["category"]:
        lines.append(f"Restricted to the category {report['category']}.")
    return lines


def table_rows(report: dict) -> tuple[list[str], list[tuple[dict, list[dict]]]]:
    """Mechanism headers and, per category, its cells in mechanism order (Table 1 layout)."""
    header = [m["label"] for m in report["mechanisms"]]
    cells = {(c["category"], c["mechanism"]): c for c in report["cells"]}
    rows = []
    for category in report["categories"]:
        row = [cells.get((category["notation"], m["notation"])) for m in report["mechanisms"]]
        if all(row):
            rows.append((category, row))
    return header, rows


def cell_examples(cell: dict, limit: int = EXAMPLES_PER_CELL) -> tuple[list[dict], int]:
    papers = cell["papers"]
    return papers[:limit], max(0, len(papers) - limit)


def example_label(paper: dict) -> str:
    """An example work's name as a taxonomy-table cell shows it (at most EXAMPLE_LIMIT characters)."""
    return shorten(paper["label"], EXAMPLE_LIMIT)


def nearest_text(cell: dict) -> list[str]:
    return [f"{n['label']} ({n['year'] or 'n.d.'}, same {' and '.join(n['shares'])})" for n in cell["nearest"]]


def combination_text(combo: dict) -> str:
    return (f"{KIND_NAMES.get(combo['a_kind'], combo['a_kind'])}: {combo['a_label']} + "
            f"{KIND_NAMES.get(combo['b_kind'], combo['b_kind'])}: {combo['b_label']}")
