"""The CLI: outputs, exit codes and messages for each bad input."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kg.store import LocalGraph


def test_stats_json(kg, built_store):
    r = kg("stats", "--json", store=built_store)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["papers"] == 49 and data["datasets"] == 5
    assert len(data["cells"]) == 16 and all(v > 0 for v in data["cells"].values())


def test_papers_by_cell_json_is_w3c_results(kg, built_store):
    r = kg("query", "--name", "papers-by-cell", "--format", "json", store=built_store)
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert set(data) == {"head", "results"}
    assert "count" in data["head"]["vars"]
    rows = data["results"]["bindings"]
    assert len(rows) == 16
    for row in rows:
        assert row["count"]["type"] == "literal"
        assert row["count"]["datatype"] == "http://www.w3.org/2001/XMLSchema#integer"
        assert int(row["count"]["value"]) > 0


def test_ask_and_construct(kg, built_store):
    r = kg("query", 'ASK { ?w kg:arxivId "2406.09400" }', "--format", "json", store=built_store)
    assert json.loads(r.output) == {"head": {}, "boolean": True}
    r = kg("query", 'CONSTRUCT { ?w dcterms:title ?t } WHERE { ?w kg:arxivId "2406.09400" ; dcterms:title ?t }',
           "--format", "nt", store=built_store)
    assert r.exit_code == 0 and "Yo'LLaVA" in r.output and r.output.strip().endswith(".")
    r = kg("query", 'CONSTRUCT { ?w dcterms:title ?t } WHERE { ?w kg:arxivId "2406.09400" ; dcterms:title ?t }',
           "--format", "json", store=built_store)
    assert json.loads(r.output)[0]["http://purl.org/dc/terms/title"]


def test_paper_query_bound_by_versioned_arxiv_id(kg, built_store):
    r = kg("query", "--name", "paper", "--bind", "id=arXiv:2406.09400v3", "--format", "csv", store=built_store)
    assert r.exit_code == 0, r.output
    assert "Yo'LLaVA: Your Personalized Language and Vision Assistant" in r.output


def test_paper_query_needs_its_parameter(kg, built_store):
    r = kg("query", "--name", "paper", store=built_store)
    assert r.exit_code == 2 and "needs a value for id (--bind)" in r.message


def test_citations_query(kg, built_store):
    r = kg("query", "--name", "citations", "--bind", "id=2412.02142", "--format", "json", store=built_store)
    rows = json.loads(r.output)["results"]["bindings"]
    assert len(rows) == 32 and {b["direction"]["value"] for b in rows} == {"out"}


def test_list_named_queries(kg, built_store):
    r = kg("query", "--list", store=built_store)
    for name in ("papers-by-cell", "paper", "citations", "datasets"):
        assert name in r.output


def test_malformed_sparql_gives_line_and_column(kg, built_store):
    r = kg("query", "SELECT ?s WHERE {\n  ?s ?p \n}", store=built_store)
    assert r.exit_code == 2
    assert "line 3, column" in r.message


@pytest.mark.parametrize("update", [
    "INSERT DATA { <http://a> <http://b> <http://c> }",
    "DELETE WHERE { ?s ?p ?o }",
    "LOAD <http://example.org/x.ttl>",
    "CLEAR ALL",
    "DROP GRAPH <http://g>",
    "# harmless?\nPREFIX ex: <http://e/>\nINSERT DATA { ex:a ex:b ex:c }",
    "SELECT * WHERE { SERVICE <http://example.org/sparql> { ?s ?p ?o } }",
])
def test_updates_and_service_are_refused(kg, store_copy, update):
    before = LocalGraph(store_copy).triple_count()
    r = kg("query", update, store=store_copy)
    assert r.exit_code == 2
    assert "refused" in r.message
    assert LocalGraph(store_copy).triple_count() == before


def test_update_words_inside_strings_are_fine(kg, built_store):
    r = kg("query", 'SELECT ?t WHERE { ?w dcterms:title ?t . FILTER(CONTAINS(?t, "DELETE")) }', store=built_store)
    assert r.exit_code == 0, r.message


@pytest.mark.parametrize("args,valid", [
    (["query", "--name", "nope"], "papers-by-cell"),
    (["query", "SELECT * WHERE {?s ?p ?o}", "--format", "xml"], "table, csv, json"),
    (["export", "--format", "rdfxml", "--output", "x"], "ttl, nt, jsonld, graphml, csv"),
])
def test_unknown_names_list_the_valid_ones(kg, built_store, tmp_path, args, valid):
    r = kg(*args, store=built_store)
    assert r.exit_code == 2
    assert valid in r.message


def test_no_graph_yet_says_to_build(kg, tmp_path):
    for args in (["stats"], ["query", "--name", "datasets"], ["validate"], ["export", "--format", "nt", "--output", str(tmp_path / "x.nt")]):
        r = kg(*args, store=tmp_path / "empty")
        assert r.exit_code == 1, args
        assert "kg build" in r.message


def test_broken_corpus_names_file_and_entry_and_keeps_graph(kg, store_copy, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(Path(__file__).resolve().parents[1] / "kg" / "data", corpus,
                    ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    text = (corpus / "survey.yaml").read_text(encoding="utf-8")
    (corpus / "survey.yaml").write_text(text.replace("mechanism: alignment", "mechanism: telepathy", 1), encoding="utf-8")
    before = LocalGraph(store_copy).triple_count()
    r = kg("build", "--corpus", str(corpus), store=store_copy)
    assert r.exit_code == 1
    assert "survey.yaml" in r.message and "MPDialog" in r.message and "telepathy" in r.message
    assert LocalGraph(store_copy).triple_count() == before


def test_invalid_yaml_names_the_line(kg, store_copy, tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "bad.yaml").write_text("source: {id: x, title: y}\nworks:\n  - cite: [unclosed\n", encoding="utf-8")
    r = kg("build", "--corpus", str(corpus), store=store_copy)
    assert r.exit_code == 1 and "bad.yaml" in r.message and "line" in r.message


def test_validate_exit_code(kg, built_store):
    r = kg("validate", store=built_store)
    assert r.exit_code == 0 and "conforms" in r.output


def test_console_script_prints_message_not_traceback(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "kg.cli", "--store", str(tmp_path / "none"), "stats"],
                          capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "kg build" in proc.stderr


# ---------------------------------------------------------------- --version, unknown ids
def test_version(kg):
    from kg import __version__

    r = kg("--version")
    assert r.exit_code == 0 and r.output.strip() == f"kg {__version__}"


@pytest.mark.parametrize("name", ["paper", "citations", "paper-labels"])
@pytest.mark.parametrize("fmt", ["table", "json"])
def test_a_query_for_an_unknown_id_says_so(kg, built_store, name, fmt):
    r = kg("query", "--name", name, "--bind", "id=nonexistent", "--format", fmt, store=built_store)
    assert r.exit_code == 1, r.output
    assert "no work in the graph has the id 'nonexistent'" in r.message
    assert "row(s)" not in r.output  # no empty table


def test_a_work_without_citations_is_not_an_unknown_id(kg, built_store):
    r = kg("query", "--name", "citations", "--bind", "id=2502.02452", "--format", "csv", store=built_store)
    assert r.exit_code == 0, r.message


# ---------------------------------------------------------------- tables at 80 columns and piped
@pytest.fixture
def terminal(monkeypatch):
    """kg's output console as an 80-column terminal; returns a function giving what it printed."""
    import io

    from rich.console import Console

    import kg.cli

    def make(width: int = 80):
        buffer = io.StringIO()
        monkeypatch.setattr(kg.cli.console, "out", Console(file=buffer, force_terminal=True, width=width,
                                                           soft_wrap=True, color_system=None, legacy_windows=False))
        return buffer.getvalue

    return make


