"""Escaping text for each report format: every title, name and label goes through here.

Titles come from the web (arXiv, Semantic Scholar, awesome lists) and can hold HTML,
LaTeX specials, Markdown syntax, control characters and any Unicode.
"""

from __future__ import annotations

import re
import unicodedata

from ..output.csvfile import BIDI_CONTROLS
from ..output.csvfile import cell as _csv_cell

_WS = re.compile(r"\s+")
# C0 controls and the bidi controls that make text display in another order than it is stored
_CONTROL = dict.fromkeys([c for c in range(32) if c not in (9, 10, 13)] + [ord(c) for c in BIDI_CONTROLS])


def one_line(text) -> str:
    """Text on one line: control and bidi-control characters dropped, each run of whitespace one space."""
    if text is None:
        return ""
    return _WS.sub(" ", str(text).translate(_CONTROL))


def clean(text) -> str:
    """One line of printable text (one_line) without leading or trailing spaces."""
    return one_line(text).strip()


# ---------------------------------------------------------------- HTML
# Text in the HTML report is escaped by its Jinja2 template (autoescape; see kg.report.web).
def html_url(url) -> str | None:
    """An http(s) URL for an href (the template escapes it), or None (javascript:, data: and the like are refused)."""
    url = clean(url)
    if not re.match(r"^https?://[^\s\"'<>]+$", url, re.IGNORECASE):
        return None
    return url


# ---------------------------------------------------------------- Markdown
_MD_SPECIAL = re.compile(r"([\\`*_\[\]<>#!|~&^$])")


def markdown(text) -> str:
    """Inline Markdown text: every character with Markdown or HTML meaning backslash-escaped.

    CommonMark lets any ASCII punctuation be escaped, so `\\<` stops raw HTML, `\\&` stops
    entities, `\\[` links, `\\*`/`\\_` emphasis, `\\|` table cells, `\\#` headings, `\\$`
    math. Text is always placed inline (never at a line start), so list markers need none.
    """
    return _MD_SPECIAL.sub(r"\\\1", clean(text))


def markdown_url(url) -> str | None:
    """An http(s) URL for a Markdown link target, or None."""
    url = clean(url)
    if not re.match(r"^https?://[^\s<>()\[\]`\\]+$", url, re.IGNORECASE):
        return None
    return url


# ---------------------------------------------------------------- LaTeX / BibTeX
_LATEX = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "&": r"\&", "%": r"\%", "$": r"\$",
    "#": r"\#", "_": r"\_", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
    "<": r"\textless{}", ">": r"\textgreater{}", "|": r"\textbar{}", '"': "''",
    # braced so no text is ever read as an optional argument: after a table row's \\, a
    # booktabs rule or \item, a bare [ would start one
    "[": "{[}", "]": "{]}",
}
# In BibTeX, braces are counted even after a backslash, so \{ would unbalance an entry.
_BIBTEX = dict(_LATEX, **{"{": r"\textbraceleft{}", "}": r"\textbraceright{}"})

_LETTERS = {
    "ß": r"\ss{}", "æ": r"\ae{}", "Æ": r"\AE{}", "œ": r"\oe{}", "Œ": r"\OE{}", "ø": r"\o{}",
    "Ø": r"\O{}", "ł": r"\l{}", "Ł": r"\L{}", "ı": r"\i{}", "å": r"\aa{}", "Å": r"\AA{}",
    "đ": "d", "Đ": "D", "þ": "th", "Þ": "Th", "ð": "d",
    "‘": "`", "’": "'", "‚": ",", "“": "``", "”": "''", "„": ",,", "«": "<<", "»": ">>",
    "–": "--", "—": "---", "−": "-", "‐": "-", "‑": "-", "…": r"\ldots{}", "\u00a0": "~",
    "•": r"$\bullet$", "©": "(c)", "®": "(R)", "™": "(TM)", "°": r"$^\circ$", "×": r"$\times$", "±": r"$\pm$",
    "→": r"$\rightarrow$", "←": r"$\leftarrow$",
    "≤": r"$\leq$", "≥": r"$\geq$", "∞": r"$\infty$", "·": r"$\cdot$", "§": r"$\S$", "¶": r"$\P$",
    "€": "EUR", "£": "GBP", "¿": r"?`", "¡": r"!`",
}
_GREEK = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
          "varsigma sigma tau upsilon phi chi psi omega").split()
for _i, _name in enumerate(_GREEK):
    if _name not in ("omicron", "varsigma"):
        _LETTERS[chr(0x3B1 + _i)] = f"$\\{_name}$"
_UPPER_GREEK = {"Γ": "Gamma", "Δ": "Delta", "Θ": "Theta", "Λ": "Lambda", "Ξ": "Xi", "Π": "Pi",
                "Σ": "Sigma", "Υ": "Upsilon", "Φ": "Phi", "Ψ": "Psi", "Ω": "Omega"}
_LETTERS.update({k: f"$\\{v}$" for k, v in _UPPER_GREEK.items()})
_LETTERS["µ"] = r"$\mu$"
_ACCENTS = {"\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u",
            "\u0307": ".", "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c",
            "\u0323": "d"}  # no ogonek (\k): it needs T1 fonts


def _unicode_to_latex(char: str) -> str:
    if char in _LETTERS:
        return _LETTERS[char]
    if unicodedata.combining(char):
        return ""
    decomposed = unicodedata.normalize("NFD", char)
    base, marks = decomposed[0], decomposed[1:]
    if base.isascii() and base.isalpha() and marks:
        out = "\\i" if base == "i" and any(m in _ACCENTS for m in marks) else base
        for mark in (m for m in marks if m in _ACCENTS):
            accent = _ACCENTS[mark]
            out = f"\\{accent}{{{out}}}" if accent.isalpha() else f"{{\\{accent}{{{out}}}}}"
        return out
    ascii_form = unicodedata.normalize("NFKD", char).encode("ascii", "ignore").decode()
    if ascii_form and ascii_form.isprintable():
        return "".join(_LATEX.get(c, c) for c in ascii_form)
    return "?"


def _latex_with(table: dict, text) -> str:
    out = []
    for char in clean(text):
        if char in table:
            out.append(table[char])
        elif char.isascii():
            out.append(char)
        else:
            out.append(_unicode_to_latex(char))
    return "".join(out)


def latex(text) -> str:
    """Text for a LaTeX document: specials escaped, non-ASCII spelled in plain-ASCII LaTeX
    (accent commands, math Greek), so it compiles with pdflatex, xelatex and lualatex in the
    default OT1 encoding. Characters with no such spelling (emoji, CJK) become '?'."""
    return _latex_with(_LATEX, text)


def bibtex(text) -> str:
    """A BibTeX field value (to go inside braces): LaTeX-escaped with balanced braces."""
    return _latex_with(_BIBTEX, text)


def latex_url(url) -> str | None:
    """An http(s) URL as \\url-safe text (for \\url{...} from the url package), or None."""
    url = clean(url)
    if not re.match(r"^https?://[^\s{}\\%#^~|<>\"]+$", url, re.IGNORECASE):
        return None
    return url


# ---------------------------------------------------------------- CSV
def csv_cell(text) -> str:
    """One line of text as a CSV cell a spreadsheet will not run as a formula (see kg.output.csvfile)."""
    return _csv_cell(clean(text))
