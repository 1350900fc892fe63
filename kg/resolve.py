"""One node per work: merge records from every source by their identifiers.

Two records are the same work when they share an arXiv id, DOI, S2 paper id,
CorpusId, OpenAlex id, citation key, or a normalised title (with the year when
the title is short). Merging keeps every identifier and every source.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from . import ids
from .records import Work
from .vocab import mint, slug

_ID_ORDER = ("arxiv", "doi", "s2", "openalex", "corpus", "cite", "url")


@dataclass
class Node:
    """A merged work: the records it came from and the IRI it gets."""

    iri: str
    records: list[Work] = field(default_factory=list)

    def first(self, attr: str):
        for rec in self.records:
            value = getattr(rec, attr)
            if value not in (None, "", [], {}):
                return value
        return None

    @property
    def ids(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for rec in self.records:
            for kind, value in rec.ids.items():
                out.setdefault(kind, value)
        return out

    def extra_ids(self) -> list[tuple[str, str]]:
        """Identifiers beyond the first of each kind (a second DOI, another citation key): kept too."""
        first = self.ids
        out: list[tuple[str, str]] = []
        for rec in self.records:
            for kind, value in rec.ids.items():
                if value != first.get(kind) and (kind, value) not in out:
                    out.append((kind, value))
        return out


def keys_of(work: Work) -> list[str]:
    keys = [f"{kind}:{work.ids[kind]}" for kind in _ID_ORDER if work.ids.get(kind)]
    if not work.ids.get("arxiv") and ids.arxiv_from_doi(work.ids.get("doi")):
        keys.insert(0, f"arxiv:{ids.arxiv_from_doi(work.ids['doi'])}")  # arXiv's DOI: the same work
    if work.short_name:
        keys.append(f"name:{work.short_name.lower()}")
    title = ids.normalise_title(work.title)
    if title:
        keys.append(f"title:{title}" if len(title.split()) >= 4 else f"title:{title}|{work.year}")
    return keys


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
    """Union-find over identifier keys."""

    def __init__(self, works: list[Work]):
        self.works = works
        parent = list(range(len(works)))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        owner: dict[str, int] = {}
        for i, work in enumerate(works):
            for key in keys_of(work):
                if key in owner:
                    a, b = find(owner[key]), find(i)
                    if a != b:
                        parent[max(a, b)] = min(a, b)
                else:
                    owner[key] = i
        groups: dict[int, list[Work]] = {}
        for i, work in enumerate(works):
            groups.setdefault(find(i), []).append(work)
        self.nodes: list[Node] = []
        self._by_key: dict[str, Node] = {}
        used: dict[str, int] = {}
        for members in groups.values():
            probe = Node("", members)
            iri = node_iri(probe.ids, probe.first("title"), probe.first("year"))
            if iri in used:  # two different works minted the same fallback IRI
                used[iri] += 1
                iri = f"{iri}-{used[iri]}"
            else:
                used[iri] = 1
            node = Node(iri, members)
            self.nodes.append(node)
            for work in members:
                for key in keys_of(work):
                    self._by_key.setdefault(key, node)
                    if key.startswith("title:") and "|" in key:
                        self._by_key.setdefault(key.split("|")[0], node)

    def lookup(self, ref: str) -> Node | None:
        return self._by_key.get(ref_key(ref))
