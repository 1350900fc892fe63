"""The transparent layer: which taxonomy labels occur in a paper's text.

Terms come only from data: the SKOS labels (prefLabel, altLabel, hiddenLabel)
of ontology/taxonomy.ttl, read with kg.taxonomy.read_taxonomy, and the names
of the graph's datasets. Matching is greedy left to right, longest term first,
separately per axis, so "personalized text-to-image generation" fires that
one label rather than its shorter parts. Every hit says which term fired, on
which words, in which field.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, replace

from ..taxonomy import Taxonomy
from .text import Token, is_case_sensitive, term_tokens

LEXICON_AXES = ("category", "mechanism", "modality", "method")
TITLE_WEIGHT = 1.5  # a term in the title counts more than one in the abstract


@dataclass(frozen=True)
class Term:
    axis: str  # category | mechanism | modality | method | dataset
    value: str  # the concept's notation (a dataset's name)
    label: str  # the label as written in the data
    norm: tuple[str, ...]
    orig: tuple[str, ...]
    case_sensitive: bool = False

    @property
    def weight(self) -> float:
        """Longer terms are more specific."""
        return 1.0 + 0.5 * (len(self.norm) - 1)


@dataclass(frozen=True)
class Hit:
    axis: str
    value: str
    term: str  # the label that fired
    matched: str  # the words of the text it fired on
    field: str  # title | abstract
    weight: float
    start: int = 0  # token span in the field
    end: int = 0
    role: str = ""  # modality hits in "X-to-Y": "source" (an input) or "target" (an output)

    def to_json(self) -> dict:
        out = {"layer": "lexicon", "axis": self.axis, "label": self.value, "term": self.term,
               "matched": self.matched, "field": self.field}
        if self.role:
            out["role"] = "input" if self.role == "source" else "output"
        return out


class Lexicon:
    def __init__(self, terms: list[Term]):
        self.terms = terms
        # first token -> axis -> terms, longest first
        index: dict[str, dict[str, list[Term]]] = defaultdict(lambda: defaultdict(list))
        for term in terms:
            if term.norm:
                index[term.norm[0]][term.axis].append(term)
        for by_axis in index.values():
            for items in by_axis.values():
                items.sort(key=lambda t: -len(t.norm))
        self._index = {first: dict(by_axis) for first, by_axis in index.items()}

    @classmethod
    def build(cls, taxonomy: Taxonomy, datasets: dict[str, list[str]] | None = None,
              axes: tuple[str, ...] = LEXICON_AXES) -> "Lexicon":
        """Terms from the taxonomy's labels on `axes` and from dataset names and aliases."""
        terms: list[Term] = []
        seen: set[tuple] = set()

        def add(axis: str, value: str, label: str, joined: bool = False) -> None:
            norm, orig = term_tokens(label)
            if not norm:
                return
            variants = [(norm, orig)]
            if joined and len(norm) > 1:  # "MC-LLaVA" also as "MCLLaVA"
                variants.append((("".join(norm),), ("".join(orig),)))
            for n, o in variants:
                key = (axis, value, n)
                if key not in seen:
                    seen.add(key)
                    terms.append(Term(axis, value, label, n, o, is_case_sensitive(label)))

        for axis in axes:
            for concept in taxonomy.axis(axis):
                for label in [concept.label, *concept.synonyms]:
                    add(axis, concept.notation, label, joined=axis == "method")
        for name, aliases in (datasets or {}).items():
            for label in [name, *aliases]:
                add("dataset", name, label, joined=True)
        return cls(terms)

    def match(self, field: str, toks: list[Token], cleaned: str) -> list[Hit]:
        """Longest, non-overlapping (per axis) term hits in one field's tokens."""
        hits: list[Hit] = []
        free: dict[str, int] = {}  # axis -> first token index not yet covered
        norms = [t.norm for t in toks]
        for i, tok in enumerate(toks):
            by_axis = self._index.get(tok.norm)
            if not by_axis:
                continue
            for axis, candidates in by_axis.items():
                if free.get(axis, 0) > i:
                    continue
                length = 0
                for term in candidates:
                    n = len(term.norm)
                    if length and n < length:
                        break
                    if tuple(norms[i:i + n]) != term.norm:
                        continue
                    if term.case_sensitive and tuple(t.orig for t in toks[i:i + n]) != term.orig:
                        continue
                    length = n
                    matched = cleaned[tok.start:toks[i + n - 1].end]
                    weight = term.weight * (TITLE_WEIGHT if field == "title" else 1.0)
                    hits.append(Hit(axis, term.value, term.label, matched, field, weight, i, i + n))
                if length:
                    free[axis] = i + length
        return _directions(hits, norms)


def _directions(hits: list[Hit], norms: list[str]) -> list[Hit]:
    """Mark modality hits joined by "to" ("text-to-image"): the first is an input, the second an output."""
    mods = sorted((h for h in hits if h.axis == "modality"), key=lambda h: h.start)
    roles: dict[int, str] = {}
    for a, b in zip(mods, mods[1:]):
        if b.start == a.end + 1 and a.end < len(norms) and norms[a.end] == "to":
            roles.setdefault(id(a), "source")
            roles[id(b)] = "target"
    if not roles:
        return hits
    return [replace(h, role=roles[id(h)]) if id(h) in roles else h for h in hits]


def scores(hits: list[Hit], axis: str, skip_role: str = "") -> dict[str, float]:
    """Summed hit weights per value on one axis (leaving out hits in `skip_role`)."""
    out: dict[str, float] = defaultdict(float)
    for hit in hits:
        if hit.axis == axis and not (skip_role and hit.role == skip_role):
            out[hit.value] += hit.weight
    return dict(out)
