"""Making text from files and services safe and plain before it becomes a record.

- `plain_text`: no HTML or script survives (tags dropped, script/style blocks
  dropped with their content, entities decoded), whitespace collapsed.
- `web_url`: only http(s) links are kept (no `javascript:`, `data:`, `file:`).
- `repair_mojibake`: undoes UTF-8 that was decoded with the wrong 8-bit codec
  (Mac Roman: "üìù" -> "📝", "‚Äô" -> "’"; Windows-1252/Latin-1: "Ã©" -> "é").
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from urllib.parse import urlsplit

from ..errors import UsageError

_BLOCKS = re.compile(r"<(script|style|iframe|object|embed|template)\b[^>]*>.*?(</\1\s*>|$)", re.I | re.S)
_COMMENT = re.compile(r"<!--.*?(-->|$)", re.S)
_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9:-]*(?:\s[^<>]*)?/?>")
_LEFTOVER_OPEN = re.compile(r"<(script|style|iframe)\b[^<]*$", re.I)
_SPACE = re.compile(r"\s+")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_UNSAFE_URL = re.compile(r"[\s\x00-\x1f\x7f<>\"]")  # whitespace, control characters, markup
# Codecs whose mis-decoding of UTF-8 we can undo, most specific first.
_MOJIBAKE_CODECS = ("mac_roman", "cp1252", "latin-1")


def read_text_file(path: Path, fallback: str) -> str:
    """A file's text: UTF-8 (with or without BOM), else the given single-byte encoding."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode(fallback, errors="replace")


def web_url(value: str | None) -> str | None:
    """The address if it is a web link (http:// or https:// with a host), else None: imported
    files may hold `javascript:`, `data:`, `file:` or relative links, which are never stored."""
    if not value:
        return None
    url = str(value).strip()
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or _UNSAFE_URL.search(url):
        return None
    return url


def plain_text(value: str | None) -> str | None:
    """Text without markup: '<b>Hi</b> &amp; <script>x()</script>bye' -> 'Hi & bye'."""
    if value is None:
        return None
    text = str(value)
    for _ in range(2):  # entities may hide a second layer of tags (&lt;script&gt;)
        text = _BLOCKS.sub(" ", text)
        text = _COMMENT.sub(" ", text)
        text = _TAG.sub(" ", text)
        text = _LEFTOVER_OPEN.sub(" ", text)
        text = html.unescape(text)
    text = _SPACE.sub(" ", text).strip()
    text = re.sub(r" ([,.;:!?)\]])", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    return text or None


def _undo(run: str) -> str:
    for codec in _MOJIBAKE_CODECS:
        try:
            fixed = run.encode(codec).decode("utf-8")
        except (UnicodeEncodeError, UnicodeDecodeError):
            continue
        if len(fixed) < len(run):
            return fixed
    return run


def repair_mojibake(text: str) -> str:
    """Repair every run of non-ASCII characters that is UTF-8 read with an 8-bit codec.

    Correct text is left alone: a genuine 'é' or '📝' does not re-encode to valid UTF-8
    bytes in these codecs, so it does not change.
    """
    return _NON_ASCII_RUN.sub(lambda m: _undo(m.group(0)), text)
