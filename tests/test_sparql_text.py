"""kg.sparql.text: the one reader and rewriter of SPARQL text (form, terms, substitution, paging, ORDER BY)."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from kg.errors import UsageError
from kg.sparql.results import Term, term_from_ox
from kg.sparql.text import (
    Outline,
    keywords,
    query_form,
    sparql_term,
    split_order,
    strip,
    substitute,
    variables,
    with_prefixes,
)

EX = "http://ex/"
TRICKY = [
    'say "hi"',
    "it's",
    "back\\slash \\u0041 \\n",
    "line\nbreak\r\ttab\b\f",
    '""" closing triple quotes \'\'\'',
    "} DROP ALL ; INSERT DATA { <x> <y> <z> } #",
    "?id $id",
    "\x00\x01\x7f",
    "ünïcödé ✓ 𝄞",
    "",
]


# ---------------------------------------------------------------- reading
def test_keywords_skip_strings_iris_comments_and_names():
    text = 'SELECT ?insert WHERE { ?s <http://a/DELETE> "DROP" ; kg:CLEAR ?o } # LOAD\n'
    assert [w for w, _ in keywords(text)] == ["SELECT", "WHERE"]
    stripped = strip(text)
    assert len(stripped) == len(text) and "DELETE" not in stripped and "LOAD" not in stripped


@pytest.mark.parametrize("text, form", [
    ("PREFIX a: <http://x/#y>\nBASE <http://b/> # SELECT\n  ask {}", "ASK"),
    ("# DESCRIBE\nconstruct {} where {}", "CONSTRUCT"),
    ("PREFIX a:<x>PREFIX : <y> DESCRIBE <z>", "DESCRIBE"),
    ("BASE <x>select*{}", "SELECT"),
    ("\\u0053ELECT * {}", "SELECT"),  # an engine may decode codepoint escapes before parsing
    ("\\U00000041SK {}", "ASK"),
    ("  INSERT DATA {}", "INSERT"),
    ("WITH <g> DELETE {} WHERE {}", "WITH"),
    ("nonsense SELECT * {}", None),
    ("SELECTED * {}", None),
    ("PREFIX a <x> SELECT * {}", None),  # a malformed prologue
    ("PREFIX a:b <x> SELECT * {}", None),
    ("'SELECT'", None),
    ("<x> SELECT", None),
    ("\\UFFFFFFFF SELECT", None),  # an escape of no codepoint stays as written
    ("", None),
])
def test_query_form_reads_the_keyword_after_the_prologue(text, form):
    assert query_form(text) == form


def test_variables_are_read_outside_strings_and_comments():
    text = 'SELECT ?a WHERE { ?a <http://x/?b> "?c" ; kg:p $d } # ?e'
    assert variables(text) == {"a", "d"}


def test_the_outline_finds_every_select_and_its_parts():
    text = ("SELECT ?w (COUNT(?x) AS ?n) WHERE { ?w ?p ?x "
            "{ SELECT ?x WHERE { ?x a ?t } ORDER BY ?x LIMIT 5 OFFSET 10 } } GROUP BY ?w ORDER BY DESC(?n)")
    outline = Outline(text)
    query, sub = outline.selects
    assert outline.query is query and (query.depth, sub.depth) == (0, 2)
    assert query.variables == ["w", "n"] and sub.variables == ["x"]
    assert [outline.tokens[i].text for i in query.group_by] == ["?w"]
    assert (sub.limit_value, sub.offset_value) == (5, 10)
    assert query.limit < 0 and query.order > 0
    assert sub.pattern == "?x a ?t"
    assert sub.wrapped is not None and query.wrapped is None
    assert Outline("ASK { ?s ?p ?o }").query is None


# ---------------------------------------------------------------- terms
@pytest.mark.parametrize("value", TRICKY)
def test_a_literal_term_reads_back_as_the_same_value(value):
    store = ox.Store()
    answer = list(store.query(f"SELECT ?v WHERE {{ BIND({sparql_term(value)} AS ?v) }}"))
    assert answer[0]["v"].value == value


