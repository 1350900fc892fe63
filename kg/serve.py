"""`kg serve`: the graph as a read-only SPARQL 1.1 Protocol endpoint on 127.0.0.1.

    GET  /sparql?query=...                      (also / and /query; HEAD too)
    POST /sparql   application/x-www-form-urlencoded (query=...)
    POST /sparql   application/sparql-query     (the query as the body)

Answers in the format the client asks for (Accept header, or a `format`
parameter as some clients send): SELECT/ASK as SPARQL results JSON, XML, CSV or
TSV; CONSTRUCT/DESCRIBE as Turtle, N-Triples, RDF/XML or JSON-LD. Every query
goes through kg.sparql.guard (read-only, no SERVICE, row, time and memory limits) and
runs in a killable worker process; updates are refused with 403.

The HTTP side is guarded too, all before any query runs:
- Host must name this server (127.0.0.1, localhost or [::1], with this port or
  none; more names with `allow_hosts`), else 403: a DNS-rebinding page gets nothing.
- CORS by allow-list: pages from loopback origins (http://127.0.0.1, localhost,
  [::1], any port) and from `cors_origins`; their Origin is echoed back with
  `Vary: Origin`. A request whose Origin is not allowed gets 403 without work
  (so a foreign page's form POST runs nothing); requests without Origin
  (curl, SPARQLWrapper) are not affected.
- Framing: Content-Length must be a number (400), a POST needs one or
  `Transfer-Encoding: chunked` (411), chunked bodies are decoded, other
  transfer codings get 501, bodies over MAX_BODY 413.
- Time and threads: reading one request (line, headers, body) has a deadline
  (`request_timeout`, 408 then close), writing an answer one too, and at most
  `max_connections` connections are served at once (more get 503).
- HEAD answers with the status and Content-Type a GET would have, without
  running the query. Errors of the store (a remote endpoint's answers) are not
  passed on; the server's log has them.
"""
from __future__ import annotations

import io
import json
import re
import socket
import sys
import threading
import time
import traceback
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from . import __version__
from .errors import KgError, QueryLimitExceeded, QueryRefused, QuerySyntaxError, UsageError
from .sparql.guard import QueryLimits, check_query
from .output.csvfile import query_result_csv, strip_bidi
from .sparql.results import QueryResult, Term, term_to_ox
from .sparql.text import query_form

HOST = "127.0.0.1"
DEFAULT_PORT = 7070
PATHS = ("/sparql", "/query", "/")
MAX_BODY = 1 << 20  # bytes of query text a request may carry
REQUEST_TIMEOUT_S = 10.0  # to read one request: its line, headers and body
WRITE_TIMEOUT_S = 60.0  # to write one answer to a client that reads slowly
MAX_CONNECTIONS = 64  # connections served at once; more get 503
LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
CORS_METHODS = "GET, HEAD, POST, OPTIONS"

# media type -> (kind, name); kind "results" for SELECT/ASK, "graph" for CONSTRUCT/DESCRIBE
RESULT_TYPES = {
    "application/sparql-results+json": "json",
    "application/json": "json",
    "application/sparql-results+xml": "xml",
    "application/xml": "xml",
    "text/csv": "csv",
    "text/tab-separated-values": "tsv",
}
GRAPH_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/ld+json": ox.RdfFormat.JSON_LD,
    "application/n-quads": ox.RdfFormat.N_QUADS,
}
# `format=` shortcuts (YASGUI, SPARQLWrapper and Virtuoso-style clients send these)
FORMAT_ALIASES = {
    "json": "application/sparql-results+json", "xml": "application/sparql-results+xml",
    "csv": "text/csv", "tsv": "text/tab-separated-values", "turtle": "text/turtle", "ttl": "text/turtle",
    "nt": "application/n-triples", "ntriples": "application/n-triples", "n-triples": "application/n-triples",
    "rdfxml": "application/rdf+xml", "rdf+xml": "application/rdf+xml", "json-ld": "application/ld+json",
    "jsonld": "application/ld+json",
}
RESULTS_DEFAULT = "application/sparql-results+json"
GRAPH_DEFAULT = "text/turtle"


