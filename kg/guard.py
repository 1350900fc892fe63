"""The one guard for every place that takes a user's SPARQL (CLI, app, server).

Every user query passes `check_query` before it reaches an engine:

- read-only: updates (INSERT, DELETE, LOAD, CLEAR, DROP, CREATE, ADD, MOVE,
  COPY, WITH) are refused wherever they hide (after comments, prefixes, inside
  sub-queries), while the same words inside strings, IRIs, prefixed names,
  variables and comments are left alone;
- local: SERVICE (an outbound request from our process) is refused, nested or
  not; codepoint escapes (\\u0053ERVICE) outside strings and IRIs are refused
  because some engines decode them before parsing;
- a query: the text must parse as a SPARQL 1.1 query (Oxigraph's parser, which
  has no update grammar at all), so remote engines never see anything else.

Limits (`QueryLimits`): a row cap, a wall-clock time limit and a memory cap.
The time limit is real: `QuerySandbox` runs queries in a child process holding
its own read-only view of the store, and kills it at the deadline (or when it
grows past the memory cap), so a cartesian product with ORDER BY or COUNT,
which blocks inside the engine before producing its first row, is stopped on
time. A killed worker is replaced on the next query.
"""

from __future__ import annotations

import math
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import weakref
from dataclasses import dataclass
from multiprocessing.connection import Connection
from pathlib import Path

from .errors import KgError, QueryLimitExceeded, QueryRefused, QuerySyntaxError

UPDATE_KEYWORDS = {"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"}
REMOTE_KEYWORDS = {"SERVICE"}
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")

