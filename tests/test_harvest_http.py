"""The polite client against a local HTTP server: 429, 5xx, stalls, truncated and broken bodies, cache."""

from __future__ import annotations

import json

import pytest
from harvest_support import Answer, FakeTime, LocalServer

from kg.harvest.cache import ResponseCache
from kg.harvest.http import HarvestError, Policy, PoliteClient, Reply, retry_after_seconds

OK = json.dumps({"data": [1, 2, 3]})


def _client(tmp_path, fake=None, cache_mode="use", **policy):
    fake = fake or FakeTime()
    pol = Policy("Test", min_interval=policy.pop("min_interval", 0.0), timeout=policy.pop("timeout", 5.0),
                 retries=policy.pop("retries", 4), backoff=1.0, **policy)
    cache = ResponseCache(tmp_path / "cache", cache_mode) if cache_mode else None
    return PoliteClient(pol, cache=cache, sleep=fake.sleep, clock=fake.clock), fake


def _json(reply: Reply):
    return reply.json()


def _sequence(*answers):
    items = list(answers)

    def handler(req):
        return items.pop(0) if len(items) > 1 else items[0]
    return handler


def test_429_waits_as_long_as_retry_after_says(tmp_path):
    with LocalServer(_sequence(Answer(429, "slow down", {"Retry-After": "7"}), Answer(200, OK))) as srv:
        client, fake = _client(tmp_path)
        assert client.get(f"{srv.url}/x", parse=_json) == {"data": [1, 2, 3]}
    assert fake.sleeps == [7.0]
    assert client.counters.requests == 2 and client.counters.retries == 1


def test_retry_after_as_http_date_and_too_long_a_pause():
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=0) > 1e9
    assert retry_after_seconds("12") == 12.0
    assert retry_after_seconds("soon") is None


def test_a_server_asking_for_a_very_long_pause_stops_the_harvest(tmp_path):
    with LocalServer(_sequence(Answer(429, "", {"Retry-After": "86400"}))) as srv:
        client, fake = _client(tmp_path)
        with pytest.raises(HarvestError, match="asks to wait 86400 s"):
            client.get(f"{srv.url}/x", parse=_json)
    assert fake.sleeps == []


def test_500_and_503_then_success_with_exponential_backoff(tmp_path):
    answers = _sequence(Answer(500, "oops"), Answer(503, "busy"), Answer(200, OK))
    with LocalServer(answers) as srv:
        client, fake = _client(tmp_path)
        assert client.get(f"{srv.url}/x", parse=_json)["data"] == [1, 2, 3]
        assert len(srv.requests) == 3
    assert fake.sleeps == [1.0, 2.0]


def test_retries_are_bounded(tmp_path):
    with LocalServer(_sequence(Answer(502, "bad gateway"))) as srv:
        client, fake = _client(tmp_path, retries=3)
        with pytest.raises(HarvestError) as info:
            client.get(f"{srv.url}/x", parse=_json)
        assert len(srv.requests) == 4
    assert "after 4 attempts" in info.value.message and "HTTP 502" in info.value.message
    assert info.value.url.endswith("/x") and info.value.attempts == 4
    assert fake.sleeps == [1.0, 2.0, 4.0]


def test_a_stalled_response_times_out_and_is_retried(tmp_path):
    answers = _sequence(Answer(200, OK, delay=2.0), Answer(200, OK))
    with LocalServer(answers) as srv:
        client, _ = _client(tmp_path, timeout=0.3)
        assert client.get(f"{srv.url}/x", parse=_json)["data"] == [1, 2, 3]
        assert len(srv.requests) == 2
    assert client.counters.retries == 1


def test_a_server_that_always_stalls_gives_a_clear_error(tmp_path):
    with LocalServer(_sequence(Answer(200, OK, delay=1.5))) as srv:
        client, _ = _client(tmp_path, timeout=0.2, retries=1)
        with pytest.raises(HarvestError, match="no answer within 0.2 s"):
            client.get(f"{srv.url}/x", parse=_json)


