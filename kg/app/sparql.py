"""SPARQL: an editor with the named queries to start from, a results table and downloads.

Read-only (the guard refuses updates, LOAD and SERVICE), with a row and a time limit;
errors (syntax with line and column, refusals, limits) are shown in the page.
"""

from __future__ import annotations

import json

import streamlit as st

from kg.analysis.browse import binding_value
from kg.output.csvfile import query_result_csv
from kg.vocab import compact
from kg.errors import KgError
from kg.sparql.named import named_queries
from kg.sparql.text import variables

from . import data, ui

TEXT_KEY = "sparql_text"
PICK_KEY = "sparql_named"
RESULT_KEY = "sparql_result"
OWN = ""
STARTER = "papers"  # the named query the editor starts with


def _load_named() -> None:
    name = st.session_state.get(PICK_KEY)
    if name:
        st.session_state[TEXT_KEY] = named_queries()[name].text


def render() -> None:
    queries = named_queries()
    st.markdown("Ask the graph anything in SPARQL 1.1. Queries are read-only (INSERT, DELETE, LOAD, CLEAR, DROP, "
                "CREATE and SERVICE are refused) and bounded in rows and time. The prefixes `kg`, `skos`, "
                "`dcterms`, `fabio`, `cito`, `prism`, `foaf`, `dcat`, `prov`, `schema`, `rdfs` and `xsd` are "
                "predeclared.")
    st.session_state.setdefault(PICK_KEY, STARTER)
    st.session_state.setdefault(TEXT_KEY, queries[STARTER].text)
    st.html("<style>.st-key-sparql_text textarea {font-family: 'Source Code Pro', monospace; font-size: 0.85rem; "
            "white-space: pre; overflow-wrap: normal; overflow-x: auto;}</style>")
    left, right = st.columns([3, 1], gap="medium")
    with right:
        name = st.selectbox("Start from a named query", [OWN, *queries], key=PICK_KEY, on_change=_load_named,
                            format_func=lambda n: "— your own query —" if n == OWN else n)
        if name:
            st.caption(queries[name].answers)
            if queries[name].page_size:
                st.caption(f"A paged listing: the text answers page one ({queries[name].page_size} works); "
                           "raise the OFFSET for the next pages.")
        bindings = {}
        for param in queries[name].params if name else ():
            hint = "an arXiv id, DOI, citation key or IRI" if param == "id" else f"a {param} notation, as papers-by-cell lists them"
            value = st.text_input(f"?{param}", key=f"sparql_bind_{name}_{param}", placeholder=hint)
            if value.strip():
                bindings[param] = binding_value(value)
        max_rows = st.number_input("Max rows", min_value=1, max_value=100_000, value=1000, step=100,
                                   key="sparql_rows")
        timeout = st.number_input("Time limit (s)", min_value=1.0, max_value=120.0, value=10.0, step=1.0,
                                  format="%.0f", key="sparql_timeout")
        short = st.toggle("Short IRIs", value=True, key="sparql_short", help="Show kg: and other prefixes")
    with left:
        text = st.text_area("Query", key=TEXT_KEY, height=300)
        run = st.button("Run query", type="primary", icon=":material/play_arrow:", key="sparql_run")
    if run:
        # a parameter binds only while the query still uses that variable
        used = variables(text)
        bindings = {p: v for p, v in bindings.items() if p in used}
        missing = [p for p in (queries[name].params if name else ()) if p not in bindings]
        if missing and name and queries[name].text.strip() == text.strip():
            st.session_state[RESULT_KEY] = None
            ui.show_error(KgError(f"the query {name!r} needs a value for ?{missing[0]}",
                                  hint=queries[name].answers))
            return
        try:
            st.session_state[RESULT_KEY] = data.query(text, bindings, int(max_rows), float(timeout))
        except KgError as exc:
            st.session_state[RESULT_KEY] = None
            ui.show_error(exc)
            return
    result = st.session_state.get(RESULT_KEY)
    if result is not None:
        _show(result, short, int(max_rows))


def _show(result, short: bool, max_rows: int) -> None:
    if result.kind == "ask":
        st.success(f"ASK: **{'yes' if result.boolean else 'no'}**")
    else:
        if result.kind == "graph":
            rows = [{"subject": s.value, "predicate": p.value, "object": o.value} for s, p, o in result.triples]
        else:
            rows = [{v: (row[v].value if row.get(v) is not None else None) for v in result.vars}
                    for row in result.rows]
        if short:
            rows = [{k: compact(v) if isinstance(v, str) else v for k, v in r.items()} for r in rows]
        st.caption(f"{len(rows)} {'triples' if result.kind == 'graph' else 'rows'}")
        if result.truncated:
            if result.note and "size limit" in result.note:
                st.warning(f"The answer was cut: {result.note}.")
            else:
                st.warning(f"Stopped at {max_rows} rows (the row limit); add LIMIT or raise “Max rows”.")
        if rows:
            st.dataframe(rows, hide_index=True, width="stretch", height=min(600, 38 + 35 * len(rows)))
        else:
            st.info("The query matched nothing.")
    c1, c2, _ = st.columns([1, 1, 4])
    c1.download_button("Download CSV", query_result_csv(result), file_name="query.csv", mime="text/csv",
                       icon=":material/download:", key="sparql_csv")
    c2.download_button("Download JSON", json.dumps(result.to_json(), ensure_ascii=False, indent=1),
                       file_name="query.json", mime="application/sparql-results+json",
                       icon=":material/download:", key="sparql_json")
