"""The CLI: outputs, exit codes and messages for each bad input."""

from __future__ import annotations

import json
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
    assert r.exit_code == 2 and "--bind id=" in r.message


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
