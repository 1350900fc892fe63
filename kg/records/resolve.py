"""One node per work: merge records from every source by their identifiers.

Strong identifiers (arXiv ids, DOIs, S2 paper ids, OpenAlex ids, CorpusIds) decide
identity: two records with different strong ids of one kind are never the same work,
whatever else they share (a title, a citation key, a DOI). arXiv's own DOIs
(10.48550/arXiv.*) count as the arXiv id they name, and arXiv versions are dropped,
so v1 and v2 are one work. Weak keys (citation keys, short names, normalised titles
with the year when the title is short, URLs) merge records only when no strong id
conflicts. Generic link texts ("Paper", "PDF", "arXiv": kg.records.titles) are never titles.

Merging is a union-find with a conflict check, run key by key in a fixed order
(arXiv ids, DOIs, S2 ids, OpenAlex ids, CorpusIds, then citation keys, short names,
titles, URLs; each in the order the records come), so the result is deterministic.
For one key, the groups holding it are merged when they are all compatible. When
some conflict (two arXiv works with one title), those stay apart, and a group that
would fit more than one of them (a title-only record) is ambiguous and stays apart
too: no arbitrary pick. Two records with the same DOI and different arXiv ids are
two works (a DOI shared by several papers is usually a proceedings volume's); the
DOI is kept on both. Merging keeps every identifier and every source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

from . import ids
from . import Work
from .titles import is_generic_title
from ..vocab import mint, slug

_ID_ORDER = ("arxiv", "doi", "s2", "openalex", "corpus", "cite", "url")
STRONG_KINDS = ("arxiv", "doi", "s2", "openalex", "corpus")
# The order keys are merged in: strong kinds first, then weak ones.
_KEY_ORDER = {kind: rank for rank, kind in enumerate(STRONG_KINDS + ("cite", "name", "title", "url"))}


def _norm(kind: str, value) -> str:
    """An identifier as it is compared: normalised when it is valid for its kind, else as written."""
    text = str(value).strip()
    return ids.normalise(kind, text) or text


@dataclass
class Node:
    """A merged work: the records it came from and the IRI it gets."""

    iri: str
    records: list[Work] = field(default_factory=list)

    def first(self, attr: str):
        if len(self.records) == 1:  # most works: its one record's value (a generic title too)
            value = getattr(self.records[0], attr)
            return None if value in (None, "", [], {}) else value
        fallback = None
        for rec in self.records:
            value = getattr(rec, attr)
            if value not in (None, "", [], {}):
                if attr == "title" and is_generic_title(value):
                    fallback = fallback or value  # "Paper", "PDF": only when no record has a real title
                    continue
                return value
        return fallback

    @cached_property
    def ids(self) -> dict[str, str]:
        """The first identifier of each kind (strong ones normalised); read once per node: a
        node's records do not change once it is resolved."""
        out: dict[str, str] = {}
        for rec in self.records:
            for kind, value in rec.ids.items():
                out.setdefault(kind, _norm(kind, value) if kind in STRONG_KINDS else value)
        return out

    def extra_ids(self) -> list[tuple[str, str]]:
        """Identifiers beyond the first of each kind (a second DOI, another citation key): kept too."""
        first = self.ids
        out: list[tuple[str, str]] = []
        for rec in self.records:
            for kind, value in rec.ids.items():
                value = _norm(kind, value) if kind in STRONG_KINDS else value
                if value != first.get(kind) and (kind, value) not in out:
                    out.append((kind, value))
        return out


def strong_ids(work: Work) -> dict[str, str]:
    """The record's strong identifiers, normalised: {kind: value}. An arXiv DOI counts as its arXiv id."""
    out = {kind: _norm(kind, work.ids[kind]) for kind in STRONG_KINDS if work.ids.get(kind)}
    from_doi = ids.arxiv_from_doi(out.get("doi"))
    if from_doi:
        del out["doi"]
        out.setdefault("arxiv", from_doi)
    return out


def compatible(a: dict[str, str], b: dict[str, str]) -> bool:
    """True when two sets of strong ids do not contradict each other (no kind with two values)."""
    return all(a[kind] == b[kind] for kind in a.keys() & b.keys())


def keys_of(work: Work) -> list[str]:
    keys = [f"{kind}:{_norm(kind, work.ids[kind])}" for kind in _ID_ORDER if work.ids.get(kind)]
    if not work.ids.get("arxiv") and ids.arxiv_from_doi(work.ids.get("doi")):
        keys.insert(0, f"arxiv:{ids.arxiv_from_doi(work.ids['doi'])}")  # arXiv's DOI: the same work
    if work.short_name and not is_generic_title(work.short_name):
        keys.append(f"name:{work.short_name.lower()}")
    title = None if is_generic_title(work.title) else ids.normalise_title(work.title)
    if title:
        keys.append(f"title:{title}" if len(title.split()) >= 4 else f"title:{title}|{work.year}")
    return keys


