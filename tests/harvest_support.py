"""Test support for the harvest tests: a local HTTP server on 127.0.0.1 and replay of recordings.

`LocalServer(handler)` serves every request through `handler(req) -> Answer`, in
threads, and logs the requests. `Replay` answers from the real recordings in
tests/fixtures (arXiv JSON files and Semantic Scholar VCR cassettes).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import yaml

FIXTURES = Path(__file__).resolve().parent / "fixtures"


@dataclass
class Req:
    method: str
    path: str  # unquoted, without the query string
    query: dict[str, str]
    body: str
    headers: dict[str, str]


@dataclass
class Answer:
    status: int = 200
    body: str | bytes = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds before answering (a stalled server)
    truncate: int | None = None  # send only this many bytes of the body, then close
    hold: threading.Event | None = None  # wait for this event before answering


class LocalServer:
    def __init__(self, handler):
        self.handler = handler
        self.requests: list[Req] = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _serve(self):
                parts = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode() if length else ""
                req = Req(self.command, unquote(parts.path),
                          {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()},
                          body, {k.lower(): v for k, v in self.headers.items()})
                with outer.lock:
                    outer.requests.append(req)
                answer = outer.handler(req) or Answer(404, '{"error":"no such route in the test server"}')
                if answer.hold is not None:
                    answer.hold.wait(30)
                if answer.delay:
                    threading.Event().wait(answer.delay)
                data = answer.body.encode() if isinstance(answer.body, str) else answer.body
                try:
                    self.send_response(answer.status)
                    for k, v in answer.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Length", str(len(data)))
                    if answer.truncate is not None:
                        self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(data if answer.truncate is None else data[:answer.truncate])
                    self.wfile.flush()
                except (BrokenPipeError, ConnectionResetError):
                    pass
                if answer.truncate is not None:
                    self.close_connection = True

            do_GET = do_POST = _serve

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.httpd.shutdown()
        self.httpd.server_close()

    def count(self, method: str | None = None, path_part: str = "") -> int:
        return sum(1 for r in self.requests if (method is None or r.method == method) and path_part in r.path)


# ---------------------------------------------------------------- recordings
def _key(method: str, path: str, query: dict, body: str, ignore=("fields",)):
    q = tuple(sorted((k, v) for k, v in query.items() if k not in ignore))
    try:
        data = json.loads(body) if body else None
    except ValueError:
        data = body
    if isinstance(data, dict) and isinstance(data.get("ids"), list):
        # S2 takes a DOI with or without its "DOI:" prefix; recordings used both
        data = {**data, "ids": [i[4:] if i.upper().startswith("DOI:") else i for i in data["ids"]]}
    b = json.dumps(data, sort_keys=True) if isinstance(data, dict) else (data or "")
    return method.upper(), path, q, b


class Replay:
    """Answers requests from recordings; unknown requests get a 599 so a test sees them."""

    def __init__(self):
        self.table: dict = {}

    def add(self, method: str, url: str, body: str | None, status: int, text: str,
            content_type: str = "application/json") -> None:
        parts = urlsplit(url)
        query = {k: v[0] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        self.table[_key(method, unquote(parts.path), query, body or "")] = \
            Answer(status, text, {"Content-Type": content_type})

    def add_arxiv(self, *names: str) -> "Replay":
        for name in names or [p.name for p in sorted((FIXTURES / "arxiv").glob("*.json"))]:
            data = json.loads((FIXTURES / "arxiv" / name).read_text(encoding="utf-8"))
            self.add("GET", data["url"], None, data["status_code"], data["body"], "application/atom+xml")
        return self

    def add_s2(self, *names: str) -> "Replay":
        for name in names:
            cassette = yaml.safe_load((FIXTURES / "semanticscholar" / name).read_text(encoding="utf-8"))
            for it in cassette["interactions"]:
                rq, rs = it["request"], it["response"]
                text = rs["body"]["string"] if "body" in rs else rs["content"]
                status = rs["status"]["code"] if "status" in rs else rs["status_code"]
                self.add(rq["method"], rq["uri"], rq.get("body") or "", status, text)
        return self

    def __call__(self, req: Req) -> Answer:
        answer = self.table.get(_key(req.method, req.path, req.query, req.body))
        if answer is None:
            return Answer(599, json.dumps({"error": f"not recorded: {req.method} {req.path} {req.query}"}))
        return answer


class FakeTime:
    """An injectable clock + sleep: sleeping advances the clock instantly and is logged."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(round(seconds, 3))
        self.now += seconds


# ---------------------------------------------------------------- synthetic answers
def atom_feed(entries: list[dict], total: int | None = None, start: int = 0) -> str:
    """A small arXiv-shaped Atom feed: entries {id, title, published, summary, authors}."""
    items = []
    for e in entries:
        authors = "".join(f"<author><name>{a}</name></author>" for a in e.get("authors", ["A. Author"]))
        items.append(
            f"<entry><id>http://arxiv.org/abs/{e['id']}v1</id><title>{e['title']}</title>"
            f"<published>{e.get('published', '2024-06-01T00:00:00Z')}</published>"
            f"<summary>{e.get('summary', 'An abstract.')}</summary>{authors}"
            f"<link href=\"https://arxiv.org/pdf/{e['id']}v1\" rel=\"related\" type=\"application/pdf\" title=\"pdf\"/>"
            f"<category term=\"cs.CV\" scheme=\"http://arxiv.org/schemas/atom\"/></entry>")
    return ("<?xml version='1.0' encoding='UTF-8'?>"
            "<feed xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\" "
            "xmlns:arxiv=\"http://arxiv.org/schemas/atom\" xmlns=\"http://www.w3.org/2005/Atom\">"
            f"<opensearch:totalResults>{len(entries) if total is None else total}</opensearch:totalResults>"
            f"<opensearch:startIndex>{start}</opensearch:startIndex>"
            + "".join(items) + "</feed>")


def s2_paper(pid: str, title: str | None = None, arxiv: str | None = None, **extra) -> dict:
    ext = {"CorpusId": int(pid[-6:], 16)}
    if arxiv:
        ext["ArXiv"] = arxiv
    paper = {"paperId": pid, "corpusId": ext["CorpusId"], "externalIds": ext,
             "title": title or f"Paper {pid[-8:]} about personalization and models", "year": 2024,
             "authors": [{"authorId": "1", "name": "Ada Lovelace"}], "venue": "NeurIPS", "citationCount": 3}
    paper.update(extra)
    return paper


def pid(n: int) -> str:
    """A 40-hex S2 paper id for a number."""
    return f"{n:040x}"


def kill_when_asked(cmd: list[str], env: dict, server, asked=lambda requests: bool(requests),
                    timeout: float = 30) -> None:
    """Run a kg command as a process and SIGKILL it once `server` has seen the requests `asked`
    waits for (by default: any request); fail if it ends or takes `timeout` seconds first."""
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + timeout
    while not asked(list(server.requests)):
        assert time.monotonic() < deadline and proc.poll() is None, proc.stderr.read() if proc.poll() else "timeout"
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
