"""A SPARQL 1.1 endpoint as the graph store (`--store URL`, `KG_STORE=URL`).

`RemoteGraph` has the interface of kg.store.LocalGraph (query, triple_count,
dump), so building, named queries, analyses, reports, exports and `kg serve`
run unchanged against Oxigraph server, Virtuoso, Fuseki or any SPARQL 1.1 engine.

Where the graph lives on the server: each `kg build` loads a complete graph
into a new named graph (a *generation*, .../graph/gen-...), checks it, and then
publishes it by moving one pointer triple in the named graph .../graph/meta:

    GRAPH <.../graph/meta> { <.../graph/current> dcterms:hasVersion <.../graph/gen-...> }

The move is a single SPARQL Update request (INSERT the new pointer, then
DELETE the old one), which Oxigraph runs as one transaction; on a server that
runs the two operations separately a reader may see both pointers for a moment
and takes the newest generation. Either way readers see the old graph or the
new one, never half a graph. kg reads the pointer when
it opens the store and sends every query with `default-graph-uri` set to that
generation. The previous generation is kept for readers still using it; older
ones are dropped. A failed or killed build never touches the pointer. Without a
pointer (an endpoint kg did not build) queries go to the endpoint's default
graph, so kg can read graphs loaded by other tools.

Endpoints: the URL is the query endpoint. The update endpoint and the Graph
Store Protocol endpoint are derived (`.../query` -> `.../update`, `.../store`
as Oxigraph server and Fuseki name them; `.../sparql` -> the same URL for
updates and `.../sparql-graph-crud` as Virtuoso names them) or set with
KG_STORE_UPDATE_URL and KG_STORE_GSP_URL. Data goes up through the Graph Store
Protocol when the server accepts it, else as SPARQL Update INSERT DATA in
chunks. KG_STORE_USER / KG_STORE_PASSWORD (KG_STORE_AUTH=basic|digest) log in.

Bound variables (`bindings`) are substituted as SPARQL terms, serialised and
escaped by `sparql_term` (kg.sparql.text), the way Oxigraph substitutes them
locally; values are never pasted into query text as strings.
"""

from __future__ import annotations

import math
import os
import re
import time
import uuid
from datetime import UTC, datetime
from urllib.parse import urlsplit, urlunsplit

import pyoxigraph as ox
import requests

from .. import __version__
from ..errors import KgError, QueryLimitExceeded, UsageError
from ..sparql.guard import (
    QueryLimits,
    byte_limit_note,
    check_query,
    query_form,
    time_limit_error,
)
from ..sparql.results import XSD, QueryResult, Term, term_from_ox, term_to_ox
from ..sparql.text import sparql_iri as _iri
from ..sparql.text import sparql_term, substitute, with_prefixes
from ..vocab import BASE, DCTERMS, PREFIXES
from .local import StoreDir
from .sandbox import QuerySandbox

GRAPH_BASE = BASE + "graph/"
CURRENT = GRAPH_BASE + "current"
META = GRAPH_BASE + "meta"
KEEP_GENERATIONS = 2  # the current graph and the previous one (readers may still use it)
STALE_BUILD_S = 6 * 3600  # unpublished generations older than this are left-overs of killed builds
TRUSTED_TIMEOUT_S = 600.0  # network timeout for kg's own queries and uploads
MAX_ANSWER_BYTES = 1 << 30
GSP_CHUNK = 100_000  # triples per Graph Store Protocol POST
UPDATE_CHUNK = 2_000  # triples per INSERT DATA request
_USER_AGENT = f"kg/{__version__} (SPARQL client)"

