"""Shared wording and table layout for the report formats (plain text; each format escapes)."""

from __future__ import annotations

from .content import EXAMPLES_PER_CELL

KIND_NAMES = {"category": "category", "mechanism": "mechanism", "input": "input", "output": "output",
              "task": "task", "metric": "metric", "dataset": "dataset", "method": "method"}


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


def nearest_text(cell: dict) -> list[str]:
    return [f"{n['label']} ({n['year'] or 'n.d.'}, same {' and '.join(n['shares'])})" for n in cell["nearest"]]


def combination_text(combo: dict) -> str:
    return (f"{KIND_NAMES.get(combo['a_kind'], combo['a_kind'])}: {combo['a_label']} + "
            f"{KIND_NAMES.get(combo['b_kind'], combo['b_kind'])}: {combo['b_label']}")
