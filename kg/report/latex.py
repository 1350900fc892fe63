"""The gap report as a LaTeX article: the taxonomy table in the style of the survey's
Table 1 (booktabs), the gap lists, and a bibliography whose keys match the BibTeX export.

Needs only booktabs and array (texlive-latex-base + texlive-latex-recommended). The table
floats ([!htbp]) where the text refers to it (here or atop the next page) and a float barrier
keeps it ahead of the references; it sits between `% kg:table:begin` and `% kg:table:end`, and render_tex_table gives
the same table as a fragment to \\input into a paper that \\cite-s the exported .bib. All text
is ASCII LaTeX (see kg.report.escape.latex); every table row starts with \\relax and every
[ and ] is braced, so no text is read as an optional argument; long titles, venues and names
are cut (kg.report.layout.for_display). Two pdflatex runs resolve \\ref and \\cite (see
kg.report.pdf).
"""

from __future__ import annotations

import re

from .escape import clean
from .escape import latex as tex
from .layout import (DAGGER, axis_titles, cell_count, cell_examples, combination_text, confidence_text, count_text,
                     example_label, flagged_text, fmt_num, fmt_score, for_display, listing_note, modality_status, nearest_text,
                     section_of, shorten, summary_lines, table_rows, taxonomy_name, trend_text)

PREAMBLE = r"""\documentclass[10pt]{article}
\usepackage{booktabs}
\usepackage{array}
\setlength{\emergencystretch}{3em}
\newcolumntype{L}[1]{>{\raggedright\arraybackslash}p{#1}}
% Floats placed so far go out before what follows (placeins' \FloatBarrier, one column).
\makeatletter
\newcommand{\kgfloatbarrier}{\par\ifx\@deferlist\@empty\else\clearpage\fi}
\makeatother
"""
TABLE_PLACEMENT = "!htbp"


def _text(text: str) -> str:
    """Plain text with the dagger (a predicted work's mark) as LaTeX's own."""
    return r"$\dagger$".join(tex(part) for part in str(text).split(DAGGER))


def _mark(paper: dict) -> str:
    """A dagger and the confidence after a predicted work, '' after an asserted one."""
    conf = confidence_text(paper)
    return rf"~$\dagger${tex(conf)}" if conf else ""


def _tabular(spec: str, header: list[str], rows: list[list[str]], size: str = r"\small") -> list[str]:
    out = [r"\begin{center}", size, rf"\begin{{tabular}}{{@{{}}{spec}@{{}}}}", r"\toprule",
           " & ".join(header) + r" \\", r"\midrule"]
    out += [r"\relax " + " & ".join(row) + r" \\" for row in rows]
    return out + [r"\bottomrule", r"\end{tabular}", r"\end{center}", ""]


def taxonomy_table(report: dict) -> list[str]:
    header, rows = table_rows(report)
    if not rows:
        return ["The taxonomy has no category $\\times$ mechanism cells.", ""]
    # the category column and n mechanism columns fill \linewidth exactly, column gaps included
    width = rf"\dimexpr 0.85\linewidth/{len(header)}-2\tabcolsep\relax"
    column = r">{\raggedright\arraybackslash}p{%s}"  # array's L column, spelled out for \input
    spec = column % r"0.15\linewidth" + column % width * len(header)
    out = ["% kg:table:begin", rf"\begin{{table}}[{TABLE_PLACEMENT}]", r"\centering", r"\footnotesize",
           r"\caption{Papers per taxonomy cell (" + r" $\times$ ".join(tex(t) for t in axis_titles(report))
           + r"): count (asserted, +predicted), "
           r"expected count under independence and score, with example works; $\dagger$ marks a work the "
           r"classifier placed, with its confidence.}",
           r"\label{tab:kg-taxonomy}",
           rf"\begin{{tabular}}{{@{{}}{spec}@{{}}}}",
           r"\toprule",
           r"\textbf{Category} & " + " & ".join(rf"\textbf{{{tex(h)}}}" for h in header) + r" \\",
           r"\midrule"]
    for i, (category, cells) in enumerate(rows):
        parts = [f"{tex(category['label'])} {tex(section_of(category))}".rstrip()]
        for cell in cells:
            examples, more = cell_examples(cell)
            text = rf"\textbf{{{tex(cell_count(cell))}}} ({tex(fmt_num(cell['expected']))}, ${tex(fmt_score(cell['score']))}$)"
            if examples:
                text += ": " + ", ".join(rf"{tex(example_label(p))}~\cite{{{p['key']}}}{_mark(p)}" for p in examples)
                text += f", +{more} more" if more else ""
            parts.append(text)
        out.append(r"\relax " + " & ".join(parts) + r" \\" + (r" \midrule" if i < len(rows) - 1 else ""))
    return out + [r"\bottomrule", r"\end{tabular}", r"\end{table}", "% kg:table:end", ""]