def test_terms_of_every_kind():
    assert sparql_term(Term("literal", "chat", lang="fr")) == '"chat"@fr'
    assert sparql_term(Term("literal", "2024", XSD_INT)) == f'"2024"^^<{XSD_INT}>'
    assert sparql_term(Term("literal", "plain", "http://www.w3.org/2001/XMLSchema#string")) == '"plain"'
    assert sparql_term(ox.Literal("1.5", datatype=ox.NamedNode(XSD_DEC))) == f'"1.5"^^<{XSD_DEC}>'
    assert sparql_term(2.5) == '"2.5"^^<http://www.w3.org/2001/XMLSchema#double>'
    assert sparql_term(False) == '"false"^^<http://www.w3.org/2001/XMLSchema#boolean>'
    assert sparql_term(Term("uri", EX + "a?b=c#d")) == f"<{EX}a?b=c#d>"


@pytest.mark.parametrize("value, says", [
    (Term("uri", EX + "a> } DROP ALL <" + EX), "not a valid IRI"),
    (Term("uri", EX + "a b"), "not a valid IRI"),
    (Term("literal", "x", lang="en} DROP"), "not a valid language tag"),
    (Term("literal", "x", EX + "t> ; DROP"), "not a valid IRI"),
    (Term("bnode", "b0"), "cannot be bound"),
    (ox.BlankNode("b0"), "cannot be bound"),
    ("\ud800", "not valid text"),
])
def test_values_that_are_no_term_are_refused(value, says):
    with pytest.raises(UsageError, match=says):
        sparql_term(value)


# ---------------------------------------------------------------- substitution
@pytest.fixture(scope="module")
def store():
    s = ox.Store()
    for i, value in enumerate(TRICKY):
        work = ox.NamedNode(f"{EX}w{i}")
        s.add(ox.Quad(work, ox.NamedNode(EX + "name"), ox.Literal(value)))
        s.add(ox.Quad(work, ox.NamedNode(EX + "year"), ox.Literal(str(2000 + i), datatype=ox.NamedNode(XSD_INT))))
    return s


def _rows(result) -> list:
    names = [v.value for v in result.variables]
    return sorted(tuple((n, str(s[n])) for n in names if s[n] is not None) for s in result)


SUBSTITUTED = [
    f"SELECT ?w ?name WHERE {{ ?w <{EX}name> ?name }}",
    f"SELECT * WHERE {{ ?w <{EX}name> ?name }}",
    f"SELECT ?w $name WHERE {{ ?w <{EX}name> $name }}",
    f"SELECT ?name (COUNT(*) AS ?n) WHERE {{ ?w <{EX}name> ?name }} GROUP BY ?name ORDER BY ?name",
    f"SELECT ?w ?name WHERE {{ {{ SELECT ?w ?name WHERE {{ ?w <{EX}name> ?name }} }} }}",
    f"SELECT ?w ?name WHERE {{ ?w <{EX}name> ?n FILTER(?n = ?name) }}",
    f"SELECT ?w ?name WHERE {{ ?w <{EX}name> ?n FILTER EXISTS {{ SELECT ?name WHERE {{ ?x <{EX}name> ?name }} }} "
    f"FILTER(?n = ?name) }}",
    f"SELECT ?w ?name WHERE {{ ?w <{EX}name> ?n MINUS {{ SELECT ?name WHERE {{ ?x <{EX}year> ?name }} }} }}",
    # the variable's name in a string, an IRI and a comment is not the variable
    f'SELECT ?w ?name WHERE {{ ?w <{EX}name> ?name . OPTIONAL {{ ?w <{EX}?name> "?name" }} }} # ?name',
]


