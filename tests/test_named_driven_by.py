"""NamedQuery.driven_by: a paged listing with its page's driver replaced (given works, another
pattern, or none), the rest of the query as shipped."""

from __future__ import annotations

import json

import pytest

from kg.errors import UsageError
from kg.sparql.named import get_query, named_queries, split_order


def _rows(graph, text: str) -> list[str]:
    rows = graph.query(split_order(text)[0], trusted=True).rows
    return sorted(json.dumps({k: v.to_json() for k, v in row.items() if v is not None}, sort_keys=True) for row in rows)


def _works(graph, n: int) -> list[str]:
    text = "SELECT ?work WHERE { ?work a fabio:ScholarlyWork FILTER EXISTS { ?work kg:category ?c } } ORDER BY ?work"
    return [w for (w,) in graph.values(text)][:n]


@pytest.mark.parametrize("name", ["report-works", "scope", "report-concept-links"])
def test_given_works_answer_as_the_whole_listing_does_for_them(graph, name):
    query = get_query(name)
    chosen = _works(graph, 3)
    assert len(chosen) == 3
    whole = [r for r in _rows(graph, query.whole_text()) if json.loads(r)["work"]["value"] in chosen]
    ours = _rows(graph, query.driven_by(works=chosen))
    assert ours and ours == whole
    assert {json.loads(r)["work"]["value"] for r in ours} == set(chosen)
    assert _rows(graph, query.driven_by(works=[])) == []  # no works: no rows


def test_no_driver_answers_for_every_row_the_rest_matches(graph):
    """Without the driver the links of every subject come back (on the bundled graph every subject
    of a concept link is a work, so the whole listing again), in one query with no page left."""
    query = get_query("report-concept-links")
    text = query.driven_by()
    assert "LIMIT" not in text and "fabio:ScholarlyWork" not in text
    assert _rows(graph, text) == _rows(graph, query.whole_text())


def test_a_pattern_drives_the_listing(graph):
    """Another selection of works as the driver: the scope listing of one work."""
    query = get_query("scope")
    work = _works(graph, 1)[0]
    pattern = f"SELECT ?work WHERE {{ ?work a fabio:ScholarlyWork FILTER(?work = <{work}>) }}"
    ours = _rows(graph, query.driven_by(pattern))
    assert ours == _rows(graph, query.driven_by(works=[work]))
    assert [json.loads(r)["work"]["value"] for r in ours] == [work]


def test_the_order_and_columns_stay():
    query = get_query("scope")
    text = query.driven_by(works=["https://example.org/w>1"])
    assert split_order(text)[1] == query.order()
    assert text.split("WHERE", 1)[0] == query.text.split("WHERE", 1)[0]
    assert "<https://example.org/w%3E1>" in text  # an IRI cannot close its brackets early


def test_only_a_listing_has_a_driver():
    unpaged = next(q for q in named_queries().values() if q.page_size is None)
    with pytest.raises(UsageError, match="not paged"):
        unpaged.driven_by()
