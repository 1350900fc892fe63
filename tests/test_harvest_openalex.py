"""OpenAlex harvesting (answers built by the test in OpenAlex's Work shape), one node per work across
sources, the CLI's --stats, and a harvest killed with SIGKILL then resumed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

from harvest_support import Answer, LocalServer, Replay, kill_when_asked

from kg.harvest import openalex as oa
from kg.harvest import run
from kg.records.file import read_bundle
from kg.store import LocalGraph

ROOT = Path(__file__).resolve().parents[1]


def oa_work(n: int, **extra) -> dict:
    item = {
        "id": f"https://openalex.org/W{1000 + n}",
        "doi": f"https://doi.org/10.5555/TEST.{n}",
        "title": f"Work number {n} on personalized generation",
        "display_name": f"Work number {n} on personalized generation",
        "publication_year": 2024,
        "publication_date": "2024-03-0" + str(1 + n % 9),
        "ids": {"openalex": f"https://openalex.org/W{1000 + n}", "doi": f"https://doi.org/10.5555/test.{n}"},
        "authorships": [{"author": {"id": "https://openalex.org/A5023888391", "display_name": "Grace Hopper",
                                    "orcid": "https://orcid.org/0000-0002-1825-0097"}}],
        "primary_location": {"landing_page_url": f"https://example.org/{n}",
                             "source": {"display_name": "CVPR"}},
        "best_oa_location": {"pdf_url": f"https://example.org/{n}.pdf"},
        "cited_by_count": n,
        "abstract_inverted_index": {"Personalized": [0], "models": [1, 3], "help": [2]},
        "topics": [{"field": {"display_name": "Computer Science"}}],
        "referenced_works": [f"https://openalex.org/W{1000 + n - 1}"] if n > 1 else [],
    }
    item.update(extra)
    return item


def search_world(total: int, per_page: int = 200):
    items = [oa_work(n) for n in range(1, total + 1)]

    def handler(req):
        if req.path != "/works":
            return None
        if "filter" in req.query and req.query["filter"].startswith(("openalex:", "doi:")):
            key, _, values = req.query["filter"].partition(":")
            wanted = set(values.split("|"))
            hits = [i for i in items if (i["id"].rsplit("/", 1)[1] if key == "openalex" else i["doi"].lower()) in wanted]
            return Answer(200, json.dumps({"meta": {"count": len(hits)}, "results": hits}))
        cursor = req.query["cursor"]
        start = 0 if cursor == "*" else int(cursor[1:])
        size = int(req.query["per-page"])
        page = items[start:start + size]
        nxt = f"c{start + size}" if start + size < total else None
        return Answer(200, json.dumps({"meta": {"count": total, "next_cursor": nxt}, "results": page}))
    return handler


def test_work_conversion_keeps_what_openalex_gives():
    work = oa.work_to_work(oa_work(7, doi="https://doi.org/10.48550/arXiv.2406.09400"), "oa-test")
    assert work.ids == {"openalex": "W1007", "doi": "10.48550/arxiv.2406.09400", "arxiv": "2406.09400"}
    assert work.abstract == "Personalized models help models"
    assert work.venue == "CVPR" and work.year == 2024 and work.date == "2024-03-08"
    assert work.authors[0].name == "Grace Hopper"
    assert work.authors[0].ids == {"openalex": "A5023888391", "orcid": "0000-0002-1825-0097"}
    assert work.pdf == "https://example.org/7.pdf" and work.citation_count == 7
    assert work.fields_of_study == ["Computer Science"]
    hostile = oa.work_to_work(oa_work(8, title="<script>alert(1)</script><i>Safe</i> title"), "oa-test")
    assert hostile.title == "Safe title"
    assert oa.work_to_work({"id": None}, "x") is None


def test_search_pages_with_the_cursor_and_citations_stay_inside_the_graph(monkeypatch, fake_time, tmp_path):
    with LocalServer(search_world(450)) as srv:
        monkeypatch.setenv("KG_OPENALEX_API_URL", srv.url)
        report = run.harvest_openalex(run.Options(tmp_path / "store"), query="personalized",
                                      max_results=450)
        assert [r.query["cursor"] for r in srv.requests] == ["*", "c200", "c400"]
        assert [r.query["per-page"] for r in srv.requests] == ["200", "200", "50"]
    assert report.papers == 450
    records = read_bundle(tmp_path / "store" / "records" / "openalex.jsonl")
    assert len(records.citations) == 449  # W1001 cites nothing we have; each other work cites its neighbour
    assert fake_time.sleeps == [0.1, 0.1]


def test_lookups_by_id_doi_and_arxiv_report_the_unknown(monkeypatch, fake_time, tmp_path):
    with LocalServer(search_world(5)) as srv:
        monkeypatch.setenv("KG_OPENALEX_API_URL", srv.url)
        report = run.harvest_openalex(run.Options(tmp_path / "store"),
                                      id_list=["W1001", "https://openalex.org/W1002", "10.5555/TEST.3",
                                               "W999999", "2406.09400", "nonsense"])
        filters = [r.query["filter"] for r in srv.requests]
    assert filters == ["openalex:W1001|W1002|W999999",
                       "doi:https://doi.org/10.5555/test.3|https://doi.org/10.48550/arxiv.2406.09400"]
    assert report.papers == 3
    assert sorted(report.unknown) == ["2406.09400 (OpenAlex has no such work)",
                                      "W999999 (OpenAlex has no such work)",
                                      "nonsense (not an OpenAlex id, DOI or arXiv id)"]


def test_one_node_per_work_across_arxiv_s2_openalex_and_bibtex(monkeypatch, fake_time, store_copy, kg, tmp_path):
    """The same paper from four sources (arXiv id, S2 with ArXiv external id, OpenAlex with arXiv's DOI,
    BibTeX with eprint) merges into the bundled corpus's node, keeping every id and source."""
    arxiv = "2406.09400"
    s2_answer = [{"paperId": "a" * 40, "corpusId": 270440000, "externalIds": {"ArXiv": arxiv, "CorpusId": 270440000},
                  "title": "Yo'LLaVA: Your Personalized Language and Vision Assistant", "year": 2024,
                  "tldr": {"text": "A personalized assistant."}}]
    oa_answer = {"meta": {"count": 1}, "results": [oa_work(1, id="https://openalex.org/W4399", doi=f"https://doi.org/10.48550/arXiv.{arxiv}",
                                                           title="Yo'LLaVA: Your Personalized Language and Vision Assistant")]}
    atom = Replay().add_arxiv()

    def handler(req):
        if req.path == "/api/query":
            feed = (ROOT / "tests" / "fixtures" / "arxiv" / "id_1707.08567_s0_m100_6a1afebfc6a3.json")
            body = json.loads(feed.read_text())["body"].replace("1707.08567", arxiv)
            return Answer(200, body)
        if req.path.endswith("/paper/batch"):
            return Answer(200, json.dumps(s2_answer))
        if req.path == "/works":
            return Answer(200, json.dumps(oa_answer))
        return atom(req)
    bib = tmp_path / "survey.bib"
    bib.write_text("@inproceedings{nguyen2024yollava, title={{Yo'LLaVA}: Your Personalized Language and "
                   "Vision Assistant}, author={Nguyen, Thao}, booktitle={NeurIPS}, year={2024}, eprint={2406.09400v2},"
                   " archivePrefix={arXiv}}\n", encoding="utf-8")
    with LocalServer(handler) as srv:
        monkeypatch.setenv("KG_ARXIV_API_URL", f"{srv.url}/api/query")
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        monkeypatch.setenv("KG_OPENALEX_API_URL", srv.url)
        for args in (["harvest", "arxiv", "--id", f"{arxiv}v1"], ["harvest", "s2", "--id", arxiv],
                     ["harvest", "openalex", "--id", "W4399"], ["import", "bibtex", str(bib)]):
            result = kg(*args, store=store_copy)
            assert result.exit_code == 0, (args, result.output, result.message)
    graph = LocalGraph(store_copy)
    rows = graph.query(f'SELECT ?w WHERE {{ ?w kg:arxivId "{arxiv}" }}', trusted=True).records()
    assert len(rows) == 1
    node = rows[0]["w"]
    facts = graph.query(f"SELECT ?p ?o WHERE {{ <{node}> ?p ?o }}", trusted=True).records()
    values = {(r["p"].rsplit("#", 1)[-1].rsplit("/", 1)[-1], str(r["o"])) for r in facts}
    assert ("s2PaperId", "a" * 40) in values and ("openalexId", "W4399") in values
    assert ("citationKey", "Nguyen et al. (2024)") in values  # the survey's own citation comes first
    assert ("identifier", "cite:nguyen2024yollava") in values  # ... and the .bib key is kept too
    assert ("tldr", "A personalized assistant.") in values
    sources = {v for p, v in values if p == "wasDerivedFrom"}
    assert any("/arxiv-" in s for s in sources) and any("/s2-" in s for s in sources)
    assert any("/openalex-" in s for s in sources) and any("bibtex-survey" in s for s in sources)
    count = graph.query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }", trusted=True).records()
    assert count[0]["n"] == 49  # still the bundled 49 works: nothing duplicated


