"""Papers: search by title, author or identifier; one paper's page with labels, confidence,
provenance, citations in and out, links; curation of its labels."""

from __future__ import annotations

import streamlit as st

from kg.errors import KgError

from . import curation, data, ui

SEARCH_KEY = "paper_search"
WORK_KEY = "paper_work"
AXIS_NAMES = {"category": "Category", "mechanism": "Mechanism", "input_modality": "Input", "output_modality": "Output",
              "task": "Task", "metric": "Metric"}
AXIS_COLORS = {"category": "blue", "mechanism": "violet", "input_modality": "green", "output_modality": "orange",
               "task": "gray", "metric": "gray"}


def render() -> None:
    _open_from_link()
    left, right = st.columns([2, 3], gap="large")
    with left:
        text = st.text_input("Search by title, author or identifier", key=SEARCH_KEY,
                             placeholder="e.g. Yo'LLaVA, Nguyen, 2406.09400, 10.1145/…",
                             help="Every word must match the title, an author or the venue; an arXiv id (any "
                                  "spelling), DOI, Semantic Scholar id or citation key matches exactly.")
        try:
            hits = data.search(text) if text.strip() else _browse()
        except KgError as exc:
            ui.show_error(exc)
            hits = []
        if text and not hits:
            st.info(f"No paper matches “{text.strip()[:80]}”. Try fewer words, or an identifier.",
                    icon=":material/search_off:")
        elif hits:
            st.caption(f"{len(hits)} paper{'s' if len(hits) != 1 else ''}"
                       + (" (best match first)" if text.strip() else ""))
            rows = [{"work": h.label, "year": h.year, "matched": h.matched, "candidate": h.candidate} for h in hits]
            event = st.dataframe(rows, hide_index=True, width="stretch", height=min(560, 38 + 35 * len(rows)),
                                 key="paper_hits",
                                 on_select="rerun", selection_mode="single-row",
                                 column_config={"year": st.column_config.NumberColumn(format="%d"),
                                                "candidate": st.column_config.CheckboxColumn(width="small")},
                                 column_order=["work", "year", "matched", "candidate"] if text.strip()
                                 else ["work", "year", "candidate"])
            chosen = event.selection.rows if event else []
            if chosen:
                st.session_state[WORK_KEY] = hits[chosen[0]].work
            elif len(hits) == 1 and text.strip():
                st.session_state[WORK_KEY] = hits[0].work
    with right:
        work = st.session_state.get(WORK_KEY)
        if not work:
            st.info("Pick a paper from the list to see its page.", icon=":material/arrow_back:")
            return
        _paper(work)


def _browse():
    """Without a search, a page of the works (the whole index is read only for a search)."""
    page = int(st.number_input(f"Page ({data.INDEX_PAGE} works each, by name within the page)", min_value=1,
                               value=1, key="paper_page"))
    hits = data.browse_page(page)
    if not hits and page > 1:
        st.info(f"The graph has fewer than {page} pages of works.", icon=":material/last_page:")
    return hits


SCOPE_BADGES = {"in": ("in scope", "green"), "out": ("excluded", "red"), "undecided": ("scope undecided", "orange")}


def _scope(page) -> None:
    """The work's scope status, the scope model's relevance, and who decided the status, when and why."""
    scope = page.scope
    if not scope.get("status"):
        return
    text, color = SCOPE_BADGES.get(scope["status"], (scope["status"], "gray"))
    relevance = f" &nbsp; relevance **{scope['relevance']:.2f}**" if "relevance" in scope else ""
    st.markdown(f"**Scope** &nbsp; :{color}-badge[{text}]{relevance}")
    who = "decided by " + ui.md(scope.get("decidedBy") or "?") if scope["status"] != "undecided" \
        else "relevance by " + ui.md(scope.get("decidedBy") or "the scope model")
    parts = [who] + [ui.md(str(scope[k])) for k in ("source", "at") if scope.get(k)]
    st.caption(" · ".join(parts) + (f": {ui.md(scope['why'])}" if scope.get("why") else ""))


def _open_from_link() -> None:
    """?id=<arXiv id, DOI, citation key or IRI> opens that paper (links from other pages, bookmarks)."""
    ref = st.query_params.get("id")
    if ref and st.session_state.get("_paper_link") != ref:
        st.session_state["_paper_link"] = ref
        st.session_state[WORK_KEY] = ref


