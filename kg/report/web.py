"""The gap report as one self-contained HTML page: inline CSS, no scripts, no external
resources (works offline); every text goes through kg.report.escape.html_text."""

from __future__ import annotations

from .escape import html_text as h
from .escape import html_url
from .layout import (DAGGER, cell_count, cell_examples, central_rank, citation_note, combination_text, confidence_text,
                     count_text, example_label, flagged_text, fmt_num, fmt_score, for_display, modality_status,
                     nearest_text, section_of, summary_lines, table_rows, trend_text)

STYLE = """
body { font-family: system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; margin: 2rem auto; max-width: 72rem;
       padding: 0 1rem; color: #1d232a; line-height: 1.45; }
h1 { font-size: 1.7rem; } h2 { font-size: 1.25rem; margin-top: 2rem; border-bottom: 1px solid #d0d7de; }
table { border-collapse: collapse; margin: .5rem 0 1rem; font-size: .9rem; }
th, td { border: 1px solid #d0d7de; padding: .35rem .5rem; vertical-align: top; text-align: left; }
th { background: #f3f5f7; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
.cell-empty { background: #fde2e1; } .cell-thin { background: #fff4cc; } .cell-ok { background: #e6f4ea; }
.count { font-weight: 700; font-size: 1.05rem; } .meta { color: #57606a; font-size: .8rem; }
.note { background: #fff4cc; padding: .5rem .75rem; border-left: 4px solid #d4a72c; }
.legend span { display: inline-block; padding: 0 .4rem; margin-right: .5rem; border: 1px solid #d0d7de; }
code { font-size: .85em; }
.predicted { color: #8250df; font-size: .85em; white-space: nowrap; }
"""


def _table(header: list[str], rows: list[list[str]], numeric: set[int] = frozenset()) -> list[str]:
    out = ["<table>", "<thead><tr>" + "".join(f"<th>{x}</th>" for x in header) + "</tr></thead>", "<tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f'<td class="num">{x}</td>' if i in numeric else f"<td>{x}</td>"
                                    for i, x in enumerate(row)) + "</tr>")
    return out + ["</tbody>", "</table>"]


def _mark(paper: dict) -> str:
    """A dagger and the confidence after a predicted work, '' after an asserted one."""
    conf = confidence_text(paper)
    return f' <span class="predicted" title="predicted by the classifier">{DAGGER}{h(conf)}</span>' if conf else ""


def _link(label: str, url: str | None) -> str:
    safe = html_url(url)
    return f'<a href="{safe}">{h(label)}</a>' if safe else h(label)