class HttpError(Exception):
    def __init__(self, status: int, message: str, headers: dict | None = None):
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def negotiate(accept: str | None, offered: list[str], default: str) -> str | None:
    """The offered media type the Accept header prefers (None: nothing acceptable)."""
    if not accept or not accept.strip():
        return default
    best, best_q = None, 0.0
    for order, part in enumerate(accept.split(",")):
        fields = [f.strip() for f in part.split(";")]
        mtype = fields[0].lower()
        q = 1.0
        for f in fields[1:]:
            if f.startswith("q="):
                try:
                    q = float(f[2:])
                except ValueError:
                    q = 0.0
        if q <= 0:
            continue
        if mtype in ("*/*", "*"):
            candidate = default
        elif mtype.endswith("/*"):
            candidate = next((o for o in offered if o.startswith(mtype[:-1])), None)
        else:
            candidate = mtype if mtype in offered else None
        # more specific types win ties against wildcards
        score = q - (0.0001 if "*" in mtype else 0.0) - order * 1e-7
        if candidate and score > best_q:
            best, best_q = candidate, score
    return best


# ---------------------------------------------------------------- HEAD, origins, hosts
GRAPH_FORMS = ("CONSTRUCT", "DESCRIBE")
READ_FORMS = ("SELECT", "ASK") + GRAPH_FORMS


def normalize_origin(value: str) -> str:
    """`value` as a browser writes it in Origin (scheme://host[:port], lower case, no default port)."""
    text = value.strip()
    parts = urlsplit(text.rstrip("/"))
    try:
        port = parts.port
    except ValueError:
        port = -1
    scheme = parts.scheme.lower()
    if (scheme not in ("http", "https") or not parts.hostname or port == -1 or parts.path or parts.query
            or parts.fragment or "@" in parts.netloc or "*" in text):
        raise UsageError(f"an allowed origin must be an origin such as https://yasgui.triply.cc, not {value!r}",
                         field="cors_origins")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    return f"{scheme}://{host}" + (f":{port}" if port is not None and port != {"http": 80, "https": 443}[scheme] else "")


def split_host(value: str) -> tuple[str, int | None] | None:
    """A Host header (or --allow-host) as (name in lower case, port or None); None if malformed."""
    text = value.strip().lower()
    if text.startswith("["):
        name, _, rest = text.partition("]")
        name += "]"
        if not re.fullmatch(r"\[[0-9a-f:.]+\]", name):
            return None
    else:
        name, colon, port = text.partition(":")
        rest = colon + port
        if not re.fullmatch(r"[a-z0-9_]([a-z0-9_.-]*[a-z0-9_])?", name):
            return None
    if not rest:
        return name, None
    if not re.fullmatch(r":[0-9]{1,5}", rest):
        return None
    return name, int(rest[1:])


def _allowed_host(value: str) -> tuple[str, int | None]:
    parsed = split_host(value)
    if parsed is None:
        raise UsageError(f"an allowed host must be a host name such as sparql.example.org (optionally :PORT), "
                         f"not {value!r}", field="allow_hosts")
    return parsed


# ---------------------------------------------------------------- serialisers
def _xml_term(term: Term) -> str:
    if term.type == "uri":
        return f"<uri>{escape(term.value)}</uri>"
    if term.type == "bnode":
        return f"<bnode>{escape(term.value)}</bnode>"
    attrs = ""
    if term.lang:
        attrs = f" xml:lang={quoteattr(term.lang)}"
    elif term.datatype and term.datatype != "http://www.w3.org/2001/XMLSchema#string":
        attrs = f" datatype={quoteattr(term.datatype)}"
    return f"<literal{attrs}>{escape(term.value)}</literal>"


