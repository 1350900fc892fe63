"""Method combinations: which concepts occur together in papers, and the ranked
combinations nobody has tried although both parts are common."""

from __future__ import annotations

import streamlit as st

from kg import analysis

from kg.analysis import views

from . import charts, data

KIND_LABELS = {"category": "categories", "mechanism": "mechanisms", "input": "input modalities",
               "output": "output modalities", "task": "tasks", "metric": "metrics", "dataset": "datasets",
               "method": "named methods"}


def render() -> None:
    st.markdown("Mechanisms, modalities, datasets, tasks and methods that appear together in papers, and the "
                "pairs that never do although each part is common: candidate research directions.")
    c1, c2, c3 = st.columns([4, 2, 1], gap="medium")
    kinds = c1.multiselect("Concept kinds", list(analysis.KINDS), default=list(analysis.DEFAULT_KINDS),
                           key="combo_kinds", format_func=lambda k: KIND_LABELS.get(k, k))
    method = c2.selectbox("Score", analysis.METHODS, key="combo_method",
                          format_func=lambda m: m.replace("_", "-").capitalize())
    support = c3.number_input("Min. papers", min_value=1, max_value=100, value=2, key="combo_support",
                              help="Each part of a combination must occur in at least this many papers.")
    if not kinds:
        st.warning("Pick at least one concept kind.", icon=":material/filter_alt_off:")
        return
    if not _asked(kinds, method, int(support)):
        return
    with st.spinner("Counting the combinations…", show_time=True):
        pairs, unexplored = data.combinations(kinds, method, int(support))
    # One below the other, each the page's full width: side by side, the matrix ran under the
    # table at 1400 px and the table's score column was cut off.
    st.subheader("Co-occurrence")
    if pairs.empty:
        st.info("No paper carries concepts of these kinds yet.")
    else:
        st.caption("Papers holding both concepts (the 30 most frequent concepts); pale = never together.")
        st.altair_chart(charts.cooccurrence_heatmap(pairs), width="content")
    st.subheader("Unexplored combinations")
    if unexplored.empty:
        st.info("No unexplored combination: every pair of common concepts already occurs together, or too "
                "few concepts reach the minimum number of papers. Lower “Min. papers” or add kinds.")
    else:
        st.caption(f"{len(unexplored)} pairs, best first.")
        st.dataframe(views.with_kinds(unexplored), hide_index=True, width="stretch",
                     height=min(520, 35 * (len(unexplored) + 1) + 3),
                     column_order=["score", "concept", "with", "a_count", "b_count", "expected", "common"],
                     column_config={"score": st.column_config.NumberColumn(format="%.3f", width=70),
                                    "concept": st.column_config.TextColumn("concept", width=230),
                                    "with": st.column_config.TextColumn("never with", width=230),
                                    "a_count": st.column_config.NumberColumn(
                                        "papers", help="Papers with the first concept"),
                                    "b_count": st.column_config.NumberColumn(
                                        "papers ", help="Papers with the second concept (never with the first)"),
                                    "expected": st.column_config.NumberColumn(
                                        format="%.2f", help="Papers expected to combine them under independence"),
                                    "common": st.column_config.NumberColumn(
                                        help="Concepts co-occurring with both")})
    with st.expander("How the score works"):
        st.write(analysis.COMBINATION_EXPLANATION)


ASKED_KEY = "_combo_asked"


def _asked(kinds: list[str], method: str, support: int) -> bool:
    """Whether to show the combinations now: kept for this build of the graph already, or asked for
    (they read every work's concepts, which takes a while on a large graph; then kept)."""
    settings = (tuple(kinds), method, support)
    asked = st.session_state.setdefault(ASKED_KEY, set())
    if settings in asked or not data.asks_first() or data.combinations_ready(kinds, method, support):
        return True
    st.info("Counting the combinations reads every work's concepts; once counted they are kept for this build "
            "of the graph.", icon=":material/info:")
    if st.button("Count the combinations", icon=":material/join_inner:", type="primary", key="combo_count"):
        asked.add(settings)
        return True
    with st.expander("How the score works"):
        st.write(analysis.COMBINATION_EXPLANATION)
    return False