def _mentions(page) -> None:
    """The methods and datasets the paper names, each with the sentence it was read in."""
    if not page.mentions:
        return
    st.subheader("Methods and datasets it names", anchor=False)
    st.caption("Read from the title and abstract by `kg classify`; predicted ones are names nothing else in the "
               "graph holds (rename, merge or reject them with `kg curate --entity`).")
    st.dataframe(page.mentions, hide_index=True, width="stretch",
                 column_order=["relation", "name", "predicted", "confidence", "text", "field", "cue", "sentence"],
                 column_config={"confidence": st.column_config.ProgressColumn(
                                    "confidence", min_value=0.0, max_value=1.0, format="%.2f"),
                                "predicted": st.column_config.CheckboxColumn("predicted"),
                                "text": "as written"})


def _paper(work: str) -> None:
    page = data.paper(work)
    st.header(ui.md(page.label), anchor=False)
    if page.title and page.title != page.label:
        st.markdown(f"**{ui.md(page.title)}**")
    meta = [", ".join(page.authors[:8]) + (" et al." if len(page.authors) > 8 else "")] if page.authors else []
    meta += [str(page.year)] if page.year else []
    meta += [page.venue] if page.venue else []
    if meta:
        st.markdown(ui.md(" · ".join(meta)))
    flags = []
    if page.candidate:
        flags.append(("candidate: not yet placed in the taxonomy", "orange"))
    if page.resolution and page.resolution != "verified":
        flags.append((f"resolution: {page.resolution}", "gray"))
    if page.subsection:
        flags.append((f"survey section {page.subsection}", "blue"))
    for (text, color), col in zip(flags, st.columns(len(flags) or 1)):
        col.badge(text, color=color)
    _scope(page)
    if page.links:
        for (name, url), col in zip(page.links[:6], st.columns(min(len(page.links), 6))):
            col.link_button(name, url, icon=":material/open_in_new:", width="stretch")
    if page.tldr:
        st.markdown(f"**TL;DR** {ui.md(page.tldr)}")
    if page.abstract:
        with st.expander("Abstract"):
            st.markdown(ui.md(page.abstract))

    st.subheader("Taxonomy labels", anchor=False)
    if page.labels:
        for axis, concepts in page.labels.items():
            color = AXIS_COLORS.get(axis, "gray")
            badges = " ".join(f":{color}-badge[{ui.md(label)}]" for _notation, label in concepts)
            st.markdown(f"**{AXIS_NAMES.get(axis, axis)}** &nbsp; {badges}")
    else:
        st.caption("No taxonomy label yet.")
    if page.assertions:
        with st.expander(f"Provenance: {len(page.assertions)} label assertions", expanded=True):
            st.dataframe(page.assertions, hide_index=True, width="stretch",
                         column_order=["axis", "conceptLabel", "confidence", "effective", "agent", "sourceTitle",
                                       "at", "evidence"],
                         column_config={"conceptLabel": "concept",
                                        "confidence": st.column_config.ProgressColumn(
                                            "confidence", min_value=0.0, max_value=1.0, format="%.2f"),
                                        "effective": st.column_config.CheckboxColumn(
                                            "in effect", help="Curated labels win; otherwise the most confident"),
                                        "agent": "asserted by", "sourceTitle": "source", "at": "when"})
    _mentions(page)
    curation.form(page)

    cites, cited = st.columns(2, gap="medium")
    for col, title, rows in ((cites, "Cites", page.cites), (cited, "Cited by", page.cited_by)):
        with col:
            st.subheader(f"{title} ({len(rows)})", anchor=False)
            if rows:
                st.dataframe(ui.with_paper_links(rows), hide_index=True, width="stretch",
                             column_order=["label", "year", "in_taxonomy", ui.PAPER_LINK],
                             column_config={"label": "work", "year": st.column_config.NumberColumn(format="%d"),
                                            "in_taxonomy": st.column_config.CheckboxColumn("in taxonomy"),
                                            ui.PAPER_LINK: ui.paper_link_column()})
            else:
                st.caption("None in the graph.")
    if page.datasets or page.identifiers:
        d, i = st.columns(2, gap="medium")
        with d:
            st.subheader("Datasets", anchor=False)
            for name, relation in page.datasets:
                st.markdown(f"- {relation} **{ui.md(name)}**")
            if not page.datasets:
                st.caption("None linked.")
        with i:
            st.subheader("Identifiers", anchor=False)
            for kind, value in page.identifiers:
                st.markdown(f"- {kind}: `{value.replace('`', '')}`")
    st.caption(f"IRI `{page.work}` · sources: " + "; ".join(page.sources))
