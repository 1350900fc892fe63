"""The inline text of one list entry (a table cell, a list item, a line): its runs of text with
their emphasis and links (`Inline`, built from markdown-it tokens or HTML by `InlineBuilder`),
what kind of link each is (paper, code, page), and the Markdown reader kg uses for lists
(CommonMark with GitHub's tables; broken table delimiter rows mended first)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

from markdown_it import MarkdownIt

from ..records import ids
from .text import plain_text

# [label](url), [label](<url>), [label](url "title"); a url may hold balanced parentheses
_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\]]*\])*)\]\(\s*(?:<([^>\n]*)>|((?:[^()\s]|\([^()\s]*\))+))"
                   r"(?:\s+\"[^\"]*\")?\s*\)")
_SEPARATOR = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_BARE_URL = re.compile(r"https?://[^\s<>\[\]()\"'`]+")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_PAPER_HOSTS = ("arxiv.org", "doi.org", "openreview.net", "aclanthology.org", "aclweb.org", "semanticscholar.org",
                "openaccess.thecvf.com", "proceedings.", "ieeexplore.ieee.org", "dl.acm.org", "springer.com",
                "papers.nips.cc", "neurips.cc", "ojs.aaai.org", "ijcai.org", "sciencedirect.com", "iclr.cc",
                "icml.cc", "jmlr.org", "ecva.net", "mlr.press", "nature.com", "science.org", "biorxiv.org",
                "medrxiv.org", "onlinelibrary.wiley.com", "tandfonline.com", "mdpi.com", "frontiersin.org",
                "huggingface.co/papers", "isca-archive.org", "aaai.org", "usenix.org", "vldb.org", "sigir.org")
_CODE_HOSTS = ("github.com", "gitlab.com", "bitbucket.org", "gitee.com")
_PAPER_WORDS = {"paper", "papers", "pdf", "arxiv", "preprint", "openreview", "acl", "acl anthology", "doi",
                "abs", "publication", "proceedings", "springer", "ieee", "acm", "cvf", "full paper", "arxiv paper",
                "paper link", "pdf link", "paper pdf", "read paper", "view paper", "link to paper", "survey paper",
                "open access", "arxiv pdf"}
_PAGE_WORDS = ("page", "project", "website", "homepage", "home", "demo", "blog", "site", "web")
_CODE_WORDS = ("code", "github", "gitlab", "repo", "implementation", "star")


def header_key(header: str) -> str:
    return re.sub(r"[^a-z]", "", header.lower().replace("#", "n"))


def split_row(line: str) -> list[str]:
    """Cells of a Markdown table row ('|' inside links and code, and '\\|', stay in their cell)."""
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    if not any(c in s for c in "[(`\\"):
        return [c.strip() for c in s.split("|")]
    cells, current, depth, code = [], [], 0, False
    i = 0
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if c == "`":
            code = not code
        elif c in "[(" and not code:
            depth += 1
        elif c in "])" and not code and depth:
            depth -= 1
        if c == "|" and not code and depth == 0:
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(c)
        i += 1
    cells.append("".join(current).strip())
    return cells


def clean(text: str | None) -> str | None:
    """Markdown cell -> plain text: links keep their label, images/HTML/emphasis go."""
    if text is None:
        return None
    text = re.sub(r"!\[[^\]]*\]\([^)]*\)", " ", text)
    text = _LINK.sub(lambda m: m.group(1), text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.I)
    text = re.sub(r"(\*\*|__|`)", "", text)
    text = re.sub(r"(?<!\w)[*_](\S(?:.*?\S)?)[*_](?!\w)", r"\1", text)
    return plain_text(text)


def _is_paper_link(url: str) -> bool:
    return any(host in url.lower() for host in _PAPER_HOSTS)


def link_words(text: str | None) -> str:
    return re.sub(r"[\W_]+", " ", (text or "").lower()).strip()


@lru_cache(maxsize=8192)
def link_kind(url: str, words: str = "", column: str = "") -> str:
    """'paper', 'code', 'page' or 'other': from the address (arXiv, DOI), the link's words ('Code',
    'Project Page', a badge's text), its column ('Code', 'Demo'), then its host."""
    low, words, column = url.lower(), link_words(words), header_key(column)
    if ids.arxiv_id(url) or ids.doi(url):
        return "paper"
    host = (urlsplit(url).hostname or "").lower() if "://" in url else ""
    tokens = set(words.split())
    if tokens & set(_PAGE_WORDS) and not tokens & {"paper", "pdf", "arxiv"}:
        return "page"
    if any(w in words for w in _CODE_WORDS):
        return "code"
    if words in _PAPER_WORDS and not any(h in low for h in _CODE_HOSTS):
        return "paper"
    if column in ("demo", "demos", "project", "projectpage", "homepage", "page", "website"):
        return "page"
    if column in ("code", "codes", "repo", "repository", "github", "implementation", "officialcode"):
        return "code"
    if any(h in low for h in _CODE_HOSTS):
        return "code"
    if _is_paper_link(url) or low.split("?")[0].endswith(".pdf"):
        return "paper"
    if host.endswith("github.io") or "huggingface.co/spaces" in low:
        return "page"
    return "other"


