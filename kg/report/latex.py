"""The gap report as a LaTeX article: the taxonomy table in the style of the survey's
Table 1 (booktabs), the gap lists, and a bibliography whose keys match the BibTeX export.

Needs only booktabs and array (texlive-latex-base + texlive-latex-recommended). The table
sits between `% kg:table:begin` and `% kg:table:end` so it can be pasted into a paper that
\\cite-s the exported .bib. All text is ASCII LaTeX (see kg.report.escape.latex).
"""

from __future__ import annotations

from .escape import latex as tex
from .layout import cell_examples, combination_text, fmt_num, fmt_score, nearest_text, section_of, summary_lines, table_rows

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage{booktabs}
\usepackage{array}
\setlength{\emergencystretch}{3em}
\newcolumntype{L}[1]{>{\raggedright\arraybackslash}p{#1}}
"""


def _tabular(spec: str, header: list[str], rows: list[list[str]], size: str = r"\small") -> list[str]:
    out = [r"\begin{center}", size, rf"\begin{{tabular}}{{@{{}}{spec}@{{}}}}", r"\toprule",
           " & ".join(header) + r" \\", r"\midrule"]
    out += [" & ".join(row) + r" \\" for row in rows]
    return out + [r"\bottomrule", r"\end{tabular}", r"\end{center}", ""]


def taxonomy_table(report: dict) -> list[str]:
    header, rows = table_rows(report)
    if not rows:
        return ["The taxonomy has no category $\\times$ mechanism cells.", ""]
    width = f"{0.8 / len(header):.3f}\\linewidth"
    out = ["% kg:table:begin", r"\begin{table}[ht]", r"\centering", r"\footnotesize",
           r"\caption{Papers per taxonomy cell (category $\times$ mechanism): count, expected count "
           r"under independence and score, with example works.}",
           r"\label{tab:kg-taxonomy}",
           rf"\begin{{tabular}}{{@{{}}L{{0.15\linewidth}}{f'L{{{width}}}' * len(header)}@{{}}}}",
           r"\toprule",
           r"\textbf{Category} & " + " & ".join(rf"\textbf{{{tex(h)}}}" for h in header) + r" \\",
           r"\midrule"]
    for i, (category, cells) in enumerate(rows):
        parts = [f"{tex(category['label'])} {tex(section_of(category))}".rstrip()]
        for cell in cells:
            examples, more = cell_examples(cell)
            text = rf"\textbf{{{cell['count']}}} ({tex(fmt_num(cell['expected']))}, ${tex(fmt_score(cell['score']))}$)"
            if examples:
                text += ": " + ", ".join(rf"{tex(p['label'])}~\cite{{{p['key']}}}" for p in examples)
                text += f", +{more} more" if more else ""
            parts.append(text)
        out.append(" & ".join(parts) + r" \\" + (r" \midrule" if i < len(rows) - 1 else ""))
    return out + [r"\bottomrule", r"\end{tabular}", r"\end{table}", "% kg:table:end", ""]


def _bibitem(entry: dict) -> str:
    authors = entry["authors"]
    lead = authors[0] if len(authors) == 1 else (f"{authors[0]} et al." if authors else "")
    parts = [tex(lead or entry.get("cite") or "")]
    title = entry.get("title") or entry["label"]
    parts.append(rf"\emph{{{tex(title)}}}")
    if entry.get("venue"):
        parts.append(tex(entry["venue"]))
    if entry.get("arxiv"):
        parts.append(f"arXiv:{tex(entry['arxiv'])}")
    if entry.get("year"):
        parts.append(str(entry["year"]))
    return rf"\bibitem{{{entry['key']}}} " + r". \newblock ".join(p for p in parts if p) + "."


def render_latex(report: dict) -> str:
    out = [PREAMBLE, rf"\title{{{tex(report['title'])}}}",
           rf"\date{{Generated {tex(report['generated_at'])} by kg {tex(report['kg_version'])}}}",
           r"\begin{document}", r"\maketitle", ""]
    if report["summary"]["note"]:
        out += [rf"\noindent\textbf{{Note:}} {tex(report['summary']['note'])}", ""]
    out += [r"\section*{Summary}", r"\begin{itemize}"] + [rf"\item {tex(t)}" for t in summary_lines(report)]
    out += [r"\end{itemize}", ""]
    out += [r"\section*{Taxonomy table}", "Table~\\ref{tab:kg-taxonomy} places the works in the survey's taxonomy.", ""]
    out += taxonomy_table(report)

    out += [r"\section*{Empty and thin cells}"]
    flagged = [("empty", c) for c in report["empty_cells"]] + [("thin", c) for c in report["thin_cells"]]
    if flagged:
        out.append(r"\begin{itemize}")
        for status, cell in flagged:
            near = nearest_text(cell)
            out.append(rf"\item \textbf{{{tex(cell['category_label'])} $\times$ {tex(cell['mechanism_label'])}}} "
                       + tex(f"({status}: {cell['count']} papers, {fmt_num(cell['expected'])} expected, "
                             f"score {fmt_score(cell['score'])})")
                       + (tex("; nearest papers: " + ", ".join(near)) if near else ""))
        out += [r"\end{itemize}", ""]
    else:
        out += ["None: every cell holds at least half the papers its margins predict.", ""]

    out += [r"\section*{Papers the survey may have missed}"]
    if report["missed_candidates"]:
        out += _tabular("L{0.5\\linewidth}rrrr", ["Candidate", "Year", "Cited by", "Cites", "Score"],
                        [[tex(c["label"]), tex(c["year"] or ""), str(c["cited_by_surveyed"]), str(c["cites_surveyed"]),
                          str(c["score"])] for c in report["missed_candidates"]])
    else:
        out += ["No candidates in the graph.", ""]

    out += [r"\section*{Unexplored combinations}"]
    if report["unexplored_combinations"]:
        out += _tabular("L{0.6\\linewidth}rrr", ["Combination", "Papers", "Expected", "Score"],
                        [[tex(combination_text(c)), tex(f"{c['a_count']}/{c['b_count']}"), tex(fmt_num(c["expected"])),
                          tex(fmt_num(c["score"]))] for c in report["unexplored_combinations"]])
    else:
        out += ["No pair of common concepts is missing.", ""]

    out += [r"\section*{Trends}"]
    if report["trends"]:
        out += _tabular("L{0.4\\linewidth}L{0.35\\linewidth}l", ["Cell", "Papers by year", "Trend"],
                        [[tex(f"{t['category']} / {t['mechanism']}"),
                          tex(", ".join(f"{y}: {n}" for y, n in t["by_year"].items()) or "none"), tex(t["trend"])]
                         for t in report["trends"]])
    else:
        out += ["No dated papers in the taxonomy.", ""]

    out += [r"\section*{Modality and dataset gaps}"]
    out += _tabular("L{0.2\\linewidth}rrlL{0.3\\linewidth}", ["Modality", "Input", "Output", "Status", "Missing in"],
                    [[tex(m["label"]), str(m["input"]), str(m["output"]), tex(m["status"]),
                      tex(", ".join(m["missing_categories"]) or "none")] for m in report["modality_gaps"]])
    gaps = [d for d in report["dataset_gaps"] if d["axis"] == "category"]
    if gaps:
        out += [r"\begin{itemize}"] + [
            rf"\item {tex(d['label'])}: " + (tex(", ".join(d["datasets"])) if d["datasets"] else r"\emph{no dataset}")
            for d in gaps] + [r"\end{itemize}", ""]

    out += [r"\section*{How the scores are computed}", r"\begin{description}"]
    out += [rf"\item[{tex(name.replace('_', ' '))}] {tex(text)}" for name, text in report["methods"].items()]
    out += [r"\end{description}", ""]
    if report["works"]:
        out += [r"\begin{thebibliography}{99}", r"\small"] + [_bibitem(e) for e in report["works"]]
        out += [r"\end{thebibliography}"]
    out += [r"\end{document}", ""]
    return "\n".join(out)
