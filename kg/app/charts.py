"""Altair chart specifications for the app's pages (pure: DataFrame in, chart out)."""

from __future__ import annotations

import altair as alt
import pandas as pd

CELL_SELECTION = "cell"
EMPTY_FILL = "#FBE3E1"
EMPTY_STROKE = "#D1495B"
THIN_STROKE = "#F08A24"
GROUP_COLORS = {"in the taxonomy": "#0072B2", "listed or harvested": "#56B4E9", "candidate": "#E69F00"}


def count_label(asserted: int, predicted: int) -> str:
    """A cell's papers as the heat map shows them: '5', or '5 (+3 predicted)'."""
    return f"{asserted} (+{predicted} predicted)" if predicted else str(asserted)


def _status_label(status: str, asserted_status: str) -> str:
    """'empty' / 'thin' counting predictions; a gap only the asserted papers show says so."""
    if status in ("empty", "thin"):
        return status
    return f"{asserted_status} if asserted only" if asserted_status in ("empty", "thin") else ""


def gap_heatmap(cells: pd.DataFrame, *, value: str = "count", titles: dict[str, str] | None = None) -> alt.LayerChart:
    """Category x mechanism heat map of a gap_matrix frame; empty cells red, thin cells
    outlined orange; each cell shows its papers ('5 (+3 predicted)': asserted, plus those
    only the classifier places) and score; click selects a cell. `titles`: the axis titles
    the taxonomy gives (Corpus.axis_title), else the axis names."""
    titles = titles or {}
    frame = cells.copy()
    frame["count_text"] = [count_label(int(a), int(p)) for a, p in zip(frame["asserted"], frame["predicted"])]
    frame["guessed"] = frame["predicted"].astype(int) > 0
    frame["score_text"] = [f"score {s:+.2f}" if s == s else "" for s in frame["score"]]
    frame["status_text"] = [_status_label(s, a) for s, a in zip(frame["status"], frame["asserted_status"])]
    listed = "papers" in frame  # counted in the store (kg.analysis.gap_counts), cells carry no work list
    if listed:
        frame["papers_text"] = [", ".join(p[:6]) + (" …" if len(p) > 6 else "") for p in frame["papers"]]
    frame = frame.drop(columns=["papers", "works", "predicted_works"], errors="ignore")
    cats = list(dict.fromkeys(frame["category_label"]))
    mechs = list(dict.fromkeys(frame["mechanism_label"]))
    select = alt.selection_point(name=CELL_SELECTION, fields=["category", "mechanism"], on="click",
                                 clear="dblclick", empty=False)
    base = alt.Chart(frame).encode(
        x=alt.X("mechanism_label:N", sort=mechs, title=titles.get("mechanism", "mechanism"),
                axis=alt.Axis(labelAngle=0, orient="top", labelLimit=220, labelFontSize=12, labelOverlap=False,
                              labelExpr="split(datum.label, ' ')", titlePadding=14,
                              labelPadding=20)),
        y=alt.Y("category_label:N", sort=cats, title=titles.get("category", "category"),
                axis=alt.Axis(labelLimit=240, labelFontSize=12)),
    )
    legend_title = "papers" if value == "count" else "score"
    color_scale = (alt.Scale(scheme="blues", domainMin=0) if value == "count"
                   else alt.Scale(scheme="redblue", domainMid=0))
    empty, thin = alt.datum.status == "empty", alt.datum.status == "thin"
    rect = base.mark_rect(cornerRadius=3).encode(
        color=alt.when(empty).then(alt.value(EMPTY_FILL)).otherwise(
            alt.Color(f"{value}:Q", scale=color_scale, title=legend_title,
                      legend=alt.Legend(format="d" if value == "count" else "+.1f", tickMinStep=1))),
        stroke=alt.when(select).then(alt.value("#111111")).when(thin).then(alt.value(THIN_STROKE))
        .when(empty).then(alt.value(EMPTY_STROKE)).otherwise(alt.value("#FFFFFF")),
        strokeWidth=alt.when(select).then(alt.value(4)).when(alt.datum.status != "ok").then(alt.value(2.5))
        .otherwise(alt.value(1)),
        strokeDash=alt.when(empty).then(alt.value([5, 3])).otherwise(alt.value([1, 0])),
        tooltip=[alt.Tooltip("category_label:N", title="category"), alt.Tooltip("mechanism_label:N", title="mechanism"),
                 alt.Tooltip("count_text:N", title="papers"), alt.Tooltip("asserted:Q", title="asserted"),
                 alt.Tooltip("predicted:Q", title="predicted"), alt.Tooltip("expected:Q", format=".2f"),
                 alt.Tooltip("score:Q", format="+.2f"), alt.Tooltip("status:N"),
                 alt.Tooltip("asserted_status:N", title="status, asserted only"),
                 *([alt.Tooltip("papers_text:N", title="works")] if listed else [])],
    ).add_params(select)
    top = max(1.0, float(frame[value].abs().max() or 0)) if len(frame) else 1.0
    dark = (alt.datum[value] >= 0.6 * top) if value == "count" else (alt.datum[value] > 0.6 * top) | (
        alt.datum[value] < -0.6 * top)
    count_text = base.mark_text(fontWeight="bold", dy=-8).encode(
        text=alt.Text("count_text:N"),
        size=alt.when(alt.datum.guessed).then(alt.value(14)).otherwise(alt.value(20)),
        color=alt.when(dark).then(alt.value("white")).otherwise(alt.value("#31333F")))
    score_text = base.mark_text(fontSize=11, dy=13).encode(
        text=alt.Text("score_text:N"),
        color=alt.when(dark).then(alt.value("white")).otherwise(alt.value("#555867")))
    status_text = base.mark_text(fontSize=11, dy=27, fontStyle="italic").encode(
        text=alt.Text("status_text:N"),
        # a gap only in the asserted papers ("empty if asserted only") sits in a filled cell: read like its score
        color=alt.when(empty).then(alt.value(EMPTY_STROKE)).when(thin).then(alt.value(THIN_STROKE))
        .when(dark).then(alt.value("white")).otherwise(alt.value("#555867")))
    return (rect + count_text + score_text + status_text).properties(height=max(220, 92 * len(cats)))


