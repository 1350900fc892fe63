"""How fast the app answers a person, timed in a real headless Chromium.

`time_app(store_path)` starts the app's Streamlit server as a process on 127.0.0.1 with
KG_STORE set, waits for its health check, then opens the first page in Chromium and switches
to every other page through the sidebar, as a person clicks. For each page it records the
seconds until the page's title shows and until its content is there (Streamlit has finished
running the page: no "running" status). The browser helpers here (`serve`, `open_page`,
`settle`, ...) are the ones the browser tests drive the app with.

Needs a Chromium (Debian's `chromium`, or KG_CHROMIUM) and the Playwright client (the `test`
extra); it never downloads a browser.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from kg.errors import KgError

CHROMIUM = Path(os.environ.get("KG_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
VIEWPORT = {"width": 1400, "height": 1000}
SCRIPT = Path(__file__).resolve().parent / "app" / "script.py"
# (url path, the title its page shows) in the sidebar's order (kg.app.main.PAGES, kept here so
# timing imports no page module)
PAGES = (("overview", "Overview"), ("gaps", "Taxonomy & gaps"), ("network", "Citation network"),
         ("combinations", "Method combinations"), ("papers", "Papers"), ("screening", "Screening"),
         ("sparql", "SPARQL"), ("reports", "Reports"), ("whatsnew", "What's new"))
# Streamlit marks its root element with the script's state; "notRunning" once a page is drawn
DONE = ("() => !!document.querySelector('[data-testid=\"stApp\"][data-test-script-state=\"notRunning\"]')"
        " && !document.querySelector('[data-testid=\"stStatusWidget\"]')")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, proc: subprocess.Popen, log: Path, seconds: float = 60) -> None:
    """Return once `url`'s Streamlit health check answers 200; raise if the server exits or stays silent."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"streamlit exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(url + "/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"streamlit did not answer within {seconds} s:\n{log.read_text()}")


def streamlit_command(script: Path, port: int) -> list[str]:
    """`streamlit run script` headless on 127.0.0.1:port (-P: the working folder is not on the import path)."""
    return [sys.executable, "-P", "-m", "streamlit", "run", str(script), "--server.headless", "true",
            "--server.address", "127.0.0.1", "--server.port", str(port), "--browser.gatherUsageStats", "false",
            "--server.fileWatcherType", "none"]


@contextlib.contextmanager
def serve(env: dict, log: Path, script: Path = SCRIPT, cwd: Path | None = None, seconds: float = 60,
          measured: dict | None = None):
    """Run the app's server with `env`, yield its URL once healthy, stop it afterwards
    (`measured`, when given, gets the server's peak_rss_mb: its own high-water mark, as it stops)."""
    port = free_port()
    with open(log, "w") as out:
        proc = subprocess.Popen(streamlit_command(script, port), cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, proc, log, seconds)
        yield url
    finally:
        if measured is not None:
            from kg.bench_commands import high_water_kb

            measured["peak_rss_mb"] = round(high_water_kb(proc.pid) / 1024, 1)
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def unavailable() -> str | None:
    """Why the app cannot be timed here (no Chromium, no Playwright client), or None."""
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium; or set KG_CHROMIUM)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "no Playwright client (pip install 'kg[test]')"
    return None


@contextlib.contextmanager
def chromium():
    """One headless Chromium (Playwright driving the system's browser)."""
    if not CHROMIUM.is_file():
        raise KgError(f"no Chromium at {CHROMIUM}", hint="Install it (Debian: apt-get install chromium) or set KG_CHROMIUM.")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise KgError("timing the app needs the Playwright client", hint="pip install 'kg[test]'") from None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


def settle(page, timeout_ms: float = 30_000) -> None:
    """Wait until Streamlit has finished running the script (no 'running' status widget)."""
    page.wait_for_timeout(300)
    page.wait_for_function(DONE, timeout=timeout_ms)
    page.wait_for_timeout(300)