def test_cli_stats_and_a_repeat_with_zero_requests(monkeypatch, fake_time, tmp_path, kg):
    with LocalServer(search_world(30)) as srv:
        monkeypatch.setenv("KG_OPENALEX_API_URL", srv.url)
        first = kg("harvest", "openalex", "--query", "q", "--max", "30", "--stats", store=tmp_path / "s")
        again = kg("harvest", "openalex", "--query", "q", "--max", "30", "--json", store=tmp_path / "s")
        offline = kg("harvest", "openalex", "--query", "other", "--offline", store=tmp_path / "s")
        assert len(srv.requests) == 1
    assert first.exit_code == 0, first.output
    assert "requests" in first.output and "cache hits" in first.output and "requests per paper" in first.output
    assert "30 added" in first.output
    data = json.loads(again.output)
    assert data["requests"] == 0 and data["cache_hits"] == 1 and data["papers_updated"] == 30
    assert offline.exit_code == 1 and "is not in the cache" in offline.message
    assert offline.message.splitlines()[0].endswith("(--offline)")  # the library names the field, kg its flag


def test_usage_errors_exit_2(kg, tmp_path):
    assert kg("harvest", "openalex", store=tmp_path).exit_code == 2
    assert kg("harvest", "s2", "--id", "x", "--from-graph", store=tmp_path).exit_code == 2
    assert kg("harvest", "s2", "--query", "x", "--citations", store=tmp_path).exit_code == 2
    both = kg("harvest", "arxiv", "--query", "x", "--refresh", "--offline", store=tmp_path)
    assert both.exit_code == 2 and "exclude each other" in both.message


