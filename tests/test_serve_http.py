"""`kg serve`'s HTTP side under malformed, slow, foreign and flooding clients: framing (Content-Length,
chunked bodies), deadlines, the connection cap, HEAD without evaluation, the CORS allow-list, the Host
check against DNS rebinding, and store errors that are not passed on. Raw sockets on 127.0.0.1 only."""

from __future__ import annotations

import socket
import threading
import time
from urllib.parse import quote

import pytest
import requests

from kg.errors import KgError
from kg.sparql.guard import QueryLimits
from kg.serve import MAX_BODY, make_server, normalize_origin, query_form, split_host

HOST = "127.0.0.1"
ASK = "ASK { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs into the time limit


def _start(location, **kwargs):
    server = make_server(str(location), port=0, quiet=True, **kwargs)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    return server, thread


def _stop(server, thread):
    server.shutdown()
    server.server_close()
    thread.join(5)


@pytest.fixture(scope="module")
def server(built_store):
    server, thread = _start(built_store, limits=QueryLimits(max_rows=100, timeout_s=2.0))
    server.request_timeout = 1.0
    yield server
    _stop(server, thread)


class Counting:
    """Stands in for the server's graph holder and counts the queries that reach the graph."""

    def __init__(self, holder, fail: Exception | None = None):
        self.holder, self.fail, self.calls = holder, fail, 0

    def get(self):
        graph, outer = self.holder.get(), self

        class Graph:
            def query(self, *args, **kwargs):
                outer.calls += 1
                if outer.fail is not None:
                    raise outer.fail
                return graph.query(*args, **kwargs)

        return Graph()

    def close(self):
        self.holder.close()


@pytest.fixture
def counted(server):
    holder = server.graphs
    server.graphs = Counting(holder)
    yield server.graphs
    server.graphs = holder


