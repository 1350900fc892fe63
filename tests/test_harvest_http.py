"""The polite client against a local HTTP server: 429, 5xx, stalls, truncated and broken bodies, cache."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

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


# ---------------------------------------------------------------- the overall deadline per request
class _ScriptedServer:
    """A real HTTP server on 127.0.0.1 (port 0) whose `script(handler, stop)` writes each answer itself.

    `finished` counts handlers that have returned, so a test can see the server stop by itself;
    `stop` is set on exit, so a script that never ends cannot outlive the test either.
    """

    def __init__(self, script):
        outer = self
        self.requests = 0
        self.finished = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_GET(self):
                with outer.lock:
                    outer.requests += 1
                try:
                    self.rfile.read(int(self.headers.get("Content-Length") or 0))
                    script(self, outer.stop)
                except OSError:  # the client went away (broken pipe, reset)
                    pass
                finally:
                    self.close_connection = True
                    with outer.lock:
                        outer.finished += 1

            do_POST = do_GET

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.httpd.block_on_close = False
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.httpd.shutdown()
        self.httpd.server_close()

    def wait_until_idle(self, seconds: float) -> bool:
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            with self.lock:
                if self.finished == self.requests:
                    return True
            time.sleep(0.05)
        return False


def _trickle(handler, stop):
    """Headers at once, then one byte every 0.5 s, forever (until the client hangs up)."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", "1000000")
    handler.end_headers()
    handler.wfile.flush()
    while not stop.is_set():
        handler.wfile.write(b" ")
        handler.wfile.flush()
        stop.wait(0.5)


def _slow_but_finishing(handler, stop):
    """OK in four pieces, 0.3 s apart: every read is quick, the whole answer takes about 1 s."""
    data = OK.encode()
    handler.send_response(200)
    handler.send_header("Content-Length", str(len(data)))
    handler.end_headers()
    step = len(data) // 4 + 1
    for i in range(0, len(data), step):
        handler.wfile.write(data[i:i + step])
        handler.wfile.flush()
        time.sleep(0.3)


def test_the_request_deadline_defaults_to_four_reads_and_at_least_30_s():
    assert Policy("x", 0, timeout=5).request_deadline == 30.0
    assert Policy("x", 0).request_deadline == 120.0
    assert Policy("x", 0, timeout=5, deadline=2).request_deadline == 2.0


def test_a_trickling_server_is_cut_off_at_the_deadline_and_retried(tmp_path):
    with _ScriptedServer(_trickle) as srv:
        client, fake = _client(tmp_path, timeout=5.0, retries=1, deadline=2.0)
        started = time.monotonic()
        with pytest.raises(HarvestError) as info:
            client.get(f"{srv.url}/x", parse=_json)
        elapsed = time.monotonic() - started
        assert srv.requests == 2
        assert srv.wait_until_idle(5.0), "the trickling handler kept running after the client gave up"
    assert 3.5 < elapsed < 8.0, elapsed  # two attempts of 2 s each; the 1 s backoff is faked
    message = info.value.message
    assert "/x" in message and "2 s deadline" in message and "after 2 attempts" in message
    assert info.value.attempts == 2
    assert fake.sleeps == [1.0]
    assert client.counters.requests == 2 and client.counters.retries == 1
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_a_slow_answer_that_finishes_within_the_deadline_is_fine(tmp_path):
    with _ScriptedServer(_slow_but_finishing) as srv:
        client, fake = _client(tmp_path, timeout=1.0, retries=0, deadline=5.0)
        assert client.get(f"{srv.url}/x", parse=_json) == {"data": [1, 2, 3]}
        assert srv.requests == 1
    assert client.counters.requests == 1 and client.counters.retries == 0 and fake.sleeps == []
    assert client.get(f"{srv.url}/x", parse=_json) == {"data": [1, 2, 3]}  # now from the cache
    assert client.counters.cache_hits == 1 and client.counters.requests == 1


