"""The gap report as Markdown (CommonMark + GitHub tables); every text escaped."""

from __future__ import annotations

from .escape import markdown as md
from .escape import markdown_url
from .layout import (DAGGER, axes_text, cell_count, cell_examples, central_rank, citation_note, combination_text,
                     confidence_text, count_text, example_label, flagged_text, fmt_num, fmt_score, for_display,
                     listing_note, modality_status, more_lines, nearest_text, section_of, summary_lines, table_rows, trend_text)


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(row) + " |" for row in rows]
    return out + [""]


def _work(entry: dict) -> str:
    url = markdown_url(entry.get("url"))
    label = md(entry["label"])
    return f"[{label}]({url})" if url else label


def _mark(paper: dict) -> str:
    """' †0.85' after a predicted work, '' after an asserted one."""
    conf = confidence_text(paper)
    return f" {DAGGER}{conf}" if conf else ""


def _spaced(text: str, body: str) -> str:
    """body with the spaces `text` starts or ends with (escaping trims them)."""
    return (" " if text[:1].isspace() else "") + body + (" " if text[-1:].isspace() else "")


def _with_code(text: str) -> str:
    """Text whose parts between backquotes are code spans (commands), the rest escaped."""
    return "".join(f"`{part}`" if i % 2 else _spaced(part, md(part)) for i, part in enumerate(text.split("`")))


def render_markdown(report: dict) -> str:
    report = for_display(report)  # long titles, venues and names cut to FIELD_LIMIT characters
    lines = [f"# {md(report['title'])}", ""]
    lines += [f"Generated {md(report['generated_at'])} by kg {md(report['kg_version'])}.", ""]
    if report["summary"]["note"]:
        lines += [f"**Note:** {md(report['summary']['note'])}", ""]
    lines += ["## Summary", ""] + [f"- {md(text)}" for text in summary_lines(report)] + [""]

    lines += ["## Taxonomy table", "",
              f"Papers per {md(axes_text(report))} cell, with expected count and score (see How the scores "
              f"are computed below) and example works; {DAGGER} marks a predicted work with its confidence.", ""]
    header, rows = table_rows(report)
    if rows:
        body = []
        for category, cells in rows:
            row = [f"{md(category['label'])} {md(section_of(category))}".rstrip()]
            for cell in cells:
                examples, more = cell_examples(cell)
                text = f"**{md(cell_count(cell))}** (exp. {fmt_num(cell['expected'])}, {fmt_score(cell['score'])})"
                if examples:
                    text += ": " + ", ".join(md(example_label(p)) + _mark(p) for p in examples) + (f", +{more} more" if more else "")
                row.append(text)
            body.append(row)
        lines += _table(["Category"] + [md(h) for h in header], body)
    else:
        lines += ["The taxonomy has no category x mechanism cells.", ""]

    lines += ["## Empty and thin cells", ""]
    flagged = [("empty", c) for c in report["empty_cells"]] + [("thin", c) for c in report["thin_cells"]]
    if not flagged:
        lines.append("None: every cell holds at least half the papers its margins predict.")
    for status, cell in flagged:
        near = nearest_text(cell)
        lines.append(f"- **{md(cell['category_label'])} x {md(cell['mechanism_label'])}** ({md(flagged_text(cell))})"
                     + (f"; nearest papers: {', '.join(md(n) for n in near)}" if near else ""))
    lines.append("")

    lines += ["## Papers the survey may have missed", ""]
    if report["missed_candidates"]:
        lines += _table(["Candidate", "Year", "Cited by surveyed", "Cites surveyed", "Possible match for", "Score"],
                        [[md(c["label"]), md(c["year"] or ""), str(c["cited_by_surveyed"]), str(c["cites_surveyed"]),
                          md(", ".join(c["possible_match_for"])), str(c["score"])] for c in report["missed_candidates"]])
    else:
        lines += ["No candidates in the graph (harvest papers to audit coverage).", ""]

    lines += ["## Unexplored combinations", ""]
    if report["unexplored_combinations"]:
        lines += _table(["Combination", "Papers with each", "Expected together", "Score"],
                        [[md(combination_text(c)), f"{c['a_count']} / {c['b_count']}", fmt_num(c["expected"]),
                          fmt_num(c["score"])] for c in report["unexplored_combinations"]])
    else:
        lines += ["No pair of common concepts is missing (or too few labelled papers to tell).", ""]

    lines += ["## Trends", ""]
    if report["trends"]:
        lines += _table(["Cell", "Papers by year", "Trend"],
                        [[md(f"{t['category']} / {t['mechanism']}"),
                          md(", ".join(f"{y}: {n}" for y, n in t["by_year"].items()) or "none"), md(trend_text(t))]
                         for t in report["trends"]])
    else:
        lines += ["No dated papers in the taxonomy.", ""]

    lines += ["## Modality gaps", ""]
    lines += _table(["Modality", "Works", "Input", "Output", "Status", "Categories without it"],
                    [[md(m["label"]), md(count_text(m["asserted"], m["predicted"])), str(m["input"]), str(m["output"]),
                      md(modality_status(m)),
                      md(", ".join(m["missing_categories"]) or "none")] for m in report["modality_gaps"]])
    lines += ["## Dataset gaps", ""]
    gaps = [d for d in report["dataset_gaps"] if d["gap"] and (d["axis"] == "category" or d["works"])]
    covered = [d for d in report["dataset_gaps"] if not d["gap"]]
    lines += [f"- No benchmark dataset linked to {md(d['axis'])} **{md(d['label'])}** "
              f"({md(count_text(d['works'] - d['predicted'], d['predicted']))} papers)" for d in gaps]
    lines += [f"- {md(d['label'])}: {md(', '.join(d['datasets']))}" for d in covered]
    lines += ["" if gaps or covered else "No categories or tasks in the taxonomy.", ""]

    lines += ["## Most central papers", ""]
    if citation_note(report):  # the command to run stays a code span
        lines += ["".join(f"`{part}`" if i % 2 else md(part)
                          for i, part in enumerate(citation_note(report).split("`"))), ""]
    if report["central_papers"]:
        lines += _table(["Rank", "Paper", "Year", "Category", "Cited in corpus", "PageRank"],
                        [[md(central_rank(p)), md(p["label"]), md(p["year"] or ""), md(p["category"] or "") + _mark(p),
                          str(p["cited_by"]), f"{p['pagerank']:.4f}"] for p in report["central_papers"]])
    elif not citation_note(report):
        lines += ["No citation links in the graph yet.", ""]

    lines += ["## Works per cell", ""]
    if listing_note(report):  # the commands stay code spans
        lines += [_with_code(listing_note(report)), ""]
        lines += [f"- {md(text)}: `{command}`" for text, command in more_lines(report)] + [""]
    for entry in report["works"]:
        lines.append(f"- {_work(entry)} ({md(entry['year'] or 'n.d.')}), `{entry['key']}`: "
                     + md(", ".join(entry["cells"]))
                     + (f" ({DAGGER} predicted, confidence {confidence_text(entry)})" if confidence_text(entry) else ""))
    lines += ["" if report["works"] else "No works placed in the taxonomy.", ""]

    lines += ["## How the scores are computed", ""]
    lines += [f"- **{md(name.replace('_', ' '))}**: {md(text)}" for name, text in report["methods"].items()]
    return "\n".join(lines).rstrip() + "\n"
