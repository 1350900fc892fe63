"""Named queries: paged listings, and the ORDER BY that kg applies itself."""

from __future__ import annotations

import json

import pytest

from kg.sparql.named import NamedQuery, _parse, all_pages, named_queries, page_count, run_named, split_order

PAGED = sorted(n for n, q in named_queries().items() if q.page_size)
ORDERED = sorted(n for n, q in named_queries().items() if q.order())


def _bindings(graph, query: NamedQuery) -> dict:
    from kg.sparql.results import Term

    samples = {"id": "2412.02142", "category": "text_generation", "mechanism": "instruction",
               "minConfidence": Term("literal", "0.5", "http://www.w3.org/2001/XMLSchema#decimal")}
    return {p: samples[p] for p in query.params}


def _small_pages(query: NamedQuery, size: int) -> NamedQuery:
    """The same listing with `size` works a page, so the bundled graph spans several pages."""
    text = query.text.replace(f"# pages: {query.page_size}", f"# pages: {size}").replace(
        f"LIMIT {query.page_size} OFFSET 0", f"LIMIT {size} OFFSET 0")
    return _parse(query.name, text)


def _key(rows):
    return sorted(json.dumps({k: v.to_json() for k, v in row.items() if v is not None}, sort_keys=True) for row in rows)


def test_the_listings_are_paged():
    assert {"papers", "search-index", "analysis-citation-edges", "graph-edges", "work-ids"} <= set(PAGED)
    for name in PAGED:
        query = named_queries()[name]
        assert query.page_size == 1000
        assert "LIMIT 1000 OFFSET 0" in query.text  # the text as shipped answers page one
        assert "LIMIT" not in query.whole_text()


@pytest.mark.parametrize("name", ORDERED)
def test_kg_sorts_like_the_engine(graph, name):
    """Rows sorted in Python come in the order the engine's ORDER BY gives."""
    query = named_queries()[name]
    bindings = _bindings(graph, query)
    text = query.whole_text()
    engine = graph.query(text, bindings, trusted=True).rows
    ours = run_named(graph, name, bindings).rows
    assert _key(ours) == _key(engine)
    keys = [v for v, _ in query.order()]
    assert [[r.get(k) for k in keys] for r in ours] == [[r.get(k) for k in keys] for r in engine]


@pytest.mark.parametrize("name", PAGED)
def test_pages_partition_the_whole_listing(graph, name):
    # the bundled graph's 49 works (and more labels) in pages of 7; a cell's 2 works in pages of 1
    query = _small_pages(named_queries()[name], 1 if named_queries()[name].params else 7)
    bindings = _bindings(graph, query)
    whole = graph.query(query.whole_text(), bindings, trusted=True).rows
    pages = page_count(graph, query, bindings)
    assert pages >= 2
    seen = []
    for number in range(1, pages + 1):
        seen += graph.query(query.page_text(number), bindings, trusted=True).rows
    assert graph.query(query.page_text(pages + 1), bindings, trusted=True).rows == []
    assert _key(seen) == _key(whole)
    assert _key(all_pages(graph, query, bindings).rows) == _key(whole)


def test_split_order_leaves_what_it_cannot_sort_to_the_engine():
    text, keys = split_order("SELECT ?a ?b WHERE { ?a ?p ?b }\nORDER BY DESC(?b) ?a\n")
    assert keys == [("b", True), ("a", False)] and "ORDER" not in text
    for kept in ("SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?b",  # ?b is not in the rows
                 "SELECT ?a WHERE { ?a ?p ?b } ORDER BY STRLEN(?a)",  # an expression
                 "SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?a LIMIT 3",  # a top-3 needs the engine's order
                 "SELECT ?a WHERE { { SELECT ?a WHERE { ?a ?p ?b } ORDER BY ?a LIMIT 3 } }"):
        assert split_order(kept) == (kept, [])
    assert split_order("SELECT * WHERE { ?a ?p ?b } ORDER BY ?b")[1] == [("b", False)]


def test_a_pages_header_needs_its_sub_select():
    with pytest.raises(ValueError, match="LIMIT 1000 OFFSET 0"):
        _parse("broken", "# title: t\n# pages: 1000\nSELECT ?w WHERE { ?w a fabio:ScholarlyWork }\n")
    with pytest.raises(ValueError):
        _parse("broken", "# pages: 50\nSELECT ?w WHERE { { SELECT ?w WHERE { ?w ?p ?o } LIMIT 1000 OFFSET 0 } }\n")


def test_source_counts_match_counting_the_graph(graph):
    """kg:workCount and kg:labelCount, written at build time, are what a scan would count."""
    counted = graph.query("""
        SELECT ?source (COUNT(DISTINCT ?work) AS ?works) (COUNT(DISTINCT ?a) AS ?labels) WHERE {
          ?source a kg:Source .
          OPTIONAL { { ?work prov:wasDerivedFrom ?source ; a fabio:ScholarlyWork }
                     UNION { ?a prov:wasDerivedFrom ?source ; a kg:LabelAssertion } }
        } GROUP BY ?source""", trusted=True).records()
    listed = run_named(graph, "sources").records()
    assert {(r["source"], r["works"], r["labels"]) for r in listed} == \
        {(r["source"], r["works"], r["labels"]) for r in counted}
    assert any(r["works"] > 0 for r in listed) and any(r["labels"] > 0 for r in listed)


def test_cli_pages(kg, tmp_path):
    """A listing bigger than a page: page one by default with a note, --page N, --all."""
    from kg.bench import synthetic_bundle
    from kg.build import build
    from kg.records.file import write_bundle
    from kg.store import StoreDir

    store = tmp_path / "s"
    write_bundle(StoreDir(store).records_dir / "bench.jsonl", synthetic_bundle(1200, 0))
    build(store)
    first = kg("query", "--name", "work-ids", "--format", "csv", store=store)
    assert first.exit_code == 0, first.message
    assert len(first.stdout.splitlines()) == 1 + 1000
    assert "page 1 of 2" in first.stderr and "--all" in first.stderr
    second = kg("query", "--name", "work-ids", "--page", "2", "--format", "csv", store=store)
    assert len(second.stdout.splitlines()) == 1 + 249  # 1,200 synthetic + 49 bundled works
    assert not set(first.stdout.splitlines()[1:]) & set(second.stdout.splitlines()[1:])
    every = kg("query", "--name", "work-ids", "--all", "--format", "csv", store=store)
    assert sorted(every.stdout.splitlines()[1:]) == sorted(first.stdout.splitlines()[1:] + second.stdout.splitlines()[1:])
    assert "page" not in every.stderr
    for args, says in ((["--name", "work-ids", "--page", "3"], "has 2 page(s)"),
                       (["--name", "stats", "--page", "1"], "not paged"),
                       (["SELECT * WHERE { ?s ?p ?o }", "--page", "1"], "--page and --all")):
        r = kg("query", *args, store=store)
        assert r.exit_code == 2 and says in r.message, r.message


def test_a_whole_listing_keeps_to_the_row_limit(graph, monkeypatch):
    """--all with --max-rows: the rows stop at the limit and the result says so."""
    import kg.sparql.named as named
    from kg.sparql.guard import QueryLimits

    monkeypatch.setattr(named, "ALL_PAGES_SIZE", 10)  # 49 works: 5 pages
    query = named_queries()["work-ids"]
    result = all_pages(graph, query, limits=QueryLimits(max_rows=25, timeout_s=30))
    assert len(result.rows) == 25 and result.truncated
    assert not all_pages(graph, query, limits=QueryLimits(max_rows=1000, timeout_s=30)).truncated
    assert len(all_pages(graph, query).rows) == 49
