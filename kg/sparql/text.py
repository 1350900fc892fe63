"""SPARQL text: the one place that reads and rewrites it, on one lexer that follows the grammar.

Everything in kg that looks into a query's text goes through here: the guard's
keywords, a query's form, the variables the remote store substitutes, and the
LIMIT/OFFSET and ORDER BY of named queries. So every reader sees a query the way
an engine's parser does: a prefixed name may hold escaped quotes (`kg:a\\'`)
or an escaped `#`, a keyword may follow a dot with no space (`?o .SERVICE`),
and strings, IRIs and comments are single tokens whose content is never read as
keywords or variables.

- `tokens(text)` gives every token but whitespace; `strip(text)` blanks
  comments, strings and IRIs (same length, same lines); `keywords(text)` the
  bare words; `query_form(text)` the keyword after the prologue.
- `Outline(text)` is the structure on top of the tokens: brace and parenthesis
  depths and every SELECT (the query's own and sub-queries) with its
  projection, WHERE group and solution modifiers. `Select.with_page` sets a
  LIMIT/OFFSET, `Select.flattened` replaces a sub-select by its pattern, and
  `split_order` takes a final ORDER BY off for the caller to sort.
- `sparql_term(value)` writes a value as a SPARQL term, escaped, and
  `substitute(text, bindings)` puts such terms in place of bound variables:
  values never enter query text as pasted strings; `check_bindings` refuses a
  variable a query cannot have bound (one it lacks, or its SELECT does not list).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..errors import UsageError

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
_CODEPOINT = re.compile(r"\\u([0-9A-Fa-f]{4})|\\U([0-9A-Fa-f]{8})")

# The keywords that decide what a query may do (kg.sparql.guard refuses the last two sets).
QUERY_FORMS = ("SELECT", "ASK", "CONSTRUCT", "DESCRIBE")
UPDATE_KEYWORDS = frozenset({"INSERT", "DELETE", "LOAD", "CLEAR", "DROP", "CREATE", "ADD", "MOVE", "COPY", "WITH"})
REMOTE_KEYWORDS = frozenset({"SERVICE"})


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


def decode_codepoints(text: str) -> str:
    """`text` with its \\u and \\U codepoint escapes decoded, as SPARQL 1.1 (section 19.2) lets an
    engine do before it parses, so `\\u0053ELECT` reads SELECT. Escapes of no codepoint stay as written."""
    def decode(m: re.Match) -> str:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF else m.group(0)
    return _CODEPOINT.sub(decode, text)


def variables(text: str) -> set[str]:
    """The names of the variables a query uses (not counting strings, IRIs and comments)."""
    return {t.text[1:] for t in tokens(text) if t.kind == "var"}


def query_form(text: str) -> str | None:
    """The first keyword after the prologue (PREFIX and BASE declarations), upper-cased, when it
    is a query form (SELECT, ASK, CONSTRUCT, DESCRIBE) or an update keyword (INSERT, ...); else None.

    Only looks, never parses, and reads codepoint escapes as an engine may (`\\u0041SK` is ASK)."""
    toks = tokens(decode_codepoints(text))
    i = 0
    while i < len(toks):
        word = toks[i].keyword
        if word == "PREFIX" and _kinds(toks, i + 1, "pname", "iri") and toks[i + 1].text.count(":") == 1 \
                and toks[i + 1].text.endswith(":"):
            i += 3
        elif word == "BASE" and _kinds(toks, i + 1, "iri"):
            i += 2
        else:
            return word if word in QUERY_FORMS or word in UPDATE_KEYWORDS else None
    return None


def _kinds(toks: list[Token], at: int, *kinds: str) -> bool:
    """Whether the tokens from index `at` on are of these kinds, in this order."""
    return len(toks) >= at + len(kinds) and all(toks[at + k].kind == kind for k, kind in enumerate(kinds))


# ---------------------------------------------------------------- the structure of a query
_OPEN, _CLOSE = ("{", "{|"), ("}", "|}")
_GROUP_END = {"HAVING", "ORDER", "LIMIT", "OFFSET", "VALUES"}


class Outline:
    """A query's tokens with their nesting, and its SELECTs (the query's own and every sub-query).

    `brace[i]` is how many braces are open before token i, `paren[i]` how many
    parentheses within that brace; `closing` maps the index of each "{" to its "}", and
    `enclosing` each token to the "{" it sits in (-1 at the top)."""

    def __init__(self, text: str):
        self.text = text
        self.tokens = tokens(text)
        self.brace: list[int] = []
        self.paren: list[int] = []
        self.closing: dict[int, int] = {}
        self.enclosing: list[int] = []
        brace = paren = 0
        stack = []
        for i, tok in enumerate(self.tokens):
            self.brace.append(brace)
            self.enclosing.append(stack[-1] if stack else -1)
            self.paren.append(paren)
            if tok.kind == "punct" and tok.text in _OPEN:
                brace, paren = brace + 1, 0
                stack.append(i)
            elif tok.kind == "punct" and tok.text in _CLOSE:
                brace, paren = brace - 1, 0
                if stack:
                    self.closing[stack.pop()] = i
            elif tok.text == "(":
                paren += 1
            elif tok.text == ")":
                paren = max(paren - 1, 0)
        self.selects = [self._select(i) for i, tok in enumerate(self.tokens) if tok.keyword == "SELECT"]

    def binds_into(self, inner: int, outer: int) -> bool:
        """Whether what token `inner` binds reaches the group opened at token `outer` (which holds
        it): not when a FILTER EXISTS, NOT EXISTS or MINUS group lies between them."""
        group = self.enclosing[inner]
        while group > outer:
            if self.word(group - 1) in ("EXISTS", "MINUS"):
                return False
            group = self.enclosing[group]
        return True

    def word(self, i: int) -> str | None:
        """The keyword at token index i (upper-cased), or None."""
        return self.tokens[i].keyword if 0 <= i < len(self.tokens) else None

    @property
    def query(self) -> Select | None:
        """The query's own SELECT (None for ASK, CONSTRUCT and DESCRIBE queries)."""
        return next((s for s in self.selects if s.depth == 0), None)

    def _select(self, at: int) -> Select:
        toks, depth = self.tokens, self.brace[at]
        scope = Select(self, at, depth)
        j = at + 1
        while j < len(toks):  # the projection: up to WHERE, FROM or the group's "{"
            u = toks[j]
            if self.paren[j] == 0 and (u.text == "{" or u.keyword in ("WHERE", "FROM")):
                break
            if u.kind == "var" and self.paren[j] == 0:
                scope.projection.append(j)
            elif u.kind == "var" and self.word(j - 1) == "AS":
                scope.assigned.append(j)
            elif u.text == "*" and self.paren[j] == 0:
                scope.star = True
            j += 1
        while j < len(toks) and toks[j].text != "{":
            j += 1
        if j == len(toks):
            scope.end = j
            return scope
        scope.open, scope.close = j, self.closing.get(j, len(toks) - 1)
        k, in_group = scope.close + 1, False
        while k < len(toks) and self.brace[k] >= depth and not (toks[k].text in _CLOSE and self.brace[k] == depth):
            u, word = toks[k], toks[k].keyword
            if self.brace[k] == depth and word:
                if word == "BY" and self.word(k - 1) == "GROUP":
                    in_group = True
                elif word in _GROUP_END or word == "SELECT":
                    in_group = False
                if word == "ORDER" and self.word(k + 1) == "BY" and scope.order < 0:
                    scope.order = k
                elif word == "LIMIT" and scope.limit < 0:
                    scope.limit = k
                elif word == "OFFSET" and scope.offset < 0:
                    scope.offset = k
                elif word == "VALUES" and scope.end < 0:
                    scope.end = k
            elif in_group and u.kind == "var" and self.paren[k] == 0 and self.brace[k] == depth:
                scope.group_by.append(k)
            if u.text in _OPEN and self.brace[k] == depth:
                break
            k += 1
        if scope.end < 0:
            scope.end = k
        return scope


