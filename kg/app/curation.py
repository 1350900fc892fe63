"""Curation on a paper page: accept or change its labels through kg.classify.curation.curate,
which appends the decision to <store>/curation.yaml (with who and when) and rebuilds the graph,
so the decision shows at once and survives every later rebuild."""

from __future__ import annotations

import streamlit as st

from kg.analysis.browse import PaperPage
from kg.classify.curation import default_curator
from kg.errors import KgError

from . import data, ui

DONE_KEY = "_curation_done"
# decision key -> (taxonomy axis of its concepts, label shown)
FIELDS = {"category": ("category", "Category"), "mechanism": ("mechanism", "Mechanisms"),
          "input_modality": ("modality", "Input modalities"), "output_modality": ("modality", "Output modalities")}


def form(page: PaperPage) -> None:
    done = st.session_state.pop(DONE_KEY, None)
    if done:
        st.success(done, icon=":material/check_circle:")
    corpus = data.taxonomy()  # the taxonomy's concepts only: no work is read
    with st.expander("Curate: accept or change these labels", icon=":material/edit:"):
        st.caption("Saving records your decision in the store's curation.yaml with your name and the time, then "
                   "rebuilds the graph. Curated labels win over the survey table, the list and the classifier, "
                   "and survive rebuilds. Saving unchanged labels accepts them.")
        with st.form(f"curate_{page.work}", border=False):
            chosen: dict[str, list[str]] = {}
            current = {axis: [n for n, _ in concepts] for axis, concepts in page.labels.items()}
            for key, (axis, title) in FIELDS.items():
                options = corpus.notation_labels(axis)
                now = [n for n in current.get(key, []) if n in options]
                if key == "category":
                    value = st.selectbox(title, list(options), index=list(options).index(now[0]) if now else None,
                                         format_func=options.get, placeholder="not placed",
                                         key=f"cur_{key}_{page.work}")
                    chosen[key] = [value] if value else []
                else:
                    chosen[key] = st.multiselect(title, list(options), default=now, format_func=options.get,
                                                 key=f"cur_{key}_{page.work}")
            c1, c2 = st.columns(2)
            by = c1.text_input("Your name", value=default_curator(), key="cur_by")
            note = c2.text_input("Note (optional)", key="cur_note", placeholder="why, e.g. Sec. 4.2 of the paper")
            submitted = st.form_submit_button("Save decision", type="primary", icon=":material/save:")
        if submitted:
            labels = {k: v for k, v in chosen.items() if v}
            from kg.pipeline import curate

            try:
                with data.build_lock(), st.spinner("Saving the decision and rebuilding the graph…"):
                    decision = curate(data.store(), page.work, labels, by=by.strip() or None,
                                      note=note.strip() or None)
            except KgError as exc:
                ui.show_error(exc)
                return
            st.session_state[DONE_KEY] = (f"Saved {decision['display']}: "
                                          + "; ".join(f"{k.replace('_', ' ')} {', '.join(v)}"
                                                      for k, v in labels.items())
                                          + f" (by {decision['by']}, {decision['at']}).")
            st.rerun()