@dataclass
class _Piece:
    text: str
    bold: bool = False
    italic: bool = False
    link: int | None = None
    image: bool = False
    brk: bool = False
    line: int = 0  # lines after the first line of the content


@dataclass
class _Link:
    href: str
    bare: bool = False  # a URL written as text


class Inline:
    """A cell, list item or line as runs of text with their emphasis and links."""

    def __init__(self, raw: str = ""):
        self.raw = raw
        self.pieces: list[_Piece] = []
        self.links: list[_Link] = []
        self._memo: dict = {}  # texts already joined, by (what, number of pieces): pieces are only appended

    # -- reading
    def _join(self, pieces) -> str:
        text = "".join(" " if p.brk else p.text for p in pieces)
        return (plain_text(text) or "") if re.search(r"[<&\s]", text) else text

    def _cached(self, key, make) -> str:
        key = (key, len(self.pieces))
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def text(self) -> str:
        """The plain text (link labels included, images not)."""
        return self._cached("text", lambda: self._join(p for p in self.pieces if not p.image))

    def label(self, i: int) -> str:
        return self._cached(("label", i), lambda: self._join(p for p in self.pieces if p.link == i and not p.image))

    def badge(self, i: int) -> str:
        return self._cached(("badge", i), lambda: self._join(p for p in self.pieces if p.link == i and p.image))

    def words(self, i: int) -> str:
        return self.label(i) or self.badge(i)

    def link_list(self) -> list[tuple[str, str, int]]:
        """[(words, href, index)] in order, anchors (#...) left out."""
        return [(self.words(i), link.href, i) for i, link in enumerate(self.links) if not link.href.startswith("#")]

    def runs(self, attr: str) -> list[tuple[str, set[int]]]:
        """Consecutive bold (or italic) text: [(text, piece indices)]."""
        out, current = [], []
        for n, p in enumerate(self.pieces):
            if getattr(p, attr) and not p.brk and not p.image:
                current.append(n)
            elif current:
                out.append(current)
                current = []
        if current:
            out.append(current)
        joined = [(self._join(self.pieces[n] for n in run), set(run)) for run in out]
        return [(text, where) for text, where in joined if text]

    def outside(self, skip: set[int] = frozenset()) -> str:
        """The text outside links (and images), without the pieces in `skip`."""
        return self._join(p for n, p in enumerate(self.pieces) if p.link is None and not p.image and n not in skip)

    def first_line(self) -> int:
        return next((p.line for p in self.pieces if p.text.strip() or p.image), 0)

    def lines(self) -> list[Inline]:
        """The content split at its line breaks."""
        out, current = [], Inline()
        for p in self.pieces:
            if p.brk:
                out.append(current)
                current = Inline()
                continue
            current.add(p, self.links)
        out.append(current)
        return [part for part in out if part.pieces]

    # -- writing
    def add(self, piece: _Piece, links: list[_Link]) -> None:
        """Append a piece from another Inline (its link re-numbered)."""
        link = None
        if piece.link is not None:
            href = links[piece.link]
            if self.pieces and self.pieces[-1].link is not None and self.links[self.pieces[-1].link] is href:
                link = self.pieces[-1].link
            else:
                self.links.append(href)
                link = len(self.links) - 1
        self.pieces.append(_Piece(piece.text, piece.bold, piece.italic, link, piece.image, piece.brk, piece.line))

    def extend(self, other: Inline) -> None:
        if self.pieces and other.pieces:
            self.pieces.append(_Piece("", brk=True, line=other.pieces[0].line))
        for p in other.pieces:
            self.add(p, other.links)
        self.raw = "\n".join(x for x in (self.raw, other.raw) if x)


def _shield_words(src: str) -> str:
    """A badge image's words: shields.io '/badge/Paper-blue' -> 'Paper', '/github/stars/..' -> 'GitHub stars'."""
    parts = urlsplit(src)
    path = unquote(parts.path)
    if "shields.io" in (parts.hostname or "") or "badgen.net" in (parts.hostname or ""):
        m = re.search(r"/badge/([^/]+?)(?:\.svg|\.png)?$", path)
        if m:
            fields = [f.replace("--", "-").replace("__", "_").replace("_", " ")
                      for f in re.split(r"(?<!-)-(?!-)", m.group(1))]
            return " ".join(fields[:-1] if len(fields) > 1 else fields)
        segments = [s for s in path.split("/") if s]
        return " ".join(segments[:2]) if segments else ""
    stem = Path(path).stem
    return re.sub(r"[-_]+", " ", stem) if stem and not re.fullmatch(r"[\da-f]{8,}", stem) else ""