def test_a_body_cut_midway_is_retried_and_then_reported(tmp_path):
    big = json.dumps({"data": list(range(5000))})
    answers = _sequence(Answer(200, big, truncate=len(big) // 2), Answer(200, big))
    with LocalServer(answers) as srv:
        client, fake = _client(tmp_path, deadline=5.0)
        assert len(client.get(f"{srv.url}/x", parse=_json)["data"]) == 5000
        assert len(srv.requests) == 2
    assert client.counters.retries == 1 and fake.sleeps == [1.0]
    with LocalServer(_sequence(Answer(200, big, truncate=100))) as srv:
        client, _ = _client(tmp_path, retries=1, deadline=5.0)
        with pytest.raises(HarvestError, match="transfer failed") as info:
            client.get(f"{srv.url}/y", parse=_json)
    assert info.value.attempts == 2


class _TickingTime(FakeTime):
    """A fake clock that moves one second every time it is read (a slow transfer, without the wait)."""

    def clock(self) -> float:
        self.now += 1.0
        return self.now


def test_the_deadline_follows_the_injected_clock_without_real_waiting(tmp_path):
    body = json.dumps({"data": ["x" * 100] * 3000})  # about 300 kB: several chunks
    with LocalServer(_sequence(Answer(200, body))) as srv:
        client, _ = _client(tmp_path, fake=_TickingTime(), retries=0, deadline=3.0)
        started = time.monotonic()
        with pytest.raises(HarvestError, match="within the 3 s deadline"):
            client.get(f"{srv.url}/x", parse=_json)
    assert time.monotonic() - started < 5.0
    assert not list((tmp_path / "cache").rglob("*.json"))


def test_kg_harvest_s2_gives_up_on_a_trickling_server(kg, monkeypatch, fake_time, tmp_path):
    from kg.harvest import s2

    ordinary = s2.policy
    monkeypatch.setattr(s2, "policy", lambda key: replace(ordinary(key), deadline=1.0))
    with _ScriptedServer(_trickle) as srv:
        monkeypatch.setenv("KG_S2_API_URL", f"{srv.url}/graph/v1")
        started = time.monotonic()
        result = kg("harvest", "s2", "--id", "2406.09400", "--timeout", "5", "--retries", "1",
                    store=tmp_path / "store")
        elapsed = time.monotonic() - started
        assert srv.requests == 2 and srv.wait_until_idle(5.0)
    assert elapsed < 8.0, elapsed
    assert result.exit_code == 1, result.output
    assert "1 s deadline" in result.message and srv.url in result.message


def test_revalidate_asks_again_with_the_cached_validators_and_a_304_is_answered_from_the_cache(tmp_path):
    state = {"text": "version 1"}

    def handler(req):
        tag = f'"{len(state["text"])}-{state["text"][-1]}"'
        if req.headers.get("if-none-match") == tag:
            return Answer(304, "", {"ETag": tag})
        return Answer(200, state["text"], {"Content-Type": "text/plain", "ETag": tag,
                                           "Last-Modified": "Mon, 03 Feb 2025 10:00:00 GMT"})

    with LocalServer(handler) as srv:
        url = f"{srv.url}/list.md"
        client, _ = _client(tmp_path)
        assert client.get(url, revalidate=True).text == "version 1"
        again = client.get(url, revalidate=True)
        assert again.text == "version 1" and again.from_cache and client.counters.cache_hits == 1
        sent = srv.requests[-1].headers
        assert sent["if-none-match"] == '"9-1"' and sent["if-modified-since"] == "Mon, 03 Feb 2025 10:00:00 GMT"
        state["text"] = "version 2"
        assert client.get(url, revalidate=True).text == "version 2"  # changed: the new answer, cached
        assert client.get(url).text == "version 2" and len(srv.requests) == 3  # without revalidate: the cache
        offline, _ = _client(tmp_path, cache_mode="offline")
        assert offline.get(url, revalidate=True).text == "version 2" and len(srv.requests) == 3
