"""Drawing the citation network: node selection (filters and a cap) and a self-contained
pyvis page (vis-network in-line, no CDN, escaped tooltips).

Pure: networkx graph and kg.analysis.citation_metrics rows in, an HTML string out.
The app shows the string in an iframe; anything else can write it to a file.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass

import networkx as nx
import pandas as pd
from pyvis.network import Network

from kg.errors import UsageError

DEFAULT_MAX_NODES = 150
NO_CATEGORY = "none"
# Okabe-Ito colour-blind-safe palette, then a few more distinct colours.
PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000",
           "#8C564B", "#7F7F7F", "#BCBD22", "#17BECF"]
GREY = "#B8B8B8"
COLOR_BY = ("category", "community")
_EXTERNAL = re.compile(r"\s*<(link|script)\b[^>]*(?:href|src)=\"https?://[^\"]*\"[^>]*>(?:\s*</script>)?", re.I | re.S)


@dataclass
class NetworkSelection:
    """The works to draw, most central first, and how many matched before the cap."""

    nodes: list[str]
    matching: int

    @property
    def capped(self) -> bool:
        return self.matching > len(self.nodes)


def select_nodes(metrics: pd.DataFrame, *, years: tuple[int, int] | None = None, categories=None,
                 communities=None, candidates: bool = True, linked_only: bool = False,
                 max_nodes: int = DEFAULT_MAX_NODES) -> NetworkSelection:
    """Filter citation_metrics rows and keep the max_nodes highest-PageRank works.

    years: inclusive range (works without a year are dropped when given); categories:
    notations, NO_CATEGORY for works outside the taxonomy; communities: community
    indexes (-1 = unlinked); candidates=False drops candidates; linked_only drops works
    without any in-corpus citation link.
    """
    if max_nodes < 1:
        raise UsageError(f"the node cap must be at least 1, got {max_nodes}")
    keep = pd.Series(True, index=metrics.index)
    if years is not None:
        first, last = years
        keep &= metrics["year"].map(lambda y: y is not None and not pd.isna(y) and first <= int(y) <= last)
    if categories is not None:
        wanted = set(categories)
        keep &= metrics["category"].map(lambda c: category_of(c) in wanted)
    if communities is not None:
        keep &= metrics["community"].isin(list(communities))
    if not candidates:
        keep &= ~metrics["candidate"].astype(bool)
    if linked_only:
        keep &= (metrics["cited_by"] + metrics["references"]) > 0
    chosen = metrics[keep].sort_values(["pagerank", "cited_by", "label"], ascending=[False, False, True], kind="stable")
    return NetworkSelection(list(chosen["work"][:max_nodes]), int(len(chosen)))


def category_of(value) -> str:
    """A work's category notation, NO_CATEGORY when it has none (None, NaN or empty)."""
    return value if isinstance(value, str) and value else NO_CATEGORY


def category_colors(categories) -> dict[str, str]:
    """A stable colour per category notation (in the order given); grey for none."""
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(categories)}
    colors[NO_CATEGORY] = GREY
    return colors


def community_colors(communities) -> dict[int, str]:
    colors = {c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted(x for x in set(communities) if x >= 0))}
    colors[-1] = GREY
    return colors


def _short(text: str, n: int = 28) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1] + "…"


def _size(row: dict) -> float:
    """Node size grows with in-corpus citations; the survey (a hub that cites, rarely cited) stays visible."""
    size = 10 + 6 * int(row.get("cited_by") or 0) ** 0.5
    return max(size, 26.0) if row.get("review") else size