def year_bars(rows: list[dict]) -> alt.Chart:
    """Stacked bars of papers per year from kg.analysis.browse.papers_per_year rows."""
    frame = pd.DataFrame(rows, columns=["year", "group", "papers"])
    groups = [g for g in GROUP_COLORS if g in set(frame["group"])] or list(GROUP_COLORS)
    return alt.Chart(frame).mark_bar(cornerRadiusTopLeft=2, cornerRadiusTopRight=2).encode(
        x=alt.X("year:O", title=None, axis=alt.Axis(labelAngle=0)),
        y=alt.Y("sum(papers):Q", title="papers"),
        color=alt.Color("group:N", title=None, scale=alt.Scale(domain=groups, range=[GROUP_COLORS[g] for g in groups]),
                        legend=alt.Legend(orient="bottom")),
        order=alt.Order("group:N"),
        tooltip=["year:O", "group:N", "papers:Q"],
    ).properties(height=260)


# The narrowest main area the app is laid out for (a 1280 px window with the sidebar open)
# leaves about 560 px for the matrix's cells beside its row labels.
MATRIX_CELLS_WIDTH = 560


def matrix_step(concepts: int, room: int = MATRIX_CELLS_WIDTH) -> int:
    """Side of one square matrix cell in pixels: as large as fits `room` (14-24 px)."""
    return max(14, min(24, room // max(1, concepts)))


def cooccurrence_heatmap(frame: pd.DataFrame) -> alt.Chart:
    """A long-form co-occurrence frame (a_label, b_label, a_kind, b_kind, papers) as a heat map;
    zero off-diagonal pairs are drawn pale so unexplored pairs stand out. Square cells sized so
    the whole matrix, labels included, fits the page from 1280 px wide windows up."""
    order = list(dict.fromkeys(frame["a_label"]))
    step = matrix_step(len(order))
    return alt.Chart(frame).mark_rect().encode(
        x=alt.X("b_label:N", sort=order, title=None, axis=alt.Axis(labelAngle=-50, labelLimit=170, labelOverlap=False)),
        y=alt.Y("a_label:N", sort=order, title=None, axis=alt.Axis(labelLimit=220, labelOverlap=False)),
        color=alt.when(alt.datum.papers == 0).then(alt.value("#F4F4F6")).otherwise(
            alt.Color("papers:Q", scale=alt.Scale(scheme="purples"), title="papers together",
                      legend=alt.Legend(orient="bottom", format="d"))),
        tooltip=[alt.Tooltip("a_label:N", title="concept"), alt.Tooltip("a_kind:N", title="kind"),
                 alt.Tooltip("b_label:N", title="with"), alt.Tooltip("b_kind:N", title="kind "),
                 alt.Tooltip("papers:Q", title="papers with both")],
    ).properties(width=alt.Step(step), height=alt.Step(step),
                 # its own size (cells x step), not Streamlit's "fit", which a discrete size ignores
                 autosize=alt.AutoSizeParams(type="pad", contains="padding"))