TABLE_COMMANDS = [
    ["gaps"], ["gaps", "--by", "year"], ["gaps", "--by", "modality"], ["stats"], ["query", "--list"],
    ["query", "--name", "paper", "--bind", "id=2406.09400"], ["query", "--name", "citations", "--bind", "id=2406.09400"],
    ["query", "--name", "papers"], ["query", "--name", "papers-by-cell"],
]


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=" ".join)
def test_tables_keep_to_an_80_column_terminal(kg, built_store, terminal, args):
    printed = terminal(80)
    r = kg(*args, store=built_store)
    assert r.exit_code == 0, r.message
    # the tables (gaps' closing sentences are prose: the terminal wraps those)
    lines = [line for line in printed().splitlines() if not line.startswith(("16/16 cells", "empty:", "thin:"))]
    assert lines and max(len(line) for line in lines) <= 80, "\n".join(l for l in lines if len(l) > 80)


def test_terminal_tables_cut_titles_on_one_line_and_keep_ids_whole(kg, built_store, terminal):
    printed = terminal(80)
    assert kg("query", "--name", "paper", "--bind", "id=2406.09400", store=built_store).exit_code == 0
    lines = printed().splitlines()
    title = [line for line in lines if " title " in f" {line} "]
    assert len(title) == 1 and title[0].startswith("2406.09400  title ") and title[0].rstrip().endswith("…")
    assert lines[-1].endswith(" row(s)")
    assert all(line.startswith("2406.09400  ") for line in lines[2:-1])  # one line a row, the id whole

    printed = terminal(80)
    assert kg("gaps", "--by", "year", store=built_store).exit_code == 0
    head = printed().splitlines()
    assert head[0] == "Papers per cell and year (red: none)"
    years = head[1].split()[3:]
    assert head[1].startswith("category / mechanism") and len(years) >= 2 and "…" not in printed()
    assert all(len(y) == 4 and y.isdigit() for y in years), head[1]

    printed = terminal(40)  # too narrow for every year: parts that repeat the cell column, years whole
    assert kg("gaps", "--by", "year", store=built_store).exit_code == 0
    text = printed()
    assert "…" not in text and text.count("category / mechanism") == len(years)
    assert max(len(line) for line in text.splitlines()) <= 40

    printed = terminal(80)
    long_title = "Papers per cell: count (expected, score) " * 3
    from kg.output.tables import emit, new_table

    table = new_table(long_title)
    table.add_column("a")
    table.add_row("1")
    import kg.cli

    emit(kg.cli.console.out, table)
    first = printed().splitlines()[0]
    assert len(first) == 80 and first.endswith("…")