class Conn:
    """One raw client connection: send bytes, read answers (status, lower-case headers, body)."""

    def __init__(self, port: int, timeout: float = 5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.file = self.sock.makefile("rb")

    def send(self, data: bytes) -> Conn:
        self.sock.sendall(data)
        return self

    def answer(self, head: bool = False) -> tuple[int, dict, bytes]:
        line = self.file.readline()
        assert line, "the server closed the connection without an answer"
        status = int(line.split()[1])
        headers = {}
        while (h := self.file.readline()) not in (b"\r\n", b"\n", b""):
            k, _, v = h.decode("latin-1").partition(":")
            headers[k.strip().lower()] = v.strip()
        body = b"" if head else self.file.read(int(headers.get("content-length", 0)))
        return status, headers, body

    def closed(self) -> bool:
        try:
            return self.file.read(1) == b""
        except ConnectionResetError:
            return True

    def close(self):
        self.file.close()
        self.sock.close()


def req(port: int, method: str, target: str = "/sparql", headers: dict | None = None, body: bytes = b"",
        host: str | None = "default") -> bytes:
    """A raw HTTP/1.1 request; host None sends no Host header."""
    hdrs = {} if host is None else {"Host": f"{HOST}:{port}" if host == "default" else host}
    hdrs.update(headers or {})
    head = [f"{method} {target} HTTP/1.1"] + [f"{k}: {v}" for k, v in hdrs.items()]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


def exchange(port: int, data: bytes, head: bool = False) -> tuple[int, dict, bytes]:
    conn = Conn(port)
    try:
        return conn.send(data).answer(head)
    finally:
        conn.close()


def _chunked(*parts: bytes) -> bytes:
    return b"".join(b"%x\r\n%s\r\n" % (len(p), p) for p in parts) + b"0\r\n\r\n"


# ---------------------------------------------------------------- framing
@pytest.mark.parametrize("length", ["abc", "-5", "1e3", "0x10", "5, 6"])
def test_a_bad_content_length_is_400(server, length):
    body = b"query=ASK%7B%7D"
    status, headers, text = exchange(server.port, req(server.port, "POST", headers={
        "Content-Type": "application/x-www-form-urlencoded", "Content-Length": length}, body=body))
    assert status == 400 and b"Content-Length" in text
    assert headers.get("connection") == "close"


def test_a_post_body_without_length_is_411(server, counted):
    conn = Conn(server.port)
    try:
        status, headers, text = conn.send(req(server.port, "POST", headers={
            "Content-Type": "application/sparql-query"}, body=ASK.encode())).answer()
        assert status == 411 and b"Content-Length" in text and headers["connection"] == "close"
        assert conn.closed()  # the body is never taken for a second request
    finally:
        conn.close()
    assert counted.calls == 0


def test_chunked_bodies_are_decoded_and_the_connection_stays_usable(server):
    port = server.port
    conn = Conn(port)
    try:
        conn.send(req(port, "POST", headers={"Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked",
                                             "Accept": "application/sparql-results+json"},
                      body=_chunked(b"ASK { ?s ", b"?p ?o }")))
        status, headers, body = conn.answer()
        assert status == 200 and headers["content-type"].startswith("application/sparql-results+json")
        assert b'"boolean": true' in body
        form = b"query=" + quote("SELECT ?s WHERE { ?s ?p ?o } LIMIT 3").encode() + b"&format=csv"
        conn.send(req(port, "POST", headers={"Content-Type": "application/x-www-form-urlencoded",
                                             "Transfer-Encoding": "Chunked"},
                      body=b"%x;ext=1\r\n%s\r\n0\r\nX-Trailer: 1\r\n\r\n" % (len(form), form)))
        status, headers, body = conn.answer()
        assert status == 200 and headers["content-type"].startswith("text/csv") and len(body.splitlines()) == 4
        conn.send(req(port, "GET", "/sparql?query=" + quote(ASK)))  # the same connection, a third request
        assert conn.answer()[0] == 200
    finally:
        conn.close()


def test_a_chunked_body_over_the_limit_is_413(server, counted):
    head = req(server.port, "POST", headers={"Content-Type": "application/sparql-query",
                                             "Transfer-Encoding": "chunked"})
    status, _, text = exchange(server.port, head + b"%x\r\n" % (MAX_BODY + 1))
    assert status == 413 and str(MAX_BODY).encode() in text
    half = b"#" * (MAX_BODY // 2 + 1)  # each chunk fits; together they do not
    status, _, _ = exchange(server.port, head + b"%x\r\n%s\r\n" % (len(half), half) * 2)
    assert status == 413
    status, _, _ = exchange(server.port, req(server.port, "POST", headers={
        "Content-Type": "application/sparql-query", "Content-Length": str(MAX_BODY + 1)}))
    assert status == 413
    assert counted.calls == 0


@pytest.mark.parametrize("body", [b"zz\r\nASK {}\r\n0\r\n\r\n", b"3\r\nASK {}\r\n0\r\n\r\n", b"\r\n\r\n"])
def test_a_malformed_chunked_body_is_400(server, body):
    status, _, text = exchange(server.port, req(server.port, "POST", headers={
        "Content-Type": "application/sparql-query", "Transfer-Encoding": "chunked"}, body=body))
    assert status == 400 and b"chunked" in text


@pytest.mark.parametrize("te, status", [("gzip", 501), ("gzip, chunked", 501), ("identity", 501)])
def test_other_transfer_encodings_are_refused(server, counted, te, status):
    assert exchange(server.port, req(server.port, "POST", headers={
        "Content-Type": "application/sparql-query", "Transfer-Encoding": te}, body=b"x"))[0] == status
    both = req(server.port, "POST", headers={"Content-Type": "application/sparql-query",
                                             "Transfer-Encoding": "chunked", "Content-Length": "6"}, body=b"ASK {}")
    assert exchange(server.port, both)[0] == 400
    assert counted.calls == 0


def test_an_empty_query_is_400(server, counted):
    for params in ({"query": ""}, {"query": "  \n\t "}):
        r = requests.get(server.url, params=params, timeout=10)
        assert r.status_code == 400 and "empty" in r.text
    r = requests.post(server.url, data=b"", headers={"Content-Type": "application/sparql-query"}, timeout=10)
    assert r.status_code == 400 and "empty" in r.text
    r = requests.post(server.url, data={"query": " "}, timeout=10)
    assert r.status_code == 400 and "empty" in r.text
    assert counted.calls == 0


def test_existing_answers_are_kept(server):
    assert requests.get(server.url, timeout=10).status_code == 200  # the service page
    assert requests.post(server.url, params={"query": ASK}, timeout=10).json()["boolean"] is True
    assert requests.delete(server.url, timeout=10).status_code == 405
    assert requests.post(server.url, data={"update": "CLEAR ALL"}, timeout=10).status_code == 403


# ---------------------------------------------------------------- deadlines and the connection cap
def test_a_lying_content_length_is_cut_off(server):
    conn = Conn(server.port)
    try:
        started = time.monotonic()
        conn.send(req(server.port, "POST", headers={"Content-Type": "application/sparql-query",
                                                    "Content-Length": "1000"}, body=b"ASK {}    "))
        status, _, text = conn.answer()
        assert status == 408 and b"1 s" in text
        assert conn.closed()
        assert time.monotonic() - started < 3
    finally:
        conn.close()


def test_a_trickled_request_is_cut_off(server):
    """One header byte every 0.1 s: each read is quick, the request never completes; the deadline
    is for the whole request, so it ends after 1 s (a per-read timeout would never fire)."""
    conn = Conn(server.port)
    try:
        conn.send(req(server.port, "GET", "/sparql?query=" + quote(ASK))[:-2])  # headers not ended
        conn.sock.settimeout(0.1)
        started = time.monotonic()
        answer = b""
        while time.monotonic() - started < 4 and not answer:
            try:
                conn.sock.sendall(b"X")
                answer = conn.sock.recv(4096)
            except TimeoutError:
                continue
            except OSError:
                break
        assert answer.startswith(b"HTTP/1.1 408"), answer
        assert time.monotonic() - started < 3
    finally:
        conn.close()


def test_an_idle_connection_is_closed(server):
    conn = Conn(server.port)
    try:
        started = time.monotonic()
        assert conn.closed()  # nothing was asked: closed without an answer
        assert time.monotonic() - started < 3
    finally:
        conn.close()


def test_connections_are_capped(built_store):
    server, thread = _start(built_store)
    server.max_connections = 2
    idle = [Conn(server.port), Conn(server.port)]  # accepted in order: both hold a thread before the next
    try:
        extra = Conn(server.port, timeout=3)
        try:
            status, headers, text = extra.answer()
            assert status == 503 and b"too many connections" in text and headers["connection"] == "close"
        finally:
            extra.close()
        for conn in idle:
            conn.close()
        deadline, status = time.monotonic() + 5, None
        while status != 200 and time.monotonic() < deadline:  # their threads end, so there is room again
            status = exchange(server.port, req(server.port, "GET", "/sparql?query=" + quote(ASK)))[0]
        assert status == 200
    finally:
        for conn in idle:
            conn.close()
        _stop(server, thread)


# ---------------------------------------------------------------- HEAD
def test_head_does_not_run_the_query(server, counted):
    cases = [(SLOW, {"Accept": "text/csv"}, "text/csv"),
             (SLOW, {}, "application/sparql-results+json"),
             ("PREFIX ex: <http://ex/>\n# a comment\nconstruct { ?s ?p ?o } WHERE { ?s ?p ?o }",
              {"Accept": "application/n-triples"}, "application/n-triples"),
             ("DESCRIBE <http://ex/a>", {}, "text/turtle")]
    for query, headers, ctype in cases:
        started = time.monotonic()
        r = requests.head(server.url, params={"query": query}, headers=headers, timeout=10)
        assert r.status_code == 200 and r.headers["Content-Type"].startswith(ctype) and r.content == b""
        assert time.monotonic() - started < 1
    assert counted.calls == 0
    assert requests.head(server.url, params={"query": ASK}, headers={"Accept": "image/png"}, timeout=10).status_code == 406
    assert requests.head(server.url, params={"query": "DELETE WHERE { ?s ?p ?o }"}, timeout=10).status_code == 403
    service = "SELECT * WHERE { ?s ?p ?o .SERVICE <http://127.0.0.1:9/sparql> { ?a ?b ?c } }"
    assert requests.head(server.url, params={"query": service}, timeout=10).status_code == 403  # as GET refuses it
    assert requests.head(server.url, params={"query": ""}, timeout=10).status_code == 400
    assert counted.calls == 0
    get = requests.get(server.url, params={"query": ASK, "format": "xml"}, timeout=10)
    head = requests.head(server.url, params={"query": ASK, "format": "xml"}, timeout=10)
    assert head.headers["Content-Type"] == get.headers["Content-Type"] and head.headers["Vary"] == get.headers["Vary"]


def test_query_form():
    assert query_form("PREFIX a: <http://x/#y>\nBASE <http://b/> # SELECT\n  ask {}") == "ASK"
    assert query_form("\\u0053ELECT * {}") == "SELECT"
    assert query_form("  INSERT DATA {}") == "INSERT"
    assert query_form("nonsense") is None


# ---------------------------------------------------------------- CORS
@pytest.mark.parametrize("origin", ["http://127.0.0.1:5173", "http://localhost:3000", "http://[::1]:8080",
                                    "http://localhost"])
def test_loopback_origins_are_allowed(server, origin):
    r = requests.get(server.url, params={"query": ASK}, headers={"Origin": origin}, timeout=10)
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin
    assert "Origin" in r.headers["Vary"]
    pre = requests.options(server.url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=10)
    assert pre.status_code == 204 and pre.headers["Access-Control-Allow-Origin"] == origin
    assert "POST" in pre.headers["Access-Control-Allow-Methods"]


@pytest.mark.parametrize("origin", ["https://evil.example", "https://yasgui.triply.cc", "null",
                                    "https://127.0.0.1.evil.example", "http://localhost.evil.example:7070"])
def test_other_origins_are_refused_before_any_work(server, counted, origin):
    r = requests.post(server.url, data={"query": SLOW}, timeout=10,  # a "simple" form POST, no preflight
                      headers={"Origin": origin, "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 403 and "Access-Control-Allow-Origin" not in r.headers and "--cors-origin" in r.text
    r = requests.get(server.url, params={"query": SLOW}, headers={"Origin": origin}, timeout=10)
    assert r.status_code == 403
    pre = requests.options(server.url, headers={"Origin": origin, "Access-Control-Request-Method": "POST"}, timeout=10)
    assert pre.status_code == 403 and "Access-Control-Allow-Origin" not in pre.headers
    assert counted.calls == 0


def test_refused_before_the_body_is_sent(server):
    """Expect: 100-continue from a foreign origin gets its 403 instead of 100 Continue."""
    conn = Conn(server.port)
    try:
        conn.send(req(server.port, "POST", headers={"Origin": "https://evil.example", "Expect": "100-continue",
                                                    "Content-Type": "application/sparql-query", "Content-Length": "50"}))
        status, _, _ = conn.answer()
        assert status == 403
    finally:
        conn.close()


def test_requests_without_origin_get_no_cors_headers(server):
    r = requests.get(server.url, params={"query": ASK}, timeout=10)
    assert r.status_code == 200 and "Access-Control-Allow-Origin" not in r.headers


def test_cors_origins_are_added_and_checked(built_store, kg):
    server, thread = _start(built_store, cors_origins=["https://YASGUI.triply.cc/", "http://tools.example:8080"])
    try:
        for origin in ("https://yasgui.triply.cc", "http://tools.example:8080", "http://localhost:8000"):
            r = requests.get(server.url, params={"query": ASK}, headers={"Origin": origin}, timeout=10)
            assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == origin
        r = requests.get(server.url, params={"query": ASK}, headers={"Origin": "http://tools.example:8081"}, timeout=10)
        assert r.status_code == 403
    finally:
        _stop(server, thread)
    assert normalize_origin("https://yasgui.triply.cc:443") == "https://yasgui.triply.cc"
    for bad in ("*", "yasgui.triply.cc", "https://yasgui.triply.cc/path", "ftp://x.example", "https://u@x.example"):
        with pytest.raises(KgError):
            normalize_origin(bad)
    assert kg("serve", "--port", "0", "--cors-origin", "*", store=built_store).exit_code == 2


# ---------------------------------------------------------------- Host (DNS rebinding)
def test_the_host_must_name_this_server(server, counted):
    port = server.port
    for host in (f"127.0.0.1:{port}", "127.0.0.1", f"localhost:{port}", "LOCALHOST", f"[::1]:{port}", "[::1]"):
        assert exchange(port, req(port, "GET", "/sparql?query=" + quote(ASK), host=host))[0] == 200, host
    calls = counted.calls
    for host in (f"evil.example:{port}", "evil.example", "127.0.0.1:1", f"localhost.:{port}", "127.0.0.2",
                 f"127.0.0.1:{port}@evil", "", f"10.0.0.1:{port}"):
        status, _, text = exchange(port, req(port, "GET", "/sparql?query=" + quote(SLOW), host=host))
        assert status in (400, 403), host
        if host:
            assert status == 403 and b"--allow-host" in text
    status, _, _ = exchange(port, req(port, "GET", "/sparql?query=" + quote(SLOW), host=None))
    assert status == 400  # HTTP/1.1 without Host
    assert counted.calls == calls


def test_allow_host_adds_names(built_store):
    server, thread = _start(built_store, allow_hosts=["kg.example", "proxy.example:8443"])
    try:
        port = server.port
        for host, status in (("kg.example", 200), ("kg.example:443", 200), ("proxy.example:8443", 200),
                             ("proxy.example", 403), ("proxy.example:80", 403), ("other.example", 403)):
            assert exchange(port, req(port, "GET", "/sparql?query=" + quote(ASK), host=host))[0] == status, host
    finally:
        _stop(server, thread)
    assert split_host("[::1]:7070") == ("[::1]", 7070) and split_host("a b") is None
    with pytest.raises(KgError):
        make_server(str(built_store), port=0, allow_hosts=["http://kg.example/"])


# ---------------------------------------------------------------- errors
def test_store_errors_are_not_passed_on(server):
    holder = server.graphs
    secret = ("the SPARQL endpoint http://10.1.2.3:8890/sparql refused the query: HTTP 500: "
              "<html>internal-marker</html> answered in an unknown format 'text/html'")
    try:
        for fail in (KgError(secret), RuntimeError("internal-marker")):
            server.graphs = Counting(holder, fail=fail)
            r = requests.get(server.url, params={"query": ASK}, timeout=10)
            assert r.status_code == 500 and "could not answer" in r.text
            for leak in ("internal-marker", "10.1.2.3", "text/html", "Traceback"):
                assert leak not in r.text and leak not in str(r.headers)
    finally:
        server.graphs = holder
