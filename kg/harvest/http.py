"""One polite HTTP client per source: rate limit, retries, timeouts, cache, counts.

Every harvester talks to its service through a `PoliteClient`. It
- waits between requests (`Policy.min_interval`, e.g. 3 s for arXiv);
- puts a timeout on connecting and on every socket read, and an overall deadline
  on every request (wall clock from sending it to the last byte of the body:
  `Policy.deadline`, default max(4 x timeout, 30 s)), so a server that trickles
  its answer a byte at a time cannot hold a harvest forever (headers that arrive
  after the deadline fail it too; a trickle inside the headers is only caught once
  they are in);
- retries 429 (honouring Retry-After), 5xx, connection resets, timeouts and
  bodies that do not parse (truncated JSON, broken Atom) with bounded
  exponential backoff;
- answers from the on-disk `ResponseCache` first, so a repeated harvest makes
  no requests (`refresh` bypasses it, `offline` never touches the network);
  `revalidate=True` (a file that may change, e.g. a registered list's URL) asks
  again with the cached answer's ETag / Last-Modified instead, and a 304 is
  answered from the cache;
- counts requests, cache hits and retries in `Counters` for `--stats`.

`sleep` and `clock` are injectable, so tests run without real waits. The deadline
is checked against `clock` between body chunks; a real-time watchdog also shuts
the socket when it passes, since only that can interrupt a read that is blocked.
"""

from __future__ import annotations

import email.utils
import json
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests
from urllib3.exceptions import ReadTimeoutError

from .. import __version__
from ..errors import KgError
from .cache import ResponseCache

log = logging.getLogger("kg.harvest")