_RESULT_TYPES = {
    "application/sparql-results+json": ox.QueryResultsFormat.JSON,
    "application/json": ox.QueryResultsFormat.JSON,
    "application/sparql-results+xml": ox.QueryResultsFormat.XML,
    "application/xml": ox.QueryResultsFormat.XML,
    "text/tab-separated-values": ox.QueryResultsFormat.TSV,
    "text/csv": ox.QueryResultsFormat.CSV,
}
_GRAPH_TYPES = {
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
    "text/plain": ox.RdfFormat.N_TRIPLES,
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/rdf+xml": ox.RdfFormat.RDF_XML,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "application/ld+json": ox.RdfFormat.JSON_LD,
}
_SELECT_ACCEPT = "application/sparql-results+json, application/sparql-results+xml;q=0.8, text/tab-separated-values;q=0.5"
_GRAPH_ACCEPT = "application/n-triples, text/turtle;q=0.9, application/rdf+xml;q=0.5"


# ---------------------------------------------------------------- the endpoint
def _derive(url: str) -> tuple[str, list[str]]:
    """(update endpoint, Graph Store Protocol candidates) for a query endpoint URL."""
    parts = urlsplit(url)
    path = parts.path.rstrip("/")

    def at(new_path: str) -> str:
        return urlunsplit((parts.scheme, parts.netloc, new_path, "", ""))

    if path.endswith("/query"):
        base = path[: -len("/query")]
        return at(base + "/update"), [at(base + "/store"), at(base + "/data")]
    if path.endswith("/sparql"):
        base = path[: -len("/sparql")]
        return url, [at(base + "/sparql-graph-crud")]
    return url, []


