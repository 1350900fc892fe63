"""Number limits, --bind and --keep on the command line: NaN, infinity, 0 and -1 are refused while
the command line is parsed (exit 2, the flag named), as are a bind the query has no variable for,
a named query's unknown notation and a --keep that is a file; never a traceback, never a silent run."""

from __future__ import annotations

import math
import typing

import pytest
import typer

from kg.cli import app
from kg.errors import UsageError


@pytest.fixture
def nothing_runs(monkeypatch):
    """The endpoint and the benchmark stubbed: a limit that slipped through ends the test at once
    (an error, exit 1) instead of serving forever or building corpora."""
    import kg.bench
    import kg.serve

    def ran(*args, **kwargs):
        raise AssertionError("the command ran with a limit it should have refused")

    monkeypatch.setattr(kg.serve, "serve", ran)
    monkeypatch.setattr(kg.bench, "run_bench", ran)


def _said(result) -> str:
    """Everything a run printed and its error message, on one line (a boxed message may wrap)."""
    return " ".join((result.output + " " + (result.message or "")).replace("│", " ").split())


REFUSED = [
    (["query", "--timeout", "nan", "ASK { ?s ?p ?o }"], "--timeout"),
    (["query", "--max-mb", "nan", "ASK { ?s ?p ?o }"], "--max-mb"),
    (["query", "--timeout", "-inf", "ASK { ?s ?p ?o }"], "--timeout"),
    (["query", "--timeout", "0", "ASK { ?s ?p ?o }"], "--timeout"),
    (["query", "--max-mb", "-1", "ASK { ?s ?p ?o }"], "--max-mb"),
    (["query", "--max-rows", "0", "ASK { ?s ?p ?o }"], "--max-rows"),
    (["serve", "--timeout", "nan", "--port", "0"], "--timeout"),
    (["serve", "--max-mb", "nan", "--port", "0"], "--max-mb"),
    (["serve", "--max-rows", "-1", "--port", "0"], "--max-rows"),
    (["harvest", "arxiv", "--query", "x", "--offline", "--timeout", "nan"], "--timeout"),
    (["harvest", "openalex", "--query", "x", "--offline", "--timeout", "inf"], "--timeout"),
    (["harvest", "s2", "--id", "2406.09400", "--offline", "--retries", "-1"], "--retries"),
    (["bench", "--papers", "10", "--rdflib-cap", "nan"], "--rdflib-cap"),
    (["bench", "--papers", "10", "--rdflib-cap", "inf"], "--rdflib-cap"),
    (["bench", "--papers", "10", "--rdflib-max", "-1"], "--rdflib-max"),
    (["bench", "--papers", "10", "--pyshacl-max", "-1"], "--pyshacl-max"),
    (["gaps", "--min-confidence", "nan"], "--min-confidence"),
    (["gaps", "--min-confidence", "1.5"], "--min-confidence"),
    (["report", "--format", "md", "--min-confidence", "-0.1"], "--min-confidence"),
    (["diff", "--min-confidence", "nan"], "--min-confidence"),
    (["classify", "--review-threshold", "nan"], "--review-threshold"),
    (["classify", "--min-relevance", "inf"], "--min-relevance"),
]