def open_page(page, url: str) -> None:
    """Load `url` and wait for the page's title and for Streamlit to finish drawing it."""
    page.goto(url)
    page.wait_for_selector("[data-testid='stAppViewContainer']")
    page.wait_for_selector("h1")
    settle(page)


def _title(page, title: str):
    return page.locator("[data-testid='stMain'] h1").filter(has_text=title).first


def _exception(page) -> str | None:
    boxes = page.locator("[data-testid='stException']")
    return boxes.first.inner_text()[:500] if boxes.count() else None


def _timed(page, start: float, title: str, timeout_ms: float) -> dict:
    """Seconds until the page's title shows and until it is drawn; a page still running after
    `timeout_ms` is a row that says so (content_s None) instead of an exception that loses the others."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    shown = None
    try:
        _title(page, title).wait_for(timeout=timeout_ms)
        shown = time.perf_counter() - start
        page.wait_for_timeout(50)  # the script state turns "running" right after the first delta
        page.wait_for_function(DONE, timeout=timeout_ms, polling=50)
    except PlaywrightTimeout:
        return {"title_s": None if shown is None else round(shown, 3), "content_s": None,
                "error": f"not drawn within {timeout_ms / 1000:g} s"}
    done = time.perf_counter() - start
    return {"title_s": round(shown, 3), "content_s": round(done, 3), "error": _exception(page)}


def time_app(store_path, pages=None, *, script: Path | None = None, timeout_s: float = 600,
             env: dict | None = None) -> list[dict]:
    """Time the app over the store at `store_path` (a local store; the app may write to it on
    its first start, so give it a copy you can spare). `pages`: url paths of kg.app.main.PAGES to
    visit, the first opened by its address and each next one reached by its sidebar link
    (default: all, the overview first). One dict per page: page, title, how ("first" or
    "switch"), title_s and content_s (seconds from the server healthy, or from the click, until
    the title shows and until the page is drawn; content_s None when not drawn within
    timeout_s, and the visit stops there), error (an exception the page shows, a timeout, else
    None); the first row also has server_s (seconds from the process start to healthy) and
    server_peak_rss_mb (the server process's own peak memory over the whole visit)."""
    known = dict(PAGES)
    pages = list(pages) if pages else [p for p, _ in PAGES]
    unknown = [p for p in pages if p not in known]
    if unknown:
        raise KgError(f"unknown app page(s): {', '.join(unknown)}; known: {', '.join(known)}")
    store = Path(store_path).absolute()
    if not store.exists():
        raise KgError(f"no graph store at {store}")
    run_env = {**os.environ, **(env or {}), "KG_STORE": str(store), "PYTHONUNBUFFERED": "1"}
    timeout_ms = timeout_s * 1000
    rows: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="kg-app-timing-") as tmp, chromium() as browser:
        log = Path(tmp) / "streamlit.log"
        started = time.perf_counter()
        measured: dict = {}
        with serve(run_env, log, script=script or SCRIPT, cwd=Path(tmp), seconds=timeout_s, measured=measured) as url:
            server_s = time.perf_counter() - started
            context = browser.new_context(viewport=VIEWPORT)
            context.set_default_timeout(timeout_ms)
            page = context.new_page()
            first, *rest = pages
            start = time.perf_counter()
            page.goto(f"{url}/" + ("" if first == "overview" else first))
            rows.append({"page": first, "title": known[first], "how": "first", "server_s": round(server_s, 3),
                         **_timed(page, start, known[first], timeout_ms)})
            for path in rest:
                if rows[-1]["content_s"] is None:  # still running: the next click would time the same wait
                    break
                link = page.locator("[data-testid='stSidebarNavLink']").filter(has_text=known[path]).first
                start = time.perf_counter()
                link.click()
                rows.append({"page": path, "title": known[path], "how": "switch",
                             **_timed(page, start, known[path], timeout_ms)})
            context.close()
    if rows and measured.get("peak_rss_mb"):
        rows[0]["server_peak_rss_mb"] = measured["peak_rss_mb"]
    return rows
