"""Semantic Scholar: replayed real answers (batch with a null entry, citations past 1,800 rows,
references paging, search paging, 404, 400), batch cost, snowballing into the graph, resuming."""

from __future__ import annotations

import json
import math

import pytest
from harvest_support import Answer, FakeTime, LocalServer, Replay, pid, s2_paper

from kg.harvest import run, s2
from kg.harvest.cache import ResponseCache
from kg.harvest.http import HarvestError, PoliteClient
from kg.records.file import read_bundle
from kg.pipeline import after_records
from kg.store import LocalGraph


def _client(srv, tmp_path):
    http = PoliteClient(s2.policy(None), cache=ResponseCache(tmp_path / "cache"), sleep=FakeTime().sleep)
    return s2.S2Client(http, f"{srv.url}/graph/v1")


RECORDED = ("test_get_papers_return_not_found.yaml", "test_get_paper_citations.yaml",
            "test_get_paper_references.yaml", "test_search_paper_next_page.yaml", "test_not_found.yaml",
            "test_bad_query_parameters.yaml")


@pytest.fixture
def replay(monkeypatch):
    with LocalServer(Replay().add_s2(*RECORDED)) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        monkeypatch.delenv("KG_S2_API_KEY", raising=False)
        yield srv


def test_batch_with_a_null_entry_reports_the_unknown_id(replay, fake_time, tmp_path):
    report = run.harvest_s2(run.Options(tmp_path / "store"),
                            id_list=["CorpusId:211530585", "CorpusId:470667", "10.2139/ssrn.2250500",
                                     "0f40b1f08821e22e859c6050916cec3667778613"])
    assert replay.count("POST", "/paper/batch") == 1
    assert report.unknown == ["CorpusId:211530585 (Semantic Scholar has no such paper)"]
    works = {w.ids["s2"]: w for w in read_bundle(tmp_path / "store" / "records" / "s2.jsonl").works}
    assert len(works) == 3
    did = works["c31c87c591a25c64fbaa82e8ac6a81831b6ac7ce"]
    assert did.title == "How Much Should We Trust Differences-in-Differences Estimates?"
    assert did.ids["doi"] == "10.2139/ssrn.288970" and did.ids["corpus"] == "470667"
    assert did.year == 2001 and did.citation_count == 10670 and did.abstract.startswith("Most Difference")
    assert [a.name for a in did.authors] == ["Marianne Bertrand", "E. Duflo", "S. Mullainathan"]
    assert did.authors[0].ids == {"s2": "81141608"}
    assert did.pdf and did.fields_of_study


def test_citations_are_paged_to_the_end_past_1800_rows(replay, tmp_path):
    bundle, meta = run._s2_edges(_client(replay, tmp_path), "CorpusID:14514057", "citations", 100, "s2-test")
    assert meta["pages"] == 19 and replay.count("GET", "/citations") == 19
    assert meta["rows"] == 1881  # 18 full pages of 100 and a last one of 81
    assert len(bundle.citations) == 1881 - meta["unidentified"] > 1800
    assert all(c.cited == "s2:CorpusID:14514057" for c in bundle.citations)
    assert len({c.citing for c in bundle.citations}) >= 1800


def test_references_are_paged_to_the_end(replay, tmp_path):
    bundle, meta = run._s2_edges(_client(replay, tmp_path), "10.2139/ssrn.2250500", "references", 50, "s2-test")
    assert meta["pages"] == 2 and meta["rows"] == 67
    assert len(bundle.works) == 67 - meta["unidentified"] == 44  # 23 references S2 could not resolve
    assert all(c.citing == "s2:10.2139/ssrn.2250500" for c in bundle.citations)


def test_search_paging(replay, fake_time, tmp_path):
    report = run.harvest_s2(run.Options(tmp_path / "store"), query="turing", max_results=200)
    assert replay.count("GET", "/paper/search") == 2
    assert report.papers == len({w.ids["s2"] for w in read_bundle(tmp_path / "store/records/s2.jsonl").works})
    assert report.papers > 150


def test_404_is_not_found_and_400_carries_the_apis_words(replay, tmp_path):
    client = _client(replay, tmp_path)
    assert client.paper("0", fields="t,i,t,l,e") is None
    with pytest.raises(HarvestError, match=r"Unrecognized or unsupported fields: \[unknown\]"):
        client.paper("10.1093/mind/lix.236.433", fields="unknown")


def test_null_values_convert_cleanly():
    data = json.loads(open(__file__.replace("test_harvest_s2.py", "fixtures/semanticscholar/PaperWithNullValues.json")).read())
    work = s2.paper_to_work(data, "s2-test")
    assert work is None or work.ids.get("s2")