# A bare word: not part of a variable (?x $x), prefixed name (ex:insert, insert:x),
# blank node label (_:x), language tag (@en) or a longer name.
_WORD = re.compile(r"(?<![?$:_@\w\-.])([A-Za-z]+)(?![\w:\-])")
_POS = re.compile(r"error at (\d+):(\d+):\s*(.*)", re.S)
_IRI = re.compile(r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>")
_CODEPOINT = re.compile(r"\\[uU]")


def strip_sparql(text: str) -> str:
    """The query with comments, string literals and IRIs blanked out (same length, same lines)."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, min(b, n)):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if c == "#":
            end = text.find("\n", i)
            end = n if end < 0 else end
            blank(i, end)
            i = end
        elif c in "'\"":
            quote = text[i:i + 3] if text[i:i + 3] in ("'''", '"""') else c
            j = i + len(quote)
            while j < n and not text.startswith(quote, j):
                j += 2 if text[j] == "\\" else 1
            blank(i, j + len(quote))
            i = j + len(quote)
        elif c == "<":
            m = _IRI.match(text, i)
            if m:
                blank(i, m.end())
                i = m.end()
            else:
                i += 1
        else:
            i += 1
    return "".join(out)


def keywords(text: str) -> list[tuple[str, int]]:
    """Bare words of a stripped query, upper-cased, with their offsets."""
    return [(m.group(1).upper(), m.start(1)) for m in _WORD.finditer(text)]


def query_form(text: str) -> str:
    """SELECT, ASK, CONSTRUCT or DESCRIBE: the form of a (checked) query."""
    for word, _ in keywords(strip_sparql(text)):
        if word in QUERY_FORMS:
            return word
    raise QueryRefused("not a query: expected SELECT, ASK, CONSTRUCT or DESCRIBE")


def check_query(text: str, *, parse: bool = True) -> str:
    """Raise QueryRefused for anything but a read-only, local query; return its form.

    With parse=True the text must also parse as a SPARQL query (QuerySyntaxError
    with line and column otherwise), using the predeclared kg prefixes.
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryRefused("empty query")
    if "\x00" in text:
        raise QueryRefused("refused: the query contains a NUL character")
    stripped = strip_sparql(text)
    if _CODEPOINT.search(stripped):
        raise QueryRefused("refused: \\u/\\U codepoint escapes are only accepted inside strings and IRIs "
                           "(outside them some engines decode them into keywords)")
    words = {w for w, _ in keywords(stripped)}
    updates = sorted(words & UPDATE_KEYWORDS)
    if updates:
        raise QueryRefused(
            f"refused: {', '.join(updates)} would change the graph; queries here are read-only "
            "(SELECT, ASK, CONSTRUCT, DESCRIBE)")
    if words & REMOTE_KEYWORDS:
        raise QueryRefused("refused: SERVICE would make this process call another server; federated queries are off")
    form = query_form(text)
    if parse:
        parse_check(text)
    return form


_PARSER = None


def parse_check(text: str) -> None:
    """Parse `text` as a SPARQL 1.1 query (against an empty store: nothing is evaluated that matters)."""
    global _PARSER
    import pyoxigraph as ox

    from .vocab import PREFIXES

    if _PARSER is None:
        _PARSER = ox.Store()
    try:
        _PARSER.query(text, prefixes=PREFIXES)
    except SyntaxError as exc:
        raise parse_error(str(exc)) from None


def parse_error(message: str) -> QuerySyntaxError:
    """Turn an engine's parse message into an error with line and column."""
    m = _POS.search(message)
    if m:
        return QuerySyntaxError(m.group(3).strip(), int(m.group(1)), int(m.group(2)))
    return QuerySyntaxError(message.strip())


@dataclass
class QueryLimits:
    max_rows: int = 10_000
    timeout_s: float = 30.0
    max_memory_mb: float = 2048.0  # resident memory of the query worker

    @classmethod
    def unbounded(cls) -> "QueryLimits":
        return cls(max_rows=10**12, timeout_s=math.inf, max_memory_mb=math.inf)

    def start(self) -> "_Clock":
        return _Clock(self.timeout_s)


class _Clock:
    """Checks the deadline between result rows (the sandbox enforces it inside the engine too)."""

    def __init__(self, timeout_s: float):
        self.deadline = time.monotonic() + timeout_s
        self.timeout_s = timeout_s

    def tick(self, done: int) -> None:
        if done % 256 == 0 and time.monotonic() > self.deadline:
            raise time_limit_error(self.timeout_s)


def time_limit_error(timeout_s: float) -> QueryLimitExceeded:
    return QueryLimitExceeded(f"the query ran past the {timeout_s:g} s time limit and was stopped; "
                              "narrow it or add LIMIT")


# ---------------------------------------------------------------- the sandbox
_WORKER_BOOT = "from kg.guard import _worker_main; _worker_main()"
_PACKAGE_ROOT = str(Path(__file__).resolve().parent.parent)


class _Worker:
    """One child process with a read-only view of one store generation."""

    def __init__(self, generation: str):
        parent, child = socket.socketpair()
        env = dict(os.environ)
        env["PYTHONPATH"] = _PACKAGE_ROOT + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER_BOOT, str(child.fileno())],
            pass_fds=[child.fileno()], env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        child.close()
        self.sock = parent
        self.conn = Connection(os.dup(parent.fileno()))
        self.conn.send(generation)
        if not self.conn.poll(60) or self._recv() != ("ready",):
            self.kill()
            raise KgError(f"cannot start a query worker for {generation}")

    def _recv(self):
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            err = b""
            if self.proc.poll() is not None and self.proc.stderr:
                err = self.proc.stderr.read()[-2000:]
            raise KgError("the query worker stopped unexpectedly" + (f": {err.decode(errors='replace')}" if err else "")) from None

    def rss_mb(self) -> float:
        try:
            with open(f"/proc/{self.proc.pid}/statm") as fh:
                return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
        except (OSError, ValueError, IndexError):
            return 0.0

    def run(self, request: tuple, limits: QueryLimits, budget_s: float):
        """Send one request and wait for its answer at most `budget_s` (the limit is reported)."""
        self.conn.send(request)
        deadline = time.monotonic() + budget_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    self.kill()
                    raise time_limit_error(limits.timeout_s)
                if self.conn.poll(min(remaining, 0.05)):
                    return self._recv()
                if self.proc.poll() is not None:
                    return self._recv()
                if limits.max_memory_mb != math.inf and self.rss_mb() > limits.max_memory_mb:
                    self.kill()
                    raise QueryLimitExceeded(
                        f"the query needed more than {limits.max_memory_mb:g} MB of memory and was stopped; "
                        "narrow it or add LIMIT")
        except BaseException:
            if self.alive:  # interrupted (Ctrl-C) while the engine works: the answer is lost anyway
                self.kill()
            raise

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None and not self.sock._closed

    def kill(self) -> None:
        if self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except OSError:
                self.proc.kill()
            self.proc.wait()
        for closer in (self.conn.close, self.sock.close):
            try:
                closer()
            except OSError:
                pass
        if self.proc.stderr:
            self.proc.stderr.close()


