"""The report as JSON (the whole content) and CSV (one row per taxonomy cell)."""

from __future__ import annotations

import io
import json

from ..output.csvfile import writer as csv_writer
from .escape import csv_cell
from .layout import nearest_text

CSV_COLUMNS = ["category", "category_label", "mechanism", "mechanism_label", "count", "asserted", "predicted",
               "expected", "ratio", "score", "status", "asserted_status", "trend", "papers", "keys",
               "predicted_papers", "nearest"]


def render_json(report: dict) -> str:
    return json.dumps(report, ensure_ascii=False, indent=2, allow_nan=False) + "\n"


def render_csv(report: dict) -> str:
    trend = {(t["category"], t["mechanism"]): t["trend"] for t in report["trends"]}
    flagged = {(c["category"], c["mechanism"]): c for c in report["empty_cells"] + report["thin_cells"]}
    buf = io.StringIO()
    writer = csv_writer(buf, lineterminator="\n")  # every cell spreadsheet-safe (kg.output.csvfile)
    writer.writerow(CSV_COLUMNS)
    for cell in report["cells"]:
        key = (cell["category"], cell["mechanism"])
        near = nearest_text(flagged[key]) if key in flagged else []
        text = [csv_cell(v) for v in (cell["category"], cell["category_label"], cell["mechanism"],
                                      cell["mechanism_label"])]
        numbers = [cell["count"], cell["asserted"], cell["predicted"], cell["expected"],
                   "" if cell["ratio"] is None else cell["ratio"], cell["score"]]
        guessed = "; ".join(f"{p['label']} ({p['confidence']:.2f})" for p in cell["papers"] if p.get("predicted"))
        rest = [csv_cell(v) for v in (cell["status"], cell["asserted_status"], trend.get(key, ""),
                                      "; ".join(p["label"] for p in cell["papers"]),
                                      "; ".join(p["key"] for p in cell["papers"]), guessed, "; ".join(near))]
        writer.writerow(text + numbers + rest)
    return buf.getvalue()