def results_xml(result: QueryResult) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<sparql xmlns="http://www.w3.org/2005/sparql-results#">']
    if result.kind == "ask":
        out += ["<head/>", f"<boolean>{'true' if result.boolean else 'false'}</boolean>"]
    else:
        out.append("<head>" + "".join(f"<variable name={quoteattr(v)}/>" for v in result.vars) + "</head>")
        out.append("<results>")
        for row in result.rows:
            out.append("<result>" + "".join(f"<binding name={quoteattr(k)}>{_xml_term(t)}</binding>"
                                            for k, t in row.items() if t is not None) + "</result>")
        out.append("</results>")
    out.append("</sparql>")
    return "\n".join(out) + "\n"


def _tsv_term(term: Term | None) -> str:
    if term is None:
        return ""
    # N3 terms are quoted, so no cell starts like a formula; bidi controls are dropped as in CSV
    return strip_bidi(term.n3()).replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def results_tsv(result: QueryResult) -> str:
    if result.kind == "ask":
        return "?boolean\n" + ("true" if result.boolean else "false") + "\n"
    lines = ["\t".join("?" + v for v in result.vars)]
    lines += ["\t".join(_tsv_term(row.get(v)) for v in result.vars) for row in result.rows]
    return "\n".join(lines) + "\n"




def render(result: QueryResult, media: str) -> bytes:
    """The result serialised as `media` (a type from RESULT_TYPES or GRAPH_TYPES)."""
    if result.kind == "graph":
        from .vocab import PREFIXES

        triples = [ox.Triple(*(term_to_ox(t) for t in triple)) for triple in result.triples]
        fmt = GRAPH_TYPES[media]
        kwargs = {"prefixes": PREFIXES} if fmt in (ox.RdfFormat.TURTLE, ox.RdfFormat.RDF_XML) else {}
        return ox.serialize(triples, format=fmt, **kwargs) or b""
    name = RESULT_TYPES[media]
    if name == "json":
        return json.dumps(result.to_json(), ensure_ascii=False).encode()
    if name == "xml":
        return results_xml(result).encode()
    if name == "csv":
        return query_result_csv(result).encode()
    return results_tsv(result).encode()


# ---------------------------------------------------------------- the server
@dataclass
class ServeConfig:
    location: str
    limits: QueryLimits
    workers: int = 2  # worker processes kept warm
    quiet: bool = False
    max_queries: int = 8  # queries running at once (one worker each), shared fairly between clients
    cors_origins: tuple = ()  # normalised origins (normalize_origin) besides the loopback ones
    allow_hosts: tuple = ()  # (name, port or None) pairs (split_host) besides the loopback ones


class GraphHolder:
    """The open graph, reopened when a newer build has been published."""

    def __init__(self, location: str, workers: int, max_queries: int = 8):
        self.location = location
        self.workers = workers
        self.max_queries = max(workers, max_queries)
        self._lock = threading.Lock()
        self._graph = None
        self._checked = 0.0

    def get(self):
        from .store import open_graph

        with self._lock:
            now = time.monotonic()
            if self._graph is None:
                self._graph = self._open(open_graph)
            elif now - self._checked > 2.0:  # at most one staleness check every 2 s
                self._checked = now
                if self._graph.is_stale():
                    self._graph = self._open(open_graph)
            return self._graph

    def _open(self, open_graph):
        graph = open_graph(self.location)
        if hasattr(graph, "sandbox_size"):
            graph.sandbox_size = self.workers
            graph.sandbox_max_running = self.max_queries
            graph.sandbox.warm()
        self._checked = time.monotonic()
        return graph

    def close(self) -> None:
        with self._lock:
            if self._graph is not None and hasattr(self._graph, "close"):
                self._graph.close()
            self._graph = None


class _RequestTimeout(Exception):
    """The request did not arrive before its deadline."""


class _ClientGone(Exception):
    """The connection broke while a request was read."""


