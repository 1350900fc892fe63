"""Reports: a preview of the gap report and a download button per format."""

from __future__ import annotations

import streamlit as st

from kg.report import FORMATS

from . import data

FORMAT_INFO = {
    "md": ("Markdown", "text/markdown", "For a README, an issue or a wiki."),
    "tex": ("LaTeX", "application/x-tex", "An article with the taxonomy table as a booktabs table."),
    "html": ("HTML", "text/html", "One self-contained page (no scripts, works offline)."),
    "csv": ("CSV", "text/csv", "One row per taxonomy cell."),
    "json": ("JSON", "application/json", "The whole content, for other tools."),
    "bib": ("BibTeX", "application/x-bibtex", "The works per cell (keys shared with the LaTeX)."),
}


READY_KEY = "_report_asked"


def render() -> None:
    categories = data.taxonomy().notation_labels("category")  # the taxonomy only: no work is read
    st.markdown("The gap report for survey authors: a summary, the taxonomy table with counts and example works, "
                "empty and thin cells with their nearest papers, papers the survey may have missed, unexplored "
                "combinations and trends.")
    category = st.selectbox("Scope", [None, *categories], key="report_category",
                            format_func=lambda c: "the whole taxonomy" if c is None else categories[c])
    asked = st.session_state.setdefault(READY_KEY, set())
    if category not in asked and data.asks_first() and not data.report_ready(category, FORMATS):
        # a large graph: made when asked, once per graph generation, then kept beside it
        st.info("The report reads the whole graph; once made it is kept for this build of the graph.",
                icon=":material/info:")
        if not st.button("Make the report", icon=":material/summarize:", type="primary", key="report_make"):
            return
        asked.add(category)
    with st.spinner("Making the report…", show_time=True):
        texts = {fmt: data.report_text(fmt, category) for fmt in FORMATS}
    st.markdown("**Download**")
    for fmt, col in zip(FORMATS, st.columns(len(FORMATS))):
        name, mime, help_text = FORMAT_INFO.get(fmt, (fmt, "text/plain", ""))
        suffix = f"-{category}" if category else ""
        col.download_button(name, texts[fmt], file_name=f"gap-report{suffix}.{fmt}", mime=mime,
                            help=help_text, icon=":material/download:", width="stretch", key=f"report_{fmt}")
    st.markdown("**Preview**")
    st.iframe(texts["html"], height=900)