def tooltip(row: dict, category_label: str | None = None) -> str:
    """A node's hover text as HTML; every value from the graph is escaped."""
    e = html.escape
    lines = [f"<b>{e(str(row.get('label') or ''))}</b>"]
    title = row.get("title")
    if isinstance(title, str) and title and title != row.get("label"):
        lines.append(e(str(title)))
    facts = [str(row["year"])] if row.get("year") is not None and not pd.isna(row.get("year")) else []
    facts.append(e(category_label or "not in the taxonomy"))
    if row.get("review"):
        facts.append("the survey")
    elif row.get("candidate"):
        facts.append("candidate")
    lines.append(" · ".join(facts))
    lines.append(f"cited by {int(row.get('cited_by') or 0)} · cites {int(row.get('references') or 0)} "
                 f"in the graph · PageRank {float(row.get('pagerank') or 0):.3f}")
    return "<div style='max-width:340px;white-space:normal'>" + "<br>".join(lines) + "</div>"


def network_html(graph: nx.DiGraph, metrics: pd.DataFrame, nodes: list[str], *, color_by: str = "category",
                 category_labels: dict[str, str] | None = None, height: int = 620) -> str:
    """A self-contained HTML page drawing `nodes` and the citations among them.

    Colour by category (taxonomy order of category_labels) or community; size by
    in-corpus citations; the survey drawn as a star, candidates as triangles.
    """
    if color_by not in COLOR_BY:
        raise UsageError(f"unknown colour {color_by!r}; valid: {', '.join(COLOR_BY)}")
    category_labels = category_labels or {}
    by_work = {r["work"]: r for r in metrics[metrics["work"].isin(set(nodes))].to_dict("records")}
    cat_colors = category_colors(list(category_labels) + sorted(
        {category_of(r["category"]) for r in by_work.values()} - set(category_labels) - {NO_CATEGORY}))
    com_colors = community_colors(metrics["community"]) if len(metrics) else {-1: GREY}
    net = Network(height=f"{height}px", width="100%", directed=True, cdn_resources="in_line", bgcolor="#ffffff")
    shown = [n for n in nodes if n in by_work]
    for work in shown:
        row = by_work[work]
        cat = category_of(row.get("category"))
        color = cat_colors.get(cat, GREY) if color_by == "category" else com_colors.get(int(row["community"]), GREY)
        shape = "star" if row.get("review") else "triangle" if row.get("candidate") else "dot"
        net.add_node(work, label=_short(row.get("label") or work), title=tooltip(row, category_labels.get(cat)),
                     color=color, shape=shape, size=_size(row),
                     font={"size": 13, "color": "#31333F"}, borderWidth=1)
    keep = set(shown)
    for a, b in graph.edges():
        if a in keep and b in keep:
            net.add_edge(a, b, color={"color": "#9AA0A6", "opacity": 0.55}, width=1,
                         arrows={"to": {"enabled": True, "scaleFactor": 0.4}})
    net.set_options(json.dumps({
        "physics": {"solver": "forceAtlas2Based", "stabilization": {"enabled": True, "iterations": 250},
                    "forceAtlas2Based": {"gravitationalConstant": -60, "springLength": 110, "avoidOverlap": 0.4}},
        "interaction": {"hover": True, "tooltipDelay": 120, "navigationButtons": False},
        "edges": {"smooth": {"type": "continuous"}},
    }))
    return render(net)


def render(net: Network) -> str:
    """pyvis's page with its scripts in-line, without the CDN stylesheet and script tags its
    template always adds, and with HTML tooltips (every title is escaped by the caller)."""
    template = net.templateEnv.get_template(net.path)
    nodes, edges, heading, height, width, options = net.get_network_data()
    physics = net.options.get("physics", {}).get("enabled", True) if isinstance(net.options, dict) \
        else net.options.physics.enabled
    page = template.render(height=height, width=width, nodes=nodes, edges=edges, heading=html.escape(heading),
                           options=options, physics_enabled=physics, use_DOT=False, dot_lang="", widget=False,
                           bgcolor=net.bgcolor, conf=False, tooltip_link=True, neighborhood_highlight=False,
                           select_menu=False, filter_menu=False, notebook=False, cdn_resources="in_line")
    return _EXTERNAL.sub("", page)