class _DeadlineReader(io.RawIOBase):
    """The socket as the request reader sees it: no read goes past the handler's deadline,
    however slowly the bytes trickle in."""

    def __init__(self, sock: socket.socket, handler: SparqlHandler):
        self._sock = sock
        self._handler = handler

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        left = self._handler.read_deadline - time.monotonic()
        if left <= 0:
            raise _RequestTimeout()
        try:
            self._sock.settimeout(left)
            n = self._sock.recv_into(buffer)
        except TimeoutError:
            raise _RequestTimeout() from None
        except OSError as exc:
            raise _ClientGone(str(exc)) from None
        self._handler.bytes_received += n
        return n


class SparqlHandler(BaseHTTPRequestHandler):
    server_version = f"kg/{__version__}"
    protocol_version = "HTTP/1.1"
    default_request_version = "HTTP/1.0"  # a garbled request line still gets a status line (not HTTP/0.9)

    # ------------------------------------------------------------ connection
    def setup(self):
        super().setup()
        self.rfile.close()  # replaced by a reader that keeps to the request deadline
        self.read_deadline = time.monotonic() + self.server.request_timeout
        self.bytes_received = 0
        self.rfile = io.BufferedReader(_DeadlineReader(self.connection, self), 1 << 16)
        self._linger = False

    def handle_one_request(self):
        self.read_deadline = time.monotonic() + self.server.request_timeout
        self.bytes_received = 0
        self._responded = False
        self._body_pending = False
        self._cors_origin = None
        try:
            super().handle_one_request()
        except _RequestTimeout:
            self.close_connection = True
            if self.bytes_received and not self._responded:  # a request had begun: say why it ends
                msg = f"the request did not arrive within {self.server.request_timeout:g} s\n".encode()
                self._send_raw(b"408 Request Timeout", msg)
        except (_ClientGone, OSError):  # the client went away, or stopped reading the answer
            self.close_connection = True

    def finish(self):
        super().finish()
        if self._linger:  # let the client read the answer before unread input makes the close a reset
            try:
                self.connection.shutdown(socket.SHUT_WR)
                self.connection.settimeout(0.5)
                deadline, left = time.monotonic() + 2.0, 4 * MAX_BODY
                while left > 0 and time.monotonic() < deadline:
                    chunk = self.connection.recv(1 << 16)
                    if not chunk:
                        break
                    left -= len(chunk)
            except OSError:
                pass

    def _send_raw(self, status: bytes, body: bytes) -> None:
        """An answer written straight to the socket (when the request itself is unusable)."""
        try:
            self.connection.settimeout(1.0)
            self.connection.sendall(b"HTTP/1.1 " + status + b"\r\nContent-Type: text/plain; charset=utf-8\r\n"
                                    + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body)
        except OSError:
            pass

    def send_response(self, code, message=None):
        self._responded = True
        self.connection.settimeout(self.server.write_timeout)
        super().send_response(code, message)

    def log_request(self, code="-", size="-"):
        pass  # one line per request is written by _handle

    def handle_expect_100(self):
        """Refuse before the client sends its body (Expect: 100-continue) when the headers already fail."""
        try:
            self._check_request()
        except HttpError as exc:
            self._send_error(exc)
            return False
        return super().handle_expect_100()

    # ------------------------------------------------------------ HTTP verbs
    def do_OPTIONS(self):  # CORS preflight, or a plain OPTIONS
        try:
            self._check_request()
        except HttpError as exc:
            self._send_error(exc)
            return
        extra = {"Allow": CORS_METHODS}
        if self._cors_origin:
            extra.update({"Access-Control-Allow-Methods": CORS_METHODS,
                          "Access-Control-Allow-Headers": "Content-Type, Accept",
                          "Access-Control-Max-Age": "86400"})
            if (self.headers.get("Access-Control-Request-Private-Network") or "").lower() == "true":
                extra["Access-Control-Allow-Private-Network"] = "true"
        self._send(HTTPStatus.NO_CONTENT, b"", None, extra)

    def do_GET(self):
        self._handle(lambda: self._params_from_url())

    def do_HEAD(self):
        self._handle(lambda: self._params_from_url(), head=True)

    def do_POST(self):
        self._handle(self._params_from_body)

    def do_PUT(self):
        self._refuse_method()

    do_DELETE = do_PATCH = do_PUT

    # ------------------------------------------------------------ checks before any work
    def _check_request(self) -> None:
        """Framing, Host and Origin; raises HttpError. Sets what the body reader needs."""
        self._check_framing()
        self._check_host()
        self._check_origin()

    def _check_framing(self) -> None:
        self._chunked, self._length = False, 0
        te = self.headers.get_all("Transfer-Encoding") or []
        cl = self.headers.get_all("Content-Length") or []
        self._body_pending = bool(te) or any(v.strip() not in ("", "0") for v in cl)
        if te and cl:
            raise HttpError(HTTPStatus.BAD_REQUEST, "send Content-Length or Transfer-Encoding, not both")
        if te:
            codings = [c.strip().lower() for c in ",".join(te).split(",") if c.strip()]
            if codings != ["chunked"]:
                raise HttpError(HTTPStatus.NOT_IMPLEMENTED,
                                "the only Transfer-Encoding this endpoint decodes is chunked")
            self._chunked = True
            return
        if cl:
            values = {v.strip() for v in cl}
            if len(values) != 1 or not re.fullmatch(r"[0-9]{1,18}", next(iter(values))):
                raise HttpError(HTTPStatus.BAD_REQUEST, "Content-Length must be one whole number of bytes")
            self._length = int(next(iter(values)))
            if self._length > MAX_BODY:
                raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request body is over {MAX_BODY} bytes")
        elif self.command == "POST":
            self._body_pending = True  # a body may follow; it cannot be told from a next request
            raise HttpError(HTTPStatus.LENGTH_REQUIRED,
                            "a POST needs Content-Length (0 when there is no body) or Transfer-Encoding: chunked")

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if not hosts:
            if self.request_version >= "HTTP/1.1":
                raise HttpError(HTTPStatus.BAD_REQUEST, "an HTTP/1.1 request needs a Host header")
            return
        parsed = split_host(hosts[0]) if len(hosts) == 1 else None
        if parsed is None or not self.server.host_allowed(*parsed):
            raise HttpError(HTTPStatus.FORBIDDEN,
                            f"refused: Host {hosts[0][:100]!r} is not this server; it answers to "
                            f"127.0.0.1:{self.server.port}, localhost:{self.server.port} and "
                            f"[::1]:{self.server.port} (more names with kg serve --allow-host NAME)")

    def _check_origin(self) -> None:
        origins = self.headers.get_all("Origin") or []
        if not origins:
            return
        origin = origins[0].strip()
        if len(origins) == 1 and self.server.origin_allowed(origin):
            self._cors_origin = origin
            return
        raise HttpError(HTTPStatus.FORBIDDEN,
                        f"refused: web pages from {origin[:100]!r} may not use this endpoint "
                        "(allow an origin with kg serve --cors-origin ORIGIN)")

    # ------------------------------------------------------------ plumbing
    def _refuse_method(self):
        try:
            self._check_host()
            self._check_origin()
        except HttpError as exc:
            self._send_error(exc)
            return
        self.close_connection = True  # the body (if any) is not read
        self._body_pending = bool(self.headers.get("Transfer-Encoding")) or \
            (self.headers.get("Content-Length") or "0").strip() != "0"
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"this endpoint is read-only: GET or POST a SPARQL query\n",
                   "text/plain; charset=utf-8", {"Allow": CORS_METHODS})

    def _read_body(self) -> bytes:
        body = self._read_chunked() if self._chunked else (self.rfile.read(self._length) if self._length else b"")
        if len(body) < self._length:
            raise HttpError(HTTPStatus.BAD_REQUEST, "the request body ended before its Content-Length")
        self._body_pending = False
        return body

    def _read_chunked(self) -> bytes:
        chunks, size = [], 0
        while True:
            line = self.rfile.readline(1024)
            head = line.split(b";", 1)[0].strip()
            if not line.endswith(b"\n") or not re.fullmatch(rb"[0-9A-Fa-f]{1,8}", head):
                raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: bad chunk size line")
            n = int(head, 16)
            if n == 0:
                break
            size += n
            if size > MAX_BODY:
                raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request body is over {MAX_BODY} bytes")
            data = self.rfile.read(n)
            if len(data) < n or self.rfile.readline(3) not in (b"\r\n", b"\n"):
                raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: a chunk does not match its size")
            chunks.append(data)
        for _ in range(64):  # trailer fields, ignored
            line = self.rfile.readline(8192)
            if line in (b"\r\n", b"\n"):
                return b"".join(chunks)
            if not line.endswith(b"\n"):
                break
        raise HttpError(HTTPStatus.BAD_REQUEST, "malformed chunked body: bad trailer")

    def _params_from_url(self) -> dict:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def _params_from_body(self) -> dict:
        body = self._read_body()
        params = self._params_from_url()
        ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if ctype == "application/x-www-form-urlencoded" or (not ctype and body):
            for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items():
                params.setdefault(k, []).extend(v)
        elif ctype == "application/sparql-query":
            params["query"] = [body.decode("utf-8", "replace")]
        elif ctype == "application/sparql-update":
            params["update"] = [body.decode("utf-8", "replace")]
        elif body:
            raise HttpError(HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                            "send application/x-www-form-urlencoded or application/sparql-query")
        return params

    def _handle(self, read_params, head: bool = False):
        started = time.monotonic()
        status, detail = 500, ""
        try:
            self._check_request()
            if urlsplit(self.path).path not in PATHS:
                raise HttpError(HTTPStatus.NOT_FOUND, "not found: the SPARQL endpoint is /sparql")
            params = read_params()
            status, body, ctype, extra = self._answer(params, head)
        except (_RequestTimeout, _ClientGone):
            raise
        except HttpError as exc:
            status, body, ctype, extra = exc.status, (exc.message + "\n").encode(), "text/plain; charset=utf-8", exc.headers
        except (QuerySyntaxError, QueryRefused, QueryLimitExceeded, UsageError) as exc:  # kg's own words
            status, body, ctype, extra = _status_of(exc), (exc.message + "\n").encode(), "text/plain; charset=utf-8", {}
        except Exception as exc:  # noqa: BLE001 - the store failed; its words (a remote server's answer) stay here
            detail = f": {exc}" if isinstance(exc, KgError) else "\n" + traceback.format_exc()
            status, body, ctype, extra = (HTTPStatus.INTERNAL_SERVER_ERROR,
                                          b"the graph store could not answer this query (the server's log says why)\n",
                                          "text/plain; charset=utf-8", {})
        self._send(status, body, ctype, extra, head=head)
        if not self.server.config.quiet:
            ms = (time.monotonic() - started) * 1000
            sys.stderr.write(f"{self.command} {self.path[:80]} -> {int(status)} ({ms:.0f} ms){detail}\n")

    def _answer(self, params: dict, head: bool = False):
        if "update" in params:
            raise HttpError(HTTPStatus.FORBIDDEN, "refused: this endpoint is read-only (no SPARQL Update)")
        queries = params.get("query") or []
        if not queries:
            return (HTTPStatus.OK, self.server.description().encode(), "text/html; charset=utf-8", {})
        if len(queries) > 1:
            raise HttpError(HTTPStatus.BAD_REQUEST, "give exactly one query parameter")
        if not queries[0].strip():
            raise HttpError(HTTPStatus.BAD_REQUEST,
                            "the query is empty: send a SPARQL query in query= or as the application/sparql-query body")
        if params.get("default-graph-uri") or params.get("named-graph-uri"):
            raise HttpError(HTTPStatus.BAD_REQUEST,
                            "this endpoint serves one default graph; default-graph-uri and named-graph-uri are not supported")
        if head:  # what a GET would answer, as far as it is known without running the query
            form = query_form(queries[0])
            if form is None:
                raise HttpError(HTTPStatus.BAD_REQUEST,
                                "not a SPARQL query: it should begin (after PREFIX and BASE) with SELECT, ASK, "
                                "CONSTRUCT or DESCRIBE")
            if form not in READ_FORMS:
                raise HttpError(HTTPStatus.FORBIDDEN, "refused: this endpoint is read-only (no SPARQL Update)")
            check_query(queries[0])  # the guard's own token check, as a GET passes it (SERVICE, hidden updates)
            media = self._media("graph" if form in GRAPH_FORMS else "results", params)
            return HTTPStatus.OK, None, media + "; charset=utf-8", {"Vary": "Accept"}
        graph = self.server.graphs.get()
        result = graph.query(queries[0], None, self.server.config.limits, client=self.client_address[0])
        media = self._media(result.kind, params)
        extra = {"Vary": "Accept"}
        if result.truncated:
            extra["X-KG-Truncated"] = result.note or f"stopped at {self.server.config.limits.max_rows} rows"
        return HTTPStatus.OK, render(result, media), media + "; charset=utf-8", extra

    def _media(self, kind: str, params: dict) -> str:
        fmt = (params.get("format") or [""])[0].strip().lower()
        accept = FORMAT_ALIASES.get(fmt, fmt) if fmt else self.headers.get("Accept")
        if kind == "graph":
            media = negotiate(accept, list(GRAPH_TYPES), GRAPH_DEFAULT)
            offered = GRAPH_TYPES
        else:
            media = negotiate(accept, list(RESULT_TYPES), RESULTS_DEFAULT)
            offered = RESULT_TYPES
        if media is None:
            raise HttpError(HTTPStatus.NOT_ACCEPTABLE, f"cannot answer in {accept!r}; available: {', '.join(offered)}")
        return media

    def _send_error(self, exc: HttpError) -> None:
        self._send(exc.status, (exc.message + "\n").encode(), "text/plain; charset=utf-8", exc.headers,
                   head=self.command == "HEAD")

    def _send(self, status, body: bytes | None, ctype: str | None, extra: dict | None = None, head: bool = False):
        """One answer; body None: its length is unknown (HEAD without running the query)."""
        extra = dict(extra or {})
        if self._body_pending:  # the body was not read: it cannot be told from a next request
            self.close_connection = True
            self._linger = True
        self.send_response(int(status))
        if self._cors_origin:
            self.send_header("Access-Control-Allow-Origin", self._cors_origin)
            self.send_header("Access-Control-Expose-Headers", "X-KG-Truncated")
        self.send_header("Vary", ", ".join([v for v in (extra.pop("Vary", None),) if v] + ["Origin"]))
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in extra.items():
            self.send_header(k, v)
        if body is not None:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if body and not head:
            self.wfile.write(body)

    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass  # one line per request is written by _handle