@pytest.mark.parametrize("args,flag", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_a_limit_out_of_range_is_refused_naming_its_flag(kg, built_store, tmp_path, nothing_runs, args, flag):
    store = tmp_path / "store" if args[0] == "harvest" else built_store  # a harvest would write records
    result = kg(*args, store=store)
    value = args[args.index(flag) + 1]
    assert result.exit_code == 2, _said(result)
    assert isinstance(result.exception, UsageError), result.exception
    assert f"{flag} must be" in result.message and result.message.endswith(f"not {value}"), result.message


@pytest.mark.parametrize("flag", ["--timeout", "--max-mb"])
def test_infinity_is_no_limit_for_a_query(kg, built_store, flag):
    result = kg("query", flag, "inf", "ASK { ?s ?p ?o }", store=built_store)
    assert result.exit_code == 0, _said(result)
    assert result.output.strip() == "yes"


def _number_options():
    """(command words, flag) of every float option of every `kg` command."""
    found = []

    def walk(command, words):
        for name, sub in getattr(command, "commands", {}).items():
            walk(sub, [*words, name])
        if getattr(command, "commands", None) or command.callback is None:
            return
        hints = typing.get_type_hints(command.callback)
        for param in command.params:
            if hints.get(param.name) in (float, float | None) and param.opts[0].startswith("--"):
                found.append((words, max(param.opts, key=len)))

    walk(typer.main.get_command(app), [])
    return found


def test_no_float_option_of_any_command_takes_nan(kg, tmp_path, nothing_runs):
    options = _number_options()
    assert (["query"], "--timeout") in options and (["harvest", "s2"], "--timeout") in options
    for words, flag in options:
        result = kg(*words, flag, "nan", store=tmp_path / "store")
        assert result.exit_code == 2 and flag in _said(result), (words, flag, _said(result))
        assert result.exception is None or isinstance(result.exception, (UsageError, SystemExit)), result.exception


def test_the_endpoint_library_refuses_a_nan_limit(built_store):
    from kg.serve import make_server
    from kg.sparql.guard import QueryLimits

    with pytest.raises(UsageError) as caught:
        make_server(str(built_store), port=0, quiet=True, limits=QueryLimits(timeout_s=math.nan))
    assert caught.value.fields == ("timeout_s",)
    QueryLimits(timeout_s=math.inf, max_bytes=math.inf).check()  # no limit is a limit


# ---------------------------------------------------------------- --bind
@pytest.mark.parametrize("text", ["SELECT ?s WHERE { ?s ?p ?o } LIMIT 1", "ASK { ?s ?p ?o }",
                                  "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o } LIMIT 1"])
def test_a_bind_the_query_has_no_variable_for_is_a_usage_error(kg, built_store, text):
    result = kg("query", "--bind", "x=1", text, store=built_store)
    assert result.exit_code == 2, _said(result)
    assert "?x" in result.message and "no such variable" in result.message and "(--bind)" in result.message
    assert "query failed" not in result.message


def test_a_bind_the_select_does_not_list_is_a_usage_error(kg, built_store):
    result = kg("query", "--bind", "s=1", "SELECT ?o WHERE { ?s ?p ?o } LIMIT 1", store=built_store)
    assert result.exit_code == 2, _said(result)
    assert "cannot bind ?s" in result.message and "SELECT" in result.message and "(--bind)" in result.message


def test_a_bind_of_a_variable_the_query_selects_still_answers(kg, built_store):
    text = 'SELECT ?w ?id WHERE { ?w kg:arxivId ?id }'
    result = kg("query", "--bind", "id=2406.09400", "--format", "csv", text, store=built_store)
    assert result.exit_code == 0, _said(result)
    assert "2406.09400" in result.output and len(result.output.strip().splitlines()) == 2


def test_a_named_query_takes_only_its_parameters(kg, built_store):
    result = kg("query", "--name", "papers", "--bind", "x=1", store=built_store)
    assert result.exit_code == 2, _said(result)
    assert "no parameter x" in result.message and "(--bind)" in result.message
    result = kg("query", "--name", "paper", "--bind", "id=2406.09400", "--bind", "label=x", store=built_store)
    assert result.exit_code == 2 and "its parameters are id" in result.message


@pytest.mark.parametrize("category,mechanism,unknown", [("nosuch", "alignment", "category"),
                                                        ("retrieval", "nosuch", "mechanism")])
def test_a_named_query_refuses_an_unknown_notation(kg, built_store, category, mechanism, unknown):
    for name in ("cell-papers", "nearest-papers"):
        result = kg("query", "--name", name, "--bind", f"category={category}", "--bind", f"mechanism={mechanism}",
                    store=built_store)
        assert result.exit_code == 2, _said(result)
        assert f"unknown {unknown} 'nosuch'" in result.message and "(--bind)" in result.message
        valid = "text_generation" if unknown == "category" else "fine_tuning"
        assert valid in result.message  # the valid notations are listed, as kg gaps lists them


def test_a_named_query_on_a_known_cell_still_answers(kg, built_store):
    result = kg("query", "--name", "cell-papers", "--bind", "category=text_generation", "--bind",
                "mechanism=alignment", "--format", "csv", store=built_store)
    assert result.exit_code == 0, _said(result)
    assert len(result.output.strip().splitlines()) > 1


# ---------------------------------------------------------------- bench --keep
def test_bench_keep_that_is_a_file_is_a_usage_error(kg, tmp_path, nothing_runs):
    afile = tmp_path / "afile"
    afile.write_text("not a folder\n")
    result = kg("bench", "--keep", str(afile), "--papers", "10")
    assert result.exit_code == 2, _said(result)
    assert isinstance(result.exception, UsageError) and "--keep" in result.message and "not a folder" in result.message
    assert afile.read_text() == "not a folder\n"
    below = kg("bench", "--keep", str(afile / "sub"), "--papers", "10")
    assert below.exit_code == 2 and "--keep" in below.message and "cannot make the folder" in below.message


def test_an_endpoints_query_may_bind_a_variable_its_select_does_not_list():
    """A remote store's query has the values written into its text: a variable bound but not
    listed in the SELECT is fine there; a local store's engine wants it listed, and is told so."""
    from kg.sparql.text import check_bindings

    text = "SELECT ?s WHERE { ?s ?p ?o }"
    check_bindings(text, ["p"], projected=False)
    with pytest.raises(UsageError, match="SELECT does not list it"):
        check_bindings(text, ["p"])
    with pytest.raises(UsageError, match="no such variable"):
        check_bindings(text, ["x"], projected=False)
