"""Reports: a preview of the gap report and a download button per format.

The formats people read (Markdown, LaTeX, HTML, BibTeX) list each cell's most relevant works,
as `kg report` does; the data exports (JSON, CSV) list every work, which reads every work of
the graph: on a large graph they wait for a button of their own."""

from __future__ import annotations

import streamlit as st

from kg.report import COMPLETE_FORMATS, FORMATS, WORKS_PER_CELL

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
EXPORTS_KEY = "_report_exports_asked"
READ = tuple(f for f in FORMATS if f not in COMPLETE_FORMATS)  # made with the preview
EXPORTS = tuple(f for f in FORMATS if f in COMPLETE_FORMATS)


def render() -> None:
    categories = data.taxonomy().notation_labels("category")  # the taxonomy only: no work is read
    st.markdown("The gap report for survey authors: a summary, the taxonomy table with counts and example works, "
                "empty and thin cells with their nearest papers, papers the survey may have missed, unexplored "
                "combinations and trends.")
    category = st.selectbox("Scope", [None, *categories], key="report_category",
                            format_func=lambda c: "the whole taxonomy" if c is None else categories[c])
    asked = st.session_state.setdefault(READY_KEY, set())
    if category not in asked and data.asks_first() and not data.report_ready(category, READ):
        # a large graph: made when asked, once per graph generation, then kept beside it
        st.info("The report reads the whole graph's counts; once made it is kept for this build of the graph.",
                icon=":material/info:")
        if not st.button("Make the report", icon=":material/summarize:", type="primary", key="report_make"):
            return
        asked.add(category)
    with st.spinner("Making the report…", show_time=True):
        texts = {fmt: data.report_text(fmt, category) for fmt in READ}
    exports = st.session_state.setdefault(EXPORTS_KEY, set())
    if category in exports or not data.asks_first() or data.report_ready(category, EXPORTS):
        with st.spinner("Making the data exports…", show_time=True):
            texts.update({fmt: data.report_text(fmt, category) for fmt in EXPORTS})
    st.markdown("**Download**")
    st.caption(f"Markdown, LaTeX, HTML and BibTeX list each cell's {WORKS_PER_CELL} most relevant works and say how "
               "to list the rest; JSON and CSV list every work (`kg report --works-per-cell` sets either).")
    suffix = f"-{category}" if category else ""
    for fmt, col in zip(FORMATS, st.columns(len(FORMATS))):
        name, mime, help_text = FORMAT_INFO.get(fmt, (fmt, "text/plain", ""))
        if fmt in texts:
            col.download_button(name, texts[fmt], file_name=f"gap-report{suffix}.{fmt}", mime=mime,
                                help=help_text, icon=":material/download:", width="stretch", key=f"report_{fmt}")
        elif col.button(f"Make {name}", help=f"{help_text} Lists every work, so it reads every work of the graph; "
                        "once made it is kept for this build.", icon=":material/dataset:", width="stretch",
                        key=f"report_make_{fmt}"):
            exports.add(category)
            st.rerun()
    st.markdown("**Preview**")
    st.iframe(texts["html"], height=900)