# ---------------------------------------------------------------- synthetic S2 for cost, snowballing, resuming
class FakeS2:
    """A small citation world: seeds cite and are cited by numbered papers."""

    def __init__(self, refs: dict[str, list[str]] | None = None, cits: dict[str, list[str]] | None = None,
                 fail: set[str] | None = None):
        self.refs, self.cits, self.fail = refs or {}, cits or {}, fail or set()
        self.known: dict[str, dict] = {}

    def paper(self, p: str) -> dict:
        return self.known.setdefault(p, s2_paper(p))

    def __call__(self, req):
        if req.path.endswith("/paper/batch"):
            ids_ = json.loads(req.body)["ids"]
            assert len(ids_) <= 500
            out = []
            for q in ids_:
                if q.startswith("ARXIV:"):
                    arxiv = q.split(":", 1)[1]
                    out.append(s2_paper(pid(abs(hash(arxiv)) % 10**12), arxiv=arxiv))
                elif q.startswith("missing"):
                    out.append(None)
                else:
                    out.append(self.paper(q))
            return Answer(200, json.dumps(out))
        parts = req.path.split("/")
        paper_id, kind = parts[-2], parts[-1]
        if paper_id in self.fail:
            return Answer(500, "boom")
        others = (self.refs if kind == "references" else self.cits).get(paper_id, [])
        offset, limit = int(req.query["offset"]), int(req.query["limit"])
        key = "citedPaper" if kind == "references" else "citingPaper"
        data = {"offset": offset, "data": [{key: self.paper(o)} for o in others[offset:offset + limit]]}
        if offset + limit < len(others):
            data["next"] = offset + limit
        return Answer(200, json.dumps(data))


def test_metadata_for_n_papers_costs_ceil_n_over_500_requests(monkeypatch, fake_time, tmp_path):
    n = 1201
    with LocalServer(FakeS2()) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        opts = run.Options(tmp_path / "store")
        report = run.harvest_s2(opts, id_list=[pid(i) for i in range(1, n + 1)])
        assert srv.count("POST", "/paper/batch") == math.ceil(n / 500) == 3
        assert [len(json.loads(r.body)["ids"]) for r in srv.requests] == [500, 500, 201]
        assert report.papers == n and report.stats()["requests_per_paper"] == round(3 / n, 3)
        again = run.harvest_s2(opts, id_list=[pid(i) for i in range(1, n + 1)])
        assert again.counters.requests == 0 and again.counters.cache_hits == 3
        assert again.added == 0 and again.updated == n
    assert len(read_bundle(tmp_path / "store" / "records" / "s2.jsonl").works) == n


def _world():
    a, b, c = pid(0xA), pid(0xB), pid(0xC)
    x, y, z, w = pid(0x100), pid(0x200), pid(0x300), pid(0x400)
    refs = {a: [b, x, y], b: [x], c: [z, w]}
    cits = {a: [w], c: [x]}
    return (a, b, c, x, y, z, w), FakeS2(refs, cits)


def test_snowballing_marks_works_linked_to_k_seeds_as_candidates(monkeypatch, fake_time, store_copy):
    (a, b, c, x, y, z, w), world = _world()
    with LocalServer(world) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        report = run.harvest_s2(run.Options(store_copy), id_list=[a, b, c], references=True, citations=True,
                                min_links=2, edge_page=2)
        assert srv.count("GET", f"/{a}/references") == 2  # three references, two per page
    # x is linked to a, b (refs) and c (cites c): 3 seeds; w to a (cites a) and c (cited by c): 2; y, z: 1
    records = read_bundle(store_copy / "records" / "s2.jsonl")
    kept = {wk.ids["s2"]: wk for wk in records.works}
    assert set(kept) == {a, b, c, x, w}
    assert kept[x].candidate and kept[w].candidate
    pairs = {(ct.citing[3:], ct.cited[3:]) for ct in records.citations}
    assert pairs == {(a, b), (a, x), (b, x), (c, w), (w, a), (x, c)}
    assert report.candidates == 5  # the seeds are new to the graph too
    after_records(store_copy)  # as `kg harvest` does: the graph is built again from the records
    graph = LocalGraph(store_copy)
    rows = graph.query("SELECT (COUNT(*) AS ?n) WHERE { ?a cito:cites ?b . ?a kg:s2PaperId ?x }",
                       trusted=True).records()
    assert rows[0]["n"] == 6
    cand = graph.query(f'ASK {{ ?w kg:s2PaperId "{x}" ; kg:isCandidate true }}', trusted=True)
    assert cand.boolean


def test_depth_two_follows_the_new_candidates(monkeypatch, fake_time, tmp_path):
    (a, b, c, x, y, z, w), world = _world()
    world.refs[x] = [pid(0x999)]
    world.cits[pid(0x999)] = []
    with LocalServer(world) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        run.harvest_s2(run.Options(tmp_path / "store"), id_list=[a, b, c], references=True,
                       depth=2, min_links=1)
        assert srv.count("GET", f"/{x}/references") == 1
    kept = {wk.ids["s2"] for wk in read_bundle(tmp_path / "store" / "records" / "s2.jsonl").works}
    assert pid(0x999) in kept