class Endpoint:
    """HTTP access to one SPARQL service: queries, updates, Graph Store Protocol."""

    def __init__(self, url: str, session: requests.Session | None = None):
        self.url = url
        update, gsp = _derive(url)
        self.update_url = os.environ.get("KG_STORE_UPDATE_URL") or update
        explicit = os.environ.get("KG_STORE_GSP_URL")
        self.gsp_candidates = [explicit] if explicit else gsp
        self.gsp_url: str | None = None  # the candidate that accepted data
        self.session = session or requests.Session()
        self.session.headers["User-Agent"] = _USER_AGENT
        user = os.environ.get("KG_STORE_USER")
        if user:
            password = os.environ.get("KG_STORE_PASSWORD", "")
            scheme = os.environ.get("KG_STORE_AUTH", "basic").lower()
            if scheme not in ("basic", "digest"):
                raise UsageError(f"KG_STORE_AUTH must be basic or digest, not {scheme!r}")
            self.session.auth = (requests.auth.HTTPDigestAuth(user, password) if scheme == "digest"
                                 else requests.auth.HTTPBasicAuth(user, password))

    # ------------------------------------------------------------ plumbing
    def _send(self, method: str, url: str, *, timeout_s: float, **kwargs) -> requests.Response:
        read = None if timeout_s == math.inf else max(timeout_s, 0.001)
        try:
            return self.session.request(method, url, timeout=(10, read), stream=True, **kwargs)
        except requests.Timeout:
            raise time_limit_error(timeout_s) from None
        except requests.RequestException as exc:
            raise KgError(f"cannot reach the SPARQL endpoint {url}: {_short(exc)}",
                          hint="Check the URL and that the server is running.", url=url) from None

    @staticmethod
    def _body(resp: requests.Response, deadline: float, timeout_s: float, max_bytes: float = MAX_ANSWER_BYTES) -> bytes:
        chunks, size = [], 0
        cap = min(MAX_ANSWER_BYTES, max_bytes)
        try:
            for chunk in resp.iter_content(1 << 16):
                chunks.append(chunk)
                size += len(chunk)
                if size > cap:
                    raise QueryLimitExceeded(f"the endpoint's answer is larger than {cap / 2**20:g} MB "
                                             "(the answer size limit) and was not read; select fewer or "
                                             "shorter values, or add LIMIT")
                if time.monotonic() > deadline:
                    raise time_limit_error(timeout_s)
        except (requests.Timeout, requests.exceptions.ConnectionError) as exc:
            if time.monotonic() > deadline or "timed out" in str(exc).lower():
                raise time_limit_error(timeout_s) from None
            raise KgError(f"the SPARQL endpoint {resp.url} broke off its answer: {_short(exc)}") from None
        finally:
            resp.close()
        return b"".join(chunks)

    def _fail(self, resp: requests.Response, what: str) -> KgError:
        try:
            text = resp.content.decode("utf-8", "replace").strip()
        except requests.RequestException:
            text = ""
        detail = " ".join(text.split())[:600]
        return KgError(f"the SPARQL endpoint {resp.url.split('?')[0]} refused the {what}: HTTP {resp.status_code}"
                       + (f": {detail}" if detail else ""), url=resp.url, status=resp.status_code)

    # ------------------------------------------------------------ operations
    def query(self, text: str, form: str, *, default_graph: str | None, limits: QueryLimits) -> QueryResult:
        timeout_s = limits.timeout_s
        deadline = time.monotonic() + timeout_s
        data = {"query": text}
        if default_graph:
            data["default-graph-uri"] = default_graph
        accept = _GRAPH_ACCEPT if form in ("CONSTRUCT", "DESCRIBE") else _SELECT_ACCEPT
        resp = self._send("POST", self.url, data=data, headers={"Accept": accept}, timeout_s=timeout_s)
        if resp.status_code != 200:
            raise self._fail(resp, "query")
        # the serialised answer is larger than its values: allow it 4x the byte limit, then cut by values
        body = self._body(resp, deadline, timeout_s, limits.max_bytes * 4)
        ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
        try:
            if form in ("CONSTRUCT", "DESCRIBE"):
                return _graph_result(body, _GRAPH_TYPES.get(ctype, ox.RdfFormat.N_TRIPLES), limits)
            fmt = _RESULT_TYPES.get(ctype)
            if fmt is None:
                raise KgError(f"the SPARQL endpoint {self.url} answered in an unknown format {ctype!r}")
            return _solutions_result(ox.parse_query_results(body, format=fmt), limits)
        except SyntaxError as exc:
            raise KgError(f"the SPARQL endpoint {self.url} sent an answer that does not parse: {exc}") from None

    def update(self, text: str, timeout_s: float = TRUSTED_TIMEOUT_S) -> None:
        resp = self._send("POST", self.update_url, data={"update": text}, timeout_s=timeout_s)
        try:
            if resp.status_code not in (200, 201, 204):
                raise self._fail(resp, "update")
        finally:
            resp.close()

    def gsp_post(self, graph: str, data: bytes) -> bool:
        """POST N-Triples into `graph` through the Graph Store Protocol; False if no candidate accepts it."""
        candidates = [self.gsp_url] if self.gsp_url else self.gsp_candidates
        for url in candidates:
            resp = self._send("POST", url, params={"graph": graph}, data=data,
                              headers={"Content-Type": "application/n-triples"}, timeout_s=TRUSTED_TIMEOUT_S)
            try:
                if resp.status_code in (200, 201, 204):
                    self.gsp_url = url
                    return True
                if self.gsp_url or resp.status_code not in (401, 403, 404, 405, 406, 415, 501):
                    raise self._fail(resp, "upload")
            finally:
                resp.close()
        return False

    def gsp_get(self, graph: str) -> bytes | None:
        """The N-Triples of `graph` through the Graph Store Protocol, or None if unavailable."""
        for url in ([self.gsp_url] if self.gsp_url else self.gsp_candidates):
            resp = self._send("GET", url, params={"graph": graph}, headers={"Accept": "application/n-triples"},
                              timeout_s=TRUSTED_TIMEOUT_S)
            ctype = resp.headers.get("Content-Type", "").split(";")[0].strip().lower()
            if resp.status_code == 200 and _GRAPH_TYPES.get(ctype) == ox.RdfFormat.N_TRIPLES:
                return self._body(resp, time.monotonic() + TRUSTED_TIMEOUT_S, TRUSTED_TIMEOUT_S)
            resp.close()
        return None


