"""How `streamlit run` serves the app: as an ASGI app (st.App) whose page addresses answer
with Streamlit's page shell plus one line naming the server's root.

Why: the Streamlit frontend does not know where the server lives, so on a page address such
as /papers?id=2406.09400 it first asks /papers/_stcore/health and /papers/_stcore/host-config
(404, logged as errors in the browser console) and only then the root. Told the root in
`window.__streamlit.BACKEND_BASE_URL`, it asks the root at once. The entry files (app.py,
kg/app/script.py) are both the ASGI app and, for every browser session, the page script;
a Streamlit without st.App runs them as plain scripts, as before.
"""

from __future__ import annotations

import contextlib
import json
from functools import cache
from pathlib import Path

# the app's page addresses besides the root, which is the overview (kg.app.main.PAGES without
# the default page, whose address is the root; kept here so serving a request imports no page)
PAGE_PATHS = ("gaps", "network", "combinations", "papers", "screening", "sparql", "reports", "whatsnew")
_MARK = "<head>"


def in_session() -> bool:
    """True while Streamlit runs a file as the page script (a browser session, or AppTest)."""
    try:
        from streamlit.runtime.scriptrunner import get_script_run_ctx
    except ImportError:  # pragma: no cover - every supported Streamlit has it
        return True
    return get_script_run_ctx(suppress_warning=True) is not None


def render() -> None:
    from .main import run

    run()


def has_app_server() -> bool:
    """Whether this Streamlit can serve an st.App (with middleware)."""
    import streamlit as st

    return hasattr(st, "App")


def _base_path() -> str:
    from streamlit import config

    base = (config.get_option("server.baseUrlPath") or "").strip("/")
    return f"/{base}/" if base else "/"


def shell_html(base: str = "/") -> str:
    """Streamlit's index.html, told that the server's root is `base` (a path on this host)."""
    import streamlit

    html = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    line = ("<script>window.__streamlit = Object.assign({}, window.__streamlit, "
            f"{{BACKEND_BASE_URL: new URL({json.dumps(base)}, window.location.href).href}});</script>")
    return html.replace(_MARK, f"{_MARK}\n    {line}", 1) if _MARK in html else html


@cache
def _cached_shell(base: str) -> bytes:
    return shell_html(base).encode("utf-8")


class PageShell:
    """ASGI middleware: GET/HEAD of the root or of a page address gets the shell; every
    other request goes on to Streamlit."""

    def __init__(self, app, pages: tuple[str, ...] = PAGE_PATHS):
        self.app = app
        self.pages = {""} | {p.strip("/") for p in pages}

    def page_of(self, path: str, base: str) -> str | None:
        prefix = base.rstrip("/")
        if prefix and not (path == prefix or path.startswith(prefix + "/")):
            return None
        rest = path[len(prefix):].strip("/")
        return rest if rest in self.pages else None

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            base = _base_path()
            if self.page_of(scope.get("path", ""), base) is not None:
                from starlette.responses import Response

                response = Response(_cached_shell(base), media_type="text/html",
                                    headers={"Cache-Control": "no-cache"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def middleware() -> list:
    from starlette.middleware import Middleware

    return [Middleware(PageShell)]


@contextlib.asynccontextmanager
async def lifespan(app):
    """Load the pages' modules before the server answers (the first page then draws without
    waiting for imports), and open the browser once the server runs, unless headless (what a
    plain `streamlit run` does; Streamlit's ASGI runner leaves it out)."""
    from streamlit import config

    from . import main  # noqa: F401 - the pages' imports (pandas, altair, pyvis, ...) before the server says it is up

    _start_warming()
    if not config.get_option("server.headless"):
        import asyncio

        asyncio.get_running_loop().call_later(0.5, _open_browser)
    yield None


def _start_warming() -> None:
    """Begin computing the pages' first views of the current generation in the background as the
    server starts (kg.app.data.serving), so the first visitor finds them made or being made; a
    store without a graph yet is left to the first page (it builds it)."""
    import threading

    def run() -> None:
        from . import data

        try:
            data.serving()
        except Exception:  # noqa: BLE001 - the pages compute what is missing and say what failed
            pass

    threading.Thread(target=run, name="kg-app-warm-start", daemon=True).start()


def _open_browser() -> None:
    from streamlit import cli_util, config
    from streamlit.web.server import server_util

    if config.is_manually_set("browser.serverAddress"):
        address = config.get_option("browser.serverAddress")
    elif config.is_manually_set("server.address"):
        address = server_util.get_display_address(config.get_option("server.address"))
    else:
        address = "localhost"
    cli_util.open_browser(server_util.get_url(address))
