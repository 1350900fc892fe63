"""Killable query workers: where user SPARQL is checked and evaluated, inside every limit.

`QuerySandbox` runs each user query in a child process that
- cannot reach the network (kg.store.netwall: raised before anything else runs);
- holds its own read-only view of one store generation (or an in-memory copy
  of a small graph, or nothing at all for checks only);
- parses the query and walks its parse tree (kg.sparql.guard.inspect_query) before
  evaluating it, so the check runs inside the same time and memory limits;
- stops reading answers at the row limit and at the byte limit;
- is killed at the deadline or when it grows past the memory cap (a cartesian
  product with ORDER BY blocks inside the engine before its first row) and is
  replaced on the next query.

Fair share (kg serve): up to `max_running` queries run at once, each in its own
worker. A query that has run longer than `DEMOTE_AFTER_S` is lowered to the
weakest CPU priority, so a cheap query that arrives while other clients loop
slow ones is answered at once. When every slot is taken, the next slot goes
to the waiting client with the fewest queries running (then the earliest).
"""

from __future__ import annotations

import math
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from multiprocessing.connection import Connection
from pathlib import Path

from ..errors import KgError, QueryLimitExceeded, QueryRefused, QuerySyntaxError
from ..sparql.guard import (
    QueryLimits,
    byte_limit_note,
    check_prefixes,
    inspect_query,
    parse_error,
    query_form,
    time_limit_error,
)
from ..sparql.results import QueryResult, term_from_ox

DEMOTE_AFTER_S = 0.5  # a query running longer than this yields the CPU to newer ones
_ZYGOTE_BOOT = "from kg.store.sandbox import _zygote_main; _zygote_main()"
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


# ---------------------------------------------------------------- reading answers
def collect(answer, limits: QueryLimits) -> QueryResult:
    """An engine answer as a QueryResult, cut at the row limit and at the byte limit."""
    import pyoxigraph as ox

    clock = limits.start()
    if isinstance(answer, ox.QueryBoolean):
        return QueryResult("ask", boolean=bool(answer))
    max_rows, max_bytes = limits.max_rows, limits.max_bytes
    timed = limits.timeout_s != math.inf
    size = 0
    if isinstance(answer, ox.QueryTriples):
        result = QueryResult("graph")
        for triple in answer:
            if timed:
                clock.tick(len(result.triples))
            if len(result.triples) >= max_rows:
                return _cut(result, f"stopped at {max_rows} rows (the row limit)")
            row = (term_from_ox(triple.subject), term_from_ox(triple.predicate), term_from_ox(triple.object))
            size += sum(len(t.value) + 8 for t in row)
            if size > max_bytes:
                return _cut(result, byte_limit_note(max_bytes))
            result.triples.append(row)
        return result
    names = [v.value for v in answer.variables]
    result = QueryResult("select", vars=names)
    rows = result.rows
    terms: dict = {}  # one Term per distinct engine term: answers repeat IRIs a lot (2x faster at 100k rows)
    for solution in answer:
        if timed:
            clock.tick(len(rows))
        if len(rows) >= max_rows:
            return _cut(result, f"stopped at {max_rows} rows (the row limit)")
        row = {}
        for name, value in zip(names, solution):
            if value is not None:
                term = terms.get(value)
                if term is None:
                    term = terms[value] = term_from_ox(value)
                    size += len(term.value) + len(term.datatype or "") + 8
                row[name] = term
        size += 8 * len(row)
        if size > max_bytes:
            return _cut(result, byte_limit_note(max_bytes))
        rows.append(row)
    return result


def _cut(result: QueryResult, note: str) -> QueryResult:
    result.truncated = True
    result.note = note
    return result