def _short(exc: Exception) -> str:
    text = str(exc)
    m = re.search(r"\[Errno [^\]]*\] ([^'\")]*)", text)
    return m.group(1).strip() if m else text[:200]


def _solutions_result(answer, limits: QueryLimits) -> QueryResult:
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer))
    names = [v.value for v in answer.variables]
    result = QueryResult("select", vars=names)
    size = 0
    for solution in answer:
        if len(result.rows) >= limits.max_rows:
            result.truncated, result.note = True, f"stopped at {limits.max_rows} rows (the row limit)"
            break
        row = {n: term_from_ox(solution[n]) for n in names if solution[n] is not None}
        size += sum(len(t.value) + 8 for t in row.values())
        if size > limits.max_bytes:
            result.truncated, result.note = True, byte_limit_note(limits.max_bytes)
            break
        result.rows.append(row)
    return result


def _graph_result(body: bytes, fmt: ox.RdfFormat, limits: QueryLimits) -> QueryResult:
    result = QueryResult("graph")
    size = 0
    for triple in ox.parse(body, format=fmt):
        if len(result.triples) >= limits.max_rows:
            result.truncated, result.note = True, f"stopped at {limits.max_rows} rows (the row limit)"
            break
        row = (term_from_ox(triple.subject), term_from_ox(triple.predicate), term_from_ox(triple.object))
        size += sum(len(t.value) + 8 for t in row)
        if size > limits.max_bytes:
            result.truncated, result.note = True, byte_limit_note(limits.max_bytes)
            break
        result.triples.append(row)
    return result


# ---------------------------------------------------------------- the graph
_POINTER = f"SELECT ?g WHERE {{ GRAPH <{META}> {{ <{CURRENT}> <{DCTERMS}hasVersion> ?g }} }}"
_CURRENT_GENERATION = object()


class RemoteGraph:
    """A read-only view of the kg graph on a SPARQL endpoint (same interface as LocalGraph)."""

    def __init__(self, url: str, *, generation=_CURRENT_GENERATION, endpoint: Endpoint | None = None):
        self.endpoint = endpoint or Endpoint(url)
        self.url = url
        self.dir = StoreDir(url)
        self.generation: str | None = self.current_generation() if generation is _CURRENT_GENERATION else generation
        self._checker: QuerySandbox | None = None  # parses and inspects user queries in a worker

    @property
    def location(self) -> str:
        return self.url

    def current_generation(self) -> str | None:
        """The named graph the pointer designates now (None: the endpoint's default graph)."""
        result = self.endpoint.query(_POINTER, "SELECT", default_graph=None,
                                     limits=QueryLimits(max_rows=10, timeout_s=60))
        graphs = sorted(row["g"].value for row in result.rows if row.get("g") is not None)
        return graphs[-1] if graphs else None

    def is_stale(self) -> bool:
        """True when a newer build has been published since this view was opened."""
        return self.current_generation() != self.generation

    def query(self, sparql: str, bindings: dict | None = None, limits: QueryLimits | None = None,
              *, trusted: bool = False, client=None) -> QueryResult:
        """Run a query on the endpoint. User queries (trusted=False) pass the guard and limits:
        the token check here, then parsed and inspected in a network-less worker (within the
        time limit) before the endpoint sees them."""
        if trusted:
            limits = limits or QueryLimits.unbounded()
            form = query_form(sparql)
        else:
            limits = limits or QueryLimits()
            check_query(sparql)
            if self._checker is None:
                self._checker = QuerySandbox(None, 1, 4)
            started = time.monotonic()
            form = self._checker.check(sparql, limits, client=client)
            if limits.timeout_s != math.inf:  # the check's time counts against the query's limit
                left = max(limits.timeout_s - (time.monotonic() - started), 0.001)
                limits = QueryLimits(limits.max_rows, left, limits.max_memory_mb, limits.max_bytes)
        if limits.timeout_s == math.inf:
            limits = QueryLimits(limits.max_rows, TRUSTED_TIMEOUT_S, limits.max_memory_mb)
        text = with_prefixes(substitute(sparql, bindings), PREFIXES)
        return self.endpoint.query(text, form, default_graph=self.generation, limits=limits)

    def values(self, sparql: str) -> list[tuple[str | None, ...]]:
        """A trusted SELECT's rows as plain strings (each term's value; None when unbound), as
        LocalGraph.values gives them."""
        result = self.query(sparql, trusted=True)
        return [tuple(None if (t := row.get(v)) is None else t.value for v in result.vars) for row in result.rows]

    def triple_count(self) -> int:
        result = self.query("SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }", trusted=True)
        return int(result.rows[0]["n"].value) if result.rows else 0

    def dump(self, fmt: ox.RdfFormat) -> bytes:
        """The whole graph serialised in `fmt` (checked complete against triple_count)."""
        data = self.endpoint.gsp_get(self.generation) if self.generation else None
        if data is not None:
            triples = list(ox.parse(data, format=ox.RdfFormat.N_TRIPLES))
        else:
            result = self.query("CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }", trusted=True)
            triples = [ox.Triple(*(term_to_ox(t) for t in triple)) for triple in result.triples]
        expected = self.triple_count()
        if len(triples) < expected:
            raise KgError(f"the endpoint {self.url} sent {len(triples)} of {expected} triples; "
                          "raise its result size limit (Virtuoso: ResultSetMaxRows in [SPARQL])")
        return ox.serialize(triples, format=fmt)

    def close(self) -> None:
        self.endpoint.session.close()
        if self._checker is not None:
            self._checker.close()