def _status_of(exc: KgError) -> int:
    if isinstance(exc, QuerySyntaxError):
        return HTTPStatus.BAD_REQUEST
    if isinstance(exc, QueryRefused):
        return HTTPStatus.FORBIDDEN
    if isinstance(exc, QueryLimitExceeded):
        return HTTPStatus.SERVICE_UNAVAILABLE
    if isinstance(exc, UsageError):
        return HTTPStatus.BAD_REQUEST
    return HTTPStatus.INTERNAL_SERVER_ERROR


class SparqlServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_timeout = REQUEST_TIMEOUT_S  # seconds to read one request (tests set less)
    write_timeout = WRITE_TIMEOUT_S
    max_connections = MAX_CONNECTIONS

    def __init__(self, config: ServeConfig, port: int = DEFAULT_PORT):
        self.config = config
        self._connections = 0
        self._connections_lock = threading.Lock()
        self.graphs = GraphHolder(config.location, config.workers, config.max_queries)
        self.graphs.get()  # fail early (no graph, bad URL) before listening
        try:
            super().__init__((HOST, port), SparqlHandler)
        except OSError as exc:
            self.graphs.close()
            raise KgError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                          field="port", hint="Pick another port (0 picks a free one).") from None

    @property
    def port(self) -> int:
        return self.server_address[1]

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.port}/sparql"

    def host_allowed(self, name: str, port: int | None) -> bool:
        if name in LOOPBACK_HOSTS and port in (None, self.port):
            return True
        return (name, None) in self.config.allow_hosts or (name, port) in self.config.allow_hosts

    def origin_allowed(self, origin: str) -> bool:
        try:
            origin = normalize_origin(origin)
        except UsageError:
            return False  # "null" (sandboxed pages, files) and other non-origins
        parts = urlsplit(origin)
        if parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1"):
            return True
        return origin in self.config.cors_origins

    # ------------------------------------------------------------ at most max_connections at once
    def process_request(self, request, client_address):
        with self._connections_lock:
            busy = self._connections >= self.max_connections
            if not busy:
                self._connections += 1
        if busy:
            self._refuse_busy(request)
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._release()
            raise

    def process_request_thread(self, request, client_address):
        try:
            super().process_request_thread(request, client_address)
        finally:
            self._release()

    def _release(self) -> None:
        with self._connections_lock:
            self._connections -= 1

    @staticmethod
    def _refuse_busy(request) -> None:
        """503 from the accepting thread itself: never blocks, never starts a thread."""
        body = b"the server is busy: too many connections at once; try again shortly\n"
        try:
            request.setblocking(False)
            request.send(b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
                         b"Retry-After: 1\r\nConnection: close\r\n"
                         + f"Content-Length: {len(body)}\r\n\r\n".encode() + body)
            for _ in range(16):  # what already arrived, so that closing does not reset the answer away
                if not request.recv(1 << 16):
                    break
        except OSError:
            pass

    def description(self) -> str:
        limits = self.config.limits
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>kg SPARQL endpoint</title></head><body>"
            f"<h1>kg SPARQL endpoint</h1><p>Graph: {escape(self.config.location)}</p>"
            f"<p>Send SPARQL 1.1 queries to <code>{escape(self.url)}</code> with GET <code>?query=</code> or POST "
            "(form-encoded or <code>application/sparql-query</code>). Read-only: updates and SERVICE are refused; "
            f"at most {limits.max_rows} rows and {limits.timeout_s:g} s per query. Web pages may use it from "
            "this machine (http://127.0.0.1, http://localhost, any port)"
            + "".join(f", {escape(o)}" for o in self.config.cors_origins)
            + ".</p></body></html>\n")

    def server_close(self) -> None:
        super().server_close()
        self.graphs.close()


