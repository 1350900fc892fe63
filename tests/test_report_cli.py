"""`kg gaps` and `kg report` from the command line: output, formats, bad input, empty graphs."""

from __future__ import annotations

import html
import json

import pytest

from kg.report import FORMATS


def test_gaps_table(kg, built_store):
    result = kg("gaps", store=built_store)
    assert result.exit_code == 0, result.output
    for word in ("instruction", "fine_tuning", "retrieval", "16/16 cells filled"):
        assert word in result.output


def test_gaps_json(kg, built_store):
    result = kg("gaps", "--json", store=built_store)
    assert result.exit_code == 0
    cells = json.loads(result.output)
    assert len(cells) == 16
    assert set(cells[0]) == {"category", "mechanism", "count", "expected", "score", "status", "papers", "works"}
    assert sum(c["count"] for c in cells) == 32


@pytest.mark.parametrize("by, key, rows", [("modality", "modality", 16 * 7), ("year", "year", 16 * 2)])
def test_gaps_by(kg, built_store, by, key, rows):
    result = kg("gaps", "--by", by, "--json", store=built_store)
    assert result.exit_code == 0
    cells = json.loads(result.output)
    assert len(cells) == rows and all(key in c for c in cells)
    table = kg("gaps", "--by", by, "--category", "retrieval", store=built_store)
    assert table.exit_code == 0 and "retrieval / alignment" in table.output


def test_gaps_bad_input_lists_valid_values(kg, built_store):
    result = kg("gaps", "--by", "venue", store=built_store)
    assert result.exit_code == 2 and "modality, year" in result.message
    result = kg("gaps", "--category", "poetry", store=built_store)
    assert result.exit_code == 2
    assert "text_generation, image_generation, recommendation, retrieval" in result.message


def test_gaps_without_a_graph(kg, tmp_path):
    result = kg("gaps", store=tmp_path / "nothing-here")
    assert result.exit_code == 1 and "kg build" in result.message


@pytest.mark.parametrize("fmt", FORMATS)
def test_report_every_format(kg, built_store, tmp_path, fmt):
    out = tmp_path / f"gaps.{fmt}"
    result = kg("report", "--format", fmt, "--output", out, store=built_store)
    assert result.exit_code == 0, result.output
    assert f"Wrote {out}" in result.output
    text = out.read_text(encoding="utf-8")
    assert "Yo'LLaVA" in (html.unescape(text) if fmt == "html" else text)
    assert not list(tmp_path.glob(".gaps.*"))  # no temp file left behind


def test_report_category_and_stdout(kg, built_store):
    result = kg("report", "--format", "json", "--output", "-", "--category", "recommendation", store=built_store)
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["category"] == "recommendation" and {c["category"] for c in data["cells"]} == {"recommendation"}


def test_report_bad_input(kg, built_store, tmp_path):
    result = kg("report", "--format", "docx", "--output", tmp_path / "x.docx", store=built_store)
    assert result.exit_code == 2 and "md, tex, html, csv, json, bib" in result.message
    result = kg("report", "--format", "md", "--output", tmp_path / "x.md", "--category", "poetry", store=built_store)
    assert result.exit_code == 2 and "retrieval" in result.message and not (tmp_path / "x.md").exists()
    result = kg("report", "--format", "md", "--output", tmp_path / "missing" / "x.md", store=built_store)
    assert result.exit_code == 1 and "does not exist" in result.message
    result = kg("report", "--format", "md", "--output", tmp_path, store=built_store)
    assert result.exit_code == 2 and "folder" in result.message


def test_report_on_an_empty_graph(kg, tmp_path):
    """A store holding only the ontology: the report says there is nothing yet."""
    from kg.build import ONTOLOGY_FILES
    from kg.graph import iter_ontology_quads
    from kg.paths import ontology_dir
    from kg.store import StoreDir

    store = tmp_path / "empty-store"
    with StoreDir(store).new_generation({"kg_version": "test"}) as ox_store:
        ox_store.extend(list(iter_ontology_quads(ontology_dir() / f for f in ONTOLOGY_FILES)))
    result = kg("report", "--format", "md", "--output", tmp_path / "r.md", store=store)
    assert result.exit_code == 0, result.output
    assert "The graph holds no works yet" in (tmp_path / "r.md").read_text()
    gaps = kg("gaps", store=store)
    assert gaps.exit_code == 0 and "0/16 cells filled" in gaps.output