@dataclass(eq=False)
class Select:
    """One SELECT of an Outline: where its parts are, as token indexes (-1: it has none)."""

    outline: Outline
    at: int  # the SELECT keyword
    depth: int  # braces around it: 0 for the query's own SELECT
    projection: list[int] = field(default_factory=list)  # bare projected variables
    assigned: list[int] = field(default_factory=list)  # variables the projection assigns: (... AS ?v)
    star: bool = False
    open: int = -1  # the WHERE group's "{"
    close: int = -1  # ... and its "}"
    group_by: list[int] = field(default_factory=list)  # bare variables in GROUP BY
    order: int = -1  # ORDER of ORDER BY
    limit: int = -1  # LIMIT
    offset: int = -1  # OFFSET
    end: int = -1  # just past its solution modifiers: a VALUES clause, the closing "}" or the end

    def _number(self, keyword: int) -> int | None:
        toks = self.outline.tokens
        if keyword < 0 or keyword + 1 >= len(toks) or toks[keyword + 1].kind != "number" \
                or not toks[keyword + 1].text.isdigit():
            return None
        return int(toks[keyword + 1].text)

    @property
    def limit_value(self) -> int | None:
        return self._number(self.limit)

    @property
    def offset_value(self) -> int | None:
        return self._number(self.offset)

    @property
    def variables(self) -> list[str]:
        """The names of the variables its rows carry (bare and assigned), in projection order."""
        toks = self.outline.tokens
        return [toks[i].text[1:] for i in sorted(self.projection + self.assigned)]

    @property
    def wrapped(self) -> tuple[int, int] | None:
        """(start, end) offsets of `{ SELECT ... }` when this is a sub-select alone in its braces."""
        o = self.outline
        before = self.at - 1
        if before < 0 or o.tokens[before].text != "{" or before not in o.closing:
            return None
        close = o.closing[before]
        if self.end != close:
            return None
        return o.tokens[before].start, o.tokens[close].end

    @property
    def pattern(self) -> str:
        """The text of its WHERE group, inside the braces."""
        if self.open < 0:
            return ""
        toks = self.outline.tokens
        return self.outline.text[toks[self.open].end:toks[self.close].start].strip()

    def with_page(self, limit: int, offset: int) -> str:
        """The whole query text with this SELECT's LIMIT and OFFSET set: the ones it has are
        replaced, or `LIMIT n OFFSET m` goes after its other solution modifiers."""
        if not (isinstance(limit, int) and isinstance(offset, int) and limit >= 0 and offset >= 0):
            raise ValueError(f"LIMIT and OFFSET are counts, not {limit!r} and {offset!r}")
        o, clause = self.outline, f"LIMIT {limit} OFFSET {offset}"
        keywords = [k for k in (self.limit, self.offset) if k >= 0]
        if keywords:
            toks = o.tokens
            for k in keywords:
                if self._number(k) is None:
                    raise ValueError(f"{toks[k].text} is not followed by a number")
            start, end = toks[min(keywords)].start, toks[max(keywords) + 1].end
            return o.text[:start] + clause + o.text[end:]
        at = o.tokens[self.end - 1].end  # after its last modifier (a comment after it stays after it)
        return o.text[:at] + " " + clause + o.text[at:]

    def flattened(self) -> str:
        """The whole query text with this sub-select replaced by its WHERE pattern: every row
        the pattern matches, where the sub-select picked some (its projection, order and page gone)."""
        span = self.wrapped
        if span is None:
            raise ValueError("only a sub-select alone in its braces can be replaced by its pattern")
        text = self.outline.text
        return text[:span[0]] + self.pattern.rstrip(" .") + " ." + text[span[1]:]