class InlineBuilder:
    """Builds an Inline from markdown-it inline tokens and HTML tags, keeping emphasis and links."""

    def __init__(self, raw: str = "", line: int = 0):
        self.inline = Inline(raw)
        self.bold = self.italic = self.skip = 0
        self.link: int | None = None
        self.line = line

    def _put(self, text: str, image: bool = False) -> None:
        self.inline.pieces.append(_Piece(text, self.bold > 0, self.italic > 0, self.link, image, line=self.line))

    def text(self, value: str) -> None:
        if self.skip or not value:
            return
        if self.link is not None:
            self._put(value)
            return
        at = 0
        for m in _BARE_URL.finditer(value):
            url = m.group(0).rstrip(".,;:!?")
            self._put(value[at:m.start()])
            self.inline.links.append(_Link(url, bare=True))
            self.link = len(self.inline.links) - 1
            self._put("")
            self.link = None
            self._put(value[m.start() + len(url):m.end()])
            at = m.end()
        self._put(value[at:])

    def brk(self, newline: bool = True) -> None:
        self.inline.pieces.append(_Piece("", brk=True, line=self.line))
        if newline:
            self.line += 1

    def image(self, src: str | None, alt: str | None) -> None:
        words = (alt or "").strip() or _shield_words(src or "")
        if words and not self.skip:
            self._put(f" {words} ", image=True)

    def open_link(self, href: str | None) -> None:
        self.inline.links.append(_Link((href or "").strip()))
        self.link = len(self.inline.links) - 1

    def close_link(self) -> None:
        self.link = None

    def tag(self, name: str, attrs: dict, closing: bool) -> None:
        step = -1 if closing else 1
        if name in ("script", "style", "template", "iframe", "object", "embed", "noscript"):
            self.skip = max(0, self.skip + step)
        elif name in ("b", "strong"):
            self.bold = max(0, self.bold + step)
        elif name in ("i", "em", "cite"):
            self.italic = max(0, self.italic + step)
        elif name == "a":
            if closing:
                self.close_link()
            elif attrs.get("href"):
                self.open_link(attrs["href"])
        elif name == "img" and not closing:
            self.image(attrs.get("src"), attrs.get("alt"))
        elif name in ("br", "p", "div", "li", "tr", "hr"):
            self.brk(newline=False)

    def tokens(self, children) -> None:
        """markdown-it inline tokens."""
        for tok in children or []:
            kind = tok.type
            if kind in ("text", "code_inline"):
                self.text(tok.content)
            elif kind in ("softbreak", "hardbreak"):
                self.brk()
            elif kind in ("strong_open", "strong_close"):
                self.bold = max(0, self.bold + (1 if kind.endswith("open") else -1))
            elif kind in ("em_open", "em_close"):
                self.italic = max(0, self.italic + (1 if kind.endswith("open") else -1))
            elif kind == "link_open":
                self.open_link(str(tok.attrs.get("href") or ""))
            elif kind == "link_close":
                self.close_link()
            elif kind == "image":
                self.image(str(tok.attrs.get("src") or ""), tok.content)
            elif kind == "html_inline":
                for event, name, attrs in _tags(tok.content):
                    if event == "data":
                        self.text(name)
                    else:
                        self.tag(name, attrs, event == "end")

    def markdown(self, text: str) -> None:
        """Text that may hold inline Markdown (inside HTML)."""
        for tok in markdown_parser().parseInline(text):
            self.tokens(tok.children)


class _TagReader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[str, str, dict]] = []

    def handle_starttag(self, tag, attrs):
        self.events.append(("start", tag, {k: v or "" for k, v in attrs}))

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        self.events.append(("end", tag, {}))

    def handle_data(self, data):
        self.events.append(("data", data, {}))


def _tags(html: str) -> list[tuple[str, str, dict]]:
    reader = _TagReader()
    reader.feed(html)
    reader.close()
    return reader.events


_MD: MarkdownIt | None = None


def markdown_parser() -> MarkdownIt:
    global _MD
    if _MD is None:
        md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
        md.validateLink = lambda url: True  # every link is read; web_links decides which are stored
        md.normalizeLink = lambda url: url.strip()
        md.normalizeLinkText = lambda url: url
        _MD = md
    return _MD


def fix_delimiters(text: str) -> str:
    """A table's '|---|' row with more or fewer cells than its header row is rewritten to match,
    so the table is read as one (GitHub is as lenient); line numbers stay."""
    lines = text.split("\n")
    fence = None
    for n in range(1, len(lines)):
        m = _FENCE.match(lines[n - 1])
        if m:
            fence = None if fence and m.group(1)[0] == fence else (fence or m.group(1)[0])
        if fence:
            continue
        head = lines[n - 1].strip()
        if "|" in head and _SEPARATOR.match(lines[n]) and lines[n].count("-") >= 2:
            want, have = len(split_row(head)), len(split_row(lines[n]))
            if want != have and want >= 1 and not _SEPARATOR.match(head):
                lines[n] = "|" + "|".join(["---"] * want) + "|"
    return "\n".join(lines)
