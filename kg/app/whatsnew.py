"""What's new: pick two states of the graph (snapshots, the previous build, now) and see what
changed between them (kg.analysis.diff): a heat map of the cells' count changes and the new
works with their placement and relevance."""

from __future__ import annotations

import altair as alt
import pandas as pd
import streamlit as st

from . import data, ui

ASKED_KEY = "_whatsnew_asked"


def change_heatmap(cells: list[dict]) -> alt.Chart:
    """Category x mechanism: the change in each changed cell's count (green up, red down)."""
    frame = pd.DataFrame([{"category": c["category"], "mechanism": c["mechanism"], "change": c["change"],
                           "text": f"{c['change']:+d}" + (f" {c['became']}" if c["became"] else "")}
                          for c in cells])
    base = alt.Chart(frame).encode(x=alt.X("mechanism:N", title="mechanism"), y=alt.Y("category:N", title="category"))
    rects = base.mark_rect().encode(color=alt.Color("change:Q", scale=alt.Scale(scheme="redyellowgreen", domainMid=0)),
                                    tooltip=["category", "mechanism", "change", "text"])
    return rects + base.mark_text().encode(text="text:N")


def new_work_rows(works: list[dict]) -> list[dict]:
    """The new works as table rows, title and cells first (the IRI stays for the page link, hidden):
    the works placed in a cell first, then the most relevant, then by title."""
    from ..analysis.diff import labels_text

    ordered = sorted(works, key=lambda w: (not w["cells"], -(w["relevance"] or 0.0),
                                           (w["title"] or w["label"]).lower()))
    return [{"work": w["work"], "title": w["title"] or w["label"], "cells": ", ".join(w["cells"]),
             "status": w["status"], "relevance": w["relevance"], "id": w["id"],
             "labels": "; ".join(f"{axis}: {labels_text(v)}" for axis, v in w["labels"].items())}
            for w in ordered]


def render() -> None:
    from ..analysis.diff import headline, lines
    from ..store.snapshots import snapshots

    store = data.store()
    store.require_local("comparing snapshots", hint="Snapshots name generation folders of a local store.")
    names = [s.name for s in snapshots(store.path)]
    choices = [*reversed(names), "previous", "current"]
    left, right = st.columns(2)
    old = left.selectbox("From", choices, index=0, key="whatsnew_from",
                         help="A snapshot (kg snapshot create), or the build before the current one.")
    new = right.selectbox("To", choices, index=len(choices) - 1, key="whatsnew_to")
    asked = st.session_state.setdefault(ASKED_KEY, set())
    if (old, new) not in asked and data.asks_first() and not data.diff_ready(old, new):
        # a large graph: compared when asked (every work of both builds is read), then kept
        st.info("Comparing reads every work of both states of the graph; once made, the comparison is kept "
                "with this build.", icon=":material/info:")
        if not st.button("Compare", icon=":material/compare_arrows:", type="primary", key="whatsnew_compare"):
            return
        asked.add((old, new))
    with st.spinner("Comparing…", show_time=True):
        diff = data.diff(old, new)
    st.markdown(ui.md(headline(diff)))
    if diff["cells"]:
        st.subheader("Cells whose counts changed")
        st.altair_chart(change_heatmap(diff["cells"]), width="stretch")
    if diff["works_added"]:
        st.subheader("New works")
        st.caption("The works placed in a cell first, then the most relevant.")
        st.dataframe(ui.with_paper_links(pd.DataFrame(new_work_rows(diff["works_added"]))),
                     hide_index=True, column_config={"work": None, "title": st.column_config.TextColumn(width="large"),
                                    "cells": st.column_config.TextColumn(width="medium"),
                                    ui.PAPER_LINK: ui.paper_link_column()})
    for name, items in lines(diff):
        if items and name != "Works added":
            with st.expander(f"{name} ({len(items)})"):
                st.markdown("\n".join(f"- {ui.md(x)}" for x in items))
