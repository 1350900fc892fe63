"""arXiv harvesting: replayed real Atom answers (ids, old-style ids, unknown ids, paged search),
profile queries from the taxonomy, --since, malformed Atom."""

from __future__ import annotations

import pytest
from harvest_support import Answer, FakeTime, LocalServer, Replay, atom_feed

from kg.errors import UsageError
from kg.harvest import arxiv as ax
from kg.harvest import run
from kg.harvest.cache import ResponseCache
from kg.harvest.http import HarvestError, PoliteClient
from kg.paths import ontology_dir
from kg.records.file import read_bundle
from kg.rdf.taxonomy import read_taxonomy


@pytest.fixture
def replay(monkeypatch):
    with LocalServer(Replay().add_arxiv()) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        yield srv


def _client(srv, tmp_path):
    return ax.ArxivClient(PoliteClient(ax.POLICY, cache=ResponseCache(tmp_path / "cache"), sleep=FakeTime().sleep),
                          f"{srv.url}/api/query")


def test_lookup_old_style_and_versioned_ids(replay, tmp_path):
    client = _client(replay, tmp_path)
    old = client.lookup(["astro-ph/0601001"]).works
    assert [w.ids["arxiv"] for w in old] == ["astro-ph/0601001"]
    work = old[0]
    assert work.title.startswith("Frequency of Hot Jupiters and Very Hot Jupiters")
    assert work.year == 2006 and work.date == "2006-01-02"
    assert [a.name for a in work.authors][:2] == ["Andrew Gould", "Susan Dorsher"]
    assert work.venue == "ActaAstron.56:1-50,2006"  # arXiv's journal_ref
    assert work.pdf == "https://arxiv.org/pdf/astro-ph/0601001v1"
    assert work.abstract.startswith("We derive the frequencies")
    versioned = client.lookup(["2104.12255v1"]).works
    assert [w.ids["arxiv"] for w in versioned] == ["2104.12255"]
    assert client.lookup(["quant-ph/0201082v1"]).works[0].ids["arxiv"] == "quant-ph/0201082"


def test_unknown_ids_are_absent_and_a_malformed_id_is_refused_with_arxivs_words(replay, tmp_path):
    client = _client(replay, tmp_path)
    assert client.lookup(["0000.0000"]).works == []
    with pytest.raises(HarvestError, match="incorrect id format for abc"):
        client.lookup(["abc"])


def test_harvest_ids_reports_unknown_ones_and_is_not_fatal(replay, fake_time, tmp_path):
    report = run.harvest_arxiv(run.Options(tmp_path / "store"),
                               id_list=["0808.05394", "1707.08567", "not-an-id"])
    assert report.papers == 1
    assert replay.count("GET") == 1  # both ids in one request
    assert any("0808.05394" in u and "no such paper" in u for u in report.unknown)
    assert any("not-an-id" in u and "not an arXiv id" in u for u in report.unknown)
    works = read_bundle(tmp_path / "store" / "records" / "arxiv.jsonl").works
    assert [w.ids["arxiv"] for w in works] == ["1707.08567"]


def test_paged_search_then_a_repeat_makes_no_requests(replay, fake_time, tmp_path):
    opts = run.Options(tmp_path / "store")
    first = run.harvest_arxiv(opts, query="testing", max_results=60, page_size=10)
    assert first.counters.requests == 6 and replay.count("GET") == 6
    assert [int(r.query["start"]) for r in replay.requests] == [0, 10, 20, 30, 40, 50]
    assert fake_time.sleeps == [3.0] * 5  # one request every 3 s, without waiting for real
    records = read_bundle(tmp_path / "store" / "records" / "arxiv.jsonl")
    ids_ = [w.ids["arxiv"] for w in records.works]
    assert len(ids_) == len(set(ids_)) == first.papers >= 55
    assert all(w.title and w.sources == [records.sources[0].id] for w in records.works)
    assert records.sources[0].request.startswith("search_query=testing")

    again = run.harvest_arxiv(opts, query="testing", max_results=60, page_size=10)
    assert again.counters.requests == 0 and again.counters.cache_hits == 6
    assert replay.count("GET") == 6
    assert again.added == 0 and again.updated == first.papers
    assert len(read_bundle(tmp_path / "store" / "records" / "arxiv.jsonl").works) == len(ids_)


