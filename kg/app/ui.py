"""Shared page furniture: error messages in the page, the first-start build, the sidebar."""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Callable
from urllib.parse import quote

import streamlit as st

from kg.errors import KgError

from . import data


_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:=^])")


def md(text: str) -> str:
    """Text from the graph made inert for st.markdown (no links, emphasis, HTML or directives)."""
    return _MD_SPECIAL.sub(r"\\\1", " ".join(str(text).split()))


def display_path(path: str) -> str:
    """A folder as people write it: the home folder shortened to ~."""
    home = os.path.expanduser("~")
    return "~" + path[len(home):] if home not in ("", "/") and (path + "/").startswith(home + "/") else path


def show_error(exc: KgError) -> None:
    """A domain error as a message in the page (the app stays up)."""
    st.error(exc.message, icon=":material/error:")
    if exc.hint:
        st.caption(exc.hint)


def guarded(render: Callable[[], None], title: str | None = None) -> Callable[[], None]:
    """Run a page: its title first, at once, then a spinner while the page asks the graph for
    what it shows; a KgError anywhere in it becomes a message instead of a traceback."""

    @functools.wraps(render)
    def page() -> None:
        if title:
            st.title(title)
        try:
            with st.spinner("Loading…", show_time=True):
                render()
        except KgError as exc:
            show_error(exc)

    return page


def ensure_graph() -> bool:
    """On first start (no graph in the store yet) build it, showing progress. True when a graph is there.
    The same refresh as `kg build` on a new store (kg.pipeline): the graph is built, the classifier
    places the papers, and one generation is published."""
    if data.has_graph():
        return True
    from kg.pipeline import refresh

    store = data.store()
    with data.build_lock():
        if data.has_graph():  # another session built it while we waited
            return True
        with st.status("First start: building the knowledge graph…", expanded=True) as status:
            st.write(f"Store folder: `{display_path(store.location)}`")
            st.write("Reading the bundled survey corpus and any harvested records, resolving works, "
                     "writing the RDF graph…")
            bar = st.progress(10, text="building")

            def progress(step: str) -> None:
                if step == "classifying":
                    bar.progress(50, text="classifying")
                    st.write("Placing the papers the survey table does not place into the taxonomy "
                             "(lexicon + learned classifier; predicted labels carry their confidence)…")

            try:
                report = refresh(store, progress=progress).build
            except KgError as exc:
                status.update(label="The graph could not be built", state="error", expanded=True)
                show_error(exc)
                return False
            bar.progress(100, text="done")
            status.update(label=f"Graph built: {report.stats['papers']} papers, {report.stats['triples']} triples",
                          state="complete", expanded=False)
    return True


def sidebar() -> None:
    """Where the graph lives, when it was built, and a rebuild button."""
    with st.sidebar:
        info = data.store_info()
        st.caption(f"Graph store: `{display_path(info['location'])}`")
        if info.get("built_at"):
            st.caption(f"Built {info['built_at']} · kg {info.get('kg_version', '?')}")
        if st.button("Rebuild graph", icon=":material/refresh:", help="Rebuild from the corpus, harvested records "
                     "and curation decisions (the previous graph stays readable until the new one is ready).",
                     disabled=not data.has_graph()):
            rebuild()


def rebuild() -> None:
    from kg.pipeline import refresh

    with data.build_lock(), st.spinner("Rebuilding the graph…"):
        try:
            report = refresh(data.store()).build
        except KgError as exc:
            show_error(exc)
            return
    st.toast(f"Rebuilt: {report.stats['papers']} papers in {report.seconds:.1f} s", icon=":material/check:")


def flat(frame):
    """A DataFrame whose list and dict cells read as text (Arrow tables take no mixed objects)."""

    def cell(value):
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        if isinstance(value, (list, tuple, set)):
            return ", ".join(str(v) for v in value)
        return value

    out = frame.copy()
    for col in out.columns:
        if out[col].map(lambda v: isinstance(v, (dict, list, tuple, set))).any():
            out[col] = out[col].map(cell)
    return out


def paper_url(work: str) -> str:
    """The Papers page showing one work (relative, so it works behind any base URL)."""
    return "./papers?id=" + quote(work, safe="")


PAPER_LINK = "page"


def with_paper_links(rows, column: str = "work"):
    """Rows (a DataFrame or a list of dicts) with a PAPER_LINK column opening each work's page."""
    if isinstance(rows, list):
        return [{**r, PAPER_LINK: paper_url(r[column])} for r in rows]
    return rows.assign(**{PAPER_LINK: rows[column].map(paper_url)})


def paper_link_column():
    return st.column_config.LinkColumn("page", display_text="open", width="small",
                                       help="Open the paper's page (new tab)")


def metric_row(items: list[tuple[str, object, str | None]]) -> None:
    """A row of st.metric tiles: (label, value, help)."""
    for col, (label, value, help_text) in zip(st.columns(len(items)), items):
        col.metric(label, value, help=help_text, border=True)