def test_a_harvest_killed_with_sigkill_resumes_with_nothing_lost_or_duplicated(tmp_path):
    """A real process, killed with SIGKILL while waiting for page 3, then run again."""
    items_total = 600
    world = search_world(items_total)
    release = threading.Event()

    def handler(req):
        if req.path == "/works" and req.query.get("cursor") == "c400" and not release.is_set():
            return Answer(503, "later", hold=release)  # hold page 3 until the first process is dead
        return world(req)
    store = tmp_path / "store"
    with LocalServer(handler) as srv:
        env = {**os.environ, "KG_OPENALEX_API_URL": srv.url, "PYTHONPATH": str(ROOT),
               "KG_HOME": str(tmp_path / "home")}
        cmd = [sys.executable, "-m", "kg.cli", "--store", str(store), "harvest", "openalex", "--query", "q",
               "--max", str(items_total), "--json"]
        try:
            kill_when_asked(cmd, env, srv, lambda requests: any(r.query.get("cursor") == "c400" for r in requests))
        finally:
            release.set()
        state = json.loads(next((store / "harvest").glob("openalex-*/state.json")).read_text())
        assert len(state["done"]) == 2  # pages 1 and 2 were checkpointed
        assert not (store / "records" / "openalex.jsonl").exists()
        before = len(srv.requests)
        done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr
        resumed = srv.requests[before:]
    assert [r.query["cursor"] for r in resumed] == ["c400"]  # only the unfinished page
    outcome = json.loads(done.stdout)
    assert outcome["resumed"] and outcome["papers"] == items_total and outcome["requests"] == 1
    works = read_bundle(store / "records" / "openalex.jsonl").works
    assert len(works) == len({w.ids["openalex"] for w in works}) == items_total