def test_profile_queries_come_from_the_taxonomy_labels():
    taxonomy = read_taxonomy()
    queries = dict(ax.profile_queries(taxonomy))
    assert set(queries) >= {"category/text_generation", "category/image_generation",
                            "category/recommendation", "category/retrieval", "modality/video",
                            "mechanism/instruction", "mechanism/alignment", "mechanism/generation",
                            "mechanism/fine_tuning", "method/dreambooth"}
    assert len(queries) == sum(len(taxonomy.axis(a)) for a in ("category", "mechanism", "modality", "method")) - 1
    assert "abs:recommendation" in queries["category/recommendation"]
    assert 'abs:"text generation"' in queries["category/text_generation"]
    assert "abs:prompting" in queries["mechanism/instruction"]
    head = "(ti:personalisation OR abs:personalisation OR ti:personalised OR abs:personalised OR " \
           "ti:personalization OR abs:personalization OR ti:personalized OR abs:personalized) AND "
    assert all(q.startswith(head) for q in queries.values())  # the scheme's kg:scopeKeyword values
    assert all("personaliz" not in q[len(head):].lower() for q in queries.values())


def test_another_taxonomy_gives_other_queries(tmp_path):
    text = (ontology_dir() / "taxonomy.ttl").read_text(encoding="utf-8")
    changed = text.replace('"Personalized recommendation"@en', '"Personalized music playlist continuation"@en')
    assert changed != text
    other = tmp_path / "taxonomy.ttl"
    other.write_text(changed, encoding="utf-8")
    queries = dict(ax.profile_queries(read_taxonomy(other)))
    assert 'abs:"music playlist continuation"' in queries["category/recommendation"]


def test_profile_harvest_sends_one_search_per_generated_query(monkeypatch, fake_time, tmp_path):
    seen = []

    def handler(req):
        seen.append(req.query["search_query"])
        n = len(seen)
        return Answer(200, atom_feed([{"id": f"2401.{n:05d}", "title": f"Personalized thing number {n} studied"},
                                      {"id": "2401.99999", "title": "A paper every query finds again"}]))
    with LocalServer(handler) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        report = run.harvest_arxiv(run.Options(tmp_path / "store"), profile="survey", max_results=5)
    expected = [q for _, q in ax.profile_queries(read_taxonomy())]
    assert seen == expected
    assert report.papers == len(expected) + 1  # the shared paper is kept once


def test_since_sorts_by_date_and_stops_at_older_papers(monkeypatch, fake_time, tmp_path):
    pages = {0: atom_feed([{"id": "2406.00001", "title": "New one about things", "published": "2024-06-20T00:00:00Z"},
                           {"id": "2406.00002", "title": "Newer two about things", "published": "2024-06-10T00:00:00Z"}],
                          total=100),
             2: atom_feed([{"id": "2405.00003", "title": "Third paper about things", "published": "2024-06-02T00:00:00Z"},
                           {"id": "2405.00004", "title": "Old one about other things", "published": "2024-05-01T00:00:00Z"}],
                          total=100, start=2)}
    with LocalServer(lambda req: Answer(200, pages[int(req.query["start"])])) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        report = run.harvest_arxiv(run.Options(tmp_path / "store"), query="abs:things",
                                   since="2024-06-01", max_results=10, page_size=2)
        assert len(srv.requests) == 2
        query = srv.requests[0].query
    assert query["sortBy"] == "submittedDate"
    assert query["search_query"] == "(abs:things) AND submittedDate:[202406010000 TO 299912312359]"
    assert report.papers == 3


def test_bad_since_and_missing_query_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="the start date must be a date like 2024-06-01") as bad:
        run.harvest_arxiv(run.Options(tmp_path), query="x", since="last week")
    assert bad.value.fields == ("since",)
    with pytest.raises(UsageError, match="give a search query") as missing:
        run.harvest_arxiv(run.Options(tmp_path))
    assert missing.value.fields == ("query", "id_list", "profile")
    with pytest.raises(UsageError, match="unknown profile"):
        run.harvest_arxiv(run.Options(tmp_path), profile="everything")


def test_malformed_atom_is_retried_then_reported_and_the_graph_is_untouched(monkeypatch, fake_time, store_copy, kg):
    with LocalServer(lambda req: Answer(200, "<feed><entry>broken")) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        before = sorted(p.name for p in store_copy.iterdir())
        result = kg("harvest", "arxiv", "--query", "x", "--retries", "2", store=store_copy)
        assert len(srv.requests) == 3
    assert result.exit_code == 1
    assert "malformed Atom feed" in result.message
    assert not (store_copy / "records" / "arxiv.jsonl").exists()
    assert not list((store_copy / "cache").rglob("*.json"))
    assert sorted(p.name for p in store_copy.iterdir() if p.name not in ("cache", "harvest", "records")) == \
        [n for n in before if n not in ("cache", "harvest", "records")]


def test_a_feed_that_is_not_atom_is_malformed():
    with pytest.raises(ValueError, match="not an Atom feed"):
        ax.parse_feed("<html><body>maintenance</body></html>")
