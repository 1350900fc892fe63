"""Screening: the undecided work most worth a decision (highest relevance by the scope model,
retrained on every decision so far), with its title, abstract, relevance and predicted labels,
and include / exclude buttons that record the decision through kg.classify.screen.decide (the
store's curation.yaml, then a rebuild that refreshes the ranking)."""

from __future__ import annotations

import streamlit as st

from kg.classify.curation import default_curator
from kg.errors import KgError

from . import data, ui

SKIPPED_KEY = "_screen_skipped"
DONE_KEY = "_screen_done"
QUEUE_SHOWN = 25


def render() -> None:
    st.markdown("Decide which works belong to the survey's field, most promising first. The ranking is the "
                "scope model's relevance (similarity to the in-scope works, to the taxonomy and to excluded "
                "works, calibrated to a probability), retrained after every decision.")
    state, queued = data.screening()
    p = state.progress
    ui.metric_row([
        ("Decided", p.decided, f"In scope {p.in_scope} (survey table, list, people), excluded {p.excluded}."),
        ("By people", p.decided_by_people, "Works whose scope a person's decision set (include, exclude, labels)."),
        ("Undecided", p.undecided, "Works nobody has decided on yet (harvests, imports, possible matches)."),
        ("Estimated relevant left", f"{p.estimated_relevant_left:.1f}",
         "The sum of the undecided works' relevance: how many of them the model expects to belong."),
    ])
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    skipped = st.session_state.setdefault(SKIPPED_KEY, [])
    item = next((i for i in state.queue if i.work not in skipped), None)
    if item is None:
        st.info("Nothing left to screen: every work is decided." if not state.queue
                else "Every undecided work was skipped in this session.", icon=":material/done_all:")
        if skipped and st.button("Show the skipped works again", key="screen_unskip"):
            st.session_state[SKIPPED_KEY] = []
            st.rerun()
        return
    _work(item)
    _queue(state.queue, queued)


def _work(item) -> None:
    title, abstract = data.work_text(item.work)
    st.subheader(title or item.label, anchor=False)
    meta = [str(item.year)] if item.year else []
    meta += [item.handle]
    st.caption(" · ".join(ui.md(m) for m in meta))
    rel = item.relevance or 0.0
    st.progress(min(max(rel, 0.0), 1.0), text=f"relevance {rel:.2f}")
    if item.why:
        st.caption(ui.md(item.why))
    if abstract:
        st.markdown(ui.md(abstract))
    else:
        st.caption("No abstract in the graph.")
    labels = data.predicted_labels(item.work)
    if labels:
        st.markdown("**Predicted labels** (in the graph, by the classifier)")
    elif title or abstract:
        labels = _suggestion(item.work, title, abstract)
    for axis, values in labels.items():
        if values:
            st.markdown(f"- {ui.md(axis.replace('_', ' '))}: "
                        + ", ".join(f"{ui.md(str(v))} {c:.2f}" for v, c in values))
    try:
        data.store().require_local("screening decisions")
    except KgError:
        st.info("Decisions are kept in the curation file beside a local store; this app reads a remote store, "
                "so it shows the ranking only.", icon=":material/info:")
        return
    with st.form(f"screen_{item.work}", border=False):
        c1, c2 = st.columns(2)
        by = c1.text_input("Your name", value=default_curator(), key="screen_by")
        reason = c2.text_input("Reason (optional)", key="screen_reason", placeholder="e.g. economics, not about LLMs")
        b1, b2, b3 = st.columns(3)
        include = b1.form_submit_button("Include", type="primary", icon=":material/add_circle:", width="stretch")
        exclude = b2.form_submit_button("Exclude", icon=":material/block:", width="stretch")
        skip = b3.form_submit_button("Skip for now", icon=":material/skip_next:", width="stretch")
    if skip:
        st.session_state[SKIPPED_KEY] = [*st.session_state.get(SKIPPED_KEY, []), item.work]
        st.rerun()
    if include or exclude:
        _decide(item, "include" if include else "exclude", by.strip() or None, reason.strip() or None)


SUGGEST_KEY = "_screen_suggest"


def _suggestion(work: str, title: str, abstract: str) -> dict:
    """The classifier's labels for a work it has not placed: on a large graph asked for with a
    button, since the classifier is first read from the graph (its kept model, or trained on every
    labelled work)."""
    asked = st.session_state.setdefault(SUGGEST_KEY, set())
    if work not in asked and data.asks_first():
        if not st.button("Suggest labels", icon=":material/auto_awesome:", key=f"screen_suggest_{work}",
                         help="What the classifier, trained on the graph's labelled works, would predict "
                              "for this work (reading the graph's works takes a while on a large graph)."):
            return {}
        asked.add(work)
    with st.spinner("Reading the classifier from the graph…", show_time=True):
        labels = data.suggested_labels(title, abstract)
    st.markdown("**Predicted labels** (the classifier's suggestion; not placed while the work is undecided "
                "and below the relevance threshold)")
    return labels


def _decide(item, decision: str, by: str | None, reason: str | None) -> None:
    from kg.pipeline import decide

    try:
        with data.build_lock(), st.spinner("Recording the decision, rebuilding and refreshing the ranking…"):
            recorded = decide(data.store(), item.work, decision, by=by, reason=reason)
    except KgError as exc:
        ui.show_error(exc)
        return
    st.session_state[DONE_KEY] = (f"{decision.capitalize()}d {recorded['display']} (by {recorded['by']}, "
                                  f"{recorded['at']})" + (f": {recorded['reason']}" if recorded.get("reason") else "."))
    st.rerun()


def _queue(queue, queued: int) -> None:
    st.subheader("Up next", anchor=False)
    rows = [{"work": i.work, "label": i.label, "year": i.year, "relevance": i.relevance or 0.0}
            for i in queue[:QUEUE_SHOWN]]
    st.dataframe(ui.with_paper_links(rows), hide_index=True, width="stretch",
                 column_order=["relevance", "label", "year", ui.PAPER_LINK],
                 column_config={"label": "work", "year": st.column_config.NumberColumn(format="%d"),
                                "relevance": st.column_config.ProgressColumn("relevance", min_value=0.0,
                                                                             max_value=1.0, format="%.2f"),
                                ui.PAPER_LINK: ui.paper_link_column()})
    if queued > QUEUE_SHOWN:
        st.caption(f"… and {queued - QUEUE_SHOWN} more (`kg screen --list` lists them all).")