def make_server(location: str, port: int = DEFAULT_PORT, limits: QueryLimits | None = None,
                workers: int = 2, quiet: bool = False, cors_origins=(), allow_hosts=(),
                max_queries: int = 8) -> SparqlServer:
    """A server bound to 127.0.0.1:port (0: a free port) for the graph at `location`; web pages from
    `cors_origins` (besides loopback ones) may use it, and it answers to `allow_hosts` besides loopback names."""
    if not 0 <= port <= 65535:
        raise UsageError(f"the port must be between 0 and 65535, not {port}", field="port")
    if workers < 1:
        raise UsageError("the query workers must be at least 1", field="workers")
    if max_queries < 1:
        raise UsageError("the queries running at once must be at least 1", field="max_queries")
    limits = limits or QueryLimits()
    limits.check()  # a NaN time limit would fail every query with a 500
    origins = tuple(dict.fromkeys(normalize_origin(o) for o in cors_origins))
    hosts = tuple(dict.fromkeys(_allowed_host(h) for h in allow_hosts))
    return SparqlServer(ServeConfig(location, limits, workers, quiet, max_queries,
                                    origins, hosts), port)


def serve(location: str, port: int = DEFAULT_PORT, limits: QueryLimits | None = None, workers: int = 2,
          ready=None, cors_origins=(), allow_hosts=(), max_queries: int = 8) -> None:
    """Run the endpoint until interrupted; `ready(url)` is called once it listens."""
    server = make_server(location, port, limits, workers, cors_origins=cors_origins, allow_hosts=allow_hosts,
                         max_queries=max_queries)
    try:
        if ready:
            ready(server.url)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
