"""The harvest reads arXiv and Semantic Scholar through the `arxiv` and `semanticscholar` packages'
models (arxiv.Client with our polite session, arxiv.Result, semanticscholar Paper/Citation/Reference),
keeping our transport; S2's further external ids (MAG, DBLP, PubMed ...) reach the graph."""

from __future__ import annotations

import json

import arxiv
import pytest
from harvest_support import Answer, FakeTime, LocalServer, Replay, atom_feed
from semanticscholar.Paper import Paper

from kg.harvest import arxiv as ax
from kg.harvest import run, s2
from kg.harvest.cache import ResponseCache
from kg.harvest.http import HarvestError, PoliteClient
from kg.records import Bundle, Source, Work
from kg.records.file import read_bundle
from kg.pipeline import after_records
from kg.store import LocalGraph


def _arxiv(srv, tmp_path, retries=4):
    from dataclasses import replace

    http = PoliteClient(replace(ax.POLICY, retries=retries), cache=ResponseCache(tmp_path / "cache"),
                        sleep=FakeTime().sleep)
    return ax.ArxivClient(http, f"{srv.url}/api/query")


# ---------------------------------------------------------------- arXiv
def test_arxiv_pages_come_from_the_packages_client_through_our_session(tmp_path):
    with LocalServer(Replay().add_arxiv()) as srv:
        client = _arxiv(srv, tmp_path)
        feed = client.lookup(["0808.05394", "1707.08567"])
        again = client.lookup(["0808.05394", "1707.08567"])
        assert len(srv.requests) == 1  # the repeat came from our cache
        assert srv.requests[0].headers["user-agent"].startswith("kg/")  # our User-Agent, not arxiv.py's
    assert isinstance(client.client, arxiv.Client) and isinstance(client.client._session, ax.PoliteSession)
    assert client.client.delay_seconds == 0 and client.client.num_retries == 0  # pacing and retries are ours
    assert [type(r) for r in feed.results] == [arxiv.Result]
    assert feed.results[0].get_short_id().startswith("1707.08567")
    assert [w.ids["arxiv"] for w in feed.works] == [w.ids["arxiv"] for w in again.works] == ["1707.08567"]
    assert client.http.counters.cache_hits == 1


def test_arxiv_result_maps_to_a_work_with_html_stripped():
    result = arxiv.Result(
        "http://arxiv.org/abs/2406.09400v2", published=__import__("datetime").datetime(2024, 6, 13, 17, 59),
        title="Yo'LLaVA: <i>Your</i> Personalized  Language &amp; Vision Assistant",
        authors=[arxiv.Result.Author("Thao <b>Nguyen</b>"), arxiv.Result.Author("  ")],
        summary="<p>Large multimodal models</p>", journal_ref="NeurIPS 2024", doi="10.48550/ARXIV.2406.09400",
        categories=["cs.CV", "cs.CL", "cs.CV"],
        links=[arxiv.Result.Link("https://arxiv.org/pdf/2406.09400v2", title="pdf", rel="related")])
    work = ax.result_to_work(result, "src")
    assert work.ids == {"arxiv": "2406.09400", "doi": "10.48550/arxiv.2406.09400"}
    assert work.title == "Yo'LLaVA: Your Personalized Language & Vision Assistant"
    assert [a.name for a in work.authors] == ["Thao Nguyen"]
    assert work.abstract == "Large multimodal models" and work.venue == "NeurIPS 2024"
    assert (work.year, work.date, work.pdf) == (2024, "2024-06-13", "https://arxiv.org/pdf/2406.09400v2")
    assert work.fields_of_study == ["cs.CV", "cs.CL"] and work.page == "https://arxiv.org/abs/2406.09400"
    assert ax.result_to_work(arxiv.Result("https://arxiv.org/api/errors#x"), "src") is None


def test_an_entry_without_updated_is_kept_and_an_error_entry_keeps_arxivs_words():
    feed = ax.parse_feed(atom_feed([{"id": "2401.00001", "title": "No updated element here"}]))
    assert "<updated>" not in atom_feed([{"id": "2401.00001", "title": "x"}])
    assert [w.ids["arxiv"] for w in feed.works] == ["2401.00001"] and feed.works[0].date == "2024-06-01"
    body = Replay().add_arxiv("id_abc_s0_m100_b79c8dcf6bc3.json")
    text = next(iter(body.table.values())).body
    assert ax.parse_feed(text).errors == ["incorrect id format for abc"]


def test_an_error_entry_in_a_200_answer_is_a_refusal_and_is_not_cached(tmp_path):
    text = Replay().add_arxiv("id_abc_s0_m100_b79c8dcf6bc3.json")
    body = next(iter(text.table.values())).body
    with LocalServer(lambda req: Answer(200, body)) as srv:
        with pytest.raises(HarvestError, match="arXiv refused the query: incorrect id format for abc"):
            _arxiv(srv, tmp_path).search_page("ti:x", 0, 10)
        assert len(srv.requests) == 1  # a refusal is not retried
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_an_empty_page_inside_the_results_is_retried_and_never_cached(tmp_path):
    empty = atom_feed([], total=50, start=10)
    full = atom_feed([{"id": "2401.00011", "title": "Eleventh paper about things"}], total=50, start=10)
    answers = [Answer(200, empty), Answer(200, full)]
    with LocalServer(lambda req: answers.pop(0) if len(answers) > 1 else answers[0]) as srv:
        feed = _arxiv(srv, tmp_path).search_page("abs:things", 10, 10)
        assert len(srv.requests) == 2
    assert (feed.total, feed.start, [w.ids["arxiv"] for w in feed.works]) == (50, 10, ["2401.00011"])
    cached = [json.loads(p.read_text())["text"] for p in (tmp_path / "cache").rglob("*.json")]
    assert cached == [full]


