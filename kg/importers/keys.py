"""Citation keys for imported works that carry no identifier.

The graph's shapes (ontology/shapes.ttl, kgs:WorkShape) want every work to have at least one
identifier: an arXiv id, a DOI, an S2 or OpenAlex id, a CorpusId, a citation key or a URL. A
BibTeX entry always has its key, but a RIS or CSL-JSON reference (a book, a thesis, a reference
typed in by hand) and an awesome-list entry (a title with only a code or project link) may have
none of them; imported as they stand, they would make a graph that fails its own validation.

Such a work is given a citation key made the way BibTeX keys usually are: the first author's
surname, the year and the words of the title, in ASCII ('smith2020onlytitlehere'), unique
within the import (a letter is added when two works would share one). A citation key merges the
records that hold it, so the key follows the whole title: works of one author and year whose
titles only begin alike get two keys, in one import or in two. The key is made from the
work alone, so importing the same file again gives the same keys. The RIS and CSL-JSON importers
give keys silently (a BibTeX entry's key needs no note either); the awesome-list importer names
each one in a note, as an entry that links no paper is worth a look.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable

from ..records import Work

# What kgs:WorkShape counts as an identifier (kg.vocab.ID_PROPS names the properties).
IDENTIFIER_KINDS = ("arxiv", "doi", "s2", "openalex", "corpus", "cite", "url")
TITLE_LETTERS = 48  # of the title in a key; a longer title is cut and ends in a digest of the whole


def has_identifier(work: Work) -> bool:
    """True when the work carries an identifier the graph's shapes accept."""
    return any(str(work.ids.get(kind) or "").strip() for kind in IDENTIFIER_KINDS)


def _ascii(text: str) -> str:
    """Lower-case ASCII letters and digits of a text ('Müller' -> 'muller')."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]", "", text.lower())


def base_key(work: Work) -> str:
    """Surname + year + the title's words longer than two letters ('smith2020onlytitlehere'), or
    without an author the title words + year ('onlytitlehere2020': a key starts with a letter
    where it can). The whole title counts: a citation key merges the records that hold it
    (kg.records.resolve), so two works that share an author, a year and their first words
    ('Deep Learning for Medical Imaging: A Survey', '... Segmentation') must get two keys. A long
    title is cut and ends in a digest of the whole; a title with no such words in ASCII (another
    script) is stood for by a digest."""
    surname = _ascii(work.authors[0].name.split()[-1]) if work.authors and work.authors[0].name.split() else ""
    words = [w for w in (_ascii(w) for w in re.split(r"\W+", work.title or "")) if len(w) > 2]
    title = "".join(words)
    whole = hashlib.sha1((work.title or "").strip().lower().encode("utf-8")).hexdigest()
    if len(title) > TITLE_LETTERS:
        title = title[:TITLE_LETTERS - 7] + whole[:6]
    if not title:
        title = "t" + whole[:8]
    year = str(work.year or "")
    return f"{surname}{year}{title}" if surname else f"{title}{year}"


class KeyMaker:
    """Gives works without an identifier a citation key, unique within one import."""

    def __init__(self, taken: Iterable[str] = ()):
        # BibTeX compares keys ignoring case; the file's own keys are never given out again
        self.taken = {str(key).lower() for key in taken if key}

    def unique(self, base: str) -> str:
        """`base`, or `base` with the first free letter(s) after it ('...a', '...b', ... '...z', '...a1')."""
        key, n = base, 0
        while key.lower() in self.taken:
            n += 1
            key = f"{base}{chr(ord('a') + (n - 1) % 26)}{(n - 1) // 26 or ''}"
        self.taken.add(key.lower())
        return key

    def give(self, work: Work) -> str | None:
        """The key given to `work` (kept in its ids as 'cite'), or None when it has an identifier."""
        if has_identifier(work):
            return None
        work.ids["cite"] = self.unique(base_key(work))
        return work.ids["cite"]
