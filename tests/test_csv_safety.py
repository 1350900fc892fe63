"""Every CSV kg writes is spreadsheet-safe: formulas neutralised, bidi controls dropped."""

from __future__ import annotations

import csv
import io
import json

import pytest

from kg.output.csvfile import BIDI_CONTROLS, cell, query_result_csv
from kg.sparql.results import QueryResult, Term

RLO = "\u202e"  # right-to-left override: "gpj.exe" shows as "exe.jpg"
FORMULA = '=HYPERLINK("http://x","click")'
HOSTILE_TITLE = f"{FORMULA} {RLO}gpj.exe"
SAFE_TITLE = f"'{FORMULA} gpj.exe"


def rows_of(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def assert_safe(rows: list[list[str]]) -> None:
    for row in rows:
        for value in row:
            assert not any(c in value for c in BIDI_CONTROLS), value
            assert not value.startswith(("=", "+", "@", "\t", "\r")), value
            assert not value.startswith("-") or value.lstrip("-").replace(".", "", 1).isdigit(), value


@pytest.mark.parametrize("value, expected", [
    (FORMULA, "'" + FORMULA), ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("-2+3", "'-2+3"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"), ("-", "'-"), (f"{RLO}=1+1", "'=1+1"),
    ("-3", "-3"), ("-3.25", "-3.25"), ("+1.5e3", "+1.5e3"), (-7, "-7"), (2024, "2024"), (None, ""),
    ("a\u2066b\u2069c\u200e\u200f\u061c", "abc"), ("plain = title", "plain = title"), ("'quoted", "'quoted"),
])
def test_cell(value, expected):
    assert cell(value) == expected


def test_query_result_to_csv():
    title = Term("literal", HOSTILE_TITLE)
    result = QueryResult("select", vars=["work", "title", "delta"],
                         rows=[{"work": Term("uri", "https://example.org/w"), "title": title,
                                "delta": Term("literal", "-3", "http://www.w3.org/2001/XMLSchema#integer")}])
    rows = rows_of(query_result_csv(result))
    assert rows == [["work", "title", "delta"], ["https://example.org/w", SAFE_TITLE, "-3"]]
    graph = QueryResult("graph", triples=[(Term("uri", "https://example.org/w"),
                                           Term("uri", "http://purl.org/dc/terms/title"), title)])
    assert rows_of(query_result_csv(graph))[1][2] == SAFE_TITLE
    assert result.to_json()["results"]["bindings"][0]["title"]["value"] == HOSTILE_TITLE  # JSON keeps it exact


def test_server_csv_answer_is_neutralised():
    from kg.serve import render

    result = QueryResult("select", vars=["title"], rows=[{"title": Term("literal", HOSTILE_TITLE)}])
    assert rows_of(render(result, "text/csv").decode()) == [["title"], [SAFE_TITLE]]


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    """The bundled graph plus a paper imported from BibTeX whose title, author and venue are hostile."""
    from typer.testing import CliRunner

    from kg.build import build
    from kg.cli import app

    folder = tmp_path_factory.mktemp("hostile-csv")
    store = folder / "store"
    bib = folder / "evil.bib"
    bib.write_text("@article{evil2024,\n  title = {" + HOSTILE_TITLE + "},\n  author = {Mallory Evil},\n"
                   "  year = {2024},\n  eprint = {2401.99999},\n  journal = {+Venue " + RLO + "}\n}\n",
                   encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:  # module scope: keep off the user's kg home here too
        mp.setenv("KG_HOME", str(folder / "kg-home"))
        build(store)
        result = CliRunner().invoke(app, ["--store", str(store), "import", "bibtex", str(bib)])
    assert result.exit_code == 0, result.output
    return store


def test_kg_export_csv(kg, hostile_store, tmp_path):
    out = tmp_path / "papers.csv"
    result = kg("export", "--format", "csv", "--output", out, store=hostile_store)
    assert result.exit_code == 0, result.output
    with out.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    assert_safe(rows)
    header, body = rows[0], rows[1:]
    evil = next(dict(zip(header, r)) for r in body if r[header.index("arxiv")] == "2401.99999")
    assert evil["title"] == SAFE_TITLE and evil["venue"] == "'+Venue "
    assert len(body) == 50 and evil["year"] == "2024"


def test_kg_query_csv(kg, hostile_store):
    result = kg("query", "--format", "csv", "--name", "paper", "--bind", "id=2401.99999", store=hostile_store)
    assert result.exit_code == 0, result.output
    rows = rows_of(result.output)
    assert_safe(rows)
    assert SAFE_TITLE in {value for row in rows for value in row}
    sparql = 'SELECT ?t WHERE { ?w dcterms:title ?t FILTER(CONTAINS(?t, "HYPERLINK")) }'
    result = kg("query", "--format", "csv", sparql, store=hostile_store)
    assert rows_of(result.output) == [["t"], [SAFE_TITLE]]
    exact = json.loads(kg("query", "--format", "json", sparql, store=hostile_store).output)  # JSON keeps it
    assert exact["results"]["bindings"][0]["t"]["value"] == HOSTILE_TITLE