# ---------------------------------------------------------------- one worker
class _Zygote:
    """A pre-loaded process that forks query workers in milliseconds.

    Importing the engine and the query parser takes about a second; a worker
    forked from this process starts at once, already cut off the network (the
    zygote raised the wall before loading anything, and children inherit it).
    It has no threads, so forking it is safe; it exits when its parent does."""

    def __init__(self):
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE_BOOT, str(child.fileno())],
            pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        child.close()
        self.sock = parent
        self.conn = Connection(os.dup(parent.fileno()))
        self.lock = threading.Lock()
        reply = self.conn.recv() if self.conn.poll(120) else ("error", "it did not start within 120 s", None)
        if reply[0] != "ready":
            self.kill()
            raise KgError(f"cannot start the query workers: {reply[1]}", hint=reply[2])
        self.wall = reply[1]

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def fork(self) -> tuple[int, socket.socket]:
        """A new worker: its pid and the socket to talk to it."""
        from multiprocessing.reduction import send_handle

        ours, theirs = socket.socketpair()
        try:
            with self.lock:
                send_handle(self.conn, theirs.fileno(), self.proc.pid)
                if not self.conn.poll(30):
                    raise KgError("the query worker factory did not answer")
                pid = self.conn.recv()
        except (EOFError, OSError) as exc:
            ours.close()
            raise KgError(f"the query worker factory stopped: {exc}") from None
        finally:
            theirs.close()
        return pid, ours

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for closer in (self.conn.close, self.sock.close, *( [self.proc.stderr.close] if self.proc.stderr else [])):
            try:
                closer()
            except OSError:
                pass


class _Worker:
    """One forked process with a read-only view of one store generation (or none)."""

    def __init__(self, zygote: _Zygote, source):
        self.pid, self.sock = zygote.fork()
        self.conn = Connection(os.dup(self.sock.fileno()))
        self.demoted = False
        self.dead = False
        self.wall = zygote.wall
        self.conn.send(source)
        if not self.conn.poll(60):
            self.kill()
            raise KgError("cannot start a query worker: it did not answer within 60 s")
        reply = self._recv()
        if reply[0] != "ready":
            self.kill()
            raise KgError(f"cannot start a query worker: {reply[1]}", hint=reply[2] if len(reply) > 2 else None)

    def _recv(self):
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.dead = True
            raise KgError("the query worker stopped unexpectedly") from None

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return 0.0

    def _renice(self, value: int) -> bool:
        """Set the CPU priority of every thread of the worker (Linux nice is per thread)."""
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{self.pid}/task")]
        except OSError:
            tids = [self.pid]
        try:
            for tid in tids:
                os.setpriority(os.PRIO_PROCESS, tid, value)
        except (PermissionError, ProcessLookupError):
            return False
        return True

    def run(self, request: tuple, limits: QueryLimits, budget_s: float):
        """Send one request and wait for its answer at most `budget_s` (the limit is reported)."""
        self.conn.send(request)
        started = time.monotonic()
        deadline = started + budget_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    raise time_limit_error(limits.timeout_s)
                if self.conn.poll(min(remaining, 0.05)):
                    return self._recv()
                if not self._exists():
                    return self._recv()
                if not self.demoted and time.monotonic() - started > DEMOTE_AFTER_S:
                    self.demoted = self._renice(19)
                if limits.max_memory_mb != math.inf and self.rss_mb() > limits.max_memory_mb:
                    self.kill()
                    raise QueryLimitExceeded(
                        f"the query needed more than {limits.max_memory_mb:g} MB of memory and was stopped; "
                        "narrow it or add LIMIT")
        except BaseException:
            if self.alive:  # interrupted (Ctrl-C) while the engine works: the answer is lost anyway
                self.kill()
            raise

    def promote(self) -> bool:
        """Back to normal priority after a long query; False if the system does not allow it."""
        if not self.demoted:
            return True
        if self._renice(0):
            self.demoted = False
            return True
        return False

    def _exists(self) -> bool:
        """The process is there and not a zombie (the zygote reaps its children at once)."""
        try:
            with open(f"/proc/{self.pid}/stat") as fh:
                return fh.read().rsplit(")", 1)[-1].split()[0] not in ("Z", "X")
        except (OSError, IndexError):
            return False

    @property
    def alive(self) -> bool:
        return not self.dead and not self.sock._closed and self._exists()

    def kill(self) -> None:
        if not self.dead:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
            self.dead = True
        for closer in (self.conn.close, self.sock.close):
            try:
                closer()
            except OSError:
                pass


