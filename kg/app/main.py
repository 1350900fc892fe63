"""The app's navigation: one st.Page per page module, each rendering through ui.guarded (which
writes the page's title before the page computes anything)."""

from __future__ import annotations

import streamlit as st

from . import combinations, data, gaps, network, overview, papers, reports, screening, sparql, ui, whatsnew

# (url path, title, icon, module with render())
PAGES = (
    ("overview", "Overview", ":material/dashboard:", overview),
    ("gaps", "Taxonomy & gaps", ":material/grid_view:", gaps),
    ("network", "Citation network", ":material/hub:", network),
    ("combinations", "Method combinations", ":material/join_inner:", combinations),
    ("papers", "Papers", ":material/article:", papers),
    ("screening", "Screening", ":material/fact_check:", screening),
    ("sparql", "SPARQL", ":material/terminal:", sparql),
    ("reports", "Reports", ":material/summarize:", reports),
    ("whatsnew", "What's new", ":material/update:", whatsnew),
)


def run(default: str = "overview") -> None:
    """Configure the page, build the graph on first start, and show the chosen page."""
    # An emoji icon is drawn in the page (a data: URL); a :material/...: one would be fetched from the web.
    st.set_page_config(page_title="kg · survey knowledge graph", page_icon="🕸️", layout="wide")
    pages = [st.Page(ui.guarded(module.render, title), title=title, icon=icon, url_path=path, default=path == default)
             for path, title, icon, module in PAGES]
    nav = st.navigation(pages)
    if not ui.ensure_graph():
        return
    data.warm()
    ui.sidebar()
    nav.run()
