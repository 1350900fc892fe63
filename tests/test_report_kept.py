"""The report's bulk reads kept beside a generation (kg.analysis.report_counts._kept_rows, kg.derived):
the first report of a generation reads the store and keeps them, every later one reads them back
and gives the same report; a damaged file is read from the store again and rewritten."""

from __future__ import annotations

import pytest

from kg.analysis.report_counts import _encode_rows, _read_kept_rows
from kg.derived import DERIVED
from kg.report import build_report, render
from kg.store.local import LocalGraph


@pytest.mark.parametrize("rows", [
    [],
    [("w1", "category", "c1"), ("w1", "mechanism", "m1"), ("w2", "category", "c1")],
    [("w1", None), ("w2", "2021"), ("w3", "")],  # unbound and empty stay apart
    [("only",)],
])
def test_rows_come_back_as_they_were_kept(tmp_path, rows):
    path = tmp_path / "rows.json"
    path.write_text(_encode_rows(rows), encoding="utf-8")
    assert _read_kept_rows(path) == rows


def test_a_file_that_does_not_hold_what_it_says_is_refused(tmp_path):
    path = tmp_path / "rows.json"
    path.write_text('{"rows": 3, "columns": [{"codes": [0, 0], "values": ["a"]}]}', encoding="utf-8")
    with pytest.raises(ValueError):
        _read_kept_rows(path)


def _report(store) -> str:
    report = build_report(LocalGraph(store), works_per_cell=None)
    report["generated_at"] = ""
    return render(report, "json")


def test_later_reports_read_the_kept_rows_and_say_the_same(store_copy):
    kept_dir = (store_copy / "current").resolve() / DERIVED
    first = _report(store_copy)
    kept = sorted(p.name for p in kept_dir.glob("report-*.json"))
    assert {"report-concept-links-v1.json", "report-years-v1.json", "report-works-v1.json"} <= set(kept)
    assert _report(store_copy) == first
    links = kept_dir / "report-concept-links-v1.json"
    links.write_text("{not json", encoding="utf-8")  # damaged: read from the store again, kept again
    assert _report(store_copy) == first
    assert _read_kept_rows(links)