def _kill_all(workers: list, zygotes: list) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()
    for zygote in zygotes:
        zygote.kill()
    zygotes.clear()


# ---------------------------------------------------------------- the pool
class QuerySandbox:
    """Runs user queries in killable, network-less worker processes.

    `source` is a store generation folder, ("memory", N-Quads bytes) for a small
    graph held in memory, or None for a sandbox that only checks queries (for
    remote stores). `size` workers are kept warm; up to `max_running` queries
    run at once (one worker each), shared fairly between clients.
    """

    def __init__(self, source, size: int = 1, max_running: int | None = None):
        self.source = ("store", str(source)) if isinstance(source, (str, Path)) else source or ("empty",)
        self.size = max(1, int(size))
        self.max_running = max(self.size, int(max_running or self.size))
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._turns = threading.Condition(self._lock)
        self._running: dict = {}  # client -> queries running
        self._waiting: list = []  # (client, ticket) in arrival order
        self._starting = 0
        self._zygotes: list[_Zygote] = []  # the one factory of this sandbox's workers (replaced if it dies)
        self._finalizer = weakref.finalize(self, _kill_all, self._all, self._zygotes)

    # ------------------------------------------------------------ public
    def run(self, sparql: str, bindings: dict, limits: QueryLimits, client=None) -> QueryResult:
        """The QueryResult of `sparql`; raises QueryRefused, QuerySyntaxError or QueryLimitExceeded."""
        reply = self._request(("run", sparql, bindings, limits.max_rows, limits.max_bytes), limits, client)
        if reply[0] == "ok":
            return reply[1]
        raise _error(reply)

    def check(self, sparql: str, limits: QueryLimits, client=None) -> str:
        """Parse and inspect `sparql` in a worker (nothing evaluated against data); its query form."""
        reply = self._request(("check", sparql), limits, client)
        if reply[0] == "checked":
            return reply[1]
        raise _error(reply)

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [w.pid for w in self._all if w.alive]

    def close(self) -> None:
        self._finalizer()

    # ------------------------------------------------------------ scheduling
    def _request(self, request: tuple, limits: QueryLimits, client) -> tuple:
        waited = time.monotonic()
        deadline = math.inf if limits.timeout_s == math.inf else waited + limits.timeout_s
        self._acquire(client, deadline)
        try:
            # waiting for a slot counts against the time limit; starting a worker does not
            left = math.inf if deadline == math.inf else deadline - time.monotonic()
            worker = self._take()
            try:
                reply = worker.run(request, limits, max(left, 0.001))
            except BaseException:
                self._drop(worker)
                raise
            self._give_back(worker)
        finally:
            self._release(client)
        return reply

    def _acquire(self, client, deadline: float) -> None:
        ticket = object()
        with self._turns:
            self._waiting.append((client, ticket))
            try:
                while not (sum(self._running.values()) < self.max_running and self._next_turn() is ticket):
                    remaining = deadline - time.monotonic()
                    if remaining <= 0:
                        raise QueryLimitExceeded(
                            "every query worker stayed busy for the whole time limit; try again")
                    self._turns.wait(min(remaining, 0.5))
            finally:
                self._waiting.remove((client, ticket))
            self._running[client] = self._running.get(client, 0) + 1
            self._turns.notify_all()

    def _next_turn(self):
        order = {id(t): i for i, (_, t) in enumerate(self._waiting)}
        client, ticket = min(self._waiting, key=lambda ct: (self._running.get(ct[0], 0), order[id(ct[1])]))
        return ticket

    def _release(self, client) -> None:
        with self._turns:
            self._running[client] -= 1
            if not self._running[client]:
                del self._running[client]
            self._turns.notify_all()

    # ------------------------------------------------------------ workers
    def warm(self) -> None:
        """Start `size` workers in the background, so the first queries do not wait for them."""
        with self._lock:
            missing = self.size - len(self._all) - self._starting
        for _ in range(max(missing, 0)):
            self._start_spare()

    def _take(self) -> _Worker:
        with self._lock:
            worker = None
            while self._idle:
                candidate = self._idle.pop()
                if candidate.alive:
                    worker = candidate
                    break
                self._all.remove(candidate)
            # keep one started worker in hand while slots are free: the next client should not
            # wait for a process to start (a worker takes about a second to import its parser)
            spare = (self.max_running > 1 and not self._idle and not self._starting
                     and len(self._all) + (worker is None) + 1 <= self.max_running)
        if spare:
            self._start_spare()
        return worker or self._new_worker()

    def _zygote(self) -> _Zygote:
        with self._lock:
            if self._zygotes and self._zygotes[0].alive:
                return self._zygotes[0]
            for old in self._zygotes:
                old.kill()
            self._zygotes[:] = [_Zygote()]
            return self._zygotes[0]

    def _new_worker(self) -> _Worker:
        worker = _Worker(self._zygote(), self.source)
        with self._lock:
            self._all.append(worker)
        return worker

    def _start_spare(self) -> None:
        with self._lock:
            self._starting += 1

        def start():
            try:
                worker = self._new_worker()
                self._give_back(worker)
            except KgError:
                pass
            finally:
                with self._lock:
                    self._starting -= 1

        threading.Thread(target=start, name="kg-spare-worker", daemon=True).start()

    def _give_back(self, worker: _Worker) -> None:
        if not worker.promote():
            self._drop(worker)  # cannot be raised back to normal priority here: retire it
            return
        with self._lock:
            if len(self._idle) >= self.size and self.max_running > self.size:
                keep = False
            else:
                keep = True
                self._idle.append(worker)
        if not keep:
            self._drop(worker)

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)
            spare = self.max_running > 1 and not self._idle and not self._starting
        if spare:  # a worker killed at a limit is replaced before anyone needs it
            self._start_spare()