def is_strong_key(key: str) -> bool:
    return key.partition(":")[0] in STRONG_KINDS


def ref_key(ref: str) -> str:
    """Turn a work ref ('arxiv:2406.09400v2', 'title:Some Title', 'name:MyVLM') into a lookup key."""
    kind, _, value = ref.partition(":")
    if kind == "title":
        norm = ids.normalise_title(value) or value
        return f"title:{norm}"
    if kind == "name":
        return f"name:{value.lower()}"
    norm = ids.normalise(kind, value)
    return f"{kind}:{norm or value}"


def node_iri(ids_: dict[str, str], title: str | None, year: int | None) -> str:
    for kind in ("arxiv", "doi", "s2", "openalex"):
        if ids_.get(kind):
            return mint("work", f"{kind}/{ids_[kind]}")
    if ids_.get("corpus"):
        return mint("work", f"s2corpus/{ids_['corpus']}")
    name = ids_.get("cite") or title or ids_.get("url") or "untitled"
    return mint("work", f"cite/{slug(name)}" + (f"-{year}" if year and str(year) not in name else ""))


class Resolver:
    """Union-find over identifier keys, with a conflict check on strong ids (see the module's doc)."""

    def __init__(self, works: list[Work]):
        self.works = works
        parent = list(range(len(works)))
        ident = [strong_ids(w) for w in works]  # per root: the group's strong ids
        self.kept_apart: list[str] = []  # keys whose holders were not merged (conflicts, ambiguity)

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        def union(roots: list[int]) -> None:
            keep = min(roots)
            for r in roots:
                if r != keep:
                    parent[r] = keep
                    ident[keep] = {**ident[r], **ident[keep]}

        work_keys = [keys_of(work) for work in works]  # once per record: grouping and lookup both use them
        holders: dict[str, list[int]] = {}
        for i, keys in enumerate(work_keys):
            for key in dict.fromkeys(keys):
                holders.setdefault(key, []).append(i)
        order = sorted(holders, key=lambda k: _KEY_ORDER.get(k.partition(":")[0], len(_KEY_ORDER)))  # stable
        for key in order:
            if len(holders[key]) < 2:
                continue
            roots = list(dict.fromkeys(find(i) for i in holders[key]))
            if len(roots) < 2:
                continue
            # groups with the very same strong ids (or none) are one work: nothing to pick between
            same: dict[frozenset, list[int]] = {}
            for r in roots:
                same.setdefault(frozenset(ident[r].items()), []).append(r)
            for group in same.values():
                if len(group) > 1:
                    union(group)
            roots = list(dict.fromkeys(find(r) for r in roots))
            if len(roots) < 2:
                continue
            if any(all(kind in ident[r] for r in roots) and len({ident[r][kind] for r in roots}) == len(roots)
                   for kind in STRONG_KINDS):  # e.g. many arXiv works with one title: no two fit
                self.kept_apart.append(key)
                continue
            # the rest: a set of groups linked by compatibility is merged only when all of them fit together
            fits = {r: [s for s in roots if s != r and compatible(ident[r], ident[s])] for r in roots}
            seen: set[int] = set()
            for r in roots:
                if r in seen:
                    continue
                component, todo = [], [r]
                seen.add(r)
                while todo:
                    x = todo.pop()
                    component.append(x)
                    for y in fits[x]:
                        if y not in seen:
                            seen.add(y)
                            todo.append(y)
                if len(component) > 1 and all(len(fits[x]) >= len(component) - 1 for x in component):
                    union(component)  # every member fits every other (fits only links within the component)
            if len(roots) > 1 and len({find(r) for r in roots}) > 1:
                self.kept_apart.append(key)

        groups: dict[int, list[int]] = {}
        for i in range(len(works)):
            groups.setdefault(find(i), []).append(i)
        self.nodes: list[Node] = []
        self._by_key: dict[str, Node] = {}
        used: dict[str, int] = {}
        for indexes in groups.values():
            members = [works[i] for i in indexes]
            probe = Node("", members)
            iri = node_iri(probe.ids, probe.first("title"), probe.first("year"))
            if iri in used:  # two different works minted the same IRI (kept apart by a conflict, or fallbacks)
                used[iri] += 1
                iri = f"{iri}-{used[iri]}"
            else:
                used[iri] = 1
            node = Node(iri, members)
            self.nodes.append(node)
            for i in indexes:
                for key in work_keys[i]:
                    self._by_key.setdefault(key, node)
                    if key.startswith("title:") and "|" in key:
                        self._by_key.setdefault(key.split("|")[0], node)

    def lookup(self, ref: str) -> Node | None:
        """The node a ref names (when works kept apart share the key: the one whose record came first)."""
        return self._by_key.get(ref_key(ref))