@pytest.mark.parametrize("query", SUBSTITUTED)
@pytest.mark.parametrize("value", TRICKY[:7])
def test_substitution_answers_as_oxigraph_substitutes(store, query, value):
    """The text with the term in place answers what Oxigraph's own binding answers (which
    needs the variable projected)."""
    ours = store.query(substitute(query, {"name": value}))
    engine = store.query(query, substitutions={ox.Variable("name"): ox.Literal(value)})
    assert _rows(ours) == _rows(engine)


def test_substitution_leaves_strings_comments_and_escaped_names_alone():
    text = "SELECT ?w WHERE { ?w kg:a\\?id \"?id\" ; kg:b ?id } # ?id"  # kg:a\?id is a name
    out = substitute(text, {"id": Term("uri", EX + "x")})
    assert out == f"SELECT ?w WHERE {{ ?w kg:a\\?id \"?id\" ; kg:b <{EX}x> }} # ?id"
    # kg:a\' ends the name (an escaped quote), so the ?id after it is the variable
    assert substitute("ASK { ?w kg:a\\'?id 1 }", {"id": 2}) == f"ASK {{ ?w kg:a\\'\"2\"^^<{XSD_INT}> 1 }}"
    assert substitute(text, {}) == text and substitute(text, None) == text
    with pytest.raises(UsageError, match="not a valid IRI"):
        substitute(text, {"id": Term("uri", "x> } DROP ALL {")})


def test_numbers_substitute_as_typed_literals(store):
    query = f"SELECT ?w WHERE {{ ?w <{EX}year> ?year }}"
    assert [r["w"].value for r in store.query(substitute(query, {"year": 2003}))] == [EX + "w3"]


def test_prefixes_go_in_front():
    assert with_prefixes("ASK {}", {"a": EX, "b": EX + "b#"}) == f"PREFIX a: <{EX}>\nPREFIX b: <{EX}b#>\nASK {{}}"


# ---------------------------------------------------------------- paging
@pytest.mark.parametrize("text, paged", [
    ("SELECT * WHERE { ?s ?p ?o }", "SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFFSET 20"),
    ("SELECT * WHERE { ?s ?p ?o } ORDER BY ?s # sorted\n",
     "SELECT * WHERE { ?s ?p ?o } ORDER BY ?s LIMIT 10 OFFSET 20 # sorted\n"),
    ("SELECT * WHERE { ?s ?p ?o } LIMIT 3", "SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFFSET 20"),
    ("SELECT * WHERE { ?s ?p ?o } OFFSET 7 LIMIT 3", "SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFFSET 20"),
    ("SELECT * WHERE { ?s ?p ?o } offset 7", "SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFFSET 20"),
    ("SELECT * WHERE { ?s ?p ?o } VALUES ?s { <x> }", "SELECT * WHERE { ?s ?p ?o } LIMIT 10 OFFSET 20 VALUES ?s { <x> }"),
    ('SELECT * WHERE { ?s ?p "LIMIT 5 OFFSET 0" } # LIMIT 5 OFFSET 0',
     'SELECT * WHERE { ?s ?p "LIMIT 5 OFFSET 0" } LIMIT 10 OFFSET 20 # LIMIT 5 OFFSET 0'),
    # the query's own page, not the sub-query's
    ("SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } }",
     "SELECT * WHERE { { SELECT ?s WHERE { ?s ?p ?o } LIMIT 2 } } LIMIT 10 OFFSET 20"),
])
def test_the_query_page_is_set_or_added(text, paged):
    assert Outline(text).query.with_page(10, 20) == paged


def test_a_sub_select_page_is_set_in_place():
    text = ("SELECT ?w ?t WHERE {\n  { SELECT ?w WHERE { ?w a ?c } LIMIT 1000 OFFSET 0 }\n"
            "  ?w ?p ?t\n} ORDER BY ?w LIMIT 5")
    _, sub = Outline(text).selects
    assert sub.with_page(50, 100) == text.replace("LIMIT 1000 OFFSET 0", "LIMIT 50 OFFSET 100")
    inner = Outline("SELECT * { { SELECT ?w WHERE { ?w a ?c } } }").selects[1]
    assert inner.with_page(5, 0) == "SELECT * { { SELECT ?w WHERE { ?w a ?c } LIMIT 5 OFFSET 0 } }"
    with pytest.raises(ValueError):
        sub.with_page(-1, 0)