_CITE_YEAR = re.compile(r"\s*\(\d{4}[a-z]?\)\s*$")
_ARXIV_VENUE = re.compile(r"^(arxiv|corr)( preprint)?( arxiv:\S+)?$", re.IGNORECASE)
MAX_NAMES = 6  # longer author lists show the first three and "et al."


def reference_authors(entry: dict) -> str:
    """The byline of a reference: every author up to MAX_NAMES ("A, B, and C"), else the
    first three and "et al."; without authors the survey's citation minus its year
    ("Wang et al. (2023)" -> "Wang et al.")."""
    names = [clean(a) for a in entry.get("authors") or [] if clean(a)]
    if not names:
        return _CITE_YEAR.sub("", clean(entry.get("cite")))
    if len(names) > MAX_NAMES:
        return ", ".join(names[:3]) + ", et al."
    if len(names) <= 2:
        return " and ".join(names)
    return ", ".join(names[:-1]) + ", and " + names[-1]


def reference_blocks(entry: dict) -> list[tuple[str, bool]]:
    """A reference as plain-text blocks (text, emphasised): authors. title. venue, year. arXiv id."""
    blocks = []
    authors = shorten(reference_authors(entry))
    if authors:
        blocks.append((authors, False))
    title = clean(entry.get("title")) or (clean(entry.get("label")) if entry.get("label") != entry.get("cite") else "")
    blocks.append((shorten(title), True) if title else ("Cited in the survey; title not yet resolved", False))
    venue = shorten(entry.get("venue"))
    year = str(entry["year"]) if entry.get("year") else ""
    arxiv = clean(entry.get("arxiv"))
    if not venue or (arxiv and _ARXIV_VENUE.match(venue)):
        venue = f"arXiv:{arxiv}" if arxiv else ""
        arxiv = ""
    if year and re.search(rf"\b{year}\b", venue):
        year = ""
    where = ", ".join(p for p in (venue, year) if p)
    if where:
        blocks.append((where, False))
    if arxiv:
        blocks.append((f"arXiv:{arxiv}", False))
    return blocks


def _bibitem(entry: dict) -> str:
    """One \\bibitem reading like a bibliography entry: authors. title. venue, year."""
    out = []
    for text, emphasised in reference_blocks(entry):
        body = rf"\emph{{{tex(text)}}}" if emphasised else tex(text)
        out.append(body + ("" if text.endswith((".", "?", "!")) else "."))
    return rf"\bibitem{{{entry['key']}}} " + r" \newblock ".join(out)