def _error(reply: tuple) -> KgError:
    kind = reply[0]
    if kind == "syntax":
        message, line, column = reply[1:]
        return QuerySyntaxError(message, line, column)
    if kind == "refused":
        return QueryRefused(reply[1])
    if kind == "kg":
        return KgError(reply[1], hint=reply[2])
    return KgError(f"query failed: {reply[1]}")


# ---------------------------------------------------------------- inside the worker
def _watch_parent() -> None:
    """Never outlive the caller, even while the engine is busy: a watchdog thread exits the worker
    when its parent process is gone (the engine releases the GIL, so the thread runs).
    (PR_SET_PDEATHSIG would fire when the parent's *thread* ends, e.g. a server request thread.)"""
    parent = os.getppid()

    def watch():
        while True:
            if os.getppid() != parent:
                os._exit(0)
            time.sleep(0.5)

    threading.Thread(target=watch, name="kg-parent-watch", daemon=True).start()


def _open(source):
    import pyoxigraph as ox

    kind = source[0]
    if kind == "store":
        return ox.Store.read_only(source[1])
    store = ox.Store()
    if kind == "memory":
        store.bulk_load(source[1], format=ox.RdfFormat.N_QUADS)
    return store


def _evaluate(store, sparql: str, bindings: dict, limits: QueryLimits) -> QueryResult:
    import pyoxigraph as ox

    from ..sparql.results import term_to_ox
    from ..vocab import PREFIXES

    subs = {ox.Variable(k): term_to_ox(v) for k, v in (bindings or {}).items()}
    try:
        answer = store.query(sparql, prefixes=PREFIXES, substitutions=subs or None)
        return collect(answer, limits)  # answers are read lazily: damaged files show up here too
    except SyntaxError as exc:
        raise parse_error(str(exc), sparql) from None
    except (OSError, RuntimeError) as exc:
        detail = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]
        if "Corruption" in detail or "IO error" in detail or isinstance(exc, OSError):
            raise KgError(f"the graph cannot be read: its files are damaged ({detail})",
                          hint="Rebuild it with `kg build`: that publishes a fresh generation from the "
                               "records and curation.yaml, which are untouched.") from None
        raise KgError(f"query failed: {detail}") from None