def split_order(text: str) -> tuple[str, list[tuple[str, bool]]]:
    """A query without its final ORDER BY, and that ORDER BY as (variable, descending) pairs.

    Only a plain list of variables (?v, ASC(?v), DESC(?v)) that the rows carry, as
    the query's last clause (no LIMIT or OFFSET after it), is split off: the caller
    sorts those rows itself (kg.sparql.named: far cheaper than the engine's sort). Anything
    else is left to the engine: the text comes back as it is, with no keys.
    """
    outline = Outline(text)
    query = outline.query
    if query is None or query.order < 0 or query.end != len(outline.tokens):
        return text, []
    toks, keys = outline.tokens, []
    k = query.order + 2
    while k < len(toks):
        if toks[k].kind == "var":
            keys.append((toks[k].text[1:], False))
            k += 1
        elif toks[k].keyword in ("ASC", "DESC") and [t.kind if t.kind != "punct" else t.text
                                                     for t in toks[k + 1:k + 4]] == ["(", "var", ")"]:
            keys.append((toks[k + 2].text[1:], toks[k].keyword == "DESC"))
            k += 4
        else:
            return text, []
    if not keys or (not query.star and any(v not in query.variables for v, _ in keys)):
        return text, []  # ordered by a variable the rows do not carry
    return text[:toks[query.order].start].rstrip() + "\n", keys


