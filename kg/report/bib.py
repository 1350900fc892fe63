"""The works of the report's taxonomy cells as BibTeX (keys match the LaTeX report)."""

from __future__ import annotations

import re

from .escape import bibtex as bib
from .escape import clean, latex_url
from .layout import listing_note


def raw(value) -> str | None:
    """A URL or DOI that needs no escaping in a verbatim BibTeX field (url, doi), else None."""
    text = clean(value)
    if text.startswith(("http://", "https://")):
        return latex_url(text)
    return text if re.fullmatch(r"10\.[^\s{}\\%#~^&$\"]+", text) else None


JOURNAL = re.compile(r"\b(journal|transactions|trans\.|tmlr|tpami|tkdd|tois|tkde|letters)\b", re.IGNORECASE)


def entry_type(entry: dict) -> tuple[str, str | None]:
    """(BibTeX type, venue field) for a work: misc when there is no venue or only arXiv."""
    venue = clean(entry.get("venue"))
    if not venue or venue.lower() in ("arxiv", "corr"):
        return "misc", None
    return ("article", "journal") if JOURNAL.search(venue) else ("inproceedings", "booktitle")


def render_bibtex(report: dict) -> str:
    lines = [f"% {clean(report['title'])}: works per taxonomy cell, generated {clean(report['generated_at'])} "
             f"by kg {clean(report['kg_version'])}.",
 ""]
    if listing_note(report):  # the works a cell does not list, and how to get them
        lines += [f"% {clean(listing_note(report).replace('`', ''))}", ""]
    for cell in report["cells"]:
        if cell["papers"]:
            lines.append(f"% {clean(cell['category'])} x {clean(cell['mechanism'])}: "
                         + ", ".join(p["key"] for p in cell["papers"])
                         + (f" (+{cell['more_papers']} more)" if cell.get("more_papers") else ""))
    lines.append("")
    for entry in report["works"]:
        kind, venue_field = entry_type(entry)
        fields: list[tuple[str, str]] = []
        authors = entry["authors"]
        if authors:
            fields.append(("author", " and ".join(bib(a) for a in authors)))
        fields.append(("title", "{" + bib(entry.get("title") or entry["label"]) + "}"))
        if venue_field:
            fields.append((venue_field, bib(entry["venue"])))
        if entry.get("year"):
            fields.append(("year", str(entry["year"])))
        if entry.get("doi"):
            fields.append(("doi", raw(entry["doi"]) or bib(entry["doi"])))
        if entry.get("arxiv"):
            fields += [("eprint", bib(entry["arxiv"])), ("archiveprefix", "arXiv")]
        if raw(entry.get("url")):
            fields.append(("url", raw(entry["url"])))
        fields.append(("keywords", bib(", ".join(entry["cells"]))))
        note = [f"kg: {entry['work']}"]
        if entry.get("cite") and not entry.get("title"):
            note.insert(0, f"cited in the survey as {entry['cite']}; not resolved to a record")
        fields.append(("note", bib("; ".join(note))))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields)
        lines += [f"@{kind}{{{entry['key']},", body, "}", ""]
    if not report["works"]:
        lines.append("% No works are placed in the taxonomy yet.")
    return "\n".join(lines)
