"""`kg classify --input` when no line can be classified: every line malformed, or none at all.

Each malformed line is answered with its error as when only some are (exit 1, no traceback),
and an input with no lines is a usage error naming it; the classifier itself answers an empty
batch with no predictions instead of scikit-learn's "Found array with 0 sample(s)".
"""

from __future__ import annotations

import json

import pytest

from kg.classify.model import Doc
from kg.classify.run import classify_texts
from kg.errors import KgError


def _lines(result) -> list[dict]:
    return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]


def _no_traceback(result) -> None:
    """The run ended with kg's own error (a message and an exit code), not a crash."""
    assert result.exception is None or isinstance(result.exception, (KgError, SystemExit)), result.exception


def test_every_line_malformed_is_answered_line_by_line_as_json(kg, built_store, tmp_path):
    path = tmp_path / "allbad.jsonl"
    path.write_bytes(b'not json\n\n[1, 2]\n{"title": 42}\n\xff\xfe\n')
    result = kg("classify", "--input", str(path), "--json", store=built_store)
    _no_traceback(result)
    assert result.exit_code == 1
    errors = {o["line"]: o["error"] for o in _lines(result)}
    assert set(errors) == {1, 3, 4, 5}
    assert "not valid JSON" in errors[1] and "JSON object" in errors[3]
    assert "'title'" in errors[4] and "UTF-8" in errors[5]
    assert "none of the 4" in result.message and "line 1" in result.message
    assert "others were answered" not in result.message


def test_every_line_malformed_from_stdin_as_a_table(kg, built_store):
    result = kg("classify", "--input", "-", store=built_store, input="garbage\n")
    _no_traceback(result)
    assert result.exit_code == 1
    assert "line 1: not valid JSON" in result.stderr
    assert "Predicted labels" not in result.stdout  # no empty table for no answers
    assert "none of the 1" in result.message


def test_every_line_malformed_from_stdin_as_json(kg, built_store):
    result = kg("classify", "--input", "-", "--json", store=built_store, input="garbage\n")
    _no_traceback(result)
    assert result.exit_code == 1
    [answer] = _lines(result)
    assert answer["line"] == 1 and "not valid JSON" in answer["error"]


@pytest.mark.parametrize("text", ["", "\n  \n"])
def test_empty_stdin_is_a_usage_error(kg, built_store, text):
    result = kg("classify", "--input", "-", "--json", store=built_store, input=text)
    _no_traceback(result)
    assert result.exit_code == 2
    assert "standard input holds no lines" in result.message
    assert result.stdout == ""


def test_classifying_no_texts_gives_no_predictions(built_store):
    assert classify_texts(built_store, []) == []
    assert classify_texts(built_store, [Doc("Personalized image retrieval", "")])[0]["category"]["label"]