def test_an_interrupted_harvest_resumes_with_nothing_lost_or_duplicated(monkeypatch, fake_time, tmp_path):
    (a, b, c, x, y, z, w), world = _world()
    world.fail = {c}
    opts = run.Options(tmp_path / "store", retries=1)
    with LocalServer(world) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        with pytest.raises(HarvestError, match="HTTP 500"):
            run.harvest_s2(opts, id_list=[a, b, c], references=True, citations=True, edge_page=2)
        assert not (tmp_path / "store" / "records" / "s2.jsonl").exists()  # nothing half-published
        first_requests = len(srv.requests)
        world.fail = set()
        report = run.harvest_s2(opts, id_list=[a, b, c], references=True, citations=True, edge_page=2)
        second = srv.requests[first_requests:]
    assert report.resumed and report.units_skipped >= 4
    assert all(f"/{c}/" in r.path for r in second)  # only the unfinished paper was asked again
    records = read_bundle(tmp_path / "store" / "records" / "s2.jsonl")
    ids_ = [wk.ids["s2"] for wk in records.works]
    assert sorted(ids_) == sorted({a, b, c, x, w})
    assert len(records.citations) == len({(ct.citing, ct.cited) for ct in records.citations}) == 6
    assert not (tmp_path / "store" / "harvest").exists() or not any((tmp_path / "store" / "harvest").iterdir())


class _InterruptingSession:
    """A requests session that raises KeyboardInterrupt (Ctrl-C) on its n-th request."""

    def __init__(self, n):
        import requests

        self.inner, self.n, self.calls = requests.Session(), n, 0

    def request(self, *args, **kwargs):
        self.calls += 1
        if self.calls == self.n:
            raise KeyboardInterrupt
        return self.inner.request(*args, **kwargs)


def test_ctrl_c_mid_harvest_then_rerun_gives_the_same_records(monkeypatch, fake_time, tmp_path):
    (a, b, c, x, y, z, w), world = _world()
    with LocalServer(world) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        with pytest.raises(KeyboardInterrupt):
            run.harvest_s2(run.Options(tmp_path / "a", session=_InterruptingSession(3)),
                           id_list=[a, b, c], references=True, citations=True, edge_page=2)
        resumed = run.harvest_s2(run.Options(tmp_path / "a"), id_list=[a, b, c],
                                 references=True, citations=True, edge_page=2)
        clean = run.harvest_s2(run.Options(tmp_path / "b"), id_list=[a, b, c],
                               references=True, citations=True, edge_page=2)
    assert resumed.resumed and resumed.counters.cache_hits >= 1
    one, two = (read_bundle(tmp_path / d / "records" / "s2.jsonl") for d in ("a", "b"))
    assert sorted(wk.ids["s2"] for wk in one.works) == sorted(wk.ids["s2"] for wk in two.works)
    assert sorted((ct.citing, ct.cited) for ct in one.citations) == sorted((ct.citing, ct.cited) for ct in two.citations)


def test_from_graph_seeds_every_placed_work_in_one_batch(monkeypatch, fake_time, store_copy):
    with LocalServer(FakeS2()) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        report = run.harvest_s2(run.Options(store_copy), from_graph=True)
        assert srv.count("POST", "/paper/batch") == 1
        sent = json.loads(srv.requests[0].body)["ids"]
        again = run.harvest_s2(run.Options(store_copy), from_graph=True)
        assert again.counters.requests == 0 and again.counters.cache_hits == 1  # same seeds: all cached
    assert "ARXIV:2406.09400" in sent and len(sent) >= 30
    assert report.updated == len(sent) and report.added == 0  # every seed merged into its node
    assert any("no identifier" in wmsg for wmsg in report.warnings)
    after_records(store_copy)
    stats = LocalGraph(store_copy).query("SELECT (COUNT(?w) AS ?n) WHERE { ?w a fabio:ScholarlyWork }",
                                         trusted=True).records()
    assert stats[0]["n"] == 49  # one node per work: no duplicates from the harvest


def test_a_bad_api_key_is_reported_clearly(monkeypatch, fake_time, tmp_path, kg):
    with LocalServer(lambda req: Answer(403, '{"message":"Forbidden"}')) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        monkeypatch.setenv("KG_S2_API_KEY", "wrong")
        result = kg("harvest", "s2", "--id", "2406.09400", store=tmp_path / "store")
        assert srv.requests[0].headers["x-api-key"] == "wrong"
    assert result.exit_code == 1
    assert "HTTP 403" in result.message and "KG_S2_API_KEY" in result.message


def test_key_sets_the_rate(monkeypatch):
    assert s2.policy("k").min_interval == 1.0 and s2.policy(None).min_interval == 3.0
