"""Taxonomy & gaps: the category x mechanism heat map with modality and year filters;
empty and thin cells highlighted with their score; a selected cell lists its papers.

Counts split into asserted papers and predicted ones ('5 (+3 predicted)'); predictions
count at kg.analysis.MIN_CONFIDENCE or more (the fixed default of the app, as of
`kg gaps` and `kg report`)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from kg import analysis

from kg.analysis import views

from . import charts, data, ui

CELL_KEY = "gap_cell"
_CHART_PICK = "_gap_chart_pick"


def _cell_key(category: str, mechanism: str) -> str:
    return f"{category}|{mechanism}"


def render() -> None:
    taxonomy = data.taxonomy()  # concepts and axis names only: two small queries at any size
    titles = {axis: taxonomy.axis_title(axis) for axis in ("category", "mechanism")}
    st.markdown(f"Papers per taxonomy cell (**{ui.md(titles['category'])}** x **{ui.md(titles['mechanism'])}**). "
                "A cell is **empty** when no paper sits in it and **thin** when it holds at most half of what the "
                "table's margins predict; the score is the Pearson residual (0 = as predicted, negative = "
                "thinner). Click a cell to list its papers.")
    st.markdown(f"**5 (+3 predicted)**: 5 papers the survey's table, the curated list or a person place there "
                f"(*asserted*), and 3 only the classifier places (*predicted*). Predictions count at confidence "
                f"{analysis.MIN_CONFIDENCE:g} or more (below it, not at all); a cell that is empty or thin only "
                "in the asserted evidence says so.", help=analysis.COUNT_EXPLANATION)
    modalities = views.modalities(taxonomy)
    span = data.year_span()
    c1, c2, c3 = st.columns([2, 3, 2], gap="medium")
    modality = c1.selectbox("Modality (input or output)", [None, *modalities], key="gap_modality",
                            format_func=lambda m: "any modality" if m is None else modalities[m])
    years = None
    if span and span[0] < span[1]:
        chosen = c2.slider("Publication years", span[0], span[1], span, key="gap_years")
        years = None if tuple(chosen) == span else tuple(chosen)
    value = c3.radio("Colour by", ["count", "score"], horizontal=True, key="gap_value",
                     format_func=lambda v: "papers" if v == "count" else "score")
    if modality is None and years is None:
        # the whole graph: cells counted in the store, no work read (a cell's works come when it is picked)
        cells = data.store_gap_cells()
        placements, predicted = int(cells["count"].sum()), int(cells["predicted"].sum())
        if placements == 0:
            st.warning("No paper is placed in the taxonomy yet, so every cell below is empty.",
                       icon=":material/filter_alt_off:")
        head = (f"{placements} placements in the taxonomy ({placements - predicted} asserted, {predicted} "
                "predicted; a work with two mechanisms sits in two cells)")
    else:
        # a slice: the works of the slice are read (once per filter, then cached)
        cells, summary = data.gap_cells(modality, years)
        if summary["in_taxonomy"] == 0:
            st.warning(("No paper" if summary["works"] == 0 else f"None of the {summary['works']} matching papers is")
                       + " placed in the taxonomy with these filters, so every cell below is empty. Widen the year "
                       "range or pick another modality.", icon=":material/filter_alt_off:")
        head = (f"{summary['works']} papers match · {summary['in_taxonomy']} placed in the taxonomy "
                f"({summary['placed_asserted']} asserted, {summary['placed_predicted']} predicted)")
    counts = cells["status"].value_counts()
    sure = cells["asserted_status"].value_counts()
    st.caption(f"{head} · {int(counts.get('empty', 0))} empty cells · {int(counts.get('thin', 0))} thin cells · "
               f"{len(cells)} cells · asserted alone: {int(sure.get('empty', 0))} empty, "
               f"{int(sure.get('thin', 0))} thin")
    event = st.altair_chart(charts.gap_heatmap(
        cells, value=value, titles=titles), width="stretch", on_select="rerun",
                            selection_mode=charts.CELL_SELECTION, key="gap_heatmap")
    _sync_pick(event)
    keys = [_cell_key(c, m) for c, m in zip(cells["category"], cells["mechanism"])]
    names = {k: f"{r.category_label} x {r.mechanism_label}" for k, r in zip(keys, cells.itertuples())}
    picked = st.selectbox("Cell", keys, index=None, key=CELL_KEY, placeholder="Click a cell above, or pick one here",
                          format_func=names.get)
    if picked:
        _cell_panel(cells.iloc[keys.index(picked)])
    _tables()


def _sync_pick(event) -> None:
    """A click on the heat map selects that cell in the cell picker (once per click)."""
    chosen = (event.selection.get(charts.CELL_SELECTION) or []) if event else []
    pick = _cell_key(chosen[0]["category"], chosen[0]["mechanism"]) if chosen else None
    if pick and pick != st.session_state.get(_CHART_PICK):
        st.session_state[CELL_KEY] = pick
    st.session_state[_CHART_PICK] = pick


def _cell_panel(row) -> None:
    st.subheader(f"{row.category_label} x {row.mechanism_label}")
    a, b, c, d = st.columns(4)
    a.metric("Papers", charts.count_label(int(row.asserted), int(row.predicted)), border=True,
             help="Asserted papers, plus those only the classifier places (predicted).")
    b.metric("Expected", f"{row.expected:.2f}", border=True, help="What the margins predict under independence.")
    c.metric("Score", f"{row.score:+.2f}", border=True, help=analysis.SCORE_EXPLANATION)
    d.metric("Status", row.status, border=True, help=f"By asserted papers alone: {row.asserted_status}.")
    if row.status != row.asserted_status or row.predicted:
        st.caption(f"This cell is {analysis.gap_note(dict(row))}.")
    if row["count"] and "works" in row.index:  # a slice: its works are at hand
        table = views.works_table(data.corpus(), row.works)
        table["predicted"] = [row.predicted_works.get(w) for w in table["work"]]
        st.dataframe(ui.with_paper_links(table), hide_index=True, width="stretch",
                     column_order=["label", "year", "venue", "category", "predicted", "title", ui.PAPER_LINK],
                     column_config={"label": "work", "year": st.column_config.NumberColumn(format="%d"),
                                    "predicted": st.column_config.NumberColumn(
                                        "predicted", format="%.2f",
                                        help="The classifier's confidence, for a work only it places here"),
                                    ui.PAPER_LINK: ui.paper_link_column()})
    elif row["count"]:
        _cell_works(row)
    else:
        near = data.nearest(row.category, row.mechanism)
        st.info("No paper sits in this cell: a gap. The nearest papers share its category or its mechanism:",
                icon=":material/lightbulb:")
        if near:
            st.dataframe(ui.flat(ui.with_paper_links(pd.DataFrame(near))), hide_index=True, width="stretch",
                         column_order=["label", "year", "category", "mechanisms", "shares", ui.PAPER_LINK],
                         column_config={"label": "work", "year": st.column_config.NumberColumn(format="%d"),
                                        ui.PAPER_LINK: ui.paper_link_column()})


def _cell_works(row) -> None:
    """The works of one cell, a page at a time (the cell-papers query: every work the graph places
    there, predictions at any confidence, sorted by label)."""
    pages = max(1, -(-int(row["count"]) // data.CELL_PAGE))
    page = 1
    if pages > 1:
        page = int(st.number_input(f"Page (of about {pages}, {data.CELL_PAGE} works each)", min_value=1,
                                   max_value=pages, value=1, key=f"gap_cell_page_{row.category}_{row.mechanism}"))
    rows = data.cell_papers(row.category, row.mechanism, page)
    table = [{"work": r["work"], "label": r["label"], "year": r.get("year"), "arxiv": r.get("arxiv"),
              "doi": r.get("doi"), "candidate": r.get("candidate") is True} for r in rows]
    st.dataframe(ui.with_paper_links(table), hide_index=True, width="stretch",
                 column_order=["label", "year", "arxiv", "doi", "candidate", ui.PAPER_LINK],
                 column_config={"label": "work", "year": st.column_config.NumberColumn(format="%d"),
                                "candidate": st.column_config.CheckboxColumn("candidate"),
                                ui.PAPER_LINK: ui.paper_link_column()})
    st.caption("Every work the graph places in this cell, predictions at any confidence included (the count above "
               f"leaves out predictions below {analysis.MIN_CONFIDENCE:g}); sorted by name.")


def _tables() -> None:
    st.divider()
    st.subheader("More gaps")
    if not st.toggle("Modality, dataset and trend gaps", key="gap_more",
                     help="These tables read every work of the graph: seconds on a large graph."):
        return
    tables = data.gap_tables()
    modal, datasets, trends = st.tabs(["Modalities", "Datasets and benchmarks", "Trends"])
    with modal:
        st.caption("Which input and output modalities the field covers, and in which categories.")
        st.dataframe(ui.flat(tables["modalities"]), hide_index=True, width="stretch")
    with datasets:
        st.caption("Categories and tasks without a benchmark dataset are dataset gaps.")
        st.dataframe(ui.flat(tables["datasets"]), hide_index=True, width="stretch")
    with trends:
        st.caption("Cells growing or fading over the years.")
        st.dataframe(ui.flat(tables["trends"]), hide_index=True, width="stretch")