def test_paged_queries_answer_pages_that_partition_the_whole(store):
    text = f"SELECT ?w ?name WHERE {{ {{ SELECT ?w WHERE {{ ?w <{EX}name> [] }} ORDER BY ?w LIMIT 3 OFFSET 0 }} " \
           f"?w <{EX}name> ?name }}"
    sub = Outline(text).selects[1]
    whole = _rows(store.query(sub.flattened()))
    pages = [_rows(store.query(sub.with_page(3, k))) for k in range(0, 12, 3)]
    assert all(len(p) == 3 for p in pages[:3]) and len(pages[3]) == 1
    assert sorted(r for p in pages for r in p) == whole and len(whole) == len(TRICKY)


def test_flattening_replaces_the_sub_select_by_its_pattern():
    text = "SELECT ?w ?t WHERE {\n  { SELECT ?w WHERE { ?w a ?c . } LIMIT 9 OFFSET 0 }\n  ?w ?p ?t\n}"
    sub = Outline(text).selects[1]
    assert sub.flattened() == "SELECT ?w ?t WHERE {\n  ?w a ?c .\n  ?w ?p ?t\n}"
    with pytest.raises(ValueError):
        Outline(text).query.flattened()


# ---------------------------------------------------------------- ORDER BY
@pytest.mark.parametrize("text, keys", [
    ("SELECT ?a ?b WHERE { ?a ?p ?b }\nORDER BY DESC(?b) ?a\n", [("b", True), ("a", False)]),
    ("select ?a ?b where { ?a ?p ?b } order by asc(?b) desc( ?a )", [("b", False), ("a", True)]),
    ("SELECT ?a (STR(?b) AS ?s) WHERE { ?a ?p ?b } ORDER BY ?s", [("s", False)]),
    ("SELECT DISTINCT * WHERE { ?a ?p ?b } ORDER BY ?b # last\n", [("b", False)]),
    ("SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?b", []),  # ?b is not in the rows
    ("SELECT ?a (COUNT(?b) AS ?n) WHERE { ?a ?p ?b } GROUP BY ?a ORDER BY ?b", []),  # nor here
    ("SELECT ?a WHERE { ?a ?p ?b } ORDER BY STRLEN(?a)", []),  # an expression
    ("SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?a LIMIT 3", []),  # a top-3 needs the engine's order
    ("SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?a VALUES ?a { <x> }", []),
    ("SELECT ?a WHERE { { SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?a } }", []),  # a sub-query's order
    ("SELECT ?a WHERE { ?a ?p \"ORDER BY ?a\" } # ORDER BY ?a", []),
    ("CONSTRUCT { ?a ?p ?b } WHERE { ?a ?p ?b } ORDER BY ?a", []),
])
def test_split_order_takes_off_only_what_kg_can_sort(text, keys):
    engine, found = split_order(text)
    assert found == keys
    if keys:
        assert "ORDER" not in engine.upper() and engine.endswith("}\n")
    else:
        assert engine == text


XSD_INT = "http://www.w3.org/2001/XMLSchema#integer"
XSD_DEC = "http://www.w3.org/2001/XMLSchema#decimal"


def test_terms_from_results_round_trip(store):
    """A value read from an answer, bound again, finds the same row."""
    row = next(iter(store.query(f"SELECT ?y WHERE {{ <{EX}w4> <{EX}year> ?y }}")))
    term = term_from_ox(row["y"])
    query = f"SELECT ?w WHERE {{ ?w <{EX}year> ?y }}"
    assert [r["w"].value for r in store.query(substitute(query, {"y": term}))] == [EX + "w4"]