def test_a_truncated_atom_page_is_retried_then_reported(tmp_path):
    good = atom_feed([{"id": "2401.00001", "title": "A paper about things"}])
    answers = [Answer(200, good, truncate=len(good) // 2), Answer(200, good)]
    with LocalServer(lambda req: answers.pop(0) if len(answers) > 1 else answers[0]) as srv:
        assert [w.ids["arxiv"] for w in _arxiv(srv, tmp_path).search_page("x", 0, 10).works] == ["2401.00001"]
        assert len(srv.requests) == 2
    with LocalServer(lambda req: Answer(200, good[:-20])) as srv:
        with pytest.raises(HarvestError, match="malformed Atom feed"):
            _arxiv(srv, tmp_path / "other", retries=1).search_page("x", 0, 10)


# ---------------------------------------------------------------- Semantic Scholar
def test_s2_objects_are_read_with_the_packages_models():
    data = {"paperId": "ABCDEF0123456789ABCDEF0123456789ABCDEF01", "corpusId": 42, "title": "A <b>bold</b> title",
            "externalIds": {"ArXiv": "2406.09400", "MAG": 2096684396, "DBLP": "conf/nips/Nguyen24",
                            "PubMedCentral": "1234567", "Some New Kind": "x-1", "DOI": None},
            "authors": [{"authorId": 81141608, "name": "Marianne Bertrand"}, None, {"name": "No Id"},
                        {"authorId": "7"}],
            "publicationDate": "2024-13-45", "year": 2024, "tldr": "not an object", "journal": ["odd"],
            "openAccessPdf": {"url": "https://example.org/p.pdf"}, "citationCount": True,
            "fieldsOfStudy": ["Computer Science", 3], "s2FieldsOfStudy": [{"category": "Medicine"}, "x"]}
    paper = s2.to_paper(data)
    assert isinstance(paper, Paper) and paper.publicationDate is None  # the bad date was left out
    assert data["publicationDate"] == "2024-13-45" and len(data["authors"]) == 4  # the input is untouched
    work = s2.paper_to_work(data, "src")
    assert work.ids == {"s2": "abcdef0123456789abcdef0123456789abcdef01", "arxiv": "2406.09400", "corpus": "42",
                        "mag": "2096684396", "dblp": "conf/nips/Nguyen24", "pmc": "1234567", "somenewkind": "x-1"}
    assert [(a.name, a.ids) for a in work.authors] == [("Marianne Bertrand", {"s2": "81141608"}), ("No Id", {})]
    assert work.title == "A bold title" and work.year == 2024 and work.date is None
    assert work.tldr is None and work.citation_count is None and work.page is None  # no url key: no crash
    assert work.fields_of_study == ["Computer Science", "Medicine"] and work.pdf == "https://example.org/p.pdf"
    assert s2.paper_to_work(Paper({"paperId": "a" * 40, "publicationDate": "2024-06-13", "url": "u"}), "s") \
        .date == "2024-06-13"
    for junk in (None, [], "paper", {"paperId": None}, {"title": "no id"}):
        assert s2.paper_to_work(junk, "src") is None


def test_citation_and_reference_rows_use_the_packages_row_models():
    row = {"contexts": ["as shown in"], "isInfluential": True, "citingPaper": {"paperId": "b" * 40, "title": "T"}}
    paper = s2.row_paper(row, "citations")
    assert isinstance(paper, Paper) and paper.paperId == "b" * 40
    assert s2.row_paper({"citedPaper": {"paperId": "c" * 40}}, "references").paperId == "c" * 40
    assert s2.row_paper({"citedPaper": None}, "references") is None  # S2 could not resolve the reference
    assert s2.row_paper({"citingPaper": {"paperId": "b" * 40}}, "references") is None  # wrong side
    assert s2.row_paper(None, "citations") is None


def test_unknown_identifier_kinds_become_dcterms_identifiers_not_a_crash(make_graph):
    works = [Work(ids={"arxiv": "2401.00001", "mag": "2096684396", "dblp": "conf/x/Y24", "odd kind": "a b"},
                  sources=["t"], title="A work with many identifiers"),
             Work(ids={"arxiv": "2401.00001", "mag": "999"}, sources=["t"], title="A work with many identifiers")]
    graph = make_graph(Bundle(sources=[Source("t", "test", "tester")], works=works))
    rows = graph.query("SELECT ?id WHERE { ?w kg:arxivId \"2401.00001\" ; dcterms:identifier ?id }",
                       trusted=True).records()
    assert sorted(str(r["id"]) for r in rows) == ["dblp:conf/x/Y24", "mag:2096684396", "mag:999", "odd kind:a b"]


def test_s2_external_ids_reach_the_graph(monkeypatch, fake_time, store_copy):
    with LocalServer(Replay().add_s2("test_get_papers_return_not_found.yaml")) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        monkeypatch.delenv("KG_S2_API_KEY", raising=False)
        report = run.harvest_s2(run.Options(store_copy), id_list=[
            "CorpusId:211530585", "CorpusId:470667", "10.2139/ssrn.2250500", "0f40b1f08821e22e859c6050916cec3667778613"])
    assert report.papers == 3
    works = {w.ids["corpus"]: w for w in read_bundle(store_copy / "records" / "s2.jsonl").works}
    assert works["470667"].ids["mag"] == "2096684396"
    after_records(store_copy)  # as `kg harvest` does: the graph is built again from the records
    rows = LocalGraph(store_copy).query(
        'SELECT ?id WHERE { ?w kg:s2CorpusId "470667" ; dcterms:identifier ?id }', trusted=True).records()
    assert [str(r["id"]) for r in rows] == ["mag:2096684396"]
