"""Cleaning and tokenising paper text for both classifier layers.

Titles and abstracts arrive with HTML, LaTeX, odd dashes and quotes, and any
length. Cleaning keeps the words; tokenising keeps where each word came from,
so the lexicon can quote what fired. Both layers see the same normalised
tokens (lower case, apostrophes dropped, a light plural stemmer), so
"Yo’LLaVA", "yo'llava" and "YoLLaVA" are one token and "diffusion models"
matches the label "diffusion model".
"""

from __future__ import annotations

import html
import re
import unicodedata
from functools import lru_cache
from typing import NamedTuple

MAX_FIELD_CHARS = 50_000  # longer text is cut (a full paper pasted as an abstract)

_TAG = re.compile(r"<[^>]{0,500}>")
_LATEX_CMD = re.compile(r"\\(?:[a-zA-Z]+\*?|.)")
_LATEX_MARK = re.compile(r"[{}$^_~]")
_APOSTROPHES = re.compile(r"['’`´ʼ]")
_TOKEN = re.compile(r"[^\W_]+")


class Token(NamedTuple):
    norm: str  # lower case, stemmed: what lookups use
    orig: str  # as written (apostrophes removed): for case-sensitive names
    start: int  # offsets into the cleaned text
    end: int


def clean(text: str | None) -> tuple[str, bool]:
    """Plain text from a title or abstract, and whether it was cut to MAX_FIELD_CHARS."""
    if not text:
        return "", False
    cut = len(text) > MAX_FIELD_CHARS
    t = text[:MAX_FIELD_CHARS]
    t = html.unescape(_TAG.sub(" ", t))
    t = _LATEX_CMD.sub(" ", t)
    t = _LATEX_MARK.sub(" ", t)
    if not t.isascii():
        t = unicodedata.normalize("NFKC", t)
        t = "".join(c for c in unicodedata.normalize("NFKD", t) if not unicodedata.combining(c))
    t = _APOSTROPHES.sub("", t)
    return " ".join(t.split()), cut


_BRITISH = (("isation", "ization"), ("ised", "ized"), ("ising", "izing"), ("ise", "ize"))


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A light stemmer, the same on text and labels: plurals (models -> model, modalities ->
    modality), British -ise spellings, then -ing / -ed (personalizing, personalized -> personaliz)."""
    if len(word) > 4 and word.endswith("ies"):
        word = word[:-3] + "y"
    elif len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for british, american in _BRITISH:
        if len(word) > len(british) + 3 and word.endswith(british):
            word = word[: -len(british)] + american
            break
    if len(word) > 5 and word.endswith("ing"):
        return word[:-3]
    if len(word) > 4 and word.endswith("ed") and not word.endswith("eed"):
        return word[:-2]
    return word


def tokens(cleaned: str) -> list[Token]:
    return [Token(stem(m[0].lower()), m[0], m.start(), m.end()) for m in _TOKEN.finditer(cleaned)]


def term_tokens(label: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """A lexicon label as (normalised tokens, tokens as written)."""
    cleaned, _ = clean(label)
    toks = tokens(cleaned)
    return tuple(t.norm for t in toks), tuple(t.orig for t in toks)


def is_case_sensitive(label: str) -> bool:
    """Names written without lower-case letters (CLIP, PODS, T5) must match their case."""
    return any(c.isalpha() for c in label) and not any(c.islower() for c in label)