def render_latex(report: dict) -> str:
    report = for_display(report)  # long titles, venues and names cut to FIELD_LIMIT characters
    out = [PREAMBLE, rf"\title{{{tex(report['title'])}}}",
           rf"\date{{Generated {tex(report['generated_at'])} by kg {tex(report['kg_version'])}}}",
           r"\begin{document}", r"\maketitle", ""]
    if report["summary"]["note"]:
        out += [rf"\noindent\textbf{{Note:}} {tex(report['summary']['note'])}", ""]
    out += [r"\section*{Summary}", r"\begin{itemize}"] + [rf"\item {_text(t)}" for t in summary_lines(report)]
    out += [r"\end{itemize}", ""]
    out += [r"\section*{Taxonomy table}"]
    if table_rows(report)[1]:
        out += [f"Table~\\ref{{tab:kg-taxonomy}} places the works in {tex(taxonomy_name(report))}.", ""]
    out += taxonomy_table(report)

    out += [r"\section*{Empty and thin cells}"]
    flagged = [("empty", c) for c in report["empty_cells"]] + [("thin", c) for c in report["thin_cells"]]
    if flagged:
        out.append(r"\begin{itemize}")
        for status, cell in flagged:
            near = nearest_text(cell)
            out.append(rf"\item \textbf{{{tex(cell['category_label'])} $\times$ {tex(cell['mechanism_label'])}}} "
                       + tex(f"({flagged_text(cell)})")
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
                          tex(", ".join(f"{y}: {n}" for y, n in t["by_year"].items()) or "none"), tex(trend_text(t))]
                         for t in report["trends"]])
    else:
        out += ["No dated papers in the taxonomy.", ""]

    out += [r"\section*{Modality and dataset gaps}"]
    out += _tabular("L{0.11\\linewidth}L{0.1\\linewidth}rrL{0.14\\linewidth}L{0.25\\linewidth}",
                    ["Modality", "Works", "Input", "Output", "Status", "Missing in"],
                    [[tex(m["label"]), tex(count_text(m["asserted"], m["predicted"])), str(m["input"]), str(m["output"]),
                      tex(modality_status(m)),
                      tex(", ".join(m["missing_categories"]) or "none")] for m in report["modality_gaps"]])
    gaps = [d for d in report["dataset_gaps"] if d["axis"] == "category"]
    if gaps:
        out += [r"\begin{itemize}"] + [
            rf"\item {tex(d['label'])}: " + (tex(", ".join(d["datasets"])) if d["datasets"] else r"\emph{no dataset}")
            for d in gaps] + [r"\end{itemize}", ""]

    out += [r"\section*{How the scores are computed}", r"\begin{description}"]
    out += [rf"\item[{tex(name.replace('_', ' '))}] {tex(text)}" for name, text in report["methods"].items()]
    out += [r"\end{description}", ""]
    if listing_note(report):  # the commands between backquotes set as code
        parts = listing_note(report).split("`")
        out += [r"\paragraph{Works listed.} " + "".join(
            rf"\texttt{{{tex(part)}}}" if i % 2 else (" " if part[:1] == " " else "") + tex(part) + (" " if part[-1:] == " " else "")
            for i, part in enumerate(parts)), ""]
    if report["works"]:
        out += [r"\kgfloatbarrier", r"\begin{thebibliography}{99}", r"\small"]
        out += [_bibitem(e) + (rf" \newblock $\dagger$~{tex('Placed by the classifier, confidence ' + confidence_text(e))}."
                               if confidence_text(e) else "") for e in report["works"]]
        out += [r"\end{thebibliography}"]
    out += [r"\end{document}", ""]
    return "\n".join(out)


def render_tex_table(report: dict) -> str:
    """The taxonomy table alone, a fragment to \\input into a survey (the `tex-table` format):
    the same booktabs table as in the LaTeX report, needing booktabs and array in the
    survey's preamble and the BibTeX export's keys for its \\cite-s."""
    report = for_display(report)
    head = [f"% {clean(report['title'])}: the taxonomy table, generated {clean(report['generated_at'])} "
            f"by kg {clean(report['kg_version'])}.",
            "% \\input this file where the text refers to Table~\\ref{tab:kg-taxonomy}. It needs",
            "% \\usepackage{booktabs} and \\usepackage{array} in the preamble, and the works it \\cite-s",
            "% are in the BibTeX of `kg report --format bib` (same keys, given the same --works-per-cell).",
            "% In a two-column paper, use table* instead of table for the full page width.", ""]
    return "\n".join(head + taxonomy_table(report))
