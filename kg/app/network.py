"""Citation network: pyvis drawing (in-line, no CDN) with filters, beside the most central papers."""

from __future__ import annotations

import html

import streamlit as st

from kg.analysis.citations import GROW_CITATIONS, rank_text

from . import data, network_drawing, ui


def render() -> None:
    net = data.network()  # the generation's stored citation table (PageRank, communities); no corpus, no links
    metrics, cat_labels = net["metrics"], net["categories"]
    st.markdown("Works linked by the citations the graph holds. Colour shows the taxonomy category (or the "
                "citation community), size the number of in-corpus citations; the survey is drawn as a star, "
                "candidates as triangles. Hover a node for its details; drag to rearrange, scroll to zoom.")
    known = net["sources"]
    if known["note"]:
        st.info(known["note"], icon=":material/info:")
    span = net["span"]
    c1, c2, c3 = st.columns([3, 3, 2], gap="medium")
    categories = c1.multiselect("Categories", [*cat_labels, network_drawing.NO_CATEGORY], default=None,
                                key="net_categories", format_func=lambda c: cat_labels.get(c, "not in the taxonomy"),
                                placeholder="all categories")
    # communities (Louvain) come with the generation's stored citation table
    community_ids = sorted(int(c) for c in set(metrics["community"]) if int(c) >= 0)
    sizes = metrics["community"].value_counts()
    communities = c2.multiselect("Communities", community_ids, default=None, key="net_communities",
                                 format_func=lambda c: f"community {c + 1} ({int(sizes.get(c, 0))} works)",
                                 placeholder="all communities")
    color_by = c3.radio("Colour by", network_drawing.COLOR_BY, horizontal=True, key="net_color")
    c4, c5, c6, c7 = st.columns([3, 2, 2, 1], gap="medium")
    years = None
    if span and span[0] < span[1]:
        chosen = c4.slider("Publication years", span[0], span[1], span, key="net_years")
        years = None if tuple(chosen) == span else tuple(chosen)
    candidates = c5.toggle("Show candidates", value=True, key="net_candidates")
    linked_only = c6.toggle("Only linked works", value=True, key="net_linked",
                            help="Hide works without any citation link in the graph.")
    cap = c7.number_input("Max nodes", min_value=10, max_value=1000, value=network_drawing.DEFAULT_MAX_NODES, step=10,
                          key="net_cap")
    selection = network_drawing.select_nodes(metrics, years=years, categories=categories or None,
                                    communities=communities or None, candidates=candidates,
                                    linked_only=linked_only, max_nodes=int(cap))
    if not selection.nodes:
        st.warning("No work matches these filters. Clear a filter or turn off “Only linked works”.",
                   icon=":material/filter_alt_off:")
        return
    if selection.capped:
        st.info(f"Showing the {len(selection.nodes)} most central of {selection.matching} matching works "
                "(by PageRank). Narrow the filters or raise “Max nodes” to draw more." + _cut_tie(metrics, selection),
                icon=":material/info:")
    left, right = st.columns([5, 3], gap="medium")
    with left:
        st.iframe(data.network_html(selection.nodes, color_by), height=640)
        _legend(color_by, cat_labels, metrics, selection.nodes)
    with right:
        st.subheader("Most central papers")
        shown = metrics[metrics["work"].isin(selection.nodes)]
        table = shown.assign(category=shown["category"].map(
            lambda c: network_drawing.category_of(c).replace("_", " ").replace(network_drawing.NO_CATEGORY, "—")),
            rank=[rank_text(r, t) for r, t in zip(shown["rank"], shown["tied"])])
        st.dataframe(ui.with_paper_links(table), hide_index=True, width="stretch", height=560,
                     column_order=["rank", "label", "year", "category", "cited_by", "references", "pagerank",
                                   "community", ui.PAPER_LINK],
                     column_config={"rank": st.column_config.TextColumn(
                                        "rank", help="PageRank's rank; works whose scores are equal share one "
                                                     "rank (a tie, not an order)"),
                                    "label": st.column_config.TextColumn("work", width="medium"),
                                    "year": st.column_config.NumberColumn(format="%d"),
                                    "cited_by": st.column_config.NumberColumn("cited by", help="In-corpus citations"),
                                    "references": st.column_config.NumberColumn("cites"),
                                    "pagerank": st.column_config.NumberColumn("PageRank", format="%.4f"),
                                    "community": st.column_config.NumberColumn("comm.", help="-1 = no link"),
                                    ui.PAPER_LINK: ui.paper_link_column()})
        _ties_caption(shown)
    drawn = data.drawn_citations(selection.nodes)
    st.caption(f"{len(selection.nodes)} works and {drawn} citations drawn.")


def _cut_tie(metrics, selection) -> str:
    """When the cap cuts through a tie, which of the tied works are drawn is not a ranking."""
    drawn = metrics[metrics["work"].isin(selection.nodes)]
    if drawn.empty:
        return ""
    last = drawn.iloc[-1]
    if int(last["tied"]) <= 1 or int((drawn["rank"] == last["rank"]).sum()) >= int(last["tied"]):
        return ""
    return (f" The cut falls inside a tie: {int(last['tied'])} works share rank {int(last['rank'])}, and the ones "
            "drawn were picked by citations and name, not by centrality.")


def _ties_caption(shown) -> None:
    """Say which ranks are ties: tied works are listed by citations and name, not ranked."""
    tied = shown[shown["tied"] > 1].drop_duplicates("rank")
    if tied.empty:
        return
    parts = [f"{int(t)} works share rank {int(r)}" for r, t in zip(tied["rank"], tied["tied"])][:3]
    more = f" and {len(tied) - 3} more ties" if len(tied) > 3 else ""
    st.caption("Tied PageRank: " + "; ".join(parts) + more + ". Within a tie the table lists works by "
               "in-corpus citations, then name: that order is not a ranking. "
               f"More citation data (`{GROW_CITATIONS}`) can separate them.")


def _legend(color_by: str, cat_labels: dict, metrics, nodes: list[str]) -> None:
    if color_by == "category":
        colors = network_drawing.category_colors(list(cat_labels))
        items = [(colors[c], cat_labels[c]) for c in cat_labels] + [(network_drawing.GREY, "not in the taxonomy")]
    else:
        colors = network_drawing.community_colors(metrics["community"])
        shown = sorted(set(metrics[metrics["work"].isin(nodes)]["community"]))
        items = [(colors[int(c)], f"community {int(c) + 1}" if c >= 0 else "no citation link") for c in shown]
    chips = " ".join(f"<span style='white-space:nowrap;margin-right:14px'><span style='display:inline-block;"
                     f"width:11px;height:11px;border-radius:50%;background:{color};margin-right:5px'></span>"
                     f"{html.escape(label)}</span>" for color, label in items)
    st.markdown(f"<div style='font-size:0.85rem'>{chips}</div>", unsafe_allow_html=True)