# ---------------------------------------------------------------- values as terms
XSD = "http://www.w3.org/2001/XMLSchema#"
_IRI_OK = re.compile(r"[^<>\"{}|^`\\\x00-\x20]*")
_LANG_OK = re.compile(r"[A-Za-z]+(-[A-Za-z0-9]+)*")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\r": "\\r", "\t": "\\t", "\b": "\\b", "\f": "\\f"}


def _term_parts(value) -> tuple[str, str, str | None, str | None]:
    """(kind, value, language, datatype) of a binding value: a term with type, value, datatype and
    lang (kg.sparql.results.Term), a pyoxigraph NamedNode, Literal or BlankNode, or a bool, int, float or
    str (anything else is taken as its string)."""
    import pyoxigraph as ox

    if all(hasattr(value, a) for a in ("type", "value", "datatype", "lang")):
        return value.type, value.value, value.lang, value.datatype
    if isinstance(value, ox.NamedNode):
        return "uri", value.value, None, None
    if isinstance(value, ox.BlankNode):
        return "bnode", value.value, None, None
    if isinstance(value, ox.Literal):
        return "literal", value.value, value.language, value.datatype.value
    if isinstance(value, bool):
        return "literal", "true" if value else "false", None, XSD + "boolean"
    if isinstance(value, int):
        return "literal", str(value), None, XSD + "integer"
    if isinstance(value, float):
        return "literal", repr(value), None, XSD + "double"
    return "literal", str(value), None, None


def sparql_iri(value: str) -> str:
    """An IRI as SPARQL text (`<...>`); UsageError when it holds a character an IRI cannot."""
    if not _IRI_OK.fullmatch(value):
        raise UsageError(f"not a valid IRI: {value!r}")
    return f"<{value}>"


def iri_list(iris) -> str:
    """IRIs as SPARQL text, one `<...>` each, separated by spaces (a VALUES block's body); a `>`
    in one is written %3E (kg's own IRIs have none)."""
    return " ".join("<" + str(i).replace(">", "%3E") + ">" for i in iris)


def sparql_term(value) -> str:
    """A value as SPARQL term syntax, escaped: the only way values enter query text."""
    kind, text, lang, datatype = _term_parts(value)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise UsageError(f"the value {text!r} is not valid text") from None
    if kind == "uri":
        return sparql_iri(text)
    if kind != "literal":
        raise UsageError(f"a {kind} cannot be bound to a variable in a query")
    out = '"' + "".join(_ESCAPES.get(c) or (f"\\u{ord(c):04X}" if ord(c) < 0x20 or ord(c) == 0x7F else c)
                        for c in text) + '"'
    if lang:
        if not _LANG_OK.fullmatch(lang):
            raise UsageError(f"not a valid language tag: {lang!r}")
        return f"{out}@{lang}"
    if datatype and datatype != XSD + "string":
        return f"{out}^^{sparql_iri(datatype)}"
    return out