def test_a_table_too_wide_for_the_terminal_shows_one_block_per_row(kg, built_store, terminal):
    printed = terminal(80)
    assert kg("query", "--name", "papers", store=built_store).exit_code == 0
    text = printed()
    assert "── 1 " in text and "── 2 " in text
    assert re.search(r"^arxiv +2406\.09400$", text, re.M)  # "column  value", the id whole
    assert max(len(line) for line in text.splitlines()) <= 80


@pytest.mark.parametrize("args", TABLE_COMMANDS, ids=" ".join)
def test_piped_tables_are_plain_and_whole(kg, built_store, args):
    from kg.cli import app

    r = kg.runner.invoke(app, ["--store", str(built_store), *args], env={"COLUMNS": "80"})
    assert r.exit_code == 0, r.output
    text = r.stdout.replace("…/", "")  # kg query writes IRIs under kg's base as …/id/...
    assert "…" not in text and "┃" not in text and "│" not in text


def test_piped_tables_keep_headers_and_titles_whole(kg, built_store):
    r = kg("gaps", "--by", "year", store=built_store)
    header = r.stdout.splitlines()[1].split()
    assert header[:3] == ["category", "/", "mechanism"] and all(len(y) == 4 and y.isdigit() for y in header[3:])
    r = kg("query", "--name", "paper", "--bind", "id=2406.09400", store=built_store)
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["id", "property", "value", "valueLabel"]
    assert any(line.split(None, 2)[1:] == ["title", "Yo'LLaVA: Your Personalized Language and Vision Assistant"]
               for line in lines[1:])
    r = kg("query", "SELECT ?t WHERE { BIND(\"a [red]b[/] c\" AS ?t) }", store=built_store)
    assert "a [red]b[/] c" in r.stdout  # values are text, never rich markup
