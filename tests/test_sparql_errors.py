"""SPARQL errors in words, with line and column, wherever a query is taken (CLI, serve; the app in test_app)."""

from __future__ import annotations

import threading

import pytest
import requests

from kg.sparql.guard import explain, parse_error
from kg.serve import make_server

UNDECLARED = "SELECT ?x WHERE { ?x a owl:Class }"


def test_an_undeclared_prefix_is_named_with_its_declaration(kg, built_store):
    result = kg("query", UNDECLARED, store=built_store)
    assert result.exit_code == 2
    assert "line 1, column 24" in result.message
    assert "prefix owl: is not declared; add PREFIX owl: <http://www.w3.org/2002/07/owl#>" in result.message
    assert "kg declares kg:, rdf:" in result.message
    assert "u{00B7}" not in result.message and "\n" not in result.message.strip()


def test_an_unknown_prefix_without_a_well_known_namespace_asks_for_one(kg, built_store):
    result = kg("query", "PREFIX ex: <http://ex/>\nSELECT ?x WHERE {\n  ?x a ex:A, zz:B }", store=built_store)
    assert result.exit_code == 2
    assert "line 3" in result.message and "prefix zz: is not declared" in result.message


@pytest.mark.parametrize("text, words", [
    ("SELECT ?x WHERE { ?x a kg:Work } LIMT 5", "after 'LIMT 5'"),
    ("SELECT ?x WHERE { ?x a kg:Work ", "ends too early"),
    ('SELECT ?x WHERE { ?x kg:title "abc }', "a string is not closed"),
    ("SELECT (COUNT(?x) ?n) WHERE { ?x ?p ?o }", "unexpected 'WHERE'"),
])
def test_common_mistakes_read_as_words(kg, built_store, text, words):
    result = kg("query", text, store=built_store)
    assert result.exit_code == 2
    assert words in result.message and "line 1, column" in result.message
    assert "'\\u{" not in result.message and "..=" not in result.message


def test_messages_from_engine_lists_stay_short():
    detail = ("expected one of Prefix not found, ['%'], ['-' | '0' ..= '9' | '\\u{00B7}'], ['.'], [':'], "
              "['A' ..= 'Z' | 'a' ..= 'z'], ['\\\\'], ['_']")
    assert explain(detail, UNDECLARED, 1, 24).startswith("prefix owl: is not declared")
    err = parse_error("error at 1:24: " + detail, UNDECLARED)
    assert (err.line, err.column) == (1, 24)


def test_the_server_answers_400_with_the_same_words(built_store):
    srv = make_server(str(built_store), port=0, quiet=True)
    thread = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        resp = requests.get(srv.url, params={"query": UNDECLARED}, timeout=30)
        assert resp.status_code == 400
        assert "prefix owl: is not declared" in resp.text and "line 1, column 24" in resp.text
    finally:
        srv.shutdown()
        srv.server_close()
        thread.join(5)