def substitute(text: str, bindings: dict | None) -> str:
    """`text` with each bound variable replaced by its value as a SPARQL term.

    Gives the answers of Oxigraph's local substitution (SPARQL-dev SEP-0007),
    where the variable keeps its value in the results: occurrences in patterns
    and expressions become the term; a SELECT that projects the variable gets
    `(term AS ?v)` (or keeps `?v` when a sub-query already provides it); a
    `SELECT *` gets `BIND(term AS ?v)` at the top of its WHERE group. Binding a
    variable the query assigns itself (AS ?v, VALUES ?v) is refused.
    """
    if not bindings:
        return text
    terms = {name.lstrip("?$"): sparql_term(value) for name, value in bindings.items()}
    outline = Outline(text)
    toks, scopes = outline.tokens, outline.selects
    edits: dict[int, str] = {}  # token index -> replacement text
    inserts: dict[int, str] = {}  # token index of "{" -> text to insert after it
    special = set()
    for scope in scopes:
        special.update(scope.projection)
        special.update(scope.group_by)
    in_values = in_order = False
    for i, t in enumerate(toks):
        word = t.keyword
        if word == "VALUES":
            in_values, in_order = True, False
        elif word == "BY" and outline.word(i - 1) == "ORDER":
            in_order = True
        elif t.text in ("{", "}") or word in ("LIMIT", "OFFSET", "SELECT"):
            in_values = in_order = False
        if t.kind != "var" or t.text[1:] not in terms:
            continue
        name = t.text[1:]
        if outline.word(i - 1) == "AS" or in_values:
            raise UsageError(f"cannot bind ?{name}: the query assigns it itself")
        if in_order and outline.paren[i] == 0:
            edits[i] = f"({terms[name]})"
        elif i not in special:
            edits[i] = terms[name]
    # innermost SELECTs first: a sub-query that projects the variable provides it to its parent
    provides: dict[int, set[str]] = {}
    for scope in sorted(scopes, key=lambda sc: -sc.depth):
        children = [c for c in scopes if c is not scope and scope.open < c.at < scope.close
                    and outline.binds_into(c.at, scope.open)]
        inherited = set().union(*(provides.get(c.at, set()) for c in children)) if children else set()
        given = set(inherited)
        for i in scope.projection:
            name = toks[i].text[1:]
            if name in terms:
                if name not in inherited:
                    edits[i] = f"({terms[name]} AS ?{name})"
                given.add(name)
        for i in scope.group_by:
            name = toks[i].text[1:]
            if name in terms and name not in inherited:
                edits[i] = f"({terms[name]})"
        if scope.star and scope.open >= 0:
            missing = [n for n in terms if n not in inherited]
            if missing:
                inserts[scope.open] = " ".join(f"BIND({terms[n]} AS ?{n})" for n in missing) + " "
            given.update(terms)
        provides[scope.at] = given
    out = text
    positions = sorted([(toks[i].start, toks[i].end, v) for i, v in edits.items()]
                       + [(toks[i].end, toks[i].end, v) for i, v in inserts.items()], reverse=True)
    for start, end, value in positions:
        out = out[:start] + value + out[end:]
    return out


def check_bindings(text: str, names, *, projected: bool = True) -> None:
    """Refuse a bound variable the query cannot take, in words, before an engine does in its own:
    one the query never mentions (binding it would change nothing), or, when `projected` (a local
    store: Oxigraph binds by substitution), one its SELECT does not list (a bound variable keeps
    its value in the answers, so Oxigraph wants it among their columns: `SELECT *` or the variable
    listed). An endpoint's query has the values written into its text, which needs neither."""
    used = variables(text)
    select = Outline(text).query
    for name in (n.lstrip("?$") for n in names):
        if name not in used:
            raise UsageError(f"cannot bind ?{name}: the query has no such variable", field="bindings")
        if projected and select is not None and not select.star and name not in select.variables:
            raise UsageError(f"cannot bind ?{name}: the query's SELECT does not list it "
                             f"(add ?{name} to it, or use SELECT *)", field="bindings")


def with_prefixes(text: str, prefixes: dict[str, str]) -> str:
    """`prefixes` declared in front of the query (its own declarations come later and win)."""
    return "".join(f"PREFIX {p}: <{ns}>\n" for p, ns in prefixes.items()) + text