def test_a_truncated_body_is_retried_and_never_cached(tmp_path):
    answers = _sequence(Answer(200, OK, truncate=10), Answer(200, '{"data": [1, 2'), Answer(200, OK))
    with LocalServer(answers) as srv:
        client, _ = _client(tmp_path)
        assert client.get(f"{srv.url}/x", parse=_json)["data"] == [1, 2, 3]
        assert len(srv.requests) == 3
    entries = list((tmp_path / "cache").rglob("*.json"))
    assert len(entries) == 1 and json.loads(entries[0].read_text())["text"] == OK


def test_a_body_that_never_parses_is_an_error_and_nothing_is_cached(tmp_path):
    with LocalServer(_sequence(Answer(200, '{"data": ['))) as srv:
        client, _ = _client(tmp_path, retries=2)
        with pytest.raises(HarvestError, match="not valid JSON"):
            client.get(f"{srv.url}/x", parse=_json)
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_connection_refused_is_retried_then_reported(tmp_path):
    client, fake = _client(tmp_path, retries=2)
    with pytest.raises(HarvestError, match="connection failed"):
        client.get("http://127.0.0.1:9/x", parse=_json)  # port 9 (discard) is closed here
    assert fake.sleeps == [1.0, 2.0]


def test_rate_limit_spaces_requests_without_real_waiting(tmp_path):
    with LocalServer(_sequence(Answer(200, OK))) as srv:
        client, fake = _client(tmp_path, min_interval=3.0, cache_mode=None)
        for _ in range(4):
            client.get(f"{srv.url}/x", parse=_json)
    assert fake.sleeps == [3.0, 3.0, 3.0]
    assert client.counters.waited == 9.0


def test_cache_repeat_refresh_offline(tmp_path):
    with LocalServer(_sequence(Answer(200, OK))) as srv:
        client, _ = _client(tmp_path)
        client.get(f"{srv.url}/x", params={"q": "a"}, parse=_json)
        client.get(f"{srv.url}/x", params={"q": "a"}, parse=_json)
        assert len(srv.requests) == 1 and client.counters.cache_hits == 1
        refresh, _ = _client(tmp_path, cache_mode="refresh")
        refresh.get(f"{srv.url}/x", params={"q": "a"}, parse=_json)
        assert len(srv.requests) == 2
        offline, _ = _client(tmp_path, cache_mode="offline")
        assert offline.get(f"{srv.url}/x", params={"q": "a"}, parse=_json)["data"] == [1, 2, 3]
        with pytest.raises(HarvestError, match="not in the cache"):
            offline.get(f"{srv.url}/x", params={"q": "other"}, parse=_json)
        assert len(srv.requests) == 2


def test_user_agent_and_api_key_are_sent_but_the_key_is_never_cached(tmp_path):
    with LocalServer(_sequence(Answer(200, OK))) as srv:
        pol = Policy("Test", min_interval=0)
        client = PoliteClient(pol, cache=ResponseCache(tmp_path / "cache"), headers={"x-api-key": "sekrit"},
                              sleep=FakeTime().sleep)
        client.post(f"{srv.url}/batch", body={"ids": ["a"]}, parse=_json)
        req = srv.requests[0]
    assert req.headers["x-api-key"] == "sekrit"
    assert req.headers["user-agent"].startswith("kg/")
    assert json.loads(req.body) == {"ids": ["a"]}
    assert "sekrit" not in "".join(p.read_text() for p in (tmp_path / "cache").rglob("*.json"))


def test_a_refused_key_names_the_problem(tmp_path):
    with LocalServer(_sequence(Answer(403, '{"message":"Forbidden"}'))) as srv:
        pol = Policy("Semantic Scholar", min_interval=0)
        client = PoliteClient(pol, sleep=FakeTime().sleep, auth_hint="Check KG_S2_API_KEY")
        with pytest.raises(HarvestError) as info:
            client.get(f"{srv.url}/x", parse=_json)
    assert "HTTP 403" in info.value.message and "Forbidden" in info.value.message
    assert "KG_S2_API_KEY" in info.value.hint
    assert info.value.exit_code == 1