class HarvestError(KgError):
    """A source could not be harvested; carries url, status and attempts in .context."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None,
                 attempts: int | None = None, hint: str | None = None, field: str | None = None):
        super().__init__(message, hint=hint, field=field, url=url, status=status, attempts=attempts)
        self.url = url
        self.status = status
        self.attempts = attempts


class BadBody(ValueError):
    """The body of a 200 answer does not parse (truncated, malformed): worth a retry."""


def user_agent() -> str:
    contact = os.environ.get("KG_MAILTO")
    return f"kg/{__version__} (research-survey knowledge graph{'; mailto:' + contact if contact else ''})"


@dataclass
class Policy:
    """How politely to talk to one service."""

    name: str
    min_interval: float  # seconds between the starts of two requests
    timeout: float = 30.0  # seconds, for connecting and for each read
    deadline: float | None = None  # seconds for a whole request, body included; None: max(4 x timeout, 30)
    retries: int = 4  # extra attempts after the first
    backoff: float = 2.0  # first wait before a retry; doubles each time
    max_backoff: float = 60.0
    max_retry_after: float = 900.0  # a server asking for a longer pause makes us stop instead

    @property
    def request_deadline(self) -> float:
        """Seconds one request may take in all (connect, headers, whole body), however the bytes trickle in."""
        return self.deadline if self.deadline is not None else max(4 * self.timeout, 30.0)


@dataclass
class Counters:
    requests: int = 0  # HTTP requests actually sent (including retries)
    cache_hits: int = 0
    retries: int = 0
    waited: float = 0.0  # seconds spent in rate-limit and backoff pauses


@dataclass
class Reply:
    """An HTTP answer as the harvesters see it (live or from the cache)."""

    url: str
    status: int
    text: str
    headers: dict = field(default_factory=dict)
    from_cache: bool = False

    def json(self) -> Any:
        try:
            return json.loads(self.text)
        except ValueError as exc:
            raise BadBody(f"not valid JSON ({exc})") from None


class RateLimiter:
    """At most one request start per `interval` seconds."""

    def __init__(self, interval: float, sleep: Callable[[float], None], clock: Callable[[], float],
                 counters: Counters):
        self.interval = interval
        self.sleep = sleep
        self.clock = clock
        self.counters = counters
        self._last: float | None = None

    def wait(self) -> None:
        if self._last is not None:
            pause = self._last + self.interval - self.clock()
            if pause > 0:
                self.counters.waited += pause
                self.sleep(pause)
        self._last = self.clock()


class DeadlinePassed(Exception):
    """A request was still unfinished when its overall deadline passed (handled like a timeout)."""


class Deadline:
    """The end of one request: passed when either the injectable clock or the real monotonic clock says so."""

    def __init__(self, seconds: float, clock: Callable[[], float]):
        self.seconds = seconds
        self.clock = clock
        self._end = clock() + seconds
        self._real_end = time.monotonic() + seconds

    def passed(self) -> bool:
        return self.clock() >= self._end or time.monotonic() >= self._real_end

    def remaining(self) -> float:
        """Real seconds left (for the watchdog)."""
        return max(0.0, self._real_end - time.monotonic())


READ_CHUNK = 64 * 1024


def read_body(resp: requests.Response, deadline: Deadline) -> bytes:
    """The whole body of a streamed response, or DeadlinePassed.

    Between chunks the deadline is checked; a watchdog timer shuts the socket at the
    deadline (urllib3's `HTTPResponse.shutdown`), which ends a read that is blocked on a
    trickling server. The caller closes the response.
    """
    lock = threading.Lock()
    state = {"done": False, "fired": False}

    def expire() -> None:
        with lock:
            if state["done"]:
                return
            state["fired"] = True
        try:
            resp.raw.shutdown()
        except Exception:  # already closed or released to the pool: nothing left to interrupt
            pass

    timer = None
    if callable(getattr(resp.raw, "shutdown", None)):
        timer = threading.Timer(deadline.remaining(), expire)
        timer.daemon = True
        timer.start()
    chunks: list[bytes] = []
    try:
        pieces = resp.iter_content(READ_CHUNK)
        while True:
            if deadline.passed():
                with lock:
                    state["fired"] = True
                break
            chunk = next(pieces, None)
            if chunk is None:
                break
            chunks.append(chunk)
    except requests.RequestException:
        if not state["fired"]:
            raise
    finally:
        if timer is not None:
            timer.cancel()
        with lock:
            state["done"] = True
    if state["fired"]:  # a cut-off read may look like a clean end: never trust it
        raise DeadlinePassed
    return b"".join(chunks)


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Retry-After as seconds: either a number or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (now if now is not None else time.time()))


def error_text(reply: Reply) -> str:
    """The service's own words about an error (JSON 'error'/'message', an Atom summary, or the body)."""
    text = reply.text or ""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            for key in ("error", "message", "detail"):
                if data.get(key):
                    return str(data[key])
    except ValueError:
        pass
    if "<summary>" in text:
        return text.split("<summary>", 1)[1].split("</summary>", 1)[0].strip()
    return " ".join(text.split())[:200] or f"HTTP {reply.status}"


def validators(headers: dict) -> dict:
    """The conditional-request headers for a cached answer: If-None-Match / If-Modified-Since."""
    found = {k.lower(): v for k, v in headers.items()}
    asked = {}
    if found.get("etag"):
        asked["If-None-Match"] = found["etag"]
    if found.get("last-modified"):
        asked["If-Modified-Since"] = found["last-modified"]
    return asked


class PoliteClient:
    """HTTP for one source. `request` returns a Reply whose status is in `accept`, or raises HarvestError."""

    def __init__(self, policy: Policy, *, cache: ResponseCache | None = None,
                 session: requests.Session | None = None, headers: dict | None = None,
                 sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 counters: Counters | None = None, namespace: str = "http", auth_hint: str | None = None):
        self.policy = policy
        self.cache = cache
        self.session = session or requests.Session()
        self.headers = {"User-Agent": user_agent(), **(headers or {})}
        self.sleep = sleep
        self.clock = clock
        self.counters = counters or Counters()
        self.namespace = namespace
        self.auth_hint = auth_hint
        self.limiter = RateLimiter(policy.min_interval, sleep, clock, self.counters)

    # ------------------------------------------------------------------ public
    def get(self, url: str, params: dict | None = None, **kw) -> Any:
        return self.request("GET", url, params=params, **kw)

    def post(self, url: str, params: dict | None = None, body: Any = None, **kw) -> Any:
        return self.request("POST", url, params=params, body=body, **kw)

    def request(self, method: str, url: str, *, params: dict | None = None, body: Any = None,
                parse: Callable[[Reply], Any] | None = None, accept: tuple[int, ...] = (200,),
                revalidate: bool = False) -> Any:
        """Send (or replay) one request. `parse(reply)` turns a 200 answer into data; raising
        BadBody there means the body is broken and the request is retried (never cached).
        `revalidate`: in cache mode "use", a cached 200 is not answered as it is but asked for
        again, conditionally when it has validators; a 304 then returns the cached answer."""
        prepared = requests.Request(method, url, params=params,
                                    data=json.dumps(body) if body is not None else None).prepare()
        full_url = prepared.url
        payload = prepared.body if isinstance(prepared.body, str) else (prepared.body or b"").decode() or None
        key = ResponseCache.key(method, full_url, payload)
        parse = parse or (lambda reply: reply)

        conditional: dict = {}
        hit = None
        if self.cache is not None and self.cache.mode != "refresh":
            hit = self.cache.get(self.namespace, key)
            if hit is not None and revalidate and self.cache.mode == "use" and hit["status"] == 200:
                conditional = validators(hit.get("headers") or {})
            elif hit is not None:
                reply = Reply(full_url, hit["status"], hit["text"], hit.get("headers", {}), from_cache=True)
                try:
                    value = parse(reply) if reply.status == 200 else reply
                except BadBody:
                    log.warning("cached answer for %s does not parse; fetching it again", full_url)
                else:
                    self.counters.cache_hits += 1
                    log.debug("cache hit %s %s", method, full_url)
                    return value
        if self.cache is not None and self.cache.mode == "offline":
            raise HarvestError(f"{self.policy.name}: {method} {full_url} is not in the cache, and offline "
                               "harvesting asks nothing of the network", url=full_url, field="offline",
                               hint="Run the same harvest online first: it caches the answers.")

        attempt = 0
        while True:
            attempt += 1
            problem, wait = self._attempt(method, full_url, payload, conditional,
                                          (*accept, 304) if conditional else accept, attempt)
            if isinstance(problem, Reply) and problem.status == 304 and conditional:
                reply = Reply(full_url, hit["status"], hit["text"], hit.get("headers", {}), from_cache=True)
                try:
                    value = parse(reply)
                except BadBody:
                    log.warning("cached answer for %s does not parse; fetching it again", full_url)
                    conditional = {}
                    continue
                self.counters.cache_hits += 1
                log.debug("not modified: %s %s", method, full_url)
                return value
            if isinstance(problem, Reply):
                reply = problem
                try:
                    value = parse(reply) if reply.status == 200 else reply
                except BadBody as exc:
                    problem, wait = f"unusable answer: {exc}", self._backoff(attempt)
                else:
                    if self.cache is not None:
                        self.cache.put(self.namespace, key, {
                            "method": method, "url": full_url, "body": payload, "status": reply.status,
                            "text": reply.text, "headers": reply.headers,
                            "fetched": time.strftime("%Y-%m-%dT%H:%M:%S%z")})
                    return value
            if attempt > self.policy.retries:
                raise HarvestError(f"{self.policy.name}: giving up on {method} {full_url} after {attempt} "
                                   f"attempts: {problem}", url=full_url, attempts=attempt)
            self.counters.retries += 1
            log.warning("%s: %s (attempt %d); retrying in %.1f s", self.policy.name, problem, attempt, wait)
            self.counters.waited += wait
            self.sleep(wait)

    # ------------------------------------------------------------------ internals
    def _backoff(self, attempt: int) -> float:
        return min(self.policy.max_backoff, self.policy.backoff * 2 ** (attempt - 1))

    def _attempt(self, method, url, payload, extra_headers, accept, attempt) -> tuple[Reply | str, float]:
        """One try: a Reply to return, or (problem, seconds to wait before retrying)."""
        self.limiter.wait()
        self.counters.requests += 1
        headers = {**self.headers, **extra_headers}
        if payload is not None:
            headers["Content-Type"] = "application/json"
        log.info("%s %s", method, url)
        limit = self.policy.request_deadline
        per_read = min(self.policy.timeout, limit)
        deadline = Deadline(limit, self.clock)
        try:
            resp = self.session.request(method, url, data=payload, headers=headers,
                                        timeout=(per_read, per_read), stream=True)
            try:
                body = read_body(resp, deadline)
            finally:
                resp.close()
            text = body.decode("utf-8", errors="replace")  # all harvested services answer in UTF-8
        except DeadlinePassed:
            return (f"no complete answer within the {limit:g} s deadline for one request",
                    self._backoff(attempt))
        except requests.Timeout:
            return f"no answer within {per_read:g} s", self._backoff(attempt)
        except requests.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):  # a body read timed out
                return f"no answer within {per_read:g} s", self._backoff(attempt)
            return f"connection failed ({type(exc).__name__})", self._backoff(attempt)
        except requests.RequestException as exc:  # e.g. a body cut off mid-transfer
            return f"transfer failed ({type(exc).__name__}: {exc})", self._backoff(attempt)
        reply = Reply(url, resp.status_code, text,
                      {k: v for k, v in resp.headers.items()
                       if k.lower() in ("content-type", "retry-after", "etag", "last-modified")})
        status = resp.status_code
        if status == 429:
            asked = retry_after_seconds(resp.headers.get("Retry-After"))
            if asked is not None and asked > self.policy.max_retry_after:
                raise HarvestError(f"{self.policy.name}: rate limited; the server asks to wait {asked:.0f} s",
                                   url=url, status=429, attempts=attempt, hint="Try again later.")
            return "rate limited (HTTP 429)", asked if asked is not None else self._backoff(attempt)
        if status >= 500:
            return f"server error (HTTP {status})", self._backoff(attempt)
        if status in accept:
            return reply, 0.0
        if status in (401, 403):
            raise HarvestError(f"{self.policy.name} refused the request (HTTP {status}): {error_text(reply)}",
                               url=url, status=status, attempts=attempt, hint=self.auth_hint)
        raise HarvestError(f"{self.policy.name}: HTTP {status} for {method} {url}: {error_text(reply)}",
                           url=url, status=status, attempts=attempt)
