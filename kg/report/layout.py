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

DAGGER = "\u2020"  # marks a predicted work (the classifier's placement) beside its confidence

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


def count_text(asserted: int, predicted: int) -> str:
    """Papers as '5' when all are asserted, '5 (+3 predicted)' otherwise."""
    return f"{asserted} (+{predicted} predicted)" if predicted else str(asserted)


def cell_count(cell: dict) -> str:
    return count_text(cell["asserted"], cell["predicted"])


def confidence_text(paper: dict) -> str:
    """'0.85' for a predicted work (rendered after a dagger), '' for an asserted one."""
    return f"{paper['confidence']:.2f}" if paper.get("predicted") and paper.get("confidence") is not None else ""


def modality_status(row: dict) -> str:
    """A modality's status, and its status by asserted labels alone when that differs."""
    if row["asserted_status"] == row["status"]:
        return row["status"]
    return f"{row['status']} (asserted alone: {row['asserted_status']})"


def flagged_text(cell: dict) -> str:
    """An empty or thin cell's numbers: 'empty in the asserted evidence, 2 predicted; 2 (+2 predicted) papers, ...'."""
    return (f"{cell['note']}; {count_text(cell['asserted'], cell['predicted'])} papers, "
            f"{fmt_num(cell['expected'])} expected, score {fmt_score(cell['score'])}")


def trend_text(trend: dict) -> str:
    return trend["trend"] + (f" ({trend['predicted']} predicted)" if trend.get("predicted") else "")


def section_of(category: dict) -> str:
    return f"(Sec. {category['section']})" if category.get("section") else ""


def summary_lines(report: dict) -> list[str]:
    s = report["summary"]
    years = f"{s['years'][0]}-{s['years'][1]}" if s["years"] else "no years"
    least = fmt_num(s["min_confidence"])
    lines = [
        f"{s['works']} works ({years}); {s['surveyed']} surveyed (the survey's own table); {s['in_taxonomy']} placed "
        f"in the taxonomy, {s['placed_asserted']} asserted and {s['placed_predicted']} predicted; "
        f"{s['candidates']} candidates, placed by neither the survey nor a person.",
        f"{s['filled']} of {s['cells']} category x mechanism cells hold papers; {s['empty']} empty, {s['thin']} thin. "
        f"By asserted papers alone: {s['asserted_filled']} hold papers, {s['asserted_empty']} empty, "
        f"{s['asserted_thin']} thin.",
        f"Predicted labels (the classifier's, marked {DAGGER} with their confidence) count only at confidence "
        f"{least} or more: {s['predicted_labels']} count, {s['held_back']} below {least} do not. "
        f"{s['predicted_labels'] + s['held_back']} labels need a person's review (kg curate), "
        f"{s['needs_review']} of them flagged 'needs review' by the classifier.",
        f"{s['citations']} in-corpus citation links{citations_origin(report)}; {s['datasets']} datasets.",
    ]
    absent = [m["label"] for m in report["modality_gaps"] if m["status"] == "absent"]
    if absent:
        lines.append("Modalities no paper handles: " + ", ".join(absent) + ".")
    unsure = [m["label"] for m in report["modality_gaps"] if m["asserted_status"] == "absent" and m["status"] != "absent"]
    if unsure:
        lines.append("Modalities only predicted labels give: " + ", ".join(unsure) + ".")
    no_data = [d["label"] for d in report["dataset_gaps"] if d["axis"] == "category" and d["gap"]]
    if no_data:
        lines.append("Categories without a benchmark dataset: " + ", ".join(no_data) + ".")
    if report["unexplored_combinations"]:
        top = report["unexplored_combinations"][0]
        lines.append(f"Top unexplored combination: {combination_text(top)}.")
    if report["category"]:
        lines.append(f"Restricted to the category {report['category']}.")
    return lines


def axis_titles(report: dict) -> list[str]:
    """The table's rows and columns as the taxonomy titles them:
    ['category (what is personalized)', 'mechanism (how)']."""
    axes = (report.get("taxonomy") or {}).get("axes") or {}
    return [axes.get(axis) or axis for axis in ("category", "mechanism")]


def axes_text(report: dict, times: str = "x") -> str:
    """'category (what is personalized) x mechanism (how)'."""
    return f" {times} ".join(axis_titles(report))


def taxonomy_name(report: dict) -> str:
    """The taxonomy a report places works in: its title when it declares one."""
    title = (report.get("taxonomy") or {}).get("title")
    return f"the {title} taxonomy" if title else "the survey's taxonomy"


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
    """The first `limit` works a cell lists and how many more it holds (listed or not)."""
    papers = cell["papers"]
    return papers[:limit], max(0, len(papers) + cell.get("more_papers", 0) - limit)


def cell_command(cell: dict) -> str:
    """The command that lists every work of one cell."""
    import shlex

    return (f"kg query --name cell-papers --bind {shlex.quote('category=' + cell['category'])} "
            f"--bind {shlex.quote('mechanism=' + cell['mechanism'])} --all")


def listing_note(report: dict) -> str | None:
    """What the list of works leaves out when the cells list only their most relevant works, and
    how to get the rest (commands between backquotes); None when every work is listed."""
    cap = report.get("works_per_cell")
    fuller = [c for c in report["cells"] if c.get("more_papers")]
    if not cap or not fuller:
        return None
    more = sum(c["more_papers"] for c in fuller)
    return (f"Each cell lists its {cap} most relevant works (asserted before predicted, then the most cited in "
            f"the corpus, the latest); {more} more placements in {len(fuller)} cells are not listed here. One "
            "cell's works in full: `kg query --name cell-papers --bind category=CATEGORY --bind "
            "mechanism=MECHANISM --all`; every work: `kg report --works-per-cell all`, or the complete "
            "exports `kg report --format json` and `kg report --format csv`.")


def more_lines(report: dict) -> list[tuple[str, str]]:
    """(cell and how many works it does not list, the command listing them all), per cell that
    holds more works than the report lists."""
    if not report.get("works_per_cell"):
        return []
    return [(f"{c['category_label']} x {c['mechanism_label']}: {c['more_papers']} more", cell_command(c))
            for c in report["cells"] if c.get("more_papers")]


def example_label(paper: dict) -> str:
    """An example work's name as a taxonomy-table cell shows it (at most EXAMPLE_LIMIT characters)."""
    return shorten(paper["label"], EXAMPLE_LIMIT)


def nearest_text(cell: dict) -> list[str]:
    return [f"{n['label']} ({n['year'] or 'n.d.'}, same {' and '.join(n['shares'])})" for n in cell["nearest"]]


def combination_text(combo: dict) -> str:
    return (f"{KIND_NAMES.get(combo['a_kind'], combo['a_kind'])}: {combo['a_label']} + "
            f"{KIND_NAMES.get(combo['b_kind'], combo['b_kind'])}: {combo['b_label']}")


def citations_origin(report: dict) -> str:
    """', all from the survey' when the only citations known are the survey's references."""
    data = report.get("citation_data") or {}
    if not data.get("survey_only"):
        return ""
    surveys = data.get("surveys_citing", 1)
    return ", all from the survey" if surveys == 1 else f", all from {surveys} surveys"


def citation_note(report: dict) -> str | None:
    """What the citation data cannot show (only survey -> work links, or none) and how to grow it."""
    return (report.get("citation_data") or {}).get("note")


def central_rank(paper: dict) -> str:
    """A central paper's rank: '3', or 'tied at 1 (32 works)' when several share the score."""
    from ..analysis.citations import rank_text

    return rank_text(paper["rank"], paper["tied"])