def render_html(report: dict) -> str:
    report = for_display(report)  # long titles, venues and names cut to FIELD_LIMIT characters
    out = ["<!DOCTYPE html>", '<html lang="en">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{h(report['title'])}</title>", f"<style>{STYLE}</style>", "</head>", "<body>",
           f"<h1>{h(report['title'])}</h1>",
           f'<p class="meta">Generated {h(report["generated_at"])} by kg {h(report["kg_version"])}.</p>']
    if report["summary"]["note"]:
        out.append(f'<p class="note"><strong>Note:</strong> {h(report["summary"]["note"])}</p>')
    out += ['<h2 id="summary">Summary</h2>', "<ul>"] + [f"<li>{h(t)}</li>" for t in summary_lines(report)] + ["</ul>"]

    out += ['<h2 id="taxonomy">Taxonomy table</h2>',
            '<p class="legend">Papers per category &times; mechanism cell: count, expected count and score, '
            f'example works; {DAGGER} marks a predicted work with its confidence. '
            '<span class="cell-empty">empty</span><span class="cell-thin">thin</span>'
            '<span class="cell-ok">as expected or more</span></p>']
    header, rows = table_rows(report)
    if rows:
        out += ["<table>", "<thead><tr><th>Category</th>" + "".join(f"<th>{h(x)}</th>" for x in header)
                + "</tr></thead>", "<tbody>"]
        for category, cells in rows:
            tds = [f"<th>{h(category['label'])} <span class=\"meta\">{h(section_of(category))}</span></th>"]
            for cell in cells:
                examples, more = cell_examples(cell)
                names = ", ".join(h(example_label(p)) + _mark(p) for p in examples) + (f", +{more} more" if more else "")
                tds.append(f'<td class="cell-{h(cell["status"])}" title="{h(cell["category_label"])} x '
                           f'{h(cell["mechanism_label"])}"><span class="count">{h(cell_count(cell))}</span> '
                           f'<span class="meta">exp. {h(fmt_num(cell["expected"]))}, score '
                           f'{h(fmt_score(cell["score"]))}</span><br>{names}</td>')
            out.append("<tr>" + "".join(tds) + "</tr>")
        out += ["</tbody>", "</table>"]
    else:
        out.append("<p>The taxonomy has no category &times; mechanism cells.</p>")

    out.append('<h2 id="gaps">Empty and thin cells</h2>')
    flagged = [("empty", c) for c in report["empty_cells"]] + [("thin", c) for c in report["thin_cells"]]
    if flagged:
        out.append("<ul>")
        for status, cell in flagged:
            near = nearest_text(cell)
            out.append(f"<li><strong>{h(cell['category_label'])} &times; {h(cell['mechanism_label'])}</strong> "
                       f"({h(flagged_text(cell))})"
                       + (f"; nearest papers: {h(', '.join(near))}" if near else "") + "</li>")
        out.append("</ul>")
    else:
        out.append("<p>None: every cell holds at least half the papers its margins predict.</p>")

    out.append('<h2 id="missed">Papers the survey may have missed</h2>')
    if report["missed_candidates"]:
        out += _table(["Candidate", "Year", "Cited by surveyed", "Cites surveyed", "Possible match for", "Score"],
                      [[h(c["label"]), h(c["year"] or ""), str(c["cited_by_surveyed"]), str(c["cites_surveyed"]),
                        h(", ".join(c["possible_match_for"])), str(c["score"])] for c in report["missed_candidates"]],
                      {1, 2, 3, 5})
    else:
        out.append("<p>No candidates in the graph (harvest papers to audit coverage).</p>")

    out.append('<h2 id="combinations">Unexplored combinations</h2>')
    if report["unexplored_combinations"]:
        out += _table(["Combination", "Papers with each", "Expected together", "Score"],
                      [[h(combination_text(c)), f"{c['a_count']} / {c['b_count']}", h(fmt_num(c["expected"])),
                        h(fmt_num(c["score"]))] for c in report["unexplored_combinations"]], {1, 2, 3})
    else:
        out.append("<p>No pair of common concepts is missing (or too few labelled papers to tell).</p>")

    out.append('<h2 id="trends">Trends</h2>')
    if report["trends"]:
        out += _table(["Cell", "Papers by year", "Trend"],
                      [[h(f"{t['category']} / {t['mechanism']}"),
                        h(", ".join(f"{y}: {n}" for y, n in t["by_year"].items()) or "none"), h(trend_text(t))]
                       for t in report["trends"]])
    else:
        out.append("<p>No dated papers in the taxonomy.</p>")

    out.append('<h2 id="modalities">Modality gaps</h2>')
    out += _table(["Modality", "Works", "Input", "Output", "Status", "Categories without it"],
                  [[h(m["label"]), h(count_text(m["asserted"], m["predicted"])), str(m["input"]), str(m["output"]),
                    h(modality_status(m)), h(", ".join(m["missing_categories"]) or "none")]
                   for m in report["modality_gaps"]], {1, 2, 3})
    out.append('<h2 id="datasets">Dataset gaps</h2>')
    rows = [d for d in report["dataset_gaps"] if d["axis"] == "category" or d["works"]]
    out += _table(["Axis", "Concept", "Papers", "Datasets"],
                  [[h(d["axis"]), h(d["label"]), h(count_text(d["works"] - d["predicted"], d["predicted"])),
                    h(", ".join(d["datasets"])) or "<em>none</em>"]
                   for d in rows], {2})

    out.append('<h2 id="central">Most central papers</h2>')
    if citation_note(report):
        out.append("<p>" + "".join(f"<code>{h(part)}</code>" if i % 2 else h(part)
                                   for i, part in enumerate(citation_note(report).split("`"))) + "</p>")
    if report["central_papers"]:
        out += _table(["Rank", "Paper", "Year", "Category", "Cited in corpus", "PageRank"],
                      [[h(central_rank(p)), h(p["label"]), h(p["year"] or ""), h(p["category"] or "") + _mark(p),
                        str(p["cited_by"]), f"{p['pagerank']:.4f}"] for p in report["central_papers"]], {2, 4, 5})
    elif not citation_note(report):
        out.append("<p>No citation links in the graph yet.</p>")

    out.append('<h2 id="works">Works per cell</h2>')
    if report["works"]:
        out.append("<ul>")
        out += [f"<li>{_link(e['label'], e.get('url'))} ({h(e['year'] or 'n.d.')}) <code>{h(e['key'])}</code>: "
                f"{h(', '.join(e['cells']))}{_mark(e)}</li>" for e in report["works"]]
        out.append("</ul>")
    else:
        out.append("<p>No works placed in the taxonomy.</p>")

    out += ['<h2 id="methods">How the scores are computed</h2>', "<dl>"]
    for name, text in report["methods"].items():
        out += [f"<dt>{h(name.replace('_', ' '))}</dt>", f"<dd>{h(text)}</dd>"]
    out += ["</dl>", "</body>", "</html>", ""]
    return "\n".join(out)