# ---------------------------------------------------------------- building on a server
def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _literal(text: str, datatype: str | None = None) -> str:
    return sparql_term(Term("literal", text, datatype))


def upload(endpoint: Endpoint, graph: str, quads: list) -> None:
    """Put `quads` (default graph) into the named graph `graph`: GSP when possible, else INSERT DATA.

    Blank-node labels only hold within one request, so every triple with a blank node travels
    in the first request (kg's own graph has none; imported ontologies may)."""
    triples = [q.triple if isinstance(q, ox.Quad) else q for q in quads]
    blank = [t for t in triples if isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode)]
    if blank:
        triples = blank + [t for t in triples if not (isinstance(t.subject, ox.BlankNode)
                                                      or isinstance(t.object, ox.BlankNode))]

    def chunks(size: int):
        first = max(size, len(blank))
        yield triples[:first]
        for i in range(first, len(triples), size):
            yield triples[i:i + size]

    if endpoint.gsp_candidates or endpoint.gsp_url:
        parts = chunks(GSP_CHUNK)
        if endpoint.gsp_post(graph, ox.serialize(next(parts), format=ox.RdfFormat.N_TRIPLES)):
            for part in parts:
                endpoint.gsp_post(graph, ox.serialize(part, format=ox.RdfFormat.N_TRIPLES))
            return
    for part in chunks(UPDATE_CHUNK):
        body = ox.serialize(part, format=ox.RdfFormat.N_TRIPLES).decode("utf-8")
        endpoint.update(f"INSERT DATA {{ GRAPH {_iri(graph)} {{\n{body}}} }}")


