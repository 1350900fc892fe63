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


def render() -> None:
    corpus = data.corpus()
    categories = corpus.notation_labels("category")
    st.markdown("The gap report for survey authors: a summary, the taxonomy table with counts and example works, "
                "empty and thin cells with their nearest papers, papers the survey may have missed, unexplored "
                "combinations and trends.")
    category = st.selectbox("Scope", [None, *categories], key="report_category",
                            format_func=lambda c: "the whole taxonomy" if c is None else categories[c])
    st.markdown("**Download**")
    for fmt, col in zip(FORMATS, st.columns(len(FORMATS))):
        name, mime, help_text = FORMAT_INFO.get(fmt, (fmt, "text/plain", ""))
        suffix = f"-{category}" if category else ""
        col.download_button(name, data.report_text(fmt, category), file_name=f"gap-report{suffix}.{fmt}", mime=mime,
                            help=help_text, icon=":material/download:", width="stretch", key=f"report_{fmt}")
    st.markdown("**Preview**")
    st.iframe(data.report_text("html", category), height=900)
