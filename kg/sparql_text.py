"""SPARQL text as tokens: one lexer that follows the SPARQL 1.1 grammar's terminals.

The guard reads keywords from these tokens, and the remote store finds variables
in them, so both see a query the way an engine's parser does: a prefixed name
may hold escaped quotes (`kg:a\\'`) or an escaped `#`, a keyword may follow a
dot with no space (`?o .SERVICE`), and strings, IRIs and comments are single
tokens whose content is never read as keywords.

`tokens(text)` gives every token but whitespace; `strip(text)` blanks comments,
strings and IRIs (same length, same lines) for code that scans text with
regular expressions.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Character classes of the SPARQL 1.1 grammar (section 19.8).
_BASE = ("A-Za-z\u00C0-\u00D6\u00D8-\u00F6\u00F8-\u02FF\u0370-\u037D\u037F-\u1FFF\u200C-\u200D"
         "\u2070-\u218F\u2C00-\u2FEF\u3001-\uD7FF\uF900-\uFDCF\uFDF0-\uFFFD\U00010000-\U000EFFFF")
_U = _BASE + "_"
_CHARS = _U + "\\-0-9\u00B7\u0300-\u036F\u203F-\u2040"
_PLX = r"(?:%[0-9A-Fa-f]{2}|\\[_~.\-!$&'()*+,;=/?#@%])"
_PREFIX = rf"[{_BASE}](?:[{_CHARS}.]*[{_CHARS}])?"
_LOCAL = rf"(?:[{_U}:0-9]|{_PLX})(?:(?:[{_CHARS}.:]|{_PLX})*(?:[{_CHARS}:]|{_PLX}))?"
_VARNAME = rf"[{_U}0-9][{_U}0-9\u00B7\u0300-\u036F\u203F-\u2040]*"
_ECHAR = r"\\."

_SPEC = [
    ("ws", r"\s+"),
    ("comment", r"#[^\n\r]*"),
    ("string", rf"'''(?:(?:'|'')?(?:[^'\\]|{_ECHAR}))*'''|\"\"\"(?:(?:\"|\"\")?(?:[^\"\\]|{_ECHAR}))*\"\"\""
               rf"|'(?:[^'\\\n\r]|{_ECHAR})*'|\"(?:[^\"\\\n\r]|{_ECHAR})*\""),
    ("iri", r"<(?:[^<>\"{}|^`\\\x00-\x20]|\\u[0-9A-Fa-f]{4}|\\U[0-9A-Fa-f]{8})*>"),
    ("pname", rf"(?:{_PREFIX})?:(?:{_LOCAL})?"),
    ("var", rf"[?$]{_VARNAME}"),
    ("bnode", rf"_:[{_U}0-9](?:[{_CHARS}.]*[{_CHARS}])?"),
    ("lang", r"@[A-Za-z]+(?:-[A-Za-z0-9]+)*(?:--[A-Za-z]+)?"),
    ("number", r"(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)"),
    ("word", r"[A-Za-z_][A-Za-z0-9_]*"),
    ("punct", r"\^\^|&&|\|\||!=|<=|>=|<<|>>|\{\||\|\}|[{}()\[\].,;*/+\-=<>!|^?$@&]"),
    ("error", r"."),
]
_TOKEN = re.compile("|".join(f"(?P<{name}>{pattern})" for name, pattern in _SPEC), re.S)
_BLANKED = {"comment", "string", "iri"}


@dataclass(frozen=True)
class Token:
    kind: str  # comment | string | iri | pname | var | bnode | lang | number | word | punct | error
    text: str
    start: int
    end: int

    @property
    def keyword(self) -> str | None:
        """The upper-cased word if this token can be a keyword (a bare word), else None."""
        return self.text.upper() if self.kind == "word" else None


def tokens(text: str, *, comments: bool = False) -> list[Token]:
    """The tokens of `text` in order, without whitespace (and without comments unless asked)."""
    out = []
    for m in _TOKEN.finditer(text):
        kind = m.lastgroup
        if kind == "ws" or (kind == "comment" and not comments):
            continue
        out.append(Token(kind, m.group(kind), m.start(), m.end()))
    return out


def strip(text: str) -> str:
    """`text` with comments, strings and IRIs blanked out (same length, same line breaks)."""
    out = list(text)
    for m in _TOKEN.finditer(text):
        if m.lastgroup in _BLANKED:
            for k in range(m.start(), m.end()):
                if out[k] not in "\n\r":
                    out[k] = " "
    return "".join(out)


def keywords(text: str) -> list[tuple[str, int]]:
    """The bare words of `text` upper-cased, with their offsets (what can be a keyword)."""
    return [(t.text.upper(), t.start) for t in tokens(text) if t.kind == "word"]


def token_at(text: str, line: int, column: int) -> Token | None:
    """The token that starts at or covers 1-based (line, column), if any."""
    lines = text.splitlines(keepends=True)
    if not 1 <= line <= len(lines) + 1:
        return None
    offset = sum(len(x) for x in lines[:line - 1]) + max(column - 1, 0)
    for tok in tokens(text, comments=True):
        if tok.start <= offset < tok.end or tok.start >= offset:
            return tok
    return None