def publish(url: str, quads: list, meta: dict, check=None) -> tuple[str, int, object]:
    """Load a complete graph into a new generation on the server, check it, then swap the pointer.

    The server must hold every triple sent; then `check(graph)`, when given, reads the new
    generation before it is published (the caller's own checks, e.g. its counts). Returns
    (generation IRI, triples stored, what `check` returned). On any failure the new
    generation is dropped and the published graph stays as it was.
    """
    endpoint = Endpoint(url)
    # names sort in creation order (microseconds), so readers can pick the newest pointer
    gen = f"{GRAPH_BASE}gen-{datetime.now(UTC).strftime('%Y%m%dT%H%M%S%f')}-{uuid.uuid4().hex[:6]}"
    g, m = _iri(gen), _iri(META)
    endpoint.update(
        f"INSERT DATA {{ GRAPH {m} {{ {g} <{DCTERMS}isVersionOf> {_iri(CURRENT)} ; "
        f"<{DCTERMS}created> {_literal(_now(), XSD + 'dateTime')} ; "
        f"<{DCTERMS}description> {_literal(_describe(meta))} . }} }}")
    try:
        upload(endpoint, gen, quads)
        graph = RemoteGraph(url, generation=gen, endpoint=endpoint)
        stored = graph.triple_count()
        expected = len({q.triple if isinstance(q, ox.Quad) else q for q in quads})
        if stored != expected:
            raise KgError(f"the endpoint {url} stored {stored} of {expected} triples; the previous graph stays published")
        checked = check(graph) if check is not None else None
        # One request: the new pointer goes in before the old one goes out, so a reader sees
        # at least one pointer at every instant (two for a moment on servers that do not run a
        # request as one transaction; readers then take the newest generation).
        endpoint.update(
            f"INSERT DATA {{ GRAPH {m} {{ {_iri(CURRENT)} <{DCTERMS}hasVersion> {g} . "
            f"{g} <{DCTERMS}issued> {_literal(_now(), XSD + 'dateTime')} }} }} ;\n"
            f"DELETE {{ GRAPH {m} {{ {_iri(CURRENT)} <{DCTERMS}hasVersion> ?old }} }} "
            f"WHERE {{ GRAPH {m} {{ {_iri(CURRENT)} <{DCTERMS}hasVersion> ?old }} FILTER(?old != {g}) }}")
    except BaseException:
        _drop(endpoint, gen)
        raise
    prune(endpoint, keep=gen)
    return gen, stored, checked


def _age_s(stamp: str) -> float:
    """Seconds since an xsd:dateTime as the server writes it back (unreadable: treated as new)."""
    try:
        when = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return 0.0
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return (datetime.now(UTC) - when).total_seconds()


def _describe(meta: dict) -> str:
    return "; ".join(f"{k}={v}" for k, v in meta.items())


def _drop(endpoint: Endpoint, gen: str) -> None:
    """Remove a generation and its bookkeeping (best effort: a server that is down keeps it)."""
    try:
        endpoint.update(f"DROP SILENT GRAPH {_iri(gen)}")
        endpoint.update(f"DELETE WHERE {{ GRAPH {_iri(META)} {{ {_iri(gen)} ?p ?o }} }}")
    except KgError:
        pass


def generations(endpoint: Endpoint) -> list[dict]:
    """Every generation the meta graph knows: iri, created, issued (None until published)."""
    result = endpoint.query(
        f"SELECT ?g ?created ?issued WHERE {{ GRAPH <{META}> {{ ?g <{DCTERMS}isVersionOf> <{CURRENT}> ; "
        f"<{DCTERMS}created> ?created . OPTIONAL {{ ?g <{DCTERMS}issued> ?issued }} }} }}",
        "SELECT", default_graph=None, limits=QueryLimits(max_rows=10_000, timeout_s=TRUSTED_TIMEOUT_S))
    return [{"iri": r["g"].value, "created": r["created"].value,
             "issued": r["issued"].value if r.get("issued") else None} for r in result.rows]


def prune(endpoint: Endpoint, keep: str) -> list[str]:
    """Drop published generations beyond the newest KEEP_GENERATIONS and stale unfinished ones."""
    gens = generations(endpoint)
    published = sorted((g for g in gens if g["issued"]), key=lambda g: (-_age_s(g["issued"]), g["iri"]),
                       reverse=True)
    keep_set = {keep} | {g["iri"] for g in published[:KEEP_GENERATIONS]}
    dropped = []
    for g in gens:
        if g["iri"] in keep_set:
            continue
        if g["issued"] or _age_s(g["created"]) > STALE_BUILD_S:
            _drop(endpoint, g["iri"])
            dropped.append(g["iri"])
    return dropped