def _serve_one(store, request: tuple) -> tuple:
    if request[0] == "check":
        sparql = request[1]
        form = inspect_query(sparql)
        check_prefixes(sparql)
        if form is None:  # rdflib cannot read it: the engine's parser decides (on an empty store)
            import pyoxigraph as ox

            _evaluate(ox.Store(), sparql, {}, QueryLimits(1, math.inf, math.inf, 0))
            form = query_form(sparql)
        return ("checked", form)
    _, sparql, bindings, max_rows, max_bytes = request
    inspect_query(sparql)
    return ("ok", _evaluate(store, sparql, bindings, QueryLimits(max_rows, math.inf, math.inf, max_bytes)))


def _zygote_main() -> None:
    """Entry point of the worker factory: cut the network, load everything, fork workers on request."""
    from multiprocessing.reduction import recv_handle

    from .netwall import deny_network

    wall = deny_network()  # first, before any thread exists: every later thread and child inherits it
    conn = Connection(int(sys.argv[1]))
    if wall is None and os.environ.get("KG_ALLOW_NETWORKED_WORKERS") != "1":
        conn.send(("error", "this system cannot cut the query workers off the network "
                   "(no seccomp filter, no network namespace)",
                   "Run kg on Linux (x86_64 or aarch64), or set KG_ALLOW_NETWORKED_WORKERS=1 to rely on "
                   "the query checks alone."))
        return
    import pyoxigraph  # noqa: F401 - loaded once here, shared by every forked worker

    from .. import vocab  # noqa: F401
    from ..sparql import results  # noqa: F401  (loaded once here, shared by every forked worker)
    from ..sparql.guard import inspect_query

    inspect_query("SELECT * WHERE { ?s ?p ?o FILTER EXISTS { ?s ?p 'x' } } ORDER BY ?s")  # warms the parser

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped by the system
    parent = os.getppid()
    conn.send(("ready", wall))
    while True:
        if not conn.poll(0.5):
            if os.getppid() != parent:
                os._exit(0)
            continue
        try:
            fd = recv_handle(conn)
        except (EOFError, OSError):
            os._exit(0)
        pid = os.fork()
        if pid == 0:
            conn.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            try:
                _worker_loop(Connection(fd))
            finally:
                os._exit(0)
        os.close(fd)
        try:
            conn.send(pid)
        except (OSError, ValueError):
            os._exit(0)


def _worker_loop(conn: Connection) -> None:
    """One forked worker: open the source, serve requests until EOF."""
    _watch_parent()
    source = conn.recv()
    try:
        store = _open(source)
    except (OSError, RuntimeError, ValueError, SyntaxError) as exc:
        conn.send(("error", f"cannot open the graph {source[1] if source[0] == 'store' else ''}: {exc}",
                   "Rebuild it with `kg build`."))
        return
    conn.send(("ready",))
    while True:
        try:
            request = conn.recv()
        except (EOFError, OSError):
            return
        try:
            reply = _serve_one(store, request)
        except QuerySyntaxError as exc:
            reply = ("syntax", exc.message.split(": ", 1)[-1] if exc.line is not None
                     else exc.message.removeprefix("SPARQL syntax error at "), exc.line, exc.column)
        except QueryRefused as exc:
            reply = ("refused", exc.message)
        except KgError as exc:
            reply = ("kg", exc.message, exc.hint)
        except Exception as exc:  # an engine failure must reach the caller as a message, not kill the worker
            reply = ("other", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
