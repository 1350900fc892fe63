"""`kg serve`: the graph as a read-only SPARQL 1.1 Protocol endpoint on 127.0.0.1.

    GET  /sparql?query=...                      (also / and /query)
    POST /sparql   application/x-www-form-urlencoded (query=...)
    POST /sparql   application/sparql-query     (the query as the body)

Answers in the format the client asks for (Accept header, or a `format`
parameter as some clients send): SELECT/ASK as SPARQL results JSON, XML, CSV or
TSV; CONSTRUCT/DESCRIBE as Turtle, N-Triples, RDF/XML or JSON-LD. CORS is open
(read-only data), so YASGUI and other browser tools can talk to it. Every query
goes through kg.guard (read-only, no SERVICE, row, time and memory limits) and
runs in a killable worker process; updates are refused with 403.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit
from xml.sax.saxutils import escape, quoteattr

import pyoxigraph as ox

from . import __version__
from .errors import KgError, QueryLimitExceeded, QueryRefused, QuerySyntaxError, UsageError
from .guard import QueryLimits
from .results import QueryResult, Term, term_to_ox

HOST = "127.0.0.1"
DEFAULT_PORT = 7070
PATHS = ("/sparql", "/query", "/")
MAX_BODY = 1 << 20  # bytes of query text a request may carry

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
    return term.n3().replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


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
        return result.to_csv().encode()
    return results_tsv(result).encode()


# ---------------------------------------------------------------- the server
@dataclass
class ServeConfig:
    location: str
    limits: QueryLimits
    workers: int = 2
    quiet: bool = False


class GraphHolder:
    """The open graph, reopened when a newer build has been published."""

    def __init__(self, location: str, workers: int):
        self.location = location
        self.workers = workers
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
        self._checked = time.monotonic()
        return graph

    def close(self) -> None:
        with self._lock:
            if self._graph is not None and hasattr(self._graph, "close"):
                self._graph.close()
            self._graph = None


class SparqlHandler(BaseHTTPRequestHandler):
    server_version = f"kg/{__version__}"
    protocol_version = "HTTP/1.1"

    # ------------------------------------------------------------ HTTP verbs
    def do_OPTIONS(self):  # CORS preflight
        self._send(HTTPStatus.NO_CONTENT, b"", None, {"Access-Control-Max-Age": "86400"})

    def do_GET(self):
        self._handle(lambda: self._params_from_url())

    def do_HEAD(self):
        self._handle(lambda: self._params_from_url(), head=True)

    def do_POST(self):
        self._handle(self._params_from_body)

    def do_PUT(self):
        self._refuse_method()

    do_DELETE = do_PATCH = do_PUT

    # ------------------------------------------------------------ plumbing
    def _refuse_method(self):
        self.close_connection = True  # the body (if any) is not read
        self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"this endpoint is read-only: GET or POST a SPARQL query\n",
                   "text/plain; charset=utf-8", {"Allow": "GET, POST, OPTIONS"})

    def _drain(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            raise HttpError(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, f"the request body is over {MAX_BODY} bytes")
        return self.rfile.read(length) if length > 0 else b""

    def _params_from_url(self) -> dict:
        return parse_qs(urlsplit(self.path).query, keep_blank_values=True)

    def _params_from_body(self) -> dict:
        body = self._drain()
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
        status = 500
        try:
            params = read_params()
            if urlsplit(self.path).path not in PATHS:
                raise HttpError(HTTPStatus.NOT_FOUND, "not found: the SPARQL endpoint is /sparql")
            status, body, ctype, extra = self._answer(params)
        except HttpError as exc:
            status, body, ctype, extra = exc.status, (exc.message + "\n").encode(), "text/plain; charset=utf-8", exc.headers
        except KgError as exc:
            status, body, ctype, extra = _status_of(exc), (exc.message + "\n").encode(), "text/plain; charset=utf-8", {}
        self._send(status, b"" if head else body, ctype, extra, length=len(body))
        if not self.server.config.quiet:
            ms = (time.monotonic() - started) * 1000
            sys.stderr.write(f"{self.command} {self.path[:80]} -> {int(status)} ({ms:.0f} ms)\n")

    def _answer(self, params: dict):
        if "update" in params:
            raise HttpError(HTTPStatus.FORBIDDEN, "refused: this endpoint is read-only (no SPARQL Update)")
        queries = params.get("query") or []
        if not queries:
            return (HTTPStatus.OK, self.server.description().encode(), "text/html; charset=utf-8", {})
        if len(queries) > 1:
            raise HttpError(HTTPStatus.BAD_REQUEST, "give exactly one query parameter")
        if params.get("default-graph-uri") or params.get("named-graph-uri"):
            raise HttpError(HTTPStatus.BAD_REQUEST,
                            "this endpoint serves one default graph; default-graph-uri and named-graph-uri are not supported")
        graph = self.server.graphs.get()
        result = graph.query(queries[0], None, self.server.config.limits)
        fmt = (params.get("format") or [""])[0].strip().lower()
        accept = FORMAT_ALIASES.get(fmt, fmt) if fmt else self.headers.get("Accept")
        if result.kind == "graph":
            media = negotiate(accept, list(GRAPH_TYPES), GRAPH_DEFAULT)
            offered = GRAPH_TYPES
        else:
            media = negotiate(accept, list(RESULT_TYPES), RESULTS_DEFAULT)
            offered = RESULT_TYPES
        if media is None:
            raise HttpError(HTTPStatus.NOT_ACCEPTABLE, f"cannot answer in {accept!r}; available: {', '.join(offered)}")
        extra = {"Vary": "Accept"}
        if result.truncated:
            extra["X-KG-Truncated"] = f"stopped at {self.server.config.limits.max_rows} rows"
        return HTTPStatus.OK, render(result, media), media + "; charset=utf-8", extra

    def _send(self, status, body: bytes, ctype: str | None, extra: dict | None = None, length: int | None = None):
        self.send_response(int(status))
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "GET, POST, OPTIONS")
        self.send_header("Access-Control-Allow-Headers", "Content-Type, Accept")
        self.send_header("Access-Control-Expose-Headers", "X-KG-Truncated")
        if ctype:
            self.send_header("Content-Type", ctype)
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body) if length is None else length))
        self.end_headers()
        if body:
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

    def __init__(self, config: ServeConfig, port: int = DEFAULT_PORT):
        self.config = config
        self.graphs = GraphHolder(config.location, config.workers)
        self.graphs.get()  # fail early (no graph, bad URL) before listening
        try:
            super().__init__((HOST, port), SparqlHandler)
        except OSError as exc:
            self.graphs.close()
            raise KgError(f"cannot listen on {HOST}:{port}: {exc.strerror or exc}",
                          hint="Pick another port with --port (0 picks a free one).") from None

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self.server_address[1]}/sparql"

    def description(self) -> str:
        limits = self.config.limits
        return (
            "<!doctype html><html><head><meta charset='utf-8'><title>kg SPARQL endpoint</title></head><body>"
            f"<h1>kg SPARQL endpoint</h1><p>Graph: {escape(self.config.location)}</p>"
            f"<p>Send SPARQL 1.1 queries to <code>{escape(self.url)}</code> with GET <code>?query=</code> or POST "
            "(form-encoded or <code>application/sparql-query</code>). Read-only: updates and SERVICE are refused; "
            f"at most {limits.max_rows} rows and {limits.timeout_s:g} s per query. CORS is enabled, so browser "
            "tools such as YASGUI can use this URL directly.</p></body></html>\n")

    def server_close(self) -> None:
        super().server_close()
        self.graphs.close()


def make_server(location: str, port: int = DEFAULT_PORT, limits: QueryLimits | None = None,
                workers: int = 2, quiet: bool = False) -> SparqlServer:
    """A server bound to 127.0.0.1:port (0: a free port) for the graph at `location`."""
    if not 0 <= port <= 65535:
        raise UsageError(f"--port must be between 0 and 65535, not {port}")
    if workers < 1:
        raise UsageError("--workers must be at least 1")
    return SparqlServer(ServeConfig(location, limits or QueryLimits(), workers, quiet), port)


def serve(location: str, port: int = DEFAULT_PORT, limits: QueryLimits | None = None, workers: int = 2,
          ready=None) -> None:
    """Run the endpoint until interrupted; `ready(url)` is called once it listens."""
    server = make_server(location, port, limits, workers)
    try:
        if ready:
            ready(server.url)
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