def _kill_all(workers: list) -> None:
    for worker in list(workers):
        worker.kill()
    workers.clear()


class QuerySandbox:
    """Runs user queries against a store generation in killable worker processes.

    `size` workers run queries in parallel (the server uses one per core); more
    callers wait for a free worker within their own time limit.
    """

    def __init__(self, generation: str | Path, size: int = 1):
        self.generation = str(generation)
        self.size = max(1, int(size))
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._slots = threading.BoundedSemaphore(self.size)
        self._lock = threading.Lock()
        self._finalizer = weakref.finalize(self, _kill_all, self._all)

    def run(self, sparql: str, bindings: dict, limits: QueryLimits):
        """The QueryResult of `sparql`; raises QueryLimitExceeded at the time/memory limit."""
        from .results import QueryResult

        waited = time.monotonic()
        if not self._slots.acquire(timeout=None if limits.timeout_s == math.inf else limits.timeout_s):
            raise QueryLimitExceeded(f"every query worker stayed busy for {limits.timeout_s:g} s; try again")
        try:
            # waiting for a free worker counts against the time limit; starting one does not
            left = limits.timeout_s - (time.monotonic() - waited) if limits.timeout_s != math.inf else math.inf
            worker = self._take()
            try:
                reply = worker.run((sparql, bindings, limits.max_rows), limits, max(left, 0.001))
            except BaseException:
                self._drop(worker)
                raise
            self._give_back(worker)
        finally:
            self._slots.release()
        kind = reply[0]
        if kind == "ok":
            result: QueryResult = reply[1]
            return result
        if kind == "syntax":
            message, line, column = reply[1:]
            if line is not None:
                message = message.split(": ", 1)[-1]
            else:
                message = message.removeprefix("SPARQL syntax error at ")
            raise QuerySyntaxError(message, line, column)
        if kind == "kg":
            raise KgError(reply[1], hint=reply[2])
        raise KgError(f"query failed: {reply[1]}")

    def _take(self) -> _Worker:
        with self._lock:
            while self._idle:
                worker = self._idle.pop()
                if worker.alive:
                    return worker
                self._all.remove(worker)
        worker = _Worker(self.generation)
        with self._lock:
            self._all.append(worker)
        return worker

    def _give_back(self, worker: _Worker) -> None:
        with self._lock:
            self._idle.append(worker)

    def _drop(self, worker: _Worker) -> None:
        worker.kill()
        with self._lock:
            if worker in self._all:
                self._all.remove(worker)

    @property
    def pids(self) -> list[int]:
        with self._lock:
            return [w.proc.pid for w in self._all if w.alive]

    def close(self) -> None:
        self._finalizer()


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


def _worker_main() -> None:
    """Entry point of a query worker: serve (sparql, bindings, max_rows) requests until EOF."""
    _watch_parent()
    conn = Connection(int(sys.argv[1]))
    generation = conn.recv()
    import pyoxigraph as ox

    from .store import LocalGraph

    try:
        graph = LocalGraph(generation, store=ox.Store.read_only(generation))
    except OSError as exc:
        sys.stderr.write(f"cannot open {generation}: {exc}\n")
        sys.exit(1)
    conn.send(("ready",))
    while True:
        try:
            sparql, bindings, max_rows = conn.recv()
        except (EOFError, OSError):
            return
        try:
            result = graph.query(sparql, bindings, QueryLimits(max_rows, math.inf, math.inf), trusted=True)
            reply = ("ok", result)
        except QuerySyntaxError as exc:
            reply = ("syntax", exc.message, exc.line, exc.column)
        except KgError as exc:
            reply = ("kg", exc.message, exc.hint)
        except Exception as exc:  # an engine failure must reach the caller as a message, not kill the worker
            reply = ("other", f"{type(exc).__name__}: {exc}")
        try:
            conn.send(reply)
        except (OSError, ValueError):
            return
