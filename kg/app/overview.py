"""Overview: what the graph holds, papers per year, latest additions, where the data came from."""

from __future__ import annotations

import streamlit as st

from . import charts, data, ui


def render() -> None:
    stats = data.stats()
    st.markdown("A knowledge graph of a research field: the works a survey placed in its taxonomy, "
                "the papers a community list tracks, and the candidates neither has placed yet.")
    cells = stats.get("cells", {})
    filled = sum(1 for n in cells.values() if n)
    ui.metric_row([
        ("Papers", stats["papers"], "Works in the graph (one node per work, merged across sources)."),
        ("Surveyed", stats["surveyed"], "Works the corpus declares as covered by the survey (by default its own table)."),
        ("Listed", stats["listed"], "Papers of the curated awesome list."),
        ("Candidates", stats["candidates"], "Works not (yet) placed in the taxonomy."),
        ("Cells filled", f"{filled} / {len(cells)}", "Taxonomy cells (category x mechanism) holding a paper."),
    ])
    ui.metric_row([
        ("Authors", stats["authors"], None),
        ("Datasets", stats["datasets"], "Datasets and benchmarks."),
        ("Citation links", stats["citations"], "cito:cites links between works."),
        ("Labelled works", stats["labelled"], "Works with a taxonomy category."),
        ("Triples", f"{stats['triples']:,}", "RDF statements in the graph."),
    ])
    more = data.overview()
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.subheader("Papers per year")
        if more["per_year"]:
            st.altair_chart(charts.year_bars(more["per_year"]), width="stretch")
        else:
            st.info("No paper in the graph has a publication year yet.")
    with right:
        st.subheader("Latest additions")
        st.dataframe(ui.with_paper_links(more["latest"]), hide_index=True, width="stretch", height=300,
                     column_order=["label", "year", "added", ui.PAPER_LINK],
                     column_config={"label": st.column_config.TextColumn("work", width="medium"),
                                    "year": st.column_config.NumberColumn("year", format="%d"),
                                    "added": "source date", ui.PAPER_LINK: ui.paper_link_column()})
        st.caption("In the order the works entered the graph: the date of the source that first brought each "
                   "in (a harvest, an import, the survey's table), not when the classifier last ran.")
    st.subheader("Where the data came from")
    st.dataframe(more["sources"], hide_index=True, width="stretch",
                 column_order=["title", "agent", "retrieved", "works", "labels", "url"],
                 column_config={"title": st.column_config.TextColumn("source", width="large"),
                                "agent": "attributed to", "retrieved": "retrieved",
                                "works": st.column_config.NumberColumn("works", help="Works derived from it"),
                                "labels": st.column_config.NumberColumn("labels", help="Label assertions from it"),
                                "url": st.column_config.LinkColumn("link")})
    info = data.store_info()
    built = f", built {info['built_at']}" if info.get("built_at") else ""
    st.caption(f"Graph store `{ui.display_path(info['location'])}`{built}"
               + ". Every number here comes from the named queries `stats`, `papers`, `recent-works` and `sources` "
                 "(see the SPARQL page).")
